"""A fresh, empty class board for each test, on SQLite and on PostgreSQL.

    from board_db import board_url  # noqa: F401 (fixture)

    def test_something(board_url):   # runs twice: [sqlite] and [postgresql]
        board = Board(board_url)

SQLite: a file in the test's tmp_path. PostgreSQL: a database of its own, created through
the server named by KD_WORKBENCH_TEST_POSTGRES (a role that may CREATE DATABASE) and
dropped after the test, so no test touches another's rows or the class's own board. With
no server named, the PostgreSQL half skips on a laptop and fails under CI (CI=true)."""
import contextlib
import os
import secrets
import time

import pytest
import sqlalchemy as sa

from workbench.board import resolve_url

POSTGRES_ENV = "KD_WORKBENCH_TEST_POSTGRES"
HOW = (f"PostgreSQL board tests need a server: set {POSTGRES_ENV}=postgresql+psycopg://user:password@host/db "
       f"(a role that may CREATE DATABASE; .ci/run shows how to start Debian's postgresql)")
BACKENDS = ("sqlite", "postgresql")


def postgres_admin_url():
    """KD_WORKBENCH_TEST_POSTGRES; without it, skip (a laptop) or fail (CI=true)."""
    url = os.environ.get(POSTGRES_ENV, "").strip()
    if url:
        return resolve_url(url)
    if os.environ.get("CI") == "true":
        pytest.fail(f"no PostgreSQL under CI: {HOW}")
    pytest.skip(HOW)


def drop(engine, name, seconds=30):
    """DROP DATABASE name, retrying for up to `seconds`: after many writes the server's
    autovacuum may be working in it, and a role that is not a superuser may not end that
    worker (InsufficientPrivilege), only wait for it to finish."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            with engine.connect() as db:
                db.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            return
        except (sa.exc.ProgrammingError, sa.exc.OperationalError):
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)


@contextlib.contextmanager
def fresh_postgres_database(admin_url):
    """Yield the URL of a new, empty database kd_test_<random> on admin_url's server; drop it
    afterwards, closing any connection a test left open (or a killed process left behind)."""
    admin = sa.engine.make_url(admin_url)
    name = f"kd_test_{secrets.token_hex(6)}"
    engine = sa.create_engine(admin, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as db:
            db.execute(sa.text(f'CREATE DATABASE "{name}"'))
        try:
            yield admin.set(database=name).render_as_string(hide_password=False)
        finally:
            drop(engine, name)
    finally:
        engine.dispose()


@pytest.fixture(params=BACKENDS)
def board_url(request, tmp_path):
    """The URL of a new, empty board: a SQLite file, or a PostgreSQL database of its own."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'board.sqlite'}"
        return
    with fresh_postgres_database(postgres_admin_url()) as url:
        yield url

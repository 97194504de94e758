"""JupyterHub serves the app to a class: deploy/jupyterhub_config.py under the real
JupyterHub and configurable-http-proxy, with the dummy authenticator and the local
process spawner. Two users log in, each in their own browser context, and run the
distillation lab at the same time; each has their own server, kernel, files and results,
and neither can reach the other's server. Both runs reach the class board (PostgreSQL when
KD_WORKBENCH_TEST_POSTGRES names a server, as under CI; else a SQLite file), and each user's
page shows their own run and none of the other's.

It takes one to two minutes and needs configurable-http-proxy from npm, so it runs only with
KD_WORKBENCH_HUB_TEST=1 (.ci/run sets it, after `make test`); then a missing piece fails:

    npm install --prefix ~/.cache/kd-workbench/node configurable-http-proxy
    KD_WORKBENCH_HUB_TEST=1 .venv/bin/python -m pytest tests/hub -p no:cacheprovider -s
"""
import os
import pathlib
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request

import pytest

from test_browser import BARS, CHROMIUM_ARGS, SHOTS, chromium_path, free_port, open_tab, type_into

ROOT = pathlib.Path(__file__).resolve().parents[2]
CONFIG = ROOT / "deploy" / "jupyterhub_config.py"
CHP_CACHE = pathlib.Path.home() / ".cache" / "kd-workbench" / "node" / "node_modules" / ".bin" / "configurable-http-proxy"
APP = "voila/render/kd-workbench/app.ipynb"
USERS = {"alice": 60, "bob": 90}  # each user's epochs: their table must show their own
INSTRUCTOR = "teacher"  # may open the board page; alice and bob get no copy of it

pytestmark = pytest.mark.skipif(os.environ.get("KD_WORKBENCH_HUB_TEST") != "1",
                                reason="the JupyterHub test runs with KD_WORKBENCH_HUB_TEST=1 (see .ci/run)")


def required(path, how):
    """`path` if it is an executable file, else fail saying how to install it."""
    if path and os.access(path, os.X_OK):
        return str(path)
    pytest.fail(f"{how} (KD_WORKBENCH_HUB_TEST=1 asks for the JupyterHub test)")


def processes_under(folder):
    """{pid: command} of the processes whose working directory lies in `folder`."""
    found = {}
    for proc in pathlib.Path("/proc").glob("[0-9]*"):
        try:
            if pathlib.Path(os.readlink(proc / "cwd")).is_relative_to(folder):
                found[int(proc.name)] = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode()[:120]
        except OSError:
            pass
    return found


def rss_mib(pids):
    """Resident memory of these processes together, in MiB."""
    total = 0
    for pid in pids:
        try:
            status = pathlib.Path(f"/proc/{pid}/status").read_text()
        except OSError:
            continue
        total += next(int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS:"))
    return total / 1024


@pytest.fixture
def board_url(tmp_path):
    """The class board the users' servers record to: a fresh PostgreSQL database when
    KD_WORKBENCH_TEST_POSTGRES is set (required under CI), else a SQLite file."""
    from board_db import fresh_postgres_database, postgres_admin_url

    if os.environ.get("KD_WORKBENCH_TEST_POSTGRES") or os.environ.get("CI") == "true":
        with fresh_postgres_database(postgres_admin_url()) as url:
            yield url
    else:
        yield str(tmp_path / "class" / "board.sqlite")


@pytest.fixture
def hub(tmp_path, board_url, monkeypatch):
    """A running hub on free ports of 127.0.0.1, its state in tmp_path; (url, state dir)."""
    hub_exe = required(pathlib.Path(sys.executable).with_name("jupyterhub"), "jupyterhub is missing: make install")
    chp = required(os.environ.get("KD_WORKBENCH_CHP") or shutil.which("configurable-http-proxy") or CHP_CACHE,
                   "configurable-http-proxy is missing: npm install --prefix ~/.cache/kd-workbench/node "
                   "configurable-http-proxy (or set KD_WORKBENCH_CHP)")
    port, api_port, hub_port = free_port(), free_port(), free_port()
    log = open(tmp_path / "hub.log", "w")
    monkeypatch.setenv("KD_WORKBENCH_BOARD", board_url)  # read by the config, passed to the users' servers
    monkeypatch.setenv("KD_WORKBENCH_INSTRUCTORS", INSTRUCTOR)
    proc = subprocess.Popen(
        [hub_exe, "-f", str(CONFIG), "--ip=127.0.0.1", f"--port={port}", f"--JupyterHub.hub_port={hub_port}",
         f"--ConfigurableHTTPProxy.api_url=http://127.0.0.1:{api_port}", f"--ConfigurableHTTPProxy.command={chp}",
         "--JupyterHub.authenticator_class=dummy", "--JupyterHub.spawner_class=simple"],
        cwd=tmp_path, stdout=log, stderr=subprocess.STDOUT)
    deadline = time.time() + 60
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            if proc.poll() is not None or time.time() > deadline:
                proc.kill()
                pytest.fail(f"jupyterhub did not start; see {log.name}")
            time.sleep(0.2)
    # The proxy listens before the hub has added its route: until then /hub/login is the
    # proxy's error page (a CI run once met it and found no login form). The login page
    # starts no server or kernel, so asking for it is safe.
    while True:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/hub/login", timeout=5) as answer:
                if answer.status == 200:
                    break
        except OSError:
            pass
        if proc.poll() is not None or time.time() > deadline:
            proc.kill()
            pytest.fail(f"jupyterhub did not serve its login page; see {log.name}")
        time.sleep(0.2)
    yield f"http://127.0.0.1:{port}", tmp_path
    proc.terminate()  # the hub stops the users' servers and the proxy on its way out
    proc.wait(timeout=60)
    # a kernel whose server was just stopped may still be on its way out: left running means
    # still there 10 s later (a CI run once caught one in its last moments)
    deadline = time.time() + 10
    while (left := processes_under(tmp_path)) and time.time() < deadline:
        time.sleep(0.2)
    for pid in left:
        os.kill(pid, signal.SIGKILL)
    assert not left, f"processes the hub left running: {left}"


def log_in(context, url, name, next_url=""):
    """Log `name` in through the hub's login form; return the page, on its way to the app."""
    page = context.new_page()
    page.goto(f"{url}/hub/login" + (f"?next={urllib.parse.quote(next_url)}" if next_url else ""))
    page.fill("#username_input", name)
    page.fill("#password_input", "any")
    page.click("#login_submit")
    return page


def column(page, header):
    """The cells under `header` in the page's results table (a plotly table draws each
    column as a header block and a block of cells)."""
    return page.evaluate(
        """(header) => {
            for (const col of document.querySelectorAll('.js-plotly-plot .table .y-column')) {
                const head = col.querySelector('#header .cell-text');
                if (head && head.textContent === header)
                    return [...col.querySelectorAll('#cells1 .cell-text')].map(t => t.textContent);
            }
            return null;
        }""", header)


def test_two_users_run_the_lab_at_once_each_in_their_own_server(hub, board_url):
    url, state = hub
    started = time.time()
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
        contexts = {name: browser.new_context(viewport={"width": 1400, "height": 1000}) for name in USERS}
        # alice lands on the app; bob follows the link a teacher hands out, which opens the lab with his settings
        link = f"/hub/user-redirect/{APP}?tab=Distillation%20lab&epochs={USERS['bob']}"
        pages = {"alice": log_in(contexts["alice"], url, "alice"), "bob": log_in(contexts["bob"], url, "bob", link)}
        errors = {name: [] for name in USERS}
        for name, page in pages.items():
            page.on("pageerror", lambda e, name=name: errors[name].append(str(e)))
        for name, page in pages.items():
            page.wait_for_selector(BARS, state="attached", timeout=180_000)
            assert page.url.startswith(f"{url}/user/{name}/{APP}"), page.url
        print(f"\nboth apps rendered {time.time() - started:.0f} s after the first login")

        open_tab(pages["alice"], "Distillation lab")
        type_into(pages["alice"], "epochs", str(USERS["alice"]))
        bob_epochs = pages["bob"].locator(".widget-text:has-text('epochs') input:visible")
        assert bob_epochs.input_value() == str(USERS["bob"])
        for page in pages.values():
            page.locator("button:has-text('Run'):visible").click()
        for page in pages.values():
            page.locator("text=Running… >> visible=true").wait_for(timeout=10_000)
        assert pages["alice"].locator("text=Running… >> visible=true").is_visible(), "the runs did not overlap"
        for page in pages.values():
            page.locator("text=Done. >> visible=true").wait_for(timeout=120_000)
        for name, page in pages.items():
            page.wait_for_function("() => document.body.textContent.includes('student, distilled')", timeout=10_000)
            assert column(page, "epochs") == ["", str(USERS[name]), str(USERS[name])], name
            assert not page.query_selector_all(".kd-error:visible") and not errors[name], (name, errors[name])
            SHOTS.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(SHOTS / f"hub_{name}.png"), full_page=True)
        print(f"both runs done {time.time() - started:.0f} s after the first login")

        for name, page in pages.items():  # the class board: each sees their own run, never the other's
            page.get_by_text("Your runs and the class board").click()
            page.get_by_role("button", name="Refresh").click()
            page.wait_for_function("() => document.body.textContent.includes('of yours')", timeout=30_000)
            text = page.locator("body").inner_text()
            assert f"You are recorded as {name}" in text and "1 run of yours" in text, name
            other = next(n for n in USERS if n != name)
            assert f"recorded as {other}" not in text, name
            rows = [r.split("\t") for r in page.locator("table.kd-table").last.inner_text().splitlines()]
            at = [c.strip() for c in rows[0]].index("epochs")  # their own runs: their epochs, not the other's
            assert [r[at].strip() for r in rows[1:]] == [str(USERS[name])], (name, rows)
        from workbench.board import Board

        with Board(board_url) as board:
            runs = board.runs()
        assert sorted(runs["learner"]) == sorted(USERS)  # both runs, each under its hub user
        for name, epochs in USERS.items():
            assert [r["epochs"] for r in runs[runs["learner"] == name]["settings"]] == [epochs], name
        print(f"class board ({board_url.split(':', 1)[0]}): {len(runs)} runs from {sorted(runs['learner'])}")

        kernels = {}
        for name, context in contexts.items():
            response = context.request.get(f"{url}/user/{name}/api/kernels")
            assert response.ok, (name, response.status)
            kernels[name] = [k["id"] for k in response.json()]
            assert len(kernels[name]) == 1, kernels  # the app's kernel, and only theirs
            own = context.request.get(f"{url}/user/{name}/api/contents/kd-workbench")
            assert own.ok and "app.ipynb" in [f["name"] for f in own.json()["content"]], (name, own.status)
            other = next(n for n in USERS if n != name)
            for path in ("api/kernels", "api/contents/kd-workbench", f"files/{APP.split('/', 2)[2]}"):
                response = context.request.get(f"{url}/user/{other}/{path}", max_redirects=5)
                print(f"{name} asks for /user/{other}/{path}: {response.status} at {response.url[len(url):]}")
                assert response.status in (403, 404), f"{name} reached {other}'s {path}: {response.status}"
        assert kernels["alice"] != kernels["bob"]
        print(f"kernels: {kernels}")

        for name in USERS:  # their own files, in their own home
            home = state / "homes" / name
            assert (home / "kd-workbench" / "app.ipynb").is_file() and (home / "kd-workbench" / "exercises").is_dir()
            assert not (home / "kd-workbench" / "solutions").exists()
            assert not (home / "kd-workbench" / "board.ipynb").exists()  # the instructor's page only
            own = processes_under(home)
            kernel = [pid for pid, cmd in own.items() if "ipykernel" in cmd]
            assert len(own) == 2 and len(kernel) == 1, own  # their server and their kernel
            print(f"{name}: server and kernel {rss_mib(own):.0f} MiB resident, the kernel {rss_mib(kernel):.0f} MiB")
        browser.close()

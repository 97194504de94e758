"""JupyterHub configuration: every user gets the KD Workbench app in a server of their own.

Run it with the project's virtual environment, from the directory that should hold the
hub's state (its database, cookie secret and proxy pid file); configurable-http-proxy
comes from npm (`npm install -g configurable-http-proxy`):

    .venv/bin/jupyterhub -f /path/to/kd-workbench/deploy/jupyterhub_config.py

On login a user's server starts `jupyterhub-singleuser` from this environment (Voila is
one of its extensions), ~/kd-workbench gets a copy of notebooks/ (solutions left out), and
the browser lands on the app: /user/<name>/voila/render/kd-workbench/app.ipynb, its code
hidden. JupyterLab stays one URL away (/user/<name>/lab) for the lesson notebooks. A link
for the whole class: /hub/user-redirect/voila/render/kd-workbench/app.ipynb?tab=...
opens each user's own app with those settings, after their login.

Who may log in and how servers start are left at JupyterHub's defaults: the machine's own
accounts (PAM), each server a process running as its user, so users' files are kept
apart by the file system; the hub then runs as root. It listens on port 8000 of every
interface: put TLS in front (--ssl-key/--ssl-cert or a reverse proxy). Other choices go on
the command line or in a config file that loads this one with load_subconfig(...), e.g.
an OAuth login with `pip install oauthenticator` (see its documentation), or, to try it
on a laptop, where anyone logs in under any name and every server runs as you:

    .venv/bin/jupyterhub -f deploy/jupyterhub_config.py --ip=127.0.0.1 \
        --JupyterHub.authenticator_class=dummy --JupyterHub.spawner_class=simple

The class board (workbench/board.py): every user's finished runs, quiz answers and exercise
checks go to one PostgreSQL database, read by the instructor's board page. Make one, then
start the hub with its URL and the instructors' hub names (they become the hub's admins,
and only their copy of the notebooks has board.ipynb, which opens for them alone):

    sudo -u postgres createuser --pwprompt kd_board
    sudo -u postgres createdb --owner kd_board kd_board
    KD_WORKBENCH_BOARD=postgresql+psycopg://kd_board:PASSWORD@localhost/kd_board \
    KD_WORKBENCH_INSTRUCTORS=teacher .venv/bin/jupyterhub -f deploy/jupyterhub_config.py

An instructor opens /user/<their name>/voila/render/kd-workbench/board.ipynb. Learners' kernels
hold the database's URL (they write to it), so the board keeps names apart in what the app
shows, not from a learner who reads the environment: give the class a database of its own.

Each user's server and kernel take about 1 GiB of memory once the app is open. A class
larger than one machine runs on Kubernetes with Zero to JupyterHub and KubeSpawner
instead: deploy/README.md has the Helm values that give each user's pod the same app."""
import os
import pathlib
import sys

c = get_config()  # noqa: F821 (JupyterHub defines get_config for its config files)

ROOT = pathlib.Path(__file__).resolve().parents[1]
WORKDIR = "kd-workbench"  # each user's copy of notebooks/, in their home
NOT_COPIED = "solutions,.ipynb_checkpoints,__pycache__"  # the teacher hands out the solutions
THREADS = os.environ.get("KD_WORKBENCH_HUB_THREADS", "1")  # torch threads per user: users share the cores
# the class board's database and who may open its page (see above)
# (without KD_WORKBENCH_BOARD, recording stays off: e.g. postgresql+psycopg://kd_board:PASSWORD@localhost/kd_board)
BOARD = os.environ.get("KD_WORKBENCH_BOARD", "")
INSTRUCTORS = sorted({n.strip() for n in os.environ.get("KD_WORKBENCH_INSTRUCTORS", "").split(",") if n.strip()})
SINGLEUSER = pathlib.Path(sys.executable).with_name("jupyterhub-singleuser")  # this environment's

# Runs as the user, in their home, just before their server: copies the notebooks into
# ~/kd-workbench (files already there are kept, so their work survives a restart; the app
# notebook is always the current one; the board page for instructors only), then becomes
# jupyterhub-singleuser. Copying here,
# not in a hub hook, means the hub (root, with real accounts) never writes into a home.
START = """
import os, pathlib, shutil, sys
src, dst, skip, cmd = pathlib.Path(sys.argv[1]), pathlib.Path.home() / sys.argv[2], sys.argv[3].split(","), sys.argv[4:]
if os.environ.get("JUPYTERHUB_USER") not in os.environ.get("KD_WORKBENCH_INSTRUCTORS", "").split(","):
    skip.append("board.ipynb")
for f in sorted(src.rglob("*")):
    rel = f.relative_to(src)
    if f.is_file() and not set(rel.parts) & set(skip) and (str(rel) == "app.ipynb" or not (dst / rel).exists()):
        (dst / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(f, dst / rel)
os.execv(cmd[0], cmd)
"""

# The single-user server: this environment's Python, so the kernel imports this checkout's
# workbench and widgets; login lands on the app, its code hidden.
c.Spawner.cmd = [sys.executable, "-c", START, str(ROOT / "notebooks"), WORKDIR, NOT_COPIED, str(SINGLEUSER)]
c.Spawner.notebook_dir = "~"
c.Spawner.default_url = f"/voila/render/{WORKDIR}/app.ipynb"
c.Spawner.args = ["--VoilaConfiguration.strip_sources=True", "--VoilaConfiguration.show_tracebacks=False"]
c.Spawner.environment = {"OMP_NUM_THREADS": THREADS, "MKL_NUM_THREADS": THREADS,
                         "KD_WORKBENCH_RECORD": "1" if BOARD else "0", "KD_WORKBENCH_BOARD": BOARD,
                         "KD_WORKBENCH_INSTRUCTORS": ",".join(INSTRUCTORS)}
if not BOARD:
    print("deploy/jupyterhub_config.py: KD_WORKBENCH_BOARD is not set, so the class board is off "
          "(learners' runs are not recorded); see the top of this file", file=sys.stderr)
c.Authenticator.admin_users = set(INSTRUCTORS)
# The trial spawner keeps the users' homes next to the hub's state, not in /tmp/<name>, and
# runs every server as the hub's own user: root on a CI machine or in a container.
c.SimpleLocalProcessSpawner.home_dir_template = str(pathlib.Path.cwd() / "homes" / "{username}")
if os.geteuid() == 0:
    c.SimpleLocalProcessSpawner.args = [*c.Spawner.args, "--ServerApp.allow_root=True"]

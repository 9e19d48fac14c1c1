"""The benchmark's processes: gunicorn as deployed, the load driver, Django tasks, commands.

Each runs in its own process so that the one measuring never shares an
interpreter (or a GIL) with the one measured.
"""

import json
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from datetime import datetime
from pathlib import Path

from bench import data

ROOT = data.ROOT
PYTHON = sys.executable


def log(message: str) -> None:
    print(f"[{datetime.now():%H:%M:%S}] {message}", flush=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """gunicorn with project/gunicorn.py, as deployed, on a free loopback port.

    ``root``: the source tree to serve (another checkout, for a before/after
    comparison); the environment's PYTHONPATH must point at it too.
    """

    def __init__(self, env: dict, workdir: Path, name: str, workers: int, root: Path = ROOT):
        self.env, self.workdir, self.name, self.workers = env, workdir, name, workers
        self.root = root
        self.process = None
        self.port = None

    def __enter__(self):
        self.port = free_port()
        env = {
            **self.env,
            "GUNICORN_BIND": f"127.0.0.1:{self.port}",
            "GUNICORN_WORKERS": str(self.workers),
            "GUNICORN_ACCESS_LOG": str(self.workdir / f"{self.name}-access.log"),
            # Worker recycling would restart workers mid-measurement (and empty
            # their chart caches) at moments that differ between runs.
            "GUNICORN_MAX_REQUESTS": "0",
            "SITE_URL": f"http://127.0.0.1:{self.port}",
        }
        self.errors = open(self.workdir / f"{self.name}-server.log", "w")
        self.process = subprocess.Popen(
            [PYTHON, "-m", "gunicorn", "-c", "project/gunicorn.py", "project.wsgi"],
            cwd=self.root,
            env=env,
            stdout=self.errors,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited; see {self.errors.name}")
            try:
                with urllib.request.urlopen(
                    f"http://127.0.0.1:{self.port}/healthz", timeout=2
                ) as r:
                    if r.status == 200:
                        return self
            except OSError:
                time.sleep(0.25)
        raise RuntimeError(f"gunicorn did not answer /healthz within 60 s; see {self.errors.name}")

    def __exit__(self, *exc):
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(40)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.errors.close()


def load(port: int, scenario: dict) -> dict:
    """One scenario, run by bench/load.py in its own process."""
    return driver(port, "load", scenario=scenario)


def driver(port: int, job: str, **fields) -> dict:
    """A job of bench/load.py: a load scenario, page weight, sign-in."""
    done = subprocess.run(
        [PYTHON, str(ROOT / "bench" / "load.py")],
        input=json.dumps({"port": port, "job": job, **fields}),
        capture_output=True,
        text=True,
    )
    if done.returncode:
        raise RuntimeError(f"load.py {job} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout)


def page_weight(port: int, path: str) -> dict:
    return driver(port, "page_weight", path=path)


def task(env: dict, name: str, argument=None) -> dict:
    """``python -m bench.tasks name`` against the database of ``env``."""
    args = [PYTHON, "-m", "bench.tasks", name]
    stdin = None
    if isinstance(argument, dict):
        stdin = json.dumps(argument)
    elif argument is not None:
        args.append(str(argument))
    done = subprocess.run(args, cwd=ROOT, env=env, input=stdin, capture_output=True, text=True)
    if done.returncode:
        raise RuntimeError(f"bench.tasks {name} failed:\n{done.stderr[-4000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def timed_command(env: dict, *args: str) -> dict:
    """``manage.py *args`` in its own process: wall time, peak resident memory, output."""
    # A wrapper process whose only child is the command: its RUSAGE_CHILDREN is the job's.
    wrapper = (
        "import json, resource, subprocess, sys, time\n"
        "t = time.perf_counter()\n"
        "done = subprocess.run(sys.argv[1:], capture_output=True, text=True)\n"
        "print(json.dumps({'seconds': time.perf_counter() - t, 'returncode': done.returncode,"
        " 'stdout': done.stdout, 'stderr': done.stderr[-2000:],"
        " 'max_rss_kb': resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss}))\n"
    )
    done = subprocess.run(
        [PYTHON, "-c", wrapper, PYTHON, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    result = json.loads(done.stdout)
    if result["returncode"]:
        raise RuntimeError(f"{args[0]} failed:\n{result['stderr']}")
    return result

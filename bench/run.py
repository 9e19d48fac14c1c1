"""``make bench``: the app under gunicorn on 127.0.0.1, measured against Django's own floor.

    .venv/bin/python -m bench.run              # the full benchmark (1 k and 1 M reports)
    BENCH_SCALE=small .venv/bin/python -m bench.run   # a quicker one (1 k and 50 k)
    .venv/bin/python -m bench.run --reports 200000    # the large data at another size

Steps: collectstatic into a temporary STATIC_ROOT; a small and a large
database (the large one cached in bench/.data/, see bench/data.py); for each,
gunicorn with the production settings plus one floor view (bench/settings.py),
driven by bench/load.py in a second process; queries per request measured
in-process (bench/tasks.py); the reminder job over 10 k and 100 k due
follow-ups; the FHIR bulk export of every clinic of both databases; the
check-in page's bytes; the patient's pages in Chromium on emulated phone
networks (bench/phone.py); the known-truth clinic (``manage.py
seed_known_truth --check``) at full size. Prints the tables and writes
bench/results.md. Exits 1 if a submitted report was lost or duplicated, or
the analytics missed a figure of the known truth.
"""

import argparse
import json
import os
import platform
import re
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from bench import data, phone, report

ROOT = data.ROOT
PYTHON = sys.executable
RESULTS = ROOT / "bench" / "results.md"
LAST_RUN = data.DATA_DIR / "last-run"

TIERS = {
    "full": {
        "small_reports": 1_000,
        "large_reports": 1_000_000,
        "floor_requests": 2_000,
        "page_requests": 300,
        "page_seconds": 30,
        "cold_charts": 30,
        "submissions": {1: 600, 8: 1_500, 32: 2_000},
        "reminders": (10_000, 100_000),
        "truth_sessions": 100_000,
    },
    "small": {
        "small_reports": 1_000,
        "large_reports": 50_000,
        "floor_requests": 1_000,
        "page_requests": 100,
        "page_seconds": 15,
        "cold_charts": 15,
        "submissions": {1: 300, 8: 600, 32: 800},
        "reminders": (2_000, 20_000),
        "truth_sessions": 10_000,
    },
}
CONCURRENCY = (1, 8, 32)
RESEND_EVERY = 20  # one submission in 20 (5 %) is sent twice with the same body


def log(message: str) -> None:
    print(f"[{datetime.now():%H:%M:%S}] {message}", flush=True)


# ---------------------------------------------------------------------------
# Processes


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
    job = json.dumps({"port": port, "job": "load", "scenario": scenario})
    done = subprocess.run(
        [PYTHON, str(ROOT / "bench" / "load.py")], input=job, capture_output=True, text=True
    )
    if done.returncode:
        raise RuntimeError(f"load.py failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout)


def driver(port: int, job: str, **fields) -> dict:
    """A one-off job of bench/load.py (page weight, sign-in)."""
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


# ---------------------------------------------------------------------------
# Scenarios


def floor(port: int, concurrency: int, requests: int) -> dict:
    return load(
        port,
        {
            "path": "/bench/floor",
            "concurrency": concurrency,
            "max_requests": requests,
            "time_limit": 30,
            "warmup": [{"path": "/bench/floor", "count": 50, "concurrency": 4}],
        },
    )


def with_floor(port, scenario, floor_requests) -> dict:
    """The scenario, with the floor at the same concurrency measured just before it.

    Other work on a small machine comes and goes; a floor measured seconds
    earlier shares the conditions a floor measured at the start may not.
    """
    adjacent = floor(port, scenario["concurrency"], floor_requests)
    result = load(port, scenario)
    result["floor"] = {k: adjacent[k] for k in ("rps", "p50_ms", "p95_ms", "errors")}
    return result


def staff_pages(port, fx, tier, workers) -> dict:
    """Each page at one client: latency without queueing. Warm-up at one request per
    worker and more, so every worker has loaded templates (and drawn the chart)."""
    headers = {"Cookie": fx["cookie"]}
    adjacent = tier["floor_requests"] // 2
    results = {}
    for name, path in fx["pages"].items():
        results[name] = with_floor(
            port,
            {
                "path": path,
                "concurrency": 1,
                "max_requests": tier["page_requests"],
                "time_limit": tier["page_seconds"],
                "headers": headers,
                "warmup": [{"path": path, "count": 4 * workers, "concurrency": workers}],
            },
            adjacent,
        )
    warm = f"/patients/{fx['chart_warm_patient']}/soreness.svg"
    cold = [
        f"/patients/{pk}/soreness.svg" for pk in fx["chart_cold_patients"][: tier["cold_charts"]]
    ]
    # Cold: each chart requested once, never drawn before by any worker (its patient is new).
    results["chart cold"] = with_floor(
        port,
        {
            "items": [{"path": path} for path in cold],
            "concurrency": 1,
            "max_requests": len(cold),
            "time_limit": 120,
            "headers": headers,
            "warmup": [{"path": warm, "count": 4 * workers, "concurrency": workers}],
        },
        adjacent,
    )
    return results


def submissions(port, items, tier) -> dict:
    """Check-ins posted at 1, 8 and 32 clients; each item once, 5 % of them twice."""
    results, start = {}, 0
    for concurrency in CONCURRENCY:
        count = tier["submissions"][concurrency]
        batch = [
            {
                "method": "POST",
                "path": it["path"],
                "body": it["body"],
                "resend": (start + i) % RESEND_EVERY == 0,
            }
            for i, it in enumerate(items[start : start + count])
        ]
        result = with_floor(
            port,
            {
                "items": batch,
                "concurrency": concurrency,
                "max_requests": count,
                "time_limit": 120,
                "expect": [302],
                "expect_location": "/done/",
                "return_outcomes": True,
                "warmup": [
                    {"paths": [it["path"] for it in items[-16:]], "count": 16, "concurrency": 4}
                ],
            },
            tier["floor_requests"],
        )
        result["keys"] = [it["key"] for it in items[start : start + count]]
        results[concurrency] = result
        start += count
    return results


def check_submissions(env, clinic, results) -> dict:
    """Compare what the clients were told with what the database holds."""
    sent, acknowledged, resends_ok, resends = [], [], 0, 0
    for result in results.values():
        for key, outcome in zip(result["keys"], result.pop("outcomes")):
            if outcome is None:
                continue
            sent.append(key)
            if outcome["status"] == 302 and "/done/" in (outcome["location"] or ""):
                acknowledged.append(key)
            if "resend_status" in outcome:
                resends += 1
                resends_ok += outcome["resend_status"] == 302 and "/done/" in (
                    outcome["resend_location"] or ""
                )
        result.pop("keys")
    stored = task(env, "verify", {"clinic": clinic, "keys": acknowledged})
    unacknowledged = task(env, "verify", {"clinic": clinic, "keys": sent})
    lost = stored["missing_count"]
    # Stored but never sent, or more than one report per key or per check-in.
    duplicated = (
        unacknowledged["unexpected"]
        + (stored["reports"] - stored["distinct_keys"])
        + stored["follow_ups_with_two_reports"]
    )
    return {
        "sent": len(sent),
        "acknowledged": len(acknowledged),
        "stored": stored["reports"],
        "lost": lost,
        "duplicated": duplicated,
        "stored_without_acknowledgement": stored["unexpected"],
        "resends": resends,
        "resends_answered_done": resends_ok,
    }


def measure(label, env, workdir, tier, workers, *, checkins=0) -> dict:
    """Everything measured against one database: one server, then in-process queries."""
    log(f"{label}: fixtures (staff login, pages{', fresh check-ins' if checkins else ''})")
    fx = task(env, "fixtures", {"checkins": checkins})
    out = {"fixtures": {k: v for k, v in fx.items() if k not in ("cookie", "checkins")}}
    with Server(env, workdir, label.replace(" ", ""), workers) as server:
        log(f"{label}: gunicorn on 127.0.0.1:{server.port} with {workers} workers")
        # Signed in through the login form, as a therapist does; the session is reused.
        fx["cookie"] = driver(
            server.port, "login", username=fx["username"], password=fx["password"]
        )["cookie"]
        floors = {1: floor(server.port, 1, tier["floor_requests"])}
        log(f"{label}: floor {floors[1]['rps']} req/s, p95 {floors[1]['p95_ms']} ms at 1 client")
        pages = staff_pages(server.port, fx, tier, workers)
        for name, result in pages.items():
            log(
                f"{label}: {name}: p50 {result['p50_ms']} ms, p95 {result['p95_ms']} ms"
                f" ({result['ok']} ok, errors {result['errors'] or 0})"
            )
        out.update(floor=floors, pages=pages)
        if checkins:
            items = fx["checkins"]["items"]
            weight_path = items[-1]["path"]  # never submitted: its check-in is open
            out["submissions"] = submissions(server.port, items[:-16], tier)
            # An open check-in never posted (only its page was fetched), for a profile.
            out["profile_checkin"] = {"path": items[-2]["path"], "body": items[-2]["body"]}
            for concurrency, result in out["submissions"].items():
                log(
                    f"{label}: submissions at {concurrency}: {result['rps']} req/s, "
                    f"p95 {result['p95_ms']} ms, errors {result['errors'] or 0}"
                )
            out["weight"] = page_weight(server.port, weight_path)
            out["floor_end"] = floor(server.port, 1, tier["floor_requests"])
    log(f"{label}: queries per request (in-process, test client)")
    out["queries"] = task(env, "queries", {"pages": fx["pages"]})
    if checkins:
        out["integrity"] = check_submissions(env, fx["checkins"]["clinic"], out["submissions"])
    return out


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


def fhir_export(env: dict, workdir: Path, name: str) -> dict:
    """``manage.py export_fhir`` of every clinic of the database, each in its own process:
    the reports exported, the time and output size summed, the largest peak memory."""
    runs = []
    for item in task(env, "export-clinics")["clinics"]:
        outdir = workdir / f"fhir-{name}-{item['clinic']}"
        result = timed_command(env, "export_fhir", "--clinic", str(item["clinic"]), str(outdir))
        size = sum(path.stat().st_size for path in outdir.iterdir())
        shutil.rmtree(outdir)  # at 1 M reports the files take gigabytes
        runs.append(
            {
                **item,
                "seconds": round(result["seconds"], 1),
                "peak_rss_mb": round(result["max_rss_kb"] / 1024, 1),
                "megabytes": round(size / 1e6, 1),
                "output": result["stdout"].strip(),
            }
        )
    largest = runs[0] if runs else {}
    return {
        "clinics": len(runs),
        "reports": sum(run["reports"] for run in runs),
        "seconds": round(sum(run["seconds"] for run in runs), 1),
        "megabytes": round(sum(run["megabytes"] for run in runs), 1),
        "peak_rss_mb": max((run["peak_rss_mb"] for run in runs), default=0),
        "largest_clinic_reports": largest.get("reports", 0),
        "largest_clinic_seconds": largest.get("seconds", 0),
        "runs": runs,
    }


def reminders(count: int, workdir: Path, pg_url: str) -> dict:
    """send_due_reminders over ``count`` due follow-ups: wall time and peak memory."""
    env = data.django_env(
        empty_database(f"reminders_{count}", workdir, pg_url),
        SMS_BACKEND="tracker.reminders.sms.FileBackend",
        SMS_FILE_PATH=str(workdir / f"sms-{count}.jsonl"),
    )
    data.manage(env, "migrate", "--noinput", "-v", "0")
    built = task(env, "reminders-build", count)
    result = timed_command(env, "send_due_reminders")
    sent = re.search(r"Sent (\d+) reminder", result["stdout"])
    return {
        "due": built["due"],
        "sent": int(sent.group(1)) if sent else None,
        "seconds": round(result["seconds"], 1),
        "peak_rss_mb": round(result["max_rss_kb"] / 1024, 1),
        "build_seconds": built["seconds"],
        "output": result["stdout"].strip(),
    }


def known_truth(sessions: int, workdir: Path, pg_url: str) -> dict:
    """``seed_known_truth --check`` over ``sessions`` sessions in an empty database:
    how long building and checking took, and every figure set against measured."""
    env = data.django_env(empty_database("truth", workdir, pg_url))
    data.manage(env, "migrate", "--noinput", "-v", "0")
    started = time.perf_counter()
    done = subprocess.run(
        [
            PYTHON,
            "manage.py",
            "seed_known_truth",
            "--sessions",
            str(sessions),
            "--seed",
            "1",
            "--check",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,  # a miss is a result
    )
    lines = done.stdout.splitlines()
    built = re.search(r"in ([\d.]+) s\.", lines[0]) if lines else None
    return {
        "sessions": sessions,
        "seconds": round(time.perf_counter() - started, 1),
        "build_seconds": float(built.group(1)) if built else None,
        "checks": [line for line in lines if line.startswith(("ok ", "MISS "))],
        "recovered": done.returncode == 0,
        "summary": lines[-1] if done.returncode == 0 and lines else done.stderr.strip()[-500:],
    }


# ---------------------------------------------------------------------------
# The machine


def machine(database: str) -> dict:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = ""
    try:
        kb = int(re.search(r"MemTotal:\s+(\d+)", Path("/proc/meminfo").read_text()).group(1))
        memory = f"{kb / 1024 / 1024:.1f} GiB"
    except (OSError, AttributeError):
        pass
    versions = subprocess.run(
        [
            PYTHON,
            "-c",
            "import django, gunicorn, whitenoise, matplotlib, sqlite3; "
            "print(django.__version__, gunicorn.__version__, whitenoise.__version__ "
            "if hasattr(whitenoise, '__version__') else '', matplotlib.__version__, "
            "sqlite3.sqlite_version)",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    uname = subprocess.run(["uname", "-a"], capture_output=True, text=True)
    return {
        "uname": uname.stdout.strip() if uname.returncode == 0 else " ".join(platform.uname()),
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory": memory,
        "python": platform.python_version(),
        "django": versions[0],
        "gunicorn": versions[1],
        "matplotlib": versions[-2],
        "sqlite": versions[-1],
        "database": database,
    }


def machine_cpu_seconds() -> float | None:
    """CPU seconds every process on the machine has used since boot (/proc/stat)."""
    try:
        fields = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
    except OSError:
        return None
    user, nice, system, _idle, _iowait, irq, softirq, steal = (int(x) for x in fields[:8])
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


def own_cpu_seconds() -> float:
    """CPU seconds of this run: this process and every child it waited for (gunicorn
    reaps its workers, so they count too)."""
    import resource  # noqa: PLC0415

    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def other_cpu_share(start, seconds) -> str:
    """How much of the machine's CPU other work used during the run."""
    machine_start, own_start = start
    machine_end = machine_cpu_seconds()
    if machine_start is None or machine_end is None or seconds <= 0:
        return "unknown"
    cores = os.cpu_count() or 1
    other = (machine_end - machine_start) - (own_cpu_seconds() - own_start)
    return f"{max(other, 0) / (seconds * cores) * 100:.0f} % of {cores} cores"


def postgres_version(url: str) -> str:
    done = subprocess.run(
        [
            PYTHON,
            "-c",
            "import sys, psycopg; c = psycopg.connect(sys.argv[1]); "
            "print(c.execute('show server_version').fetchone()[0])",
            url,
        ],
        capture_output=True,
        text=True,
    )
    return f"PostgreSQL {done.stdout.strip()}" if done.returncode == 0 else "PostgreSQL"


# ---------------------------------------------------------------------------
# Databases for one run


def empty_database(name: str, workdir: Path, pg_url: str) -> str:
    """The URL of a new, empty database: a file in the run's folder, or
    ``bench_<name>`` on the PostgreSQL server of BENCH_DATABASE_URL (replaced if there)."""
    if not pg_url:
        return f"sqlite:///{workdir / f'{name}.sqlite3'}"
    import psycopg  # noqa: PLC0415 - only needed for this path

    db_name = f"bench_{name}"
    with psycopg.connect(pg_url, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{db_name}"')
        admin.execute(f'CREATE DATABASE "{db_name}"')
    return urlunsplit(urlsplit(pg_url)._replace(path=f"/{db_name}"))


def prepare(label, name, reports, workdir, static_root, pg_url) -> tuple[dict, dict]:
    """A scale database for one part of the run: a copy of the SQLite cache, or seeded now."""
    log(f"{label}: database with about {reports:,} reports")
    patients = data.patients_for(reports)
    if pg_url:
        url = empty_database(name, workdir, pg_url)
        meta = {
            **data.seed_database(data.django_env(url), patients, log),
            "cache": "built (PostgreSQL: not cached)",
        }
    else:
        path = workdir / f"{name}.sqlite3"
        meta = data.scale_database(patients, path, log)
        url = f"sqlite:///{path}"
    env = data.django_env(url, STATIC_ROOT=str(static_root))
    if meta.get("cache") in ("hit", "migrated"):
        age = (datetime.now(UTC) - datetime.fromisoformat(meta["built_at"])).total_seconds()
        shifted = task(env, "shift", int(age))
        log(
            f"{label}: cached database ({meta['cache']}), built {age / 3600:.1f} h ago; "
            f"times moved forward in {shifted['seconds']} s"
        )
    return env, meta


# ---------------------------------------------------------------------------


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--reports", type=int, help="reports in the large database")
    parser.add_argument(
        "--workers",
        type=int,
        default=int(os.environ.get("BENCH_WORKERS") or 0),
        help="gunicorn workers (default: 2 per core)",
    )
    parser.add_argument("--output", default=str(RESULTS))
    args = parser.parse_args(argv)

    scale = os.environ.get("BENCH_SCALE", "full")
    if scale not in TIERS:
        parser.error(f"BENCH_SCALE must be one of {', '.join(TIERS)}; got {scale!r}")
    tier = dict(TIERS[scale])
    if args.reports:
        tier["large_reports"] = args.reports
    workers = args.workers or 2 * (os.cpu_count() or 1)
    pg_url = os.environ.get("BENCH_DATABASE_URL", "").strip()

    started = time.monotonic()
    started_at = datetime.now(UTC)
    load_start = os.getloadavg()
    cpu_start = machine_cpu_seconds(), own_cpu_seconds()
    LAST_RUN.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="needle-bench-") as tmp:
        workdir = Path(tmp)
        static_root = workdir / "static"
        log(f"collectstatic into {static_root}")
        data.manage(
            data.django_env("sqlite:///:memory:", STATIC_ROOT=str(static_root)),
            "collectstatic",
            "--noinput",
            "-v",
            "0",
        )

        small_env, small_meta = prepare(
            report.size_label(tier["small_reports"]),
            "small",
            tier["small_reports"],
            workdir,
            static_root,
            pg_url,
        )
        small = measure(report.size_label(tier["small_reports"]), small_env, workdir, tier, workers)
        large_label = report.size_label(tier["large_reports"])
        large_env, large_meta = prepare(
            large_label, "large", tier["large_reports"], workdir, static_root, pg_url
        )
        checkins = sum(tier["submissions"].values()) + 16
        large = measure(large_label, large_env, workdir, tier, workers, checkins=checkins)

        # Whatever missed its target is profiled in-process (cProfile + EXPLAIN QUERY PLAN).
        for old in LAST_RUN.glob("profile-*.md"):
            old.unlink()
        for name, size in report.profile_targets(small, large):
            env = small_env if size == "small" else large_env
            fx = (small if size == "small" else large)["fixtures"]
            spec = {"name": name, "label": size, "cold_chart": name == "chart cold"}
            if name == "report submission":
                spec.update(large["profile_checkin"])
            else:
                spec["path"] = fx["pages"]["chart image" if name == "chart cold" else name]
            output = LAST_RUN / f"profile-{name.replace(' ', '-')}-{size}.md"
            log(f"profiling {name} ({size}) -> {output.relative_to(ROOT)}")
            task(env, "profile", {**spec, "output": str(output)})

        exports = {}
        for size, env in (("small", small_env), ("large", large_env)):
            log(f"FHIR bulk export: every clinic of the {size} database")
            exports[size] = fhir_export(env, workdir, size)
            log(
                f"FHIR bulk export ({size}): {exports[size]['reports']:,} reports in "
                f"{exports[size]['seconds']} s, peak {exports[size]['peak_rss_mb']} MB"
            )

        reminder_runs = []
        for count in tier["reminders"]:
            log(f"reminders: {count:,} due follow-ups")
            reminder_runs.append(reminders(count, workdir, pg_url))
            log(
                f"reminders: {count:,}: {reminder_runs[-1]['seconds']} s, "
                f"peak {reminder_runs[-1]['peak_rss_mb']} MB ({reminder_runs[-1]['output']})"
            )

        log("phone: the patient's pages on emulated slow networks (bench/phone.py)")
        try:
            phone_run = phone.measure(workdir, static_root)
        except Exception as error:  # noqa: BLE001 - recorded in the results, the run goes on
            log(f"phone: not measured: {error!r}")
            phone_run = {"error": repr(error)}
        log(f"known truth: {tier['truth_sessions']:,} sessions")
        truth = known_truth(tier["truth_sessions"], workdir, pg_url)
        log(f"known truth: {truth['summary']}")

    info = machine(postgres_version(pg_url) if pg_url else f"SQLite {sqlite3.sqlite_version}")
    info.update(
        date=started_at.strftime("%Y-%m-%d %H:%M UTC"),
        workers=workers,
        scale=scale,
        minutes=round((time.monotonic() - started) / 60, 1),
        load_start=" ".join(f"{x:.2f}" for x in load_start),
        load_end=" ".join(f"{x:.2f}" for x in os.getloadavg()),
        other_cpu=other_cpu_share(cpu_start, time.monotonic() - started),
        small_cache=small_meta.get("cache"),
        large_cache=large_meta.get("cache"),
        large_build_seconds=large_meta.get("seconds"),
    )
    text, failures = report.render(
        info, tier, small, large, reminder_runs, exports, phone_run, truth
    )
    Path(args.output).write_text(text)
    (LAST_RUN / "raw.json").write_text(
        json.dumps(
            {
                "machine": info,
                "tier": tier,
                "small": small,
                "large": large,
                "reminders": reminder_runs,
                "fhir_export": exports,
                "phone": phone_run,
                "truth": truth,
            },
            indent=1,
            default=str,
        )
    )
    print()
    print(text)
    log(
        f"wrote {Path(args.output).relative_to(ROOT) if Path(args.output).is_relative_to(ROOT) else args.output}"
        f" in {info['minutes']} min"
    )
    if failures:
        for failure in failures:
            print(f"FAILED: {failure}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

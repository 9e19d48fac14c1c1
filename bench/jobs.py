"""Jobs measured in their own processes: the FHIR bulk export, the reminder job, the
known-truth clinic; and the empty databases they run in."""

import re
import shutil
import subprocess
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from bench import data
from bench.procs import PYTHON, ROOT, task, timed_command


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

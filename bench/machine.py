"""What the run was measured on: the machine, the versions, the other work beside it."""

import os
import platform
import re
import subprocess
from pathlib import Path

from bench.procs import PYTHON


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


# Run with the benchmark's settings: the app's own connection, its init_command applied.
_SQLITE_SETTINGS = """\
import django
django.setup()
from django.db import connection
cursor = connection.cursor()
mode = cursor.execute("PRAGMA journal_mode").fetchone()[0]
sync = ("OFF", "NORMAL", "FULL", "EXTRA")[cursor.execute("PRAGMA synchronous").fetchone()[0]]
print(f"journal_mode={mode}, synchronous={sync}")
"""


def sqlite_settings(env: dict) -> str:
    """What a commit costs on SQLite: the journal and sync modes of the app's connections."""
    done = subprocess.run([PYTHON, "-c", _SQLITE_SETTINGS], env=env, capture_output=True, text=True)
    return done.stdout.strip() if done.returncode == 0 else "unknown"


def postgres_settings(url: str) -> str:
    """The server settings that decide what a commit costs, and its memory for data."""
    names = ("fsync", "synchronous_commit", "full_page_writes", "shared_buffers", "work_mem")
    done = subprocess.run(
        [
            PYTHON,
            "-c",
            "import sys, psycopg; c = psycopg.connect(sys.argv[1]); "
            "print(', '.join(f'{n}={c.execute(\"show \" + n).fetchone()[0]}' for n in sys.argv[2:]))",
            url,
            *names,
        ],
        capture_output=True,
        text=True,
    )
    return done.stdout.strip() if done.returncode == 0 else "unknown"

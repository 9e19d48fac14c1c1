"""The benchmark's databases: built once with ``manage.py seed_scale``, cached, copied per run.

A scale database is cached in ``bench/.data/`` (git-ignored) under a key made
of the migration files, the code that writes the data (``tracker/devdata/scale.py``
and what it calls), the Django version and the size. A run copies the cached
file into its own temporary folder, so measurements never change the cache,
and moves every stored time forward to the present (``bench.tasks shift``).

When migrations were only *added* since a database was cached (an index, a
column), the cached copy is brought up to date with ``migrate`` instead of
being rebuilt: that is also what a deployment does to a real database.
SQLite only; with PostgreSQL (``BENCH_DATABASE_URL``) the data is built in
each run.
"""

import hashlib
import json
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA_DIR = ROOT / "bench" / ".data"
PYTHON = sys.executable
FORMAT = 1  # bump when what bench adds to a cached database changes
# The data's tokens are HMACs under SECRET_KEY: the same key must serve them.
# Only ever used on 127.0.0.1 against throwaway databases.
BENCH_SECRET_KEY = "needle-bench-only-not-a-secret-3d9f0c2a7b1e4d6f8a0c2e4f6a8b0d2f"
# Code that decides what seed_scale writes.
SEED_CODE = [
    "tracker/devdata/scale.py",
    "tracker/services/scheduling.py",
    "tracker/security/tokens.py",
    "tracker/management/commands/seed_scale.py",
]
REPORTS_PER_PATIENT = 24.7  # seed_scale's yield with its defaults (measured, seed 1)


def patients_for(reports: int) -> int:
    return max(1, round(reports / REPORTS_PER_PATIENT))


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _django_version() -> str:
    out = subprocess.run(
        [PYTHON, "-c", "import django; print(django.__version__)"],
        capture_output=True,
        text=True,
        check=True,
    )
    return out.stdout.strip()


def fingerprint(patients: int) -> dict:
    migrations = {
        str(path.relative_to(ROOT)): _sha(path)
        for path in sorted((ROOT / "tracker" / "migrations").glob("*.py"))
    }
    seed = hashlib.sha256(
        json.dumps(
            [[name, _sha(ROOT / name)] for name in SEED_CODE]
            + [_django_version(), patients, FORMAT, BENCH_SECRET_KEY]
        ).encode()
    ).hexdigest()
    key = hashlib.sha256(json.dumps([seed, migrations]).encode()).hexdigest()[:16]
    return {"key": key, "seed": seed, "migrations": migrations, "patients": patients}


def django_env(database_url: str, **extra) -> dict:
    """The environment of every Django process of the benchmark (DEBUG off)."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k
        not in {
            "DEBUG",
            "DATABASE_URL",
            "CACHE_URL",
            "STATIC_ROOT",
            "EMAIL_BACKEND",
            "SMS_BACKEND",
            "SMS_FILE_PATH",
            "DJANGO_SETTINGS_MODULE",
            "GUNICORN_CMD_ARGS",
            "DATABASE_CONN_MAX_AGE",
            "DATABASE_PREPARED_STATEMENTS",
            "SECURE_PROXY_SSL_HEADER",
            "GUNICORN_WORKERS",
            "GUNICORN_THREADS",
            "LINK_MISSES_PER_HOUR",
            "TRUSTED_PROXY_COUNT",
        }
    }
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "bench.settings",
            "SECRET_KEY": BENCH_SECRET_KEY,
            "ALLOWED_HOSTS": "127.0.0.1",
            "SITE_URL": "http://127.0.0.1",
            # Plain HTTP on loopback: production's TLS proxy is not part of the benchmark.
            "SECURE_COOKIES": "0",
            "SECURE_SSL_REDIRECT": "0",
            "DATABASE_URL": database_url,
            # Production's default, a folder all workers share: one per database, so
            # that one part of the run never reads what another cached.
            "CACHE_URL": "file://"
            + os.path.join(
                tempfile.gettempdir(),
                "needle-bench-cache-" + hashlib.sha256(database_url.encode()).hexdigest()[:12],
            ),
            "EMAIL_BACKEND": "django.core.mail.backends.dummy.EmailBackend",
            "PYTHONPATH": str(ROOT),
        }
    )
    env.update(extra)
    return env


def manage(env, *args, capture=False):
    return subprocess.run(
        [PYTHON, "manage.py", *args],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=capture,
        text=True,
    )


def _checkpoint(path: Path) -> None:
    """Fold the WAL into the main file, so the one file is the whole database."""
    connection = sqlite3.connect(path)
    connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    connection.close()


def _sidecar(path: Path) -> Path:
    return path.with_suffix(".json")


def seed_database(env, patients: int, log) -> dict:
    """migrate + seed_scale into the database of ``env``; the seed's summary."""
    manage(env, "migrate", "--noinput", "-v", "0")
    built_at = datetime.now(UTC)  # seed_scale places its rows relative to this moment
    started = time.monotonic()
    log(f"  seed_scale --patients {patients} (about {patients * REPORTS_PER_PATIENT:,.0f} reports)")
    # Progress goes to the terminal; the summary line is read from stdout.
    done = subprocess.run(
        [PYTHON, "manage.py", "seed_scale", "--patients", str(patients)],
        cwd=ROOT,
        env=env,
        check=True,
        stdout=subprocess.PIPE,
        text=True,
    )
    counts = {
        name: int(number.replace(",", ""))
        for number, name in re.findall(
            r"([\d,]+) (patients|sessions|follow-ups|reports)", done.stdout
        )
    }
    return {
        "built_at": built_at.isoformat(),
        "counts": counts,
        "seconds": round(time.monotonic() - started),
    }


def scale_database(patients: int, destination: Path, log) -> dict:
    """A copy of the cached scale database at ``destination``; builds it on a miss.

    Returns the cache entry's metadata (when it was built, counts, what happened).
    """
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    fp = fingerprint(patients)
    cached = DATA_DIR / f"scale-{patients}-{fp['key']}.sqlite3"
    if cached.exists() and _sidecar(cached).exists():
        meta = json.loads(_sidecar(cached).read_text())
        meta["cache"] = "hit"
        # Another app's migrations (a new third-party app, say) are not in the key.
        env = django_env(f"sqlite:///{cached}")
        check = subprocess.run(
            [PYTHON, "manage.py", "migrate", "--check"],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
        )
        if check.returncode:
            log("  cached database lacks some migrations: migrating it")
            manage(env, "migrate", "--noinput", "-v", "0")
            _checkpoint(cached)
            meta["cache"] = "migrated"
    else:
        meta = _upgrade_older(fp, cached, log) or _build(fp, cached, log)
    shutil.copyfile(cached, destination)
    return meta


def _upgrade_older(fp, cached: Path, log) -> dict | None:
    """Reuse a cache entry made before some migrations were added: migrate a copy."""
    for sidecar in sorted(DATA_DIR.glob(f"scale-{fp['patients']}-*.json")):
        old = json.loads(sidecar.read_text())
        old_db = sidecar.with_suffix(".sqlite3")
        same_past = all(
            fp["migrations"].get(name) == sha for name, sha in old["migrations"].items()
        )
        if old.get("seed") != fp["seed"] or not same_past or not old_db.exists():
            continue
        log(
            f"  cached database predates {len(fp['migrations']) - len(old['migrations'])} "
            "new migration(s): migrating a copy"
        )
        building = cached.with_suffix(".building")
        shutil.copyfile(old_db, building)
        started = time.monotonic()
        try:
            manage(django_env(f"sqlite:///{building}"), "migrate", "--noinput", "-v", "0")
            _checkpoint(building)
        except BaseException:
            for leftover in DATA_DIR.glob(building.name + "*"):
                leftover.unlink()
            raise
        building.rename(cached)
        meta = {
            **old,
            "migrations": fp["migrations"],
            "key": fp["key"],
            "migrated_seconds": round(time.monotonic() - started),
        }
        _sidecar(cached).write_text(json.dumps(meta, indent=1))
        old_db.unlink()
        sidecar.unlink()
        meta["cache"] = "migrated"
        return meta
    return None


def _build(fp, cached: Path, log) -> dict:
    log(
        f"  building the {fp['patients']:,}-patient database once "
        f"(cached in {cached.relative_to(ROOT)})"
    )
    for stale in DATA_DIR.glob(f"scale-{fp['patients']}-*"):
        stale.unlink()  # an older migration state that cannot be migrated forward
    building = cached.with_suffix(".building")
    for leftover in DATA_DIR.glob(building.name + "*"):
        leftover.unlink()
    env = django_env(f"sqlite:///{building}")
    seeded = seed_database(env, fp["patients"], log)
    _checkpoint(building)
    building.rename(cached)
    meta = {**fp, **seeded}
    _sidecar(cached).write_text(json.dumps(meta, indent=1))
    meta["cache"] = "built"
    return meta


def main():
    """``python -m bench.data PATIENTS``: build (or check) the cache only."""
    patients = int(sys.argv[1])
    destination = DATA_DIR / "check.sqlite3"
    meta = scale_database(patients, destination, print)
    destination.unlink()
    print(json.dumps({k: v for k, v in meta.items() if k != "migrations"}, indent=1))


if __name__ == "__main__":
    main()

"""Production settings refuse to start without their secrets; development needs only DEBUG."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PRINT_SETTINGS = (
    "import django; from django.conf import settings; django.setup(); "
    "print(settings.DEBUG, settings.ALLOWED_HOSTS, settings.DATABASES['default']['ENGINE'], "
    "settings.DATABASES['default'].get('OPTIONS', {}).get('transaction_mode'))"
)


PRINT_CACHE = (
    "import django; from django.conf import settings; django.setup(); "
    "print(settings.CACHES['default']['BACKEND'], settings.CACHES['default']['LOCATION'])"
)


def _run(code=PRINT_SETTINGS, **env):
    clean = {
        k: v
        for k, v in os.environ.items()
        if k
        not in {
            "SECRET_KEY",
            "ALLOWED_HOSTS",
            "DEBUG",
            "DATABASE_URL",
            "SITE_URL",
            "CACHE_URL",
            "DATABASE_CONN_MAX_AGE",
            "DATABASE_CONN_HEALTH_CHECKS",
            "DATABASE_PREPARED_STATEMENTS",
        }
    }
    clean["DJANGO_SETTINGS_MODULE"] = "project.settings"
    return subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env={**clean, **env}, capture_output=True, text=True
    )


def test_debug_is_off_and_a_secret_key_is_required_by_default():
    result = _run(ALLOWED_HOSTS="clinic.example")
    assert result.returncode != 0
    assert "SECRET_KEY is not set" in result.stderr


def test_allowed_hosts_are_required_without_debug():
    result = _run(SECRET_KEY="x" * 50)
    assert result.returncode != 0
    assert "ALLOWED_HOSTS is not set" in result.stderr


def test_site_url_is_required_without_debug():
    result = _run(SECRET_KEY="x" * 50, ALLOWED_HOSTS="clinic.example")
    assert result.returncode != 0
    assert "SITE_URL is not set" in result.stderr


def test_production_settings_start_with_all_three():
    result = _run(
        SECRET_KEY="x" * 50, ALLOWED_HOSTS="clinic.example", SITE_URL="https://clinic.example"
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split()[0] == "False"
    assert "'clinic.example'" in result.stdout


def test_development_needs_only_debug_and_uses_sqlite_in_wal_immediate_mode():
    result = _run(DEBUG="1")
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [
        "True",
        "['127.0.0.1',",
        "'localhost',",
        "'[::1]']",
        "django.db.backends.sqlite3",
        "IMMEDIATE",
    ]


@pytest.mark.parametrize("value", ["maybe", "2"])
def test_a_debug_value_that_is_not_a_boolean_stops_the_server(value):
    result = _run(DEBUG=value)
    assert result.returncode != 0 and "DEBUG must be one of" in result.stderr


def test_database_url_selects_postgresql():
    result = _run(DEBUG="1", DATABASE_URL="postgres://u:p@db.internal:5432/aftercare")
    assert result.returncode == 0, result.stderr
    assert "project.postgresql" in result.stdout


PRINT_HOST = (
    "import django; from django.conf import settings; django.setup(); "
    "d = settings.DATABASES['default']; print(d['HOST'], d['PORT'] or '-', d['NAME'])"
)


def test_a_local_postgresql_is_reached_through_its_socket_as_the_readme_writes_it():
    url = "postgres://aftercare@%2Fvar%2Frun%2Fpostgresql/aftercare"
    result = _run(PRINT_HOST, DEBUG="1", DATABASE_URL=url)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["/var/run/postgresql", "-", "aftercare"]


PRINT_CONNECTION = (
    "import django; from django.conf import settings; django.setup(); "
    "d = settings.DATABASES['default']; print(d['CONN_MAX_AGE'], d['CONN_HEALTH_CHECKS'])"
)


def test_each_worker_keeps_its_database_connection_and_checks_it_before_reuse():
    result = _run(PRINT_CONNECTION, DEBUG="1", DATABASE_URL="postgres://u:p@db:5432/aftercare")
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["600", "True"]
    result = _run(PRINT_CONNECTION, DEBUG="1", DATABASE_CONN_MAX_AGE="0")
    assert result.stdout.split() == ["0", "True"]
    result = _run(
        PRINT_CONNECTION,
        DEBUG="1",
        DATABASE_CONN_MAX_AGE="-1",
        DATABASE_CONN_HEALTH_CHECKS="0",
    )
    assert result.stdout.split() == ["None", "False"]


PRINT_OPTIONS = (
    "import django; from django.conf import settings; django.setup(); "
    "print(sorted(settings.DATABASES['default'].get('OPTIONS', {}).items()))"
)


def test_postgresql_plans_a_repeated_query_once_per_connection():
    postgres = "postgres://u:p@db:5432/aftercare?sslmode=require"
    result = _run(PRINT_OPTIONS, DEBUG="1", DATABASE_URL=postgres)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == (
        "[('prepare_threshold', 5), ('server_side_binding', True), ('sslmode', 'require')]"
    )
    # Behind a pooler in transaction mode: Django's defaults, nothing prepared.
    result = _run(PRINT_OPTIONS, DEBUG="1", DATABASE_URL=postgres, DATABASE_PREPARED_STATEMENTS="0")
    assert result.stdout.strip() == "[('sslmode', 'require')]"


@pytest.mark.parametrize("value", ["-2", "ten"])
def test_a_connection_age_that_is_not_understood_stops_the_server(value):
    result = _run(PRINT_CONNECTION, DEBUG="1", DATABASE_CONN_MAX_AGE=value)
    assert result.returncode != 0 and "DATABASE_CONN_MAX_AGE must be" in result.stderr


def test_the_default_cache_is_a_folder_every_worker_of_the_server_shares():
    result = _run(PRINT_CACHE, DEBUG="1")
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["project.cache.FileBasedCache", str(ROOT / "var" / "cache")]
    result = _run(PRINT_CACHE, DEBUG="1", CACHE_URL="file:///srv/aftercare/cache")
    assert result.stdout.split() == ["project.cache.FileBasedCache", "/srv/aftercare/cache"]
    result = _run(PRINT_CACHE, DEBUG="1", CACHE_URL="redis://cache.internal:6379/0")
    assert result.stdout.split() == [
        "django.core.cache.backends.redis.RedisCache",
        "redis://cache.internal:6379/0",
    ]


@pytest.mark.parametrize("value", ["locmem://", "file://relative/cache", "memcached://x"])
def test_a_cache_that_is_not_shared_or_not_understood_stops_the_server(value):
    result = _run(PRINT_CACHE, DEBUG="1", CACHE_URL=value)
    assert result.returncode != 0 and "CACHE_URL must be" in result.stderr


def test_env_example_lists_every_variable_the_settings_read():
    settings_source = (ROOT / "project" / "settings.py").read_text()
    import re

    read = set(re.findall(r'env_(?:str|bool|int|list|required)\(\s*"([A-Z_]+)"', settings_source))
    example = (ROOT / ".env.example").read_text()
    listed = set(re.findall(r"^#?\s*([A-Z_]+)=", example, flags=re.MULTILINE))
    assert read <= listed, read - listed


def test_a_worker_loads_every_view_as_it_starts_and_keeps_it_out_of_the_collector():
    code = (
        "import gc, sys; import project.wsgi; "
        "print('tracker.views.patient' in sys.modules, gc.get_freeze_count() > 10000)"
    )
    result = _run(code, DEBUG="1")
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["True", "True"]


PRINT_SQLITE_PRAGMAS = (
    "import django; django.setup(); from django.db import connection; "
    "c = connection.cursor(); "
    "print(*(c.execute(f'PRAGMA {name}').fetchone()[0] "
    "for name in ('journal_mode', 'synchronous', 'busy_timeout')))"
)


def test_a_sqlite_commit_waits_for_the_disk(tmp_path):
    # synchronous=FULL (2): a report and its alert survive a power cut once
    # the patient has been told the clinic knows. WAL keeps readers unblocked.
    result = _run(PRINT_SQLITE_PRAGMAS, DEBUG="1", DATABASE_URL=f"sqlite:///{tmp_path}/db.sqlite3")
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["wal", "2", "5000"]

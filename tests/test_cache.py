"""The cache every worker of a server shares (project/cache.py), and Redis for several servers."""

import pickle
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from django.core.cache import cache

from project.cache import FileBasedCache
from tracker.charts import cache as chart_cache
from tracker.charts.cache import cached_svg
from tracker.security import ratelimit

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def folder_cache(tmp_path):
    return FileBasedCache(str(tmp_path / "cache"), {})


def _expiry(cache, key) -> float:
    with open(cache._key_to_file(key), "rb") as f:
        return pickle.load(f)


def test_incr_keeps_the_entrys_expiry(folder_cache):
    """Django's own incr() rewrites the entry with the default five minutes."""
    assert folder_cache.add("hits", 0, timeout=3600)
    before = _expiry(folder_cache, "hits")
    assert [folder_cache.incr("hits") for _ in range(3)] == [1, 2, 3]
    assert folder_cache.get("hits") == 3
    assert _expiry(folder_cache, "hits") == before
    assert before > time.time() + 3500


def test_incr_of_a_missing_or_expired_entry_is_a_value_error(folder_cache):
    with pytest.raises(ValueError):
        folder_cache.incr("nothing")
    folder_cache.set("old", 5, timeout=1)
    with open(folder_cache._key_to_file("old"), "r+b") as f:  # as if a second had passed
        f.write(pickle.dumps(time.time() - 1))
    with pytest.raises(ValueError):
        folder_cache.incr("old")
    assert folder_cache.add("old", 0) is True


def test_clear_leaves_the_lock_file_and_empties_the_entries(folder_cache):
    folder_cache.add("hits", 0)
    folder_cache.incr("hits")
    folder_cache.clear()
    assert folder_cache.get("hits") is None
    assert (Path(folder_cache._dir) / "counters.lock").exists()
    assert folder_cache.add("hits", 0) and folder_cache.incr("hits") == 1


COUNTER = textwrap.dedent("""
    import sys
    from project.cache import FileBasedCache
    cache = FileBasedCache(sys.argv[1], {})
    for _ in range(int(sys.argv[2])):
        cache.add("hits", 0, timeout=3600)
        cache.incr("hits")
""")


def test_workers_counting_at_once_lose_no_count(tmp_path):
    """Four processes, as four gunicorn workers, count into one folder: every hit is kept."""
    folder = str(tmp_path / "cache")
    workers = [
        subprocess.Popen([sys.executable, "-c", COUNTER, folder, "150"], cwd=ROOT) for _ in range(4)
    ]
    assert [worker.wait(timeout=120) for worker in workers] == [0, 0, 0, 0]
    assert FileBasedCache(folder, {}).get("hits") == 600


def test_the_suite_runs_on_the_shared_folder_cache(settings):
    assert settings.CACHES["default"]["BACKEND"] == "project.cache.FileBasedCache"


def test_rate_counters_on_the_folder_cache():
    now = 7200.0
    assert [ratelimit.hit("t", "192.0.2.1", seconds=3600, now=now)[0] for _ in range(3)] == [
        1,
        2,
        3,
    ]
    assert ratelimit.count("t", "192.0.2.1", seconds=3600, now=now + 10) == (3, 3590)
    assert ratelimit.count("t", "192.0.2.2", seconds=3600, now=now)[0] == 0


# ---------------------------------------------------------------------------
# Redis (CACHE_URL=redis://…): run against a real server, which .ci/run starts


def test_rate_counters_on_redis(redis_cache):
    now = 7200.0
    assert [ratelimit.hit("t", "192.0.2.1", seconds=3600, now=now)[0] for _ in range(3)] == [
        1,
        2,
        3,
    ]
    assert ratelimit.count("t", "192.0.2.1", seconds=3600, now=now + 10) == (3, 3590)
    # The window's counter lives a little longer than the window, however often it is hit.
    key, _remaining = ratelimit._window("t", "192.0.2.1", 3600, now)
    ttl = redis_cache._cache.get_client(key).ttl(redis_cache.make_and_validate_key(key))
    assert 3600 < ttl <= 3660
    # The next hour starts afresh.
    assert ratelimit.hit("t", "192.0.2.1", seconds=3600, now=now + 3600)[0] == 1


def test_charts_are_kept_on_redis(redis_cache):
    calls = []

    def render():
        calls.append(1)
        return b"<svg/>"

    assert cached_svg("test", [1, 2], render) == cached_svg("test", [1, 2], render) == b"<svg/>"
    assert len(calls) == 1


def test_a_process_keeps_the_charts_it_served(monkeypatch):
    """Asked for again, a chart comes from the process: the same bytes, nothing read or drawn."""
    monkeypatch.setattr(chart_cache, "KEPT_CHARTS", 2)
    calls = []

    def render(data):
        def draw():
            calls.append(data)
            return f"<svg>{data}</svg>".encode()

        return draw

    first = cached_svg("test", [1], render([1]))
    cache.clear()  # the shared cache no longer has it: the process still does
    assert cached_svg("test", [1], render([1])) is first
    assert calls == [[1]]
    # New numbers are a new key, never the kept chart.
    assert cached_svg("test", [1, 2], render([1, 2])) == b"<svg>[1, 2]</svg>"
    assert calls == [[1], [1, 2]]
    # Past KEPT_CHARTS the least recently served goes; the shared cache is asked again.
    cached_svg("test", [3], render([3]))
    assert cached_svg("test", [1], render([1])) == b"<svg>[1]</svg>"
    assert calls == [[1], [1, 2], [3], [1]]

import os
from datetime import timedelta

import pytest
from django.core.cache import cache, caches
from django.utils import timezone, translation
from hypothesis import settings as hypothesis_settings

from tests.factories import MembershipFactory, PatientFactory, make_session
from tracker.charts.cache import forget_kept_charts
from tracker.choices import Role
from tracker.security import tokens

# Hypothesis in CI (the CI variable set): the same examples on every run, so a
# red build fails again when rerun and a green one is not the luck of the draw.
# On a developer's machine: new random examples each run, and any that failed
# kept in .hypothesis/ to be tried first next time. Loaded here, before the
# test modules build their own settings on top of it.
hypothesis_settings.register_profile("ci", derandomize=True, deadline=None, print_blob=True)
hypothesis_settings.load_profile("ci" if os.environ.get("CI") else "default")


@pytest.fixture
def therapist_a(db):
    return MembershipFactory()


@pytest.fixture
def clinic_a(therapist_a):
    return therapist_a.clinic


@pytest.fixture
def therapist_b(db):
    """A therapist of another clinic: must see nothing of clinic A."""
    return MembershipFactory()


@pytest.fixture
def lead_a(clinic_a):
    """A lead of clinic A: reads its audit trail and may erase its patients."""
    return MembershipFactory(clinic=clinic_a, role=Role.LEAD)


@pytest.fixture
def patient_a(clinic_a):
    return PatientFactory(clinic=clinic_a)


@pytest.fixture
def session_a(patient_a, therapist_a):
    return make_session(patient=patient_a, therapist=therapist_a.user)


@pytest.fixture
def link_token(session_a):
    return tokens.token_for(session_a.access_links.get().nonce)


@pytest.fixture
def frozen_now(time_machine):
    """Stop the clock at a moment (with time-machine): call it with a datetime."""

    def freeze(moment):
        time_machine.move_to(moment, tick=False)
        return moment

    return freeze


@pytest.fixture
def hours_after(session_a, time_machine):
    """Stop every clock some hours after session A; returns that moment.

    time-machine moves the time the whole process reads (``tracker.clock``,
    Django's ``timezone.now()``, ``time.time()``, the cache's expiry), so a
    test sees the app exactly as it would be then.
    """

    def move(hours):
        moment = session_a.performed_at + timedelta(hours=hours)
        time_machine.move_to(moment, tick=False)
        return moment

    return move


@pytest.fixture
def utc_now():
    return timezone.now()


@pytest.fixture(autouse=True)
def default_language(settings):
    """Each test starts in the site's language: one that reads a page in Spanish (or
    activates it for a patient) would otherwise leave its thread in Spanish for the next."""
    translation.activate(settings.LANGUAGE_CODE)
    yield
    translation.activate(settings.LANGUAGE_CODE)


@pytest.fixture(autouse=True)
def empty_cache():
    """Each test starts with an empty cache: analytics results are kept by clinic id,
    and ids come round again from one test to the next. The rendered fragments
    too, and each process's charts: a test of the markup sees it rendered."""
    cache.clear()
    caches["template_fragments"].clear()
    caches["fragment_pages"].clear()
    forget_kept_charts()


@pytest.fixture
def redis_url():
    """The Redis server the cache tests use: ``TEST_REDIS_URL`` (``.ci/run`` starts one).

    Without it they are skipped on a developer's machine, and fail in CI
    (``CI=true``), where a skipped Redis test would hide a broken setup. Each
    parallel test process gets its own database number, since emptying the
    cache empties the whole database.
    """
    url = os.environ.get("TEST_REDIS_URL", "").rstrip("/")
    if not url:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("CI must start Redis and set TEST_REDIS_URL (see .ci/run).")
        pytest.skip("No Redis: set TEST_REDIS_URL=redis://127.0.0.1:PORT to run this test.")
    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw")
    base = url.rsplit("/", 1)[0] if url.count("/") > 2 else url
    return f"{base}/{1 + int(worker) if worker.isdigit() else 1}"


@pytest.fixture
def redis_cache(settings, redis_url):
    """Django's cache on that Redis server for this test, emptied before and after."""
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": redis_url,
        }
    }
    cache.clear()
    yield cache
    cache.clear()

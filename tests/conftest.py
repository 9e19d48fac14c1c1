import os
from datetime import timedelta

import pytest
from django.core.cache import cache
from django.utils import timezone
from hypothesis import settings as hypothesis_settings

from tests.factories import MembershipFactory, PatientFactory, make_session
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
def empty_cache():
    """Each test starts with an empty cache: analytics results are kept by clinic id,
    and ids come round again from one test to the next."""
    cache.clear()

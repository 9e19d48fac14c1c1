"""The demo data: alive around the current time, and the same for the same seed."""

import io
import re

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.db import transaction

from tests.factories import UserFactory
from tracker import clock
from tracker.models import (
    Alert,
    Clinic,
    FollowUp,
    Membership,
    NeedlingSession,
    Patient,
    Severity,
    SymptomReport,
)

pytestmark = pytest.mark.django_db


def _snapshot():
    now = clock.now()
    return [
        (
            s.patient.display_name,
            s.patient.reference,
            round((now - s.performed_at).total_seconds() / 3600),
            s.pre_pain,
            sorted((site.muscle, site.insertions) for site in s.sites.all()),
            sorted(
                (
                    fu.time_point,
                    fu.state_at(now),
                    getattr(fu.report, "soreness", None) if fu.answered_at else None,
                )
                for fu in s.follow_ups.all()
            ),
        )
        for s in NeedlingSession.objects.select_related("patient").order_by(
            "patient__reference", "performed_at"
        )
    ]


def test_seed_demo_if_empty_loads_clinic_staff_and_a_lively_demo(time_machine):
    time_machine.move_to(clock.now(), tick=False)  # one "now" for seeding and checking
    call_command("seed_demo", "--if-empty", "--patients", "12", "--seed", "3")
    assert Clinic.objects.count() == 1
    assert Patient.objects.count() == 12
    states = {fu.state_at(clock.now()) for fu in FollowUp.objects.all()}
    assert {"answered", "open", "missed", "upcoming"} <= states
    days_ago = {(clock.now() - s.performed_at).days for s in NeedlingSession.objects.all()}
    assert {0, 1, 2, 3} <= days_ago
    assert SymptomReport.objects.exclude(bruising="none").exists()
    assert sum(r.has_red_flag for r in SymptomReport.objects.all()) == 1

    call_command("seed_demo", "--if-empty")  # not empty any more: nothing added
    assert Patient.objects.count() == 12


def _seeded(seed):
    """The demo patients of ``seed``, then gone again (patients with an audit trail are never
    deleted: the seeding is undone instead)."""
    with transaction.atomic():
        call_command("seed_demo", "--patients", "6", "--seed", str(seed))
        snapshot = _snapshot()
        transaction.set_rollback(True)
    return snapshot


def test_same_seed_same_data(frozen_now):
    frozen_now(clock.now())
    call_command("loaddata", "demo")
    first = _seeded(7)
    assert _seeded(7) == first
    assert _seeded(8) != first


def test_seed_demo_on_an_empty_database_loads_clinic_and_staff_and_says_what_it_made(frozen_now):
    frozen_now(clock.now())
    out = io.StringIO()
    call_command("seed_demo", "--patients", "8", stdout=out)
    assert set(get_user_model().objects.values_list("username", flat=True)) == {
        "ana",
        "ben",
        "lena",
    }
    assert Membership.objects.count() == 3 and Clinic.objects.count() == 1

    (line,) = out.getvalue().splitlines()
    numbers = re.fullmatch(
        r"Added 8 demo patients: (\d+) sessions, (\d+) check-ins answered, (\d+) alerts \((\d+) urgent\)\.",
        line,
    )
    assert numbers, line
    assert [int(n) for n in numbers.groups()] == [
        NeedlingSession.objects.count(),
        SymptomReport.objects.count(),
        Alert.objects.count(),
        Alert.objects.filter(severity=Severity.URGENT).count(),
    ]

    # With a clinic already there, more patients join it.
    call_command("seed_demo", "--patients", "2", "--seed", "2", stdout=io.StringIO())
    assert Clinic.objects.count() == 1 and Patient.objects.count() == 10


@pytest.mark.django_db(transaction=True)
def test_seeding_sends_no_email(mailoutbox):
    # A real commit, as on the command line: the urgent alert's email would go out then.
    call_command("seed_demo", "--patients", "4", stdout=io.StringIO())
    urgent = Alert.objects.get(severity=Severity.URGENT)
    assert urgent.session.therapist.email  # someone the alert would have emailed
    assert mailoutbox == []


def test_seed_demo_never_overwrites_accounts_of_a_database_without_a_clinic():
    admin = UserFactory(username="admin")
    with pytest.raises(CommandError, match="users but no clinic"):
        call_command("seed_demo")
    admin.refresh_from_db()
    assert admin.username == "admin" and not Clinic.objects.exists()

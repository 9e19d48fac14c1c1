"""The demo data: alive around the current time, and the same for the same seed."""

import pytest
from django.core.management import call_command

from tracker import clock
from tracker.models import Clinic, FollowUp, NeedlingSession, Patient, SymptomReport

pytestmark = pytest.mark.django_db


def _snapshot():
    now = clock.now()
    return [
        (s.patient.display_name, s.patient.reference, round((now - s.performed_at).total_seconds() / 3600),
         s.pre_pain, sorted((site.muscle, site.insertions) for site in s.sites.all()),
         sorted((fu.time_point, fu.state_at(now), getattr(fu.report, "soreness", None) if fu.answered_at else None)
                for fu in s.follow_ups.all()))
        for s in NeedlingSession.objects.select_related("patient").order_by("patient__reference", "performed_at")
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


def test_same_seed_same_data(time_machine):
    time_machine.move_to(clock.now(), tick=False)
    call_command("loaddata", "demo")
    call_command("seed_demo", "--patients", "6", "--seed", "7")
    first = _snapshot()
    NeedlingSession.objects.all().delete()
    Patient.objects.all().delete()
    call_command("seed_demo", "--patients", "6", "--seed", "7")
    assert _snapshot() == first
    NeedlingSession.objects.all().delete()
    Patient.objects.all().delete()
    call_command("seed_demo", "--patients", "6", "--seed", "8")
    assert _snapshot() != first

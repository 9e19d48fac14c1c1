"""Alert rules, one by one, and how reports and missed check-ins open alerts."""

import uuid

import pytest
from django.core import mail

from tests.factories import answers
from tracker import alerts, services
from tracker.alerts import rules
from tracker.choices import TimePoint
from tracker.models import Alert, SymptomReport

pytestmark = pytest.mark.django_db


class _Clinic:
    soreness_threshold = 4


def _facts(soreness=None, report=None, **kwargs):
    return rules.Facts(session=None, clinic=_Clinic(), soreness=soreness or {}, report=report, **kwargs)


def _report(time_point=24, **fields):
    from tracker.models import FollowUp

    return SymptomReport(follow_up=FollowUp(time_point=time_point), **fields)


@pytest.mark.parametrize(("soreness", "fires"), [({24: 2, 48: 3}, True), ({24: 3, 48: 3}, False), ({48: 5}, False)])
def test_soreness_rising(soreness, fires):
    assert (rules.soreness_rising(_facts(soreness)) is not None) is fires


@pytest.mark.parametrize(("at48", "fires"), [(3, False), (4, True), (9, True)])
def test_soreness_high_48h_uses_the_clinic_threshold(at48, fires):
    assert (rules.soreness_high_48h(_facts({48: at48})) is not None) is fires


@pytest.mark.parametrize(("at72", "fires"), [(0, False), (1, True)])
def test_soreness_left_at_72h(at72, fires):
    assert (rules.soreness_at_72h(_facts({72: at72})) is not None) is fires


def test_aggravation_counts_from_48h():
    assert rules.aggravation(_facts(report=_report(24, aggravation=True))) is None
    assert rules.aggravation(_facts(report=_report(48, aggravation=True))) is not None


@pytest.mark.parametrize(
    ("fields", "fires"),
    [({"bruising": "2.5-5"}, False), ({"bruising": "5-10"}, True), ({"bruising": "10+"}, True),
     ({"bruising": "lt2.5", "bruise_growing": True}, True),
     ({"bruising": "lt2.5", "bruise_elsewhere": True}, True)],
)
def test_bruise(fields, fires):
    assert (rules.bruise(_facts(report=_report(**fields))) is not None) is fires


@pytest.mark.parametrize(("value", "fires"), [("somewhat", False), ("quite_a_bit", True), ("very_much", True)])
def test_interference(value, fires):
    assert (rules.interference(_facts(report=_report(interference=value))) is not None) is fires


def test_red_flag_names_the_lung_risk():
    report = _report(rf_breathing=True)
    assert "chest" in rules.red_flag(_facts(report=report, lung_risk=True))
    assert rules.red_flag(_facts(report=_report())) is None


def _submit(session, time_point, **overrides):
    follow_up = session.follow_ups.get(time_point=time_point)
    return services.submit_report(
        follow_up=follow_up, idempotency_key=uuid.uuid4(), answers=answers(**overrides),
        now=follow_up.due_at,
    )


def test_red_flag_opens_one_urgent_alert_and_emails_the_therapist(session_a, django_capture_on_commit_callbacks):
    session_a.therapist.email = "therapist@clinic.example"
    session_a.therapist.save()
    with django_capture_on_commit_callbacks(execute=True):
        _submit(session_a, TimePoint.IN_CLINIC, red_flags=["rf_breathing"])
    with django_capture_on_commit_callbacks(execute=True):
        _submit(session_a, TimePoint.H24, red_flags=["rf_cough"])
    alert = Alert.objects.get()
    assert (alert.rule, alert.severity, alert.session) == ("red_flag", "urgent", session_a)
    assert len(mail.outbox) == 1
    body = mail.outbox[0].body
    assert f"/sessions/{session_a.pk}/" in body
    assert session_a.patient.display_name not in body + mail.outbox[0].subject
    assert "breath" not in body.lower()


def test_rising_soreness_at_48h_opens_an_attention_alert(session_a):
    _submit(session_a, TimePoint.H24, soreness=2)
    assert not Alert.objects.exists()
    _submit(session_a, TimePoint.H48, soreness=3)
    assert list(Alert.objects.values_list("rule", "severity")) == [("soreness_rising", "attention")]


def test_missed_check_in_opens_an_alert_once(session_a):
    follow_up = session_a.follow_ups.get(time_point=TimePoint.IN_CLINIC)
    alerts.evaluate_missed(follow_up)
    alerts.evaluate_missed(follow_up)
    assert Alert.objects.get().rule == "missed"


def test_alerts_for_user_are_scoped(session_a, therapist_a, therapist_b):
    _submit(session_a, TimePoint.IN_CLINIC, red_flags=["rf_fainting"])
    assert Alert.objects.for_user(therapist_a.user).count() == 1
    assert Alert.objects.for_user(therapist_b.user).count() == 0

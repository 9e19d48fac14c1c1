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
    soreness_72h_threshold = 3
    settled_max = 2

    def is_settled(self, soreness):
        return soreness <= self.settled_max


def _facts(soreness=None, report=None, **kwargs):
    return rules.Facts(
        session=None, clinic=_Clinic(), soreness=soreness or {}, report=report, **kwargs
    )


def _report(time_point=24, **fields):
    from tracker.models import FollowUp

    return SymptomReport(follow_up=FollowUp(time_point=time_point), **fields)


@pytest.mark.parametrize(
    ("soreness", "fires"),
    [
        ({24: 2, 48: 4}, True),
        ({24: 2, 48: 3}, False),
        ({24: 1, 48: 3}, True),
        ({24: 0, 48: 2}, False),
        ({24: 3, 48: 3}, False),
        ({48: 5}, False),
    ],
)
def test_soreness_rising_needs_two_points_to_unsettled_soreness(soreness, fires):
    """A rise of one point is within what patients feel as no change; a rise that
    ends settled (0 to 2) is no news."""
    found = rules.soreness_rising(_facts(soreness, report=_report(48)))
    assert (found is not None) is fires
    if fires:
        assert found == {"at24": soreness[24], "at48": soreness[48]}


def test_soreness_rising_is_judged_on_the_48h_answer_only():
    assert rules.soreness_rising(_facts({24: 1, 48: 6}, report=_report(72))) is None


@pytest.mark.parametrize(("at48", "fires"), [(3, False), (4, True), (9, True)])
def test_soreness_high_48h_uses_the_clinic_threshold(at48, fires):
    found = rules.soreness_high_48h(_facts({48: at48}, report=_report(48)))
    assert (found is not None) is fires


@pytest.mark.parametrize(("at72", "fires"), [(0, False), (2, False), (3, True), (7, True)])
def test_soreness_left_at_72h_alerts_from_the_clinic_threshold(at72, fires):
    found = rules.soreness_at_72h(_facts({72: at72}, report=_report(72)))
    assert (found is not None) is fires


def test_aggravation_counts_from_48h():
    assert rules.aggravation(_facts(report=_report(24, aggravation=True))) is None
    assert rules.aggravation(_facts(report=_report(48, aggravation=True))) == {"hours": 48}


@pytest.mark.parametrize(
    ("fields", "fires"),
    [
        ({"bruising": "2.5-5"}, False),
        ({"bruising": "5-10"}, True),
        ({"bruising": "10+"}, True),
        ({"bruising": "lt2.5", "bruise_growing": True}, True),
        ({"bruising": "lt2.5", "bruise_elsewhere": True}, True),
    ],
)
def test_bruise(fields, fires):
    assert (rules.bruise(_facts(report=_report(**fields))) is not None) is fires


def test_a_growing_bruise_is_urgent_for_a_patient_on_blood_thinners():
    facts = _facts(report=_report(bruising="lt2.5", bruise_growing=True), anticoagulants=True)
    assert rules.bruise_severity(facts) == "urgent"
    facts = _facts(report=_report(bruising="5-10"), anticoagulants=True)
    assert rules.bruise_severity(facts) == "attention"
    facts = _facts(report=_report(bruising="lt2.5", bruise_growing=True))
    assert rules.bruise_severity(facts) == "attention"


@pytest.mark.parametrize(
    ("value", "fires"), [("somewhat", False), ("quite_a_bit", True), ("very_much", True)]
)
def test_interference(value, fires):
    assert (rules.interference(_facts(report=_report(interference=value))) is not None) is fires


def test_red_flag_keeps_the_signs_as_codes_and_the_guidance_shown():
    found = rules.red_flag(_facts(report=_report(rf_breathing=True), lung_risk=True))
    assert found["flags"] == ["rf_breathing"] and found["lung_risk"] is True
    assert found["guidance"] == "emergency"
    infection = rules.red_flag(_facts(report=_report(rf_infection=True), lung_risk=True))
    assert infection["guidance"] == "doctor" and infection["lung_risk"] is False
    assert rules.red_flag(_facts(report=_report())) is None


def _submit(session, time_point, **overrides):
    follow_up = session.follow_ups.get(time_point=time_point)
    return services.submit_report(
        follow_up=follow_up,
        idempotency_key=uuid.uuid4(),
        answers=answers(**overrides),
        now=follow_up.due_at,
    )


def test_red_flag_opens_an_urgent_alert_and_emails_the_therapist(
    session_a, django_capture_on_commit_callbacks
):
    session_a.therapist.email = "therapist@clinic.example"
    session_a.therapist.save()
    with django_capture_on_commit_callbacks(execute=True):
        _submit(session_a, TimePoint.IN_CLINIC, red_flags=["rf_breathing"])
    alert = Alert.objects.get()
    assert (alert.rule, alert.severity, alert.session) == ("red_flag", "urgent", session_a)
    assert len(mail.outbox) == 1
    body = mail.outbox[0].body
    assert f"/sessions/{session_a.pk}/" in body
    assert session_a.patient.display_name not in body + mail.outbox[0].subject
    assert "breath" not in body.lower()
    assert "emergency number now" in body


def test_rising_soreness_at_48h_opens_an_attention_alert(session_a):
    _submit(session_a, TimePoint.H24, soreness=1)
    assert not Alert.objects.exists()
    _submit(session_a, TimePoint.H48, soreness=3)
    assert list(Alert.objects.values_list("rule", "severity")) == [("soreness_rising", "attention")]


@pytest.mark.parametrize(("time_point", "reads"), [(TimePoint.H24, 0), (TimePoint.H48, 1)])
def test_the_session_soreness_is_read_only_for_a_rule_that_looks_at_it(
    session_a, time_point, reads, django_assert_num_queries
):
    """Only the 48 and 72 h rules compare soreness between check-ins; on
    SQLite every other check-in waits while one is stored."""
    follow_up = session_a.follow_ups.select_related("session__patient__clinic").get(
        time_point=time_point
    )
    report = SymptomReport(
        follow_up=follow_up, soreness=1, bruising="none", interference="not_at_all"
    )
    with django_assert_num_queries(reads):
        opened = alerts.evaluate_report(report)
    assert [alert.rule for alert in opened] == []


def test_missed_check_in_opens_an_alert_once(session_a):
    follow_up = session_a.follow_ups.get(time_point=TimePoint.IN_CLINIC)
    alerts.evaluate_missed(follow_up)
    alerts.evaluate_missed(follow_up)
    assert Alert.objects.get().rule == "missed"


def test_alerts_for_user_are_scoped(session_a, therapist_a, therapist_b):
    _submit(session_a, TimePoint.IN_CLINIC, red_flags=["rf_fainting"])
    assert Alert.objects.for_user(therapist_a.user).count() == 1
    assert Alert.objects.for_user(therapist_b.user).count() == 0

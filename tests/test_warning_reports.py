"""Warning signs at any time the link works, not only while a check-in is open.

A collapsed lung can show from an hour to two days after needling near the
chest: a patient whose chest hurts 14 hours after the session, between the
right-after and the 24 h check-ins, or after answering the last one, tells
the clinic through the same link, and the clinic is alerted at once. Driven
as the patient would: the page read, the form posted (no JavaScript), the
clock moved.
"""

import uuid
from datetime import time, timedelta

import pytest
from django.core import mail
from django.core.management import call_command
from django.urls import reverse

from tests.factories import MembershipFactory, PatientFactory, UserFactory, make_session
from tracker import services
from tracker.choices import Role, TimePoint
from tracker.exports.record import patient_record
from tracker.models import Alert, AlertStep, SessionOutcome, WarningReport
from tracker.security import tokens

pytestmark = pytest.mark.django_db


@pytest.fixture
def therapist(therapist_a):
    therapist_a.user.email = "ana@clinic.example"
    therapist_a.user.save()
    return therapist_a.user


def _token(session):
    return tokens.token_for(session.access_links.get().nonce)


def _warn(client, session, flags, *, key=None):
    return client.post(
        reverse("patient:warning", args=[_token(session)]),
        {"key": key or str(uuid.uuid4()), "red_flags": list(flags)},
    )


def _answer(client, session, **answers):
    data = {
        "key": str(uuid.uuid4()),
        "soreness": "2",
        "twitching": "none",
        "bruising": "none",
        "interference": "not_at_all",
        "after_effects": ["none"],
        "red_flags": ["none"],
        "local_reaction": "no",
        "pgic": "3",
        **answers,
    }
    return client.post(reverse("patient:check_in", args=[_token(session)]), data)


def test_between_check_ins_the_page_asks_for_warning_signs_and_the_clinic_is_alerted(
    client, session_a, therapist, frozen_now, django_capture_on_commit_callbacks
):
    frozen_now(session_a.performed_at + timedelta(minutes=10))
    _answer(client, session_a)
    now = frozen_now(session_a.performed_at + timedelta(hours=14))  # 24 h opens at 22 h
    page = client.get(reverse("patient:check_in", args=[_token(session_a)])).content.decode()
    assert "nothing to answer right now" in page
    assert 'action="{}"'.format(reverse("patient:warning", args=[_token(session_a)])) in page
    assert 'value="none"' not in page  # no "None of these": the form is for signs

    with django_capture_on_commit_callbacks(execute=True):
        response = _warn(client, session_a, ["rf_breathing"])
    assert response.status_code == 302
    assert response["Location"] == reverse("patient:warning", args=[_token(session_a)])

    warning = WarningReport.objects.get()
    assert (warning.session, warning.flags, warning.reported_at) == (
        session_a,
        ["rf_breathing"],
        now,
    )
    alert = Alert.objects.get()
    assert (alert.rule, alert.severity, alert.follow_up, alert.warning_report) == (
        "red_flag",
        "urgent",
        None,
        warning,
    )
    assert alert.facts["hours"] == 14 and alert.facts["between_check_ins"]
    assert alert.facts["guidance"] == "emergency"
    # The therapist is told at once, with no patient detail in the message.
    [message] = mail.outbox
    assert message.to == ["ana@clinic.example"]
    assert f"/sessions/{session_a.pk}/" in message.body
    assert session_a.patient.display_name not in message.subject + message.body
    assert "breath" not in message.body.lower()
    assert AlertStep.objects.get(alert=alert).sent == 1

    shown = client.get(response["Location"]).content.decode()
    assert "Call 999 now" in shown
    assert "New shortness of breath, chest pain, or pain when breathing in" in shown
    assert "Your clinic was alerted at" in shown


def test_a_resend_stores_one_report_and_tells_the_clinic_once(
    client, session_a, therapist, frozen_now, django_capture_on_commit_callbacks
):
    frozen_now(session_a.performed_at + timedelta(hours=30))
    key = str(uuid.uuid4())
    for _ in range(3):
        with django_capture_on_commit_callbacks(execute=True):
            assert _warn(client, session_a, ["rf_cough"], key=key).status_code == 302
    assert WarningReport.objects.count() == 1
    assert Alert.objects.count() == 1
    assert len(mail.outbox) == 1


def test_nothing_ticked_is_asked_again_beside_the_question_and_stores_nothing(
    client, session_a, frozen_now
):
    frozen_now(session_a.performed_at + timedelta(hours=14))
    response = _warn(client, session_a, [])
    page = response.content.decode()
    assert response.status_code == 200
    assert 'id="red_flags-error"' in page and "Tick the warning signs you have." in page
    assert not WarningReport.objects.exists() and not Alert.objects.exists()

    response = _warn(client, session_a, ["rf_made_up"])
    assert 'id="red_flags-error"' in response.content.decode()
    assert not WarningReport.objects.exists()


def test_after_an_acknowledged_warning_and_every_check_in_a_new_sign_alerts_again(
    client, session_a, therapist, frozen_now, django_capture_on_commit_callbacks
):
    frozen_now(session_a.performed_at + timedelta(minutes=10))
    with django_capture_on_commit_callbacks(execute=True):
        _answer(client, session_a, red_flags=["rf_fainting"])
    services.act_on_alert(alert=Alert.objects.get(), user=therapist, outcome="advised")
    for hours in (24, 48):
        frozen_now(session_a.performed_at + timedelta(hours=hours))
        _answer(client, session_a)
    assert session_a.follow_ups.filter(answered_at=None).count() == 0

    frozen_now(session_a.performed_at + timedelta(hours=52))
    page = client.get(reverse("patient:check_in", args=[_token(session_a)])).content.decode()
    assert "Your check-ins for this session are finished" in page
    with django_capture_on_commit_callbacks(execute=True):
        _warn(client, session_a, ["rf_infection"])
    alert = Alert.objects.get(acknowledged_at=None)
    assert alert.warning_report.flags == ["rf_infection"]
    assert alert.facts["guidance"] == "doctor"
    assert len(mail.outbox) == 2

    shown = client.get(reverse("patient:warning", args=[_token(session_a)])).content.decode()
    assert "See a doctor or call the clinic today" in shown and "Call 999 now" not in shown


def test_an_alert_at_night_is_sent_at_once_whatever_the_quiet_hours(
    client, session_a, therapist, frozen_now, django_capture_on_commit_callbacks
):
    clinic = session_a.patient.clinic
    clinic.quiet_hours_start, clinic.quiet_hours_end = time(0), time(23, 59)
    clinic.save()
    frozen_now(session_a.performed_at + timedelta(hours=14))
    with django_capture_on_commit_callbacks(execute=True):
        _warn(client, session_a, ["rf_numbness"])
    assert len(mail.outbox) == 1


def test_the_patients_language_on_the_page_and_the_staffs_in_the_inbox(
    client, clinic_a, therapist, frozen_now, django_capture_on_commit_callbacks
):
    patient = PatientFactory(clinic=clinic_a, language="es")
    session = make_session(patient=patient, therapist=therapist)
    frozen_now(session.performed_at + timedelta(hours=14))
    page = client.get(reverse("patient:check_in", args=[_token(session)])).content.decode()
    assert "¿Tiene ahora una señal de alarma? Avise aquí a su clínica" in page
    with django_capture_on_commit_callbacks(execute=True):
        response = _warn(client, session, ["rf_bleeding"])
    shown = client.get(response["Location"]).content.decode()
    assert "Llame ahora al 999" in shown
    assert mail.outbox[0].subject == "Urgent: a patient needs a call"

    client.force_login(therapist)
    inbox = client.get(reverse("tracker:alert_list")).content.decode()
    assert "Sent between check-ins, 14 h after the session:" in inbox


def test_a_session_entered_in_error_takes_no_warning(client, session_a, therapist, frozen_now):
    frozen_now(session_a.performed_at + timedelta(hours=14))
    token = _token(session_a)
    services.mark_entered_in_error(session=session_a, user=therapist, reason="Wrong patient")
    response = client.post(
        reverse("patient:warning", args=[token]),
        {"key": str(uuid.uuid4()), "red_flags": ["rf_breathing"]},
    )
    assert response.status_code == 404
    assert not WarningReport.objects.exists()
    with pytest.raises(services.SessionClosed):
        services.report_warning(
            session=session_a, idempotency_key=uuid.uuid4(), flags=["rf_breathing"]
        )


def test_the_warning_page_without_a_warning_goes_back_to_the_check_in(client, session_a):
    response = client.get(reverse("patient:warning", args=[_token(session_a)]))
    assert response.status_code == 302
    assert response["Location"] == reverse("patient:check_in", args=[_token(session_a)])


def test_a_warning_sign_between_check_ins_counts_in_the_clinics_rates(
    client, session_a, frozen_now
):
    frozen_now(session_a.performed_at + timedelta(minutes=10))
    _answer(client, session_a)
    assert not SessionOutcome.objects.get(session=session_a).warning_sign
    frozen_now(session_a.performed_at + timedelta(hours=14))
    _warn(client, session_a, ["rf_bleeding"])
    outcome = SessionOutcome.objects.get(session=session_a)
    assert outcome.warning_sign and outcome.bleeding and outcome.any_minor
    assert outcome.answers == 1

    # Counted again from scratch (the nightly recount), it stays.
    SessionOutcome.objects.recount([session_a.pk])
    assert SessionOutcome.objects.get(session=session_a).warning_sign


def test_the_patients_record_holds_the_warning_report(client, session_a, therapist, frozen_now):
    frozen_now(session_a.performed_at + timedelta(hours=14))
    _warn(client, session_a, ["rf_cough", "rf_fainting"])
    [session] = patient_record(session_a.patient)["sessions"]
    [warning] = session["warning_reports"]
    assert warning["red_flags"] == ["rf_cough", "rf_fainting"]
    [alert] = session["alerts"]
    assert (alert["warning_report_id"], alert["follow_up_id"]) == (warning["id"], None)


def test_while_a_check_in_is_open_its_own_form_asks_for_warning_signs(
    client, session_a, frozen_now
):
    frozen_now(session_a.performed_at + timedelta(hours=TimePoint.H24))
    page = client.get(reverse("patient:check_in", args=[_token(session_a)])).content.decode()
    assert reverse("patient:warning", args=[_token(session_a)]) not in page
    assert 'value="none"' in page


def test_the_thank_you_page_says_the_link_takes_warning_signs_later(client, session_a, frozen_now):
    frozen_now(session_a.performed_at + timedelta(minutes=10))
    done = client.get(_answer(client, session_a)["Location"]).content.decode()
    check_in = reverse("patient:check_in", args=[_token(session_a)])
    assert f'href="{check_in}#warning"' in done
    assert "A warning sign later? Open this link again" in done


def test_other_signs_sent_from_the_same_page_are_a_new_report(
    client, session_a, therapist, frozen_now, django_capture_on_commit_callbacks
):
    """A page kept on the phone, or gone back to, still holds the key it was drawn
    with: a new sign sent from it days later must not pass for a resend."""
    frozen_now(session_a.performed_at + timedelta(hours=14))
    key = str(uuid.uuid4())
    with django_capture_on_commit_callbacks(execute=True):
        _warn(client, session_a, ["rf_infection"], key=key)
    frozen_now(session_a.performed_at + timedelta(hours=40))
    with django_capture_on_commit_callbacks(execute=True):
        _warn(client, session_a, ["rf_breathing", "rf_infection"], key=key)
        _warn(client, session_a, ["rf_infection", "rf_breathing"], key=key)  # its resend
    assert [w.flags for w in WarningReport.objects.all()] == [
        ["rf_infection"],
        ["rf_breathing", "rf_infection"],
    ]
    assert Alert.objects.count() == 2 and len(mail.outbox) == 2


def test_an_unacknowledged_warning_between_check_ins_escalates_to_the_leads(
    client, session_a, therapist, clinic_a, frozen_now, django_capture_on_commit_callbacks
):
    lead = UserFactory(email="lena@clinic.example")
    MembershipFactory(user=lead, clinic=clinic_a, role=Role.LEAD)
    sent = frozen_now(session_a.performed_at + timedelta(hours=30))
    with django_capture_on_commit_callbacks(execute=True):
        _warn(client, session_a, ["rf_breathing"])
    assert [message.to for message in mail.outbox] == [["ana@clinic.example"]]

    frozen_now(sent + timedelta(minutes=clinic_a.escalation_minutes + 1))
    call_command("send_due_reminders")
    assert mail.outbox[-1].to == ["lena@clinic.example"]
    assert list(AlertStep.objects.values_list("step", flat=True)) == [0, 1]

"""A warning sign reaches someone who acts: per-event alerts, who is told, escalation,
the staff's language, the patient's number on the card, and acting on an alert.

Driven as people would: the patient's form through the test client, the clock
moved, the cron command run, the staff pages read back.
"""

import json
import uuid
from datetime import timedelta

import pytest
from django.core import mail
from django.core.management import call_command
from django.urls import reverse

from tests.factories import (
    ClinicFactory,
    MembershipFactory,
    PatientFactory,
    UserFactory,
    make_session,
)
from tracker import alerts, services
from tracker.choices import Role, TimePoint
from tracker.models import Alert, AlertStep, ContactAttempt, StaffProfile
from tracker.security import tokens

pytestmark = pytest.mark.django_db


def _check_in(client, session, *, red_flags=("none",), key=None, **answers):
    token = tokens.token_for(session.access_links.get().nonce)
    data = {
        "key": key or str(uuid.uuid4()),
        "soreness": "3",
        "twitching": "none",
        "bruising": "none",
        "interference": "a_little",
        "after_effects": ["none"],
        "red_flags": list(red_flags),
        "local_reaction": "no",
        "pgic": "4",
        "note": "",
        **answers,
    }
    return client.post(reverse("patient:check_in", args=[token]), data, follow=True)


@pytest.fixture
def therapist(therapist_a):
    therapist_a.user.email = "ana@clinic.example"
    therapist_a.user.save()
    return therapist_a.user


@pytest.fixture
def lead(clinic_a):
    user = UserFactory(email="lena@clinic.example")
    MembershipFactory(user=user, clinic=clinic_a, role=Role.LEAD)
    return user


@pytest.fixture
def contact(clinic_a):
    """An urgent contact of the clinic, with a mobile for texts."""
    user = UserFactory(email="desk@clinic.example")
    MembershipFactory(user=user, clinic=clinic_a)
    StaffProfile.objects.create(user=user, mobile="+447700900123")
    clinic_a.urgent_contacts.add(user)
    return user


@pytest.fixture
def texts(settings, tmp_path):
    settings.SMS_BACKEND = "tracker.reminders.sms.FileBackend"
    settings.SMS_FILE_PATH = str(tmp_path / "sms.jsonl")

    def read():
        path = tmp_path / "sms.jsonl"
        return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []

    return read


def _recipients(outbox):
    return sorted(address for message in outbox for address in message.to)


# ---------------------------------------------------------------------------
# One alert per event


def test_a_second_warning_sign_after_an_acknowledged_one_alerts_and_notifies_again(
    client, session_a, therapist, frozen_now, django_capture_on_commit_callbacks
):
    frozen_now(session_a.performed_at + timedelta(minutes=10))
    with django_capture_on_commit_callbacks(execute=True):
        _check_in(client, session_a, red_flags=["rf_fainting"])
    first = Alert.objects.get()
    services.act_on_alert(
        alert=first, user=therapist, outcome="advised", note="Felt faint, fine now."
    )
    assert len(mail.outbox) == 1

    frozen_now(session_a.performed_at + timedelta(hours=24))
    key = str(uuid.uuid4())
    with django_capture_on_commit_callbacks(execute=True):
        page = _check_in(client, session_a, red_flags=["rf_breathing", "rf_cough"], key=key)
    assert "999" in page.content.decode()  # the patient is told to call now
    second = Alert.objects.exclude(pk=first.pk).get()
    assert (second.rule, second.severity, second.acknowledged_at) == ("red_flag", "urgent", None)
    assert second.follow_up.time_point == TimePoint.H24
    assert len(mail.outbox) == 2 and mail.outbox[1].to == ["ana@clinic.example"]

    # The phone sends the same answers again: nothing new.
    with django_capture_on_commit_callbacks(execute=True):
        _check_in(client, session_a, red_flags=["rf_breathing", "rf_cough"], key=key)
    assert Alert.objects.count() == 2 and len(mail.outbox) == 2


def test_each_large_bruise_report_opens_its_own_alert(client, session_a, frozen_now):
    frozen_now(session_a.performed_at + timedelta(minutes=10))
    _check_in(client, session_a, bruising="5-10")
    frozen_now(session_a.performed_at + timedelta(hours=24))
    _check_in(client, session_a, bruising="10+")
    assert sorted(Alert.objects.values_list("rule", "follow_up__time_point")) == [
        ("bruise", 0),
        ("bruise", 24),
    ]


def test_the_migration_constraint_allows_one_alert_per_check_in_and_rule(session_a):
    follow_up = session_a.follow_ups.get(time_point=TimePoint.H24)
    assert len(alerts.evaluate_missed(follow_up)) == 1
    assert alerts.evaluate_missed(follow_up) == []
    assert Alert.objects.filter(follow_up=follow_up).count() == 1


# ---------------------------------------------------------------------------
# Who is told, and escalation


def test_urgent_alert_goes_to_the_therapist_and_the_urgent_contacts_by_email_and_text(
    client,
    session_a,
    therapist,
    contact,
    lead,
    texts,
    frozen_now,
    django_capture_on_commit_callbacks,
):
    frozen_now(session_a.performed_at + timedelta(minutes=10))
    with django_capture_on_commit_callbacks(execute=True):
        _check_in(client, session_a, red_flags=["rf_bleeding"])
    assert _recipients(mail.outbox) == ["ana@clinic.example", "desk@clinic.example"]
    [text] = texts()
    assert text["to"] == "+447700900123"
    assert f"/sessions/{session_a.pk}/" in text["body"]
    for message in mail.outbox:
        assert session_a.patient.display_name not in message.subject + message.body
        assert "bleed" not in message.body.lower()
    step = AlertStep.objects.get()
    assert (step.step, step.sent, step.failed) == (0, 3, 0)


def test_an_unacknowledged_urgent_alert_escalates_once_per_step(
    client,
    session_a,
    therapist,
    contact,
    lead,
    texts,
    frozen_now,
    django_capture_on_commit_callbacks,
):
    opened = session_a.performed_at + timedelta(minutes=10)
    frozen_now(opened)
    with django_capture_on_commit_callbacks(execute=True):
        _check_in(client, session_a, red_flags=["rf_breathing"])
    mail.outbox.clear()

    frozen_now(opened + timedelta(minutes=14))
    call_command("send_due_reminders")
    assert mail.outbox == []

    frozen_now(opened + timedelta(minutes=16))
    call_command("send_due_reminders")
    call_command("send_due_reminders")  # a second run finds the step sent
    assert _recipients(mail.outbox) == ["desk@clinic.example", "lena@clinic.example"]
    assert all("waited 16 minutes" in message.body for message in mail.outbox)
    assert [text["to"] for text in texts()][-1] == "+447700900123"

    mail.outbox.clear()
    frozen_now(opened + timedelta(minutes=31))
    call_command("send_due_reminders")
    assert len(mail.outbox) == 2 and "waited 31 minutes" in mail.outbox[0].body

    alert = Alert.objects.get()
    services.act_on_alert(alert=alert, user=lead, outcome="emergency", note="")
    mail.outbox.clear()
    frozen_now(opened + timedelta(minutes=60))
    call_command("send_due_reminders")
    assert mail.outbox == []
    assert list(alert.steps.values_list("step", flat=True)) == [0, 1, 2]


def test_escalation_ignores_quiet_hours_and_the_clinic_delay_is_a_setting(
    session_a, therapist, lead, frozen_now, django_capture_on_commit_callbacks
):
    clinic = session_a.clinic
    clinic.escalation_minutes = 5
    clinic.save()
    at_night = session_a.performed_at.replace(hour=2, minute=30) + timedelta(days=1)
    frozen_now(at_night)
    follow_up = session_a.follow_ups.get(time_point=TimePoint.H24)
    with django_capture_on_commit_callbacks(execute=True):
        services.submit_report(
            follow_up=follow_up,
            idempotency_key=uuid.uuid4(),
            now=follow_up.due_at,
            answers={
                "soreness": 2,
                "twitching": "none",
                "bruising": "none",
                "interference": "not_at_all",
                "red_flags": ["rf_numbness"],
            },
        )
    alert = Alert.objects.get()
    Alert.objects.filter(pk=alert.pk).update(opened_at=at_night)
    mail.outbox.clear()
    frozen_now(at_night + timedelta(minutes=6))
    call_command("send_due_reminders")
    assert _recipients(mail.outbox) == ["lena@clinic.example"]


def test_a_step_that_reached_nobody_is_sent_again_by_the_next_run(
    client, session_a, therapist, frozen_now, settings, django_capture_on_commit_callbacks
):
    frozen_now(session_a.performed_at + timedelta(minutes=10))
    settings.EMAIL_BACKEND = "tests.test_alert_safety_loop.BrokenEmailBackend"
    with django_capture_on_commit_callbacks(execute=True):
        _check_in(client, session_a, red_flags=["rf_fainting"])
    assert not AlertStep.objects.exists()  # the claim was given back
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    call_command("send_due_reminders")
    assert AlertStep.objects.get().sent == 1
    assert mail.outbox[0].to == ["ana@clinic.example"]


def test_a_warning_sign_reaches_the_clinic_when_the_treating_therapist_has_left(
    client, session_a, therapist, lead, frozen_now, django_capture_on_commit_callbacks
):
    # No urgent contact is set and the therapist's account was closed: the
    # first step goes to everyone at the clinic who can be reached instead.
    colleague = UserFactory(email="omar@clinic.example")
    MembershipFactory(user=colleague, clinic=session_a.clinic)
    MembershipFactory(user=UserFactory(email=""), clinic=session_a.clinic)  # no address
    elsewhere = UserFactory(email="kim@other.example")
    MembershipFactory(user=elsewhere, clinic=ClinicFactory(), role=Role.LEAD)
    therapist.is_active = False
    therapist.save()
    frozen_now(session_a.performed_at + timedelta(minutes=10))
    with django_capture_on_commit_callbacks(execute=True):
        _check_in(client, session_a, red_flags=["rf_breathing"])
    assert _recipients(mail.outbox) == ["lena@clinic.example", "omar@clinic.example"]
    assert AlertStep.objects.get().sent == 2


def test_staff_who_left_the_clinic_are_not_told_of_its_alerts(
    client, session_a, therapist, contact, frozen_now, django_capture_on_commit_callbacks
):
    # Still an active account (another clinic), but no longer a member here:
    # the session page the message links to would not open for them.
    session_a.clinic.memberships.filter(user=therapist).delete()
    frozen_now(session_a.performed_at + timedelta(minutes=10))
    with django_capture_on_commit_callbacks(execute=True):
        _check_in(client, session_a, red_flags=["rf_fainting"])
    assert _recipients(mail.outbox) == ["desk@clinic.example"]


def test_escalation_without_leads_or_contacts_tells_the_therapist_again(
    client, session_a, therapist, frozen_now, django_capture_on_commit_callbacks
):
    opened = session_a.performed_at + timedelta(minutes=10)
    frozen_now(opened)
    with django_capture_on_commit_callbacks(execute=True):
        _check_in(client, session_a, red_flags=["rf_breathing"])
    mail.outbox.clear()
    frozen_now(opened + timedelta(minutes=16))
    call_command("send_due_reminders")
    assert _recipients(mail.outbox) == ["ana@clinic.example"]
    assert "waited 16 minutes" in mail.outbox[0].body
    assert list(AlertStep.objects.values_list("step", "sent")) == [(0, 1), (1, 1)]


class BrokenEmailBackend:
    def __init__(self, *args, **kwargs):
        pass

    def send_messages(self, messages):
        raise ConnectionRefusedError("mail server down")


# ---------------------------------------------------------------------------
# The staff's language, not the patient's


def test_a_spanish_patients_warning_sign_reads_in_english_for_staff(
    client, session_a, therapist, frozen_now, django_capture_on_commit_callbacks
):
    patient = session_a.patient
    patient.language = "es"
    patient.save()
    frozen_now(session_a.performed_at + timedelta(minutes=10))
    with django_capture_on_commit_callbacks(execute=True):
        page = _check_in(client, session_a, red_flags=["rf_breathing"])
    assert "Llame" in page.content.decode() or "llame" in page.content.decode()
    [email] = mail.outbox
    assert email.subject == "Urgent: a patient needs a call"
    assert "emergency number now" in email.body

    client.force_login(therapist)
    today = client.get(reverse("tracker:home")).content.decode()
    assert "New shortness of breath" in today
    assert "Falta de aire" not in today and "Urgente" not in today


def test_staff_who_chose_spanish_read_spanish_pages_and_emails(
    client, session_a, therapist, frozen_now, django_capture_on_commit_callbacks
):
    client.force_login(therapist)
    response = client.post(reverse("tracker:staff_settings"), {"language": "es", "mobile": ""})
    assert response.status_code == 302
    assert StaffProfile.objects.get(user=therapist).language == "es"
    today = client.get(reverse("tracker:home")).content.decode()
    assert "Hoy" in today

    frozen_now(session_a.performed_at + timedelta(minutes=10))
    with django_capture_on_commit_callbacks(execute=True):
        _check_in(client, session_a, red_flags=["rf_fainting"])
    [email] = mail.outbox
    assert email.subject != "Urgent: a patient needs a call"


def test_a_staff_mobile_number_is_checked(client, therapist):
    client.force_login(therapist)
    response = client.post(
        reverse("tracker:staff_settings"), {"language": "en", "mobile": "07700 900"}
    )
    assert response.status_code == 200
    assert "international form" in response.content.decode()
    assert not StaffProfile.objects.exists()


# ---------------------------------------------------------------------------
# Acting on an alert


def test_the_alert_card_and_patient_pages_show_how_to_reach_the_patient(
    client, session_a, therapist, frozen_now
):
    patient = session_a.patient
    patient.phone, patient.email = "+44 7700 900456", "rosa@example.org"
    patient.save()
    frozen_now(session_a.performed_at + timedelta(minutes=10))
    _check_in(client, session_a, red_flags=["rf_fainting"])
    client.force_login(therapist)
    for url in (
        reverse("tracker:home"),
        reverse("tracker:alert_list"),
        reverse("tracker:patient_detail", args=[patient.pk]),
        reverse("tracker:session_detail", args=[session_a.pk]),
    ):
        page = client.get(url).content.decode()
        assert 'href="tel:+447700900456"' in page, url
        assert 'href="mailto:rosa@example.org"' in page, url
        assert "No phone number" not in page, url

    # Without a number, the card says nobody can call.
    patient.phone = ""
    patient.save()
    for url in (
        reverse("tracker:alert_list"),
        reverse("tracker:session_detail", args=[session_a.pk]),
    ):
        page = client.get(url).content.decode()
        assert 'href="tel:' not in page, url
        assert "No phone number on the patient's record: nobody can call them" in page, url


def test_a_warning_sign_sent_with_answers_missing_is_on_every_staff_page_at_once(
    client, session_a, therapist, frozen_now, django_capture_on_commit_callbacks
):
    """The patient ticked a sign and sent nothing else: the card has the sign and
    the number to call, and the therapist has the email, before any report."""
    patient = session_a.patient
    patient.phone = "+44 7700 900456"
    patient.save()
    frozen_now(session_a.performed_at + timedelta(minutes=10))
    with django_capture_on_commit_callbacks(execute=True):
        _check_in(client, session_a, red_flags=["rf_breathing"], soreness="", interference="")
    alert = Alert.objects.get()
    assert alert.report is None and alert.severity == "urgent"
    assert len(mail.outbox) == 1 and mail.outbox[0].to == [therapist.email]
    client.force_login(therapist)
    for url in (
        reverse("tracker:home"),
        reverse("tracker:alert_list"),
        reverse("tracker:session_detail", args=[session_a.pk]),
    ):
        page = client.get(url).content.decode()
        assert 'href="tel:+447700900456"' in page, url
        assert "breath" in page.lower(), url


def test_no_answer_records_an_attempt_and_keeps_the_alert_open(
    client, session_a, therapist, frozen_now
):
    frozen_now(session_a.performed_at + timedelta(minutes=10))
    _check_in(client, session_a, red_flags=["rf_fainting"])
    alert = Alert.objects.get()
    client.force_login(therapist)
    url = reverse("tracker:alert_acknowledge", args=[alert.pk])
    client.post(url, {"outcome": "no_answer"})
    client.post(url, {"outcome": "message_left", "note": "Voicemail: call back."})
    alert.refresh_from_db()
    assert alert.acknowledged_at is None
    assert list(ContactAttempt.objects.values_list("outcome", "by")) == [
        ("no_answer", therapist.pk),
        ("message_left", therapist.pk),
    ]
    inbox = client.get(reverse("tracker:alert_list")).content.decode()
    assert "Called: no answer" in inbox and "Voicemail: call back." in inbox
    client.post(url, {"outcome": "emergency"})
    alert.refresh_from_db()
    assert (alert.outcome, alert.acknowledged_by) == ("emergency", therapist)


def test_acknowledging_what_someone_else_just_acknowledged_changes_nothing(
    client, session_a, therapist, lead, frozen_now
):
    frozen_now(session_a.performed_at + timedelta(minutes=10))
    _check_in(client, session_a, red_flags=["rf_fainting"])
    alert = Alert.objects.get()
    services.act_on_alert(alert=alert, user=lead, outcome="emergency", note="Sent to A&E.")
    client.force_login(therapist)
    page = client.post(
        reverse("tracker:alert_acknowledge", args=[alert.pk]),
        {"outcome": "advised", "note": "Fine."},
        follow=True,
    ).content.decode()
    assert "already acknowledged by someone else" in page
    alert.refresh_from_db()
    assert (alert.acknowledged_by, alert.outcome, alert.note) == (lead, "emergency", "Sent to A&E.")


def test_attention_alerts_are_acknowledged_together_but_urgent_ones_are_not(
    client, session_a, therapist, therapist_b, frozen_now
):
    frozen_now(session_a.performed_at + timedelta(minutes=10))
    _check_in(
        client, session_a, red_flags=["rf_fainting"], bruising="5-10", interference="very_much"
    )
    urgent = Alert.objects.get(severity="urgent")
    attention = list(Alert.objects.filter(severity="attention"))
    assert len(attention) == 2
    other_clinic = make_session(
        patient=PatientFactory(clinic=therapist_b.clinic), therapist=therapist_b.user
    )
    alerts.evaluate_missed(other_clinic.follow_ups.get(time_point=TimePoint.IN_CLINIC))
    theirs = Alert.objects.get(session=other_clinic)

    client.force_login(therapist)
    url = reverse("tracker:alerts_acknowledge")
    page = client.post(
        url,
        {"outcome": "advised", "alerts": [a.pk for a in attention] + [urgent.pk, theirs.pk]},
        follow=True,
    ).content.decode()
    assert "2 alerts acknowledged" in page
    assert Alert.objects.filter(acknowledged_at__isnull=False).count() == 2
    assert Alert.objects.get(pk=urgent.pk).acknowledged_at is None
    assert Alert.objects.get(pk=theirs.pk).acknowledged_at is None
    page = client.post(url, {"outcome": "no_answer", "alerts": [urgent.pk]}, follow=True)
    assert Alert.objects.get(pk=urgent.pk).acknowledged_at is None


# ---------------------------------------------------------------------------
# Fewer, truer attention alerts


def test_a_clinic_can_switch_an_attention_rule_off_but_not_warning_signs(
    client, session_a, frozen_now
):
    clinic = session_a.clinic
    clinic.attention_rules_off = ["bruise", "red_flag"]
    clinic.save()
    frozen_now(session_a.performed_at + timedelta(minutes=10))
    _check_in(client, session_a, red_flags=["rf_fainting"], bruising="10+")
    assert list(Alert.objects.values_list("rule", flat=True)) == ["red_flag"]


# ---------------------------------------------------------------------------
# Today keeps itself current


def test_today_counts_open_urgent_alerts_in_its_title_and_offers_a_refresh(
    client, session_a, therapist, frozen_now
):
    client.force_login(therapist)
    page = client.get(reverse("tracker:home")).content.decode()
    assert "<title>Today" in page and "data-live" in page and "Refresh now" in page
    frozen_now(session_a.performed_at + timedelta(minutes=10))
    _check_in(client, session_a, red_flags=["rf_fainting"])
    _check_in(
        client, make_session(patient=session_a.patient, therapist=therapist), red_flags=["rf_cough"]
    )
    page = client.get(reverse("tracker:home")).content.decode()
    assert "<title>(2) Today" in page
    assert "<script>" not in page  # the refresh is staff.js, under the page's policy

"""Handing the link over: sending it now by email or text, the printed link card,
the "done" page's way back, and the session page's scan prompt on the day only.
"""

import json
import re
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from django.conf import settings as conf
from django.core import mail
from django.test import Client
from django.urls import reverse

from tests.factories import PatientFactory, answers, make_session
from tracker import services
from tracker.choices import ReminderChannel
from tracker.models import AuditAction, AuditEvent
from tracker.security import tokens

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parent.parent
EMAIL = "maya.bennett@example.com"
PHONE = "+447700900123"


@pytest.fixture
def reachable(patient_a, settings, tmp_path):
    """A patient who agreed to be contacted, with an email address and a phone."""
    settings.SMS_BACKEND = "tracker.reminders.sms.FileBackend"
    settings.SMS_FILE_PATH = str(tmp_path / "sms.jsonl")
    patient_a.email = EMAIL
    patient_a.phone = PHONE
    patient_a.reminder_channel = ReminderChannel.EMAIL
    patient_a.reminders_consent = True
    patient_a.save()
    return patient_a


@pytest.fixture
def texts(tmp_path):
    def read():
        path = tmp_path / "sms.jsonl"
        return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []

    return read


def _send(client, session, channel):
    return client.post(
        reverse("tracker:link_send", args=[session.pk]), {"channel": channel}, follow=True
    )


def _sends(session):
    return AuditEvent.objects.filter(
        action=AuditAction.SEND_LINK, object_type="needlingsession", object_id=session.pk
    )


def _link_url(session):
    token = tokens.token_for(session.access_links.get().nonce)
    return conf.SITE_URL + reverse("patient:check_in", args=[token])


# --- Send now -------------------------------------------------------------------------


def test_staff_send_the_link_by_email_with_no_patient_detail(
    client, reachable, session_a, therapist_a
):
    client.force_login(therapist_a.user)
    page = _send(client, session_a, "email").content.decode()
    assert "The link was sent by email" in page
    [message] = mail.outbox
    assert message.to == [EMAIL]
    assert message.subject == f"Your check-in link ({reachable.clinic.name})"
    assert _link_url(session_a) in message.body
    # As little as a reminder carries: the clinic and the link.
    whole = message.subject + message.body
    assert reachable.display_name not in whole and EMAIL not in message.body
    assert "Gluteus" not in whole and "needl" not in whole.lower() and PHONE not in whole
    [event] = _sends(session_a)
    assert (event.user, event.patient, event.detail) == (therapist_a.user, reachable, "email")


def test_staff_send_the_link_by_text_message(client, reachable, session_a, therapist_a, texts):
    client.force_login(therapist_a.user)
    page = _send(client, session_a, "sms").content.decode()
    assert "The link was sent by text message" in page
    [text] = texts()
    assert text["to"] == PHONE and _link_url(session_a) in text["body"]
    assert reachable.display_name not in text["body"]
    assert mail.outbox == []
    assert _sends(session_a).get().detail == "sms"


def test_the_link_goes_in_the_patients_language(client, reachable, session_a, therapist_a):
    reachable.language = "es"
    reachable.save()
    client.force_login(therapist_a.user)
    _send(client, session_a, "email")
    # The link's own words are new; the date-free body still carries the link and clinic.
    [message] = mail.outbox
    assert _link_url(session_a) in message.body and reachable.clinic.name in message.body


def test_sending_is_limited_per_session_and_hour_with_a_clear_message(
    client, reachable, session_a, therapist_a, frozen_now, settings
):
    settings.LINK_SENDS_PER_SESSION_PER_HOUR = 3
    start = frozen_now(session_a.performed_at + timedelta(minutes=10))
    client.force_login(therapist_a.user)
    for _ in range(3):
        _send(client, session_a, "email")
    assert len(mail.outbox) == 3
    page = client.get(reverse("tracker:session_detail", args=[session_a.pk])).content.decode()
    assert "sent as often as allowed in the last hour" in page
    assert 'name="channel"' not in page

    refused = _send(client, session_a, "email").content.decode()
    assert "The link has been sent 3 times in the last hour, the most allowed." in refused
    assert len(mail.outbox) == 3 and _sends(session_a).count() == 3

    frozen_now(start + timedelta(minutes=61))
    client.force_login(therapist_a.user)  # the staff session itself timed out meanwhile
    _send(client, session_a, "email")
    assert len(mail.outbox) == 4


def test_no_consent_or_no_stored_address_sends_nothing(client, reachable, session_a, therapist_a):
    client.force_login(therapist_a.user)
    reachable.phone = ""
    reachable.save()
    page = _send(client, session_a, "sms").content.decode()
    assert "only to a phone number or email address on the patient" in page
    reachable.reminders_consent = False
    reachable.save()
    session_page = _send(client, session_a, "email").content.decode()
    assert "has not agreed to be contacted" in session_page
    assert mail.outbox == [] and not _sends(session_a).exists()


def test_sending_needs_post_with_csrf_and_the_clinic(
    reachable, session_a, therapist_a, therapist_b, client
):
    url = reverse("tracker:link_send", args=[session_a.pk])
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(therapist_a.user)
    assert strict.post(url, {"channel": "email"}).status_code == 403
    client.force_login(therapist_a.user)
    assert client.get(url).status_code == 405
    client.force_login(therapist_b.user)
    assert client.post(url, {"channel": "email"}).status_code == 404
    assert mail.outbox == [] and not _sends(session_a).exists()


def test_a_mail_server_that_is_down_records_nothing_and_says_so(
    client, reachable, session_a, therapist_a, settings
):
    settings.EMAIL_BACKEND = "tests.test_reminders.FailingEmailBackend"
    client.force_login(therapist_a.user)
    page = _send(client, session_a, "email").content.decode()
    assert "could not be sent just now" in page
    assert not _sends(session_a).exists()


# --- The link card --------------------------------------------------------------------


@pytest.fixture
def london_session(patient_a, therapist_a, frozen_now):
    clinic = patient_a.clinic
    clinic.time_zone = "Europe/London"
    clinic.phone = "020 7946 0000"
    clinic.emergency_number = "999"
    clinic.save()
    frozen_now(datetime(2026, 6, 1, 9, 0, tzinfo=UTC))  # 10:00 BST, Monday
    return make_session(patient=patient_a, therapist=therapist_a.user)


def test_the_card_has_the_qr_code_link_times_phone_and_emergency_number(
    client, london_session, therapist_a
):
    client.force_login(therapist_a.user)
    response = client.get(reverse("tracker:link_card", args=[london_session.pk]))
    page = response.content.decode()
    assert response.status_code == 200 and 'lang="en"' in page
    assert "<svg" in page and "QR code of your check-in link" in page
    assert _link_url(london_session) in page
    # When each check-in opens, in the clinic's zone (BST, UTC+1): the session was at
    # 08:55 UTC, and the 24 h check-in opens 2 h before it is due (06:55 UTC).
    assert "In-clinic check-in" in page and "Monday 1 June, 09:55" in page
    assert "24-hour check-in" in page and "Tuesday 2 June, 07:55" in page
    assert "48-hour check-in" in page and "Wednesday 3 June, 07:55" in page
    assert "020 7946 0000" in page and "Call 999 now if you become short of breath" in page
    assert "a 72-hour check-in is added" in page
    # Nothing from another host: every src and href is on this server.
    assert not re.search(r'(src|href)="(https?:)?//', page)
    assert "tracker/css/card.css" in page
    assert AuditEvent.objects.filter(detail="link_card", patient=london_session.patient).exists()


def test_the_card_is_in_the_patients_language(client, london_session, therapist_a):
    patient = london_session.patient
    patient.language = "es"
    patient.save()
    client.force_login(therapist_a.user)
    response = client.get(reverse("tracker:link_card", args=[london_session.pk]))
    page = response.content.decode()
    # The card in the patient's language; the staff member's controls around it in theirs.
    assert 'lang="es"' in page and '<html lang="en">' in page
    assert "Back to the session" in page and "Imprimir" not in page
    assert "Sus cuestionarios" in page and "Cuestionario de las 24 horas" in page
    assert "Llame ya al 999 si le falta el aire" in page
    assert "Llame a la clínica" in page or "llame a la clínica" in page
    assert "martes" in page.lower() and "junio" in page.lower()
    assert "Tuesday" not in page and "Call 999 now" not in page
    # The staff member's own page stays in their language afterwards.
    staff_page = client.get(reverse("tracker:session_detail", args=[london_session.pk]))
    assert "Print a link card for the patient" in staff_page.content.decode()


def test_the_card_prints_on_a6():
    css = (ROOT / "tracker/static/tracker/css/card.css").read_text()
    assert re.search(r"@page card\s*{\s*size:\s*105mm 148mm", css)  # A6
    assert re.search(r"body\.card-page\s*{\s*page:\s*card", css)


def test_the_card_leaves_out_check_ins_that_have_closed_or_were_answered(
    client, london_session, therapist_a, frozen_now
):
    frozen_now(london_session.performed_at + timedelta(hours=40))  # 24 h closed at 36 h
    client.force_login(therapist_a.user)
    page = client.get(reverse("tracker:link_card", args=[london_session.pk])).content.decode()
    assert "24-hour check-in" not in page and "In-clinic check-in" not in page
    assert "48-hour check-in" in page
    follow_up = london_session.follow_ups.get(time_point=48)
    frozen_now(follow_up.due_at)
    services.submit_report(
        follow_up=follow_up, idempotency_key=uuid.uuid4(), answers=answers(soreness=1)
    )
    client.force_login(therapist_a.user)
    page = client.get(reverse("tracker:link_card", args=[london_session.pk])).content.decode()
    assert "48-hour check-in" not in page
    assert "No check-in left to answer for this session." in page


def test_the_card_of_another_clinics_session_is_a_404(client, london_session, therapist_b):
    client.force_login(therapist_b.user)
    url = reverse("tracker:link_card", args=[london_session.pk])
    assert client.get(url).status_code == 404


# --- The scan prompt, on the day only -----------------------------------------------


def test_the_scan_prompt_shows_on_the_day_of_the_session_in_the_clinics_zone(
    client, london_session, therapist_a, frozen_now
):
    client.force_login(therapist_a.user)
    url = reverse("tracker:session_detail", args=[london_session.pk])
    prompt = "Let the patient scan this with their phone camera now"
    frozen_now(datetime(2026, 6, 1, 22, 30, tzinfo=UTC))  # 23:30 BST, the same day
    client.force_login(therapist_a.user)
    assert prompt in client.get(url).content.decode()
    frozen_now(
        datetime(2026, 6, 1, 23, 30, tzinfo=UTC)
    )  # 00:30 BST the next day; UTC still the 1st
    client.force_login(therapist_a.user)
    page = client.get(url).content.decode()
    assert prompt not in page
    assert "Print a link card for the patient" in page  # the link is still there


# --- The done page: how to come back -----------------------------------------------------


def _answer(client, session):
    token = tokens.token_for(session.access_links.get().nonce)
    return client.post(
        reverse("patient:check_in", args=[token]),
        {
            "key": str(uuid.uuid4()),
            "soreness": "3",
            "twitching": "none",
            "bruising": "none",
            "interference": "a_little",
            "after_effects": ["none"],
            "red_flags": ["none"],
            "local_reaction": "no",
            "pgic": "4",
            "note": "",
        },
        follow=True,
    ).content.decode()


def test_the_done_page_says_a_reminder_comes_when_the_patient_has_one(client, reachable, session_a):
    page = _answer(client, session_a)
    assert "Your 24-hour check-in opens on" in page
    assert "We will send you a reminder when it opens." in page
    assert "No reminder will be sent" not in page
    assert "add this page to your phone&#x27;s home screen" in page or "home screen" in page
    assert "keep the message or card" in page


@pytest.mark.parametrize("change", ["no_consent", "no_address"])
def test_the_done_page_says_to_come_back_through_the_link_without_reminders(
    client, reachable, session_a, change
):
    if change == "no_consent":
        reachable.reminders_consent = False
    else:
        reachable.email = ""
    reachable.save()
    page = _answer(client, session_a)
    assert "No reminder will be sent: come back through your link at the time shown." in page
    assert "We will send you a reminder" not in page
    assert "keep the message or card" in page


def test_a_patient_of_no_clinic_contact_gets_the_card_offered_on_the_session_page(
    client, therapist_a
):
    patient = PatientFactory(clinic=therapist_a.clinic)
    session = make_session(patient=patient, therapist=therapist_a.user)
    client.force_login(therapist_a.user)
    page = client.get(reverse("tracker:session_detail", args=[session.pk])).content.decode()
    assert "has not agreed to be contacted, or has no phone or email on record" in page
    assert 'name="channel"' not in page


def test_i_feel_fine_at_the_last_planned_check_in_saves_and_confirms(
    client, reachable, session_a, hours_after
):
    from tracker.forms.patient import FEELING_FINE
    from tracker.models import SymptomReport

    hours_after(48)
    token = tokens.token_for(session_a.access_links.get().nonce)
    response = client.post(
        reverse("patient:check_in", args=[token]),
        {"key": str(uuid.uuid4()), **FEELING_FINE},
        follow=True,
    )
    assert response.status_code == 200
    assert "your answers were sent" in response.content.decode()
    report = SymptomReport.objects.get()
    assert report.follow_up.time_point == 48 and report.pgic is None

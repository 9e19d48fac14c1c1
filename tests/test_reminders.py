"""Check-in reminders: who gets one, what it says, exactly once, and missed check-ins."""

import email
import io
import json
import os
import re
import sqlite3
import subprocess
import sys
import time
import uuid
from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings as conf
from django.core import mail
from django.core.mail.backends.base import BaseEmailBackend
from django.core.mail.backends.filebased import EmailBackend as FileEmailBackend
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import translation

from tests.factories import PatientFactory, answers, make_session
from tracker import reminders, services
from tracker.choices import ReminderChannel, TimePoint
from tracker.models import AccessLink, Alert, AlertRule, FollowUp
from tracker.reminders import sending, sms
from tracker.security import tokens

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parent.parent
EMAIL = "maya.bennett@example.com"
PHONE = "+447700900123"


class FailingEmailBackend(BaseEmailBackend):
    """An SMTP server that is down."""

    def send_messages(self, messages):
        raise OSError("Connection refused")


class SlowFileEmailBackend(FileEmailBackend):
    """The file backend, slowed so that two concurrent runs overlap."""

    def send_messages(self, messages):
        time.sleep(0.03)
        return super().send_messages(messages)


class SlowFileSMSBackend(sms.FileBackend):
    def send(self, *, to, body):
        time.sleep(0.03)
        super().send(to=to, body=body)


@pytest.fixture
def by_email(patient_a):
    patient_a.email = EMAIL
    patient_a.reminder_channel = ReminderChannel.EMAIL
    patient_a.reminders_consent = True
    patient_a.save()
    return patient_a


@pytest.fixture
def by_sms(patient_a, settings, tmp_path):
    settings.SMS_BACKEND = "tracker.reminders.sms.FileBackend"
    settings.SMS_FILE_PATH = str(tmp_path / "sms.jsonl")
    patient_a.phone = PHONE
    patient_a.reminder_channel = ReminderChannel.SMS
    patient_a.reminders_consent = True
    patient_a.save()
    return patient_a


def _follow_up(session, time_point):
    return FollowUp.objects.get(session=session, time_point=time_point)


def _urls(token):
    return (
        conf.SITE_URL + reverse("patient:check_in", args=[token]),
        conf.SITE_URL + reverse("patient:stop_reminders", args=[token]),
    )


# --- What is sent ------------------------------------------------------------


def test_due_reminder_is_emailed_with_the_link_the_stop_link_and_nothing_else(
    by_email, session_a, link_token, hours_after
):
    now = hours_after(24)
    result = reminders.run()

    assert result.sent == {"email": 1, "sms": 0} and result.failed == 0
    [message] = mail.outbox
    check_in_url, stop_url = _urls(link_token)
    clinic = session_a.patient.clinic.name
    assert message.to == [EMAIL]
    assert message.subject == f"Your 24-hour check-in is open ({clinic})"
    lines = [line for line in message.body.splitlines() if line.strip()]
    assert lines == [
        clinic,
        "Your 24-hour check-in is open. It takes under a minute:",
        check_in_url,
        "To stop these reminders:",
        stop_url,
    ]
    # Nothing that names the patient or says what was done.
    whole = message.subject + message.body
    assert by_email.display_name not in whole and EMAIL not in message.body
    assert "Gluteus" not in whole and "needl" not in whole.lower()
    assert message.extra_headers["List-Unsubscribe"] == f"<{stop_url}>"
    assert _follow_up(session_a, TimePoint.H24).reminder_sent_at == now


def test_message_is_written_in_the_patients_language(by_email, session_a, hours_after, monkeypatch):
    by_email.language = "es"
    by_email.save()
    languages = []
    real_render = sending.render_to_string

    def spy(template, context):
        languages.append(translation.get_language())
        return real_render(template, context)

    monkeypatch.setattr(sending, "render_to_string", spy)
    hours_after(24)
    reminders.run()
    assert len(mail.outbox) == 1
    assert languages == ["es", "es", "es"]  # subject, email body, SMS text
    assert translation.get_language() != "es"  # and switched back after


def test_reminder_by_sms_goes_through_the_sms_backend(
    by_sms, session_a, link_token, hours_after, settings
):
    hours_after(48)
    result = reminders.run()
    assert result.sent == {"email": 0, "sms": 1}
    assert mail.outbox == []
    [line] = Path(settings.SMS_FILE_PATH).read_text().splitlines()
    sent = json.loads(line)
    check_in_url, stop_url = _urls(link_token)
    assert sent["to"] == PHONE
    assert sent["body"] == (
        f"{session_a.patient.clinic.name}: Your 48-hour check-in is open: "
        f"{check_in_url} Stop reminders: {stop_url}"
    )


def test_running_the_command_twice_sends_one_message_per_follow_up(
    by_email, session_a, hours_after
):
    hours_after(24)
    first, second = io.StringIO(), io.StringIO()
    call_command("send_due_reminders", stdout=first)
    call_command("send_due_reminders", stdout=second)
    assert len(mail.outbox) == 1
    # The in-clinic check-in closed 12 h after the session, unanswered.
    assert first.getvalue().strip() == (
        "Sent 1 reminder (1 email, 0 SMS), 0 failed; marked 1 check-in missed; "
        "sent 0 urgent alert steps."
    )
    assert second.getvalue().strip() == (
        "Sent 0 reminders (0 email, 0 SMS), 0 failed; marked 0 check-ins missed; "
        "sent 0 urgent alert steps."
    )


def test_the_command_refuses_a_batch_size_below_one(by_email, session_a, hours_after):
    hours_after(24)
    with pytest.raises(CommandError, match="--batch-size"):
        call_command("send_due_reminders", "--batch-size", "0")
    assert mail.outbox == []


def test_each_open_check_in_gets_its_own_reminder(by_email, session_a, hours_after):
    hours_after(24)
    reminders.run()
    hours_after(48)
    reminders.run()
    subjects = [m.subject.split(" check-in")[0] for m in mail.outbox]
    assert subjects == ["Your 24-hour", "Your 48-hour"]


def _more_sessions(patient, therapist, like, count):
    return [
        make_session(patient=patient, therapist=therapist.user, performed_at=like.performed_at)
        for _ in range(count)
    ]


def _token_of(session):
    return tokens.token_for(session.access_links.get().nonce)


def _check_in_tokens(text):
    return re.findall(r"/f/([\w-]+)/(?:\s|$)", text)


def test_a_batch_costs_the_same_few_queries_however_many_rows_it_holds(
    by_email, session_a, therapist_a, hours_after, django_assert_num_queries
):
    _more_sessions(by_email, therapist_a, session_a, 5)
    now = hours_after(24)
    # 1 SELECT of the batch (follow-up, session, patient, clinic, link nonce); the claim's
    # transaction (a savepoint inside the test's): SAVEPOINT, SELECT of the rows still
    # unclaimed, one UPDATE of them, RELEASE.
    with django_assert_num_queries(5) as captured:
        result = reminders.send_due_reminders(now=now)
    assert result.sent_total == 6 == len(mail.outbox)
    # Only what the message needs is read: not even the patient's name.
    assert "display_name" not in captured.captured_queries[0]["sql"]


def test_batches_smaller_than_what_is_due_send_each_reminder_once(
    by_email, session_a, therapist_a, hours_after
):
    sessions = [session_a, *_more_sessions(by_email, therapist_a, session_a, 4)]
    now = hours_after(24)
    result = reminders.send_due_reminders(now=now, batch_size=2)
    assert result.sent_total == 5 == len(mail.outbox)
    sent = Counter(token for m in mail.outbox for token in _check_in_tokens(m.body))
    assert sent == Counter(_token_of(session) for session in sessions)
    assert set(
        FollowUp.objects.filter(time_point=TimePoint.H24).values_list("reminder_sent_at", flat=True)
    ) == {now}


def test_each_patient_in_a_batch_gets_their_language_clinic_and_link(
    by_email, session_a, therapist_a, therapist_b, hours_after, monkeypatch
):
    clinic_a, clinic_b = by_email.clinic, therapist_b.clinic
    patients = {
        "en-a": by_email,
        "en-a2": PatientFactory(clinic=clinic_a, language="en", email="en-a2@example.com"),
        "es-a": PatientFactory(clinic=clinic_a, language="es", email="es-a@example.com"),
        "en-b": PatientFactory(clinic=clinic_b, language="en", email="en-b@example.com"),
    }
    sessions = {"en-a": session_a}
    for key, patient in patients.items():
        if key != "en-a":
            patient.reminder_channel = ReminderChannel.EMAIL
            patient.reminders_consent = True
            patient.save()
            therapist = therapist_b if patient.clinic == clinic_b else therapist_a
            sessions[key] = make_session(
                patient=patient, therapist=therapist.user, performed_at=session_a.performed_at
            )
    renders = []
    real_render = sending.render_to_string

    def counting_render(template, context):
        renders.append(template)
        return real_render(template, context)

    monkeypatch.setattr(sending, "render_to_string", counting_render)
    hours_after(24)
    result = reminders.send_due_reminders()

    assert result.sent_total == 4
    by_address = {m.to[0]: m for m in mail.outbox}
    opened = {
        "en": "Your 24-hour check-in is open",
        "es": "Su cuestionario de las 24 horas ya está abierto",
    }
    for key, patient in patients.items():
        message = by_address[patient.email]
        assert message.subject == f"{opened[patient.language]} ({patient.clinic.name})"
        assert message.body.splitlines()[0] == patient.clinic.name
        check_in_url, stop_url = _urls(_token_of(sessions[key]))
        assert _check_in_tokens(message.body) == [_token_of(sessions[key])]
        assert check_in_url in message.body and stop_url in message.body
        assert message.extra_headers["List-Unsubscribe"] == f"<{stop_url}>"
    assert "Para dejar de recibir estos recordatorios:" in by_address["es-a@example.com"].body
    # Three distinct messages (en and es in clinic A, en in clinic B), each of
    # subject, email body and SMS text rendered once; the two English patients
    # of clinic A share one rendering with their own links.
    assert len(renders) == 3 * 3


@pytest.mark.parametrize("meanwhile", ["claimed_by_another_run", "answered_by_the_patient"])
def test_a_follow_up_taken_after_the_batch_was_read_is_not_sent(
    meanwhile, by_email, session_a, therapist_a, hours_after, monkeypatch
):
    [other] = _more_sessions(by_email, therapist_a, session_a, 1)
    now = hours_after(24)
    other_h24 = _follow_up(other, TimePoint.H24)
    real_claim = sending._claim

    def taken_just_before_the_claim(follow_ups, now):
        assert other_h24.pk in [follow_up.pk for follow_up in follow_ups]
        if meanwhile == "claimed_by_another_run":
            # The same moment as this run: telling the claims apart by time would fail.
            FollowUp.objects.filter(pk=other_h24.pk).update(reminder_sent_at=now)
        else:
            services.submit_report(
                follow_up=other_h24, idempotency_key=uuid.uuid4(), answers=answers(), now=now
            )
        return real_claim(follow_ups, now)

    monkeypatch.setattr(sending, "_claim", taken_just_before_the_claim)
    result = reminders.send_due_reminders(now=now)

    assert result.sent_total == 1
    [message] = mail.outbox
    assert _check_in_tokens(message.body) == [_token_of(session_a)]


# --- Who gets none -----------------------------------------------------------


def _no_consent(session, patient, now):
    patient.reminders_consent = False
    patient.save()


def _channel_none(session, patient, now):
    patient.reminder_channel = ReminderChannel.NONE
    patient.save()


def _email_channel_without_address(session, patient, now):
    patient.email = ""
    patient.save()


def _sms_channel_without_phone(session, patient, now):
    patient.reminder_channel = ReminderChannel.SMS
    patient.phone = ""
    patient.save()


def _answered(session, patient, now):
    services.submit_report(
        follow_up=_follow_up(session, TimePoint.H24),
        idempotency_key=uuid.uuid4(),
        answers=answers(),
        now=now,
    )


def _already_sent(session, patient, now):
    FollowUp.objects.filter(session=session).update(reminder_sent_at=now - timedelta(hours=1))


def _link_revoked(session, patient, now):
    AccessLink.objects.filter(session=session).update(revoked_at=now - timedelta(minutes=1))


def _link_expired(session, patient, now):
    AccessLink.objects.filter(session=session).update(expires_at=now - timedelta(minutes=1))


@pytest.mark.parametrize(
    "setup",
    [
        _no_consent,
        _channel_none,
        _email_channel_without_address,
        _sms_channel_without_phone,
        _answered,
        _already_sent,
        _link_revoked,
        _link_expired,
    ],
)
def test_no_reminder_when(setup, by_email, session_a, hours_after):
    now = hours_after(24)
    setup(session_a, by_email, now)
    result = reminders.send_due_reminders()
    assert result.sent_total == 0 and mail.outbox == []


@pytest.mark.parametrize(
    ("hours", "why"),
    [
        (0.5, "the in-clinic check-in: the patient has the QR code"),
        (21, "the 24 h check-in opens at 22 h"),
        (37, "the 24 h check-in closed at 36 h"),
    ],
)
def test_no_reminder_outside_an_open_window_after_the_session(
    hours, why, by_email, session_a, hours_after
):
    hours_after(hours)
    assert reminders.send_due_reminders().sent_total == 0, why
    assert mail.outbox == []


def test_a_second_usable_link_does_not_send_two_reminders(by_email, session_a, hours_after):
    hours_after(24)
    newer = services.issue_access_link(session=session_a)
    reminders.run()
    [message] = mail.outbox
    assert _urls(tokens.token_for(newer.nonce))[0] in message.body


# --- Failures ----------------------------------------------------------------


def test_a_failed_send_releases_the_claim_and_the_next_run_sends(
    by_email, session_a, link_token, hours_after, settings, caplog
):
    hours_after(24)
    settings.EMAIL_BACKEND = "tests.test_reminders.FailingEmailBackend"
    with caplog.at_level("DEBUG"):
        result = reminders.send_due_reminders()
    follow_up = _follow_up(session_a, TimePoint.H24)
    assert (result.sent_total, result.failed) == (0, 1)
    assert follow_up.reminder_sent_at is None
    assert f"follow-up {follow_up.pk} not sent" in caplog.text
    for secret in (link_token, EMAIL, by_email.display_name):
        assert secret not in caplog.text

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    result = reminders.send_due_reminders()
    assert (result.sent_total, result.failed) == (1, 0)
    assert len(mail.outbox) == 1


def test_one_failure_does_not_stop_the_others(
    by_email, session_a, therapist_a, hours_after, monkeypatch
):
    other = PatientFactory(
        clinic=by_email.clinic,
        email="other@example.com",
        reminder_channel=ReminderChannel.EMAIL,
        reminders_consent=True,
    )
    make_session(patient=other, therapist=therapist_a.user, performed_at=session_a.performed_at)
    now = hours_after(24)
    real_send = mail.EmailMessage.send

    def flaky(message, *args, **kwargs):
        if message.to == [EMAIL]:
            raise OSError("mailbox unavailable")
        return real_send(message, *args, **kwargs)

    monkeypatch.setattr(mail.EmailMessage, "send", flaky)
    result = reminders.send_due_reminders(now=now)
    assert (result.sent_total, result.failed) == (1, 1)
    assert [m.to for m in mail.outbox] == [["other@example.com"]]
    # Claimed together, released alone: only the failed one is tried again.
    reminded = dict(
        FollowUp.objects.filter(time_point=TimePoint.H24).values_list(
            "session__patient__email", "reminder_sent_at"
        )
    )
    assert reminded == {EMAIL: None, "other@example.com": now}


# --- Missed check-ins ----------------------------------------------------------


def test_a_closed_check_in_is_marked_missed_once_with_one_alert(session_a, hours_after):
    first_run = hours_after(13)  # the in-clinic check-in closed at 12 h
    assert reminders.run().marked_missed == 1
    in_clinic = _follow_up(session_a, TimePoint.IN_CLINIC)
    assert in_clinic.marked_missed_at == first_run
    assert Alert.objects.filter(session=session_a, rule=AlertRule.MISSED).count() == 1

    hours_after(14)
    assert reminders.run().marked_missed == 0
    in_clinic.refresh_from_db()
    assert in_clinic.marked_missed_at == first_run
    assert Alert.objects.filter(rule=AlertRule.MISSED).count() == 1


def test_each_missed_check_in_opens_its_own_alert_once(session_a, hours_after):
    hours_after(37)  # in-clinic and 24 h both closed
    assert reminders.run().marked_missed == 2
    missed = Alert.objects.filter(rule=AlertRule.MISSED)
    assert sorted(missed.values_list("follow_up__time_point", flat=True)) == [0, 24]
    assert reminders.run().marked_missed == 0
    assert missed.count() == 2


def test_answered_and_open_check_ins_are_not_marked_missed(session_a, hours_after):
    now = hours_after(1)
    services.submit_report(
        follow_up=_follow_up(session_a, TimePoint.IN_CLINIC),
        idempotency_key=uuid.uuid4(),
        answers=answers(),
        now=now,
    )
    hours_after(30)  # in-clinic answered, 24 h open
    assert reminders.run().marked_missed == 0
    assert not Alert.objects.filter(rule=AlertRule.MISSED).exists()


# --- Stopping reminders --------------------------------------------------------


def _stop_url(token):
    return reverse("patient:stop_reminders", args=[token])


def test_stop_page_shows_one_button_and_no_name(
    client, by_email, session_a, link_token, django_assert_num_queries
):
    with django_assert_num_queries(1):  # the link, with its session, patient and clinic
        response = client.get(_stop_url(link_token))
    page = response.content.decode()
    assert response.status_code == 200
    assert page.count('type="submit"') == 1
    assert 'name="action" value="stop"' in page and "Stop reminders" in page
    assert by_email.display_name not in page and EMAIL not in page
    assert response["Cache-Control"].startswith("max-age=0")


def test_stopping_records_the_choice_and_when(client, by_email, session_a, link_token, hours_after):
    now = hours_after(3)
    response = client.post(_stop_url(link_token), {"action": "stop"})
    assert response.status_code == 302 and response["Location"] == _stop_url(link_token)
    by_email.refresh_from_db()
    assert by_email.reminders_consent is False
    assert by_email.consent_changed_at == now

    page = client.get(_stop_url(link_token)).content.decode()
    assert "Reminders stopped. You can still open your link to check in." in page
    assert reverse("patient:check_in", args=[link_token]) in page
    assert 'value="resume"' in page and "Turn reminders back on" in page


def test_stopping_twice_keeps_the_time_of_the_decision(
    client, by_email, session_a, link_token, hours_after
):
    first = hours_after(3)
    client.post(_stop_url(link_token), {"action": "stop"})
    hours_after(5)
    client.post(_stop_url(link_token), {"action": "stop"})
    by_email.refresh_from_db()
    assert by_email.consent_changed_at == first


def test_reminders_can_be_turned_back_on(client, by_email, session_a, link_token, hours_after):
    hours_after(3)
    client.post(_stop_url(link_token), {"action": "stop"})
    later = hours_after(4)
    client.post(_stop_url(link_token), {"action": "resume"})
    by_email.refresh_from_db()
    assert by_email.reminders_consent is True and by_email.consent_changed_at == later


def test_no_resume_button_without_a_way_to_reach_the_patient(
    client, patient_a, session_a, link_token
):
    page = client.get(_stop_url(link_token)).content.decode()  # channel "none", no consent
    assert "Turn reminders back on" not in page
    client.post(_stop_url(link_token), {"action": "resume"})
    patient_a.refresh_from_db()
    assert patient_a.reminders_consent is False


def test_after_stopping_no_reminder_goes_to_the_patient(
    client, by_email, session_a, link_token, hours_after
):
    hours_after(3)
    client.post(_stop_url(link_token), {"action": "stop"})
    hours_after(24)
    assert reminders.run().sent_total == 0
    assert mail.outbox == []


@pytest.mark.parametrize("method", ["get", "post"])
def test_unknown_or_expired_token_is_the_check_in_404(
    client, by_email, session_a, link_token, method
):
    response = getattr(client, method)(_stop_url("not-a-real-token"), {"action": "stop"})
    assert response.status_code == 404
    assert "patient/link_not_found.html" in [t.name for t in response.templates]

    AccessLink.objects.update(expires_at=session_a.performed_at)
    response = getattr(client, method)(_stop_url(link_token), {"action": "stop"})
    assert response.status_code == 404
    by_email.refresh_from_db()
    assert by_email.reminders_consent is True


# --- Two runs at once, in real processes ---------------------------------------


def _manage(*args, env, **kwargs):
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
        **kwargs,
    )


# ``manage.py send_due_reminders`` whose first claim waits until the other run
# has read its first batch too: both runs then hold the same rows, and the
# claim alone must decide which of them sends each. Later batches run freely.
RUN_RACING_THE_OTHER = """
import os, sys, time
from pathlib import Path

import django

django.setup()
from django.core.management import call_command

from tracker.reminders import sending

arrivals, real_claim, arrived = Path(sys.argv[1]), sending._claim, False


def claim_once_both_runs_have_read(follow_ups, now):
    global arrived
    if not arrived:
        arrived = True
        (arrivals / str(os.getpid())).touch()
        deadline = time.monotonic() + 60
        while len(list(arrivals.iterdir())) < 2:
            if time.monotonic() > deadline:
                sys.exit("The other run never read its first batch.")
            time.sleep(0.01)
    return real_claim(follow_ups, now)


sending._claim = claim_once_both_runs_have_read
call_command("send_due_reminders", *sys.argv[2:])
"""


def _sent_emails(mail_dir, *, reminders=True):
    """(subject, body) of the reminders written to ``mail_dir``, or of the staff alerts."""
    separator = b"\n" + b"-" * 79 + b"\n"
    for path in Path(mail_dir).glob("*.log"):
        for chunk in path.read_bytes().split(separator):
            if chunk.strip():
                message = email.message_from_bytes(chunk)
                # A reminder carries a way to stop reminders; a staff alert does not.
                if bool(message["List-Unsubscribe"]) is reminders:
                    yield message["Subject"], message.get_payload(decode=True).decode()


def test_two_runs_at_once_send_each_reminder_exactly_once(tmp_path):
    db = tmp_path / "db.sqlite3"
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"SECRET_KEY", "ALLOWED_HOSTS", "DJANGO_SETTINGS_MODULE"}
    }
    env.update(
        DJANGO_SETTINGS_MODULE="project.settings",
        DEBUG="1",
        DATABASE_URL=f"sqlite:///{db}",
        EMAIL_BACKEND="tests.test_reminders.SlowFileEmailBackend",
        EMAIL_FILE_PATH=str(tmp_path / "mail"),
        SMS_BACKEND="tests.test_reminders.SlowFileSMSBackend",
        SMS_FILE_PATH=str(tmp_path / "sms.jsonl"),
    )
    _manage("migrate", "--noinput", "-v0", env=env)
    _manage("seed_demo", "--if-empty", "--patients", "40", "--seed", "1", env=env)
    with sqlite3.connect(db) as connection:  # half the patients by text message
        connection.execute(
            "UPDATE tracker_patient SET reminder_channel = 'sms', phone = '+4477009' || id "
            "WHERE id % 2 = 0"
        )
        # No quiet hours: this is about two runs at once, whatever the time of day
        # (the demo clinic's default, 21:00 to 08:00, would hold every reminder).
        connection.execute("UPDATE tracker_clinic SET quiet_hours_start = quiet_hours_end")
        # The demo's urgent alerts have waited 20 minutes: their first escalation is due.
        connection.execute(
            "UPDATE tracker_alert SET opened_at = datetime('now', '-20 minutes') "
            "WHERE severity = 'urgent'"
        )
        urgent = connection.execute(
            "SELECT COUNT(*) FROM tracker_alert WHERE severity = 'urgent'"
        ).fetchone()[0]

    arrivals = tmp_path / "arrivals"
    arrivals.mkdir()
    # Small batches, so that after the forced meeting on the first batch the
    # two runs also overlap on their own.
    runs = [
        subprocess.Popen(
            [sys.executable, "-c", RUN_RACING_THE_OTHER, str(arrivals), "--batch-size", "3"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    outputs = [run.communicate(timeout=120) for run in runs]
    assert [run.returncode for run in runs] == [0, 0], outputs

    sent = [
        (subject.split(" (")[0], re.search(r"/f/([\w-]+)/\n", body).group(1))
        for subject, body in _sent_emails(tmp_path / "mail")
    ]
    sms_file = tmp_path / "sms.jsonl"
    for line in sms_file.read_text().splitlines() if sms_file.exists() else []:
        body = json.loads(line)["body"]
        # The demo has Spanish-speaking patients: their reminders are in Spanish.
        opened = r"Your \d+-hour check-in is open|Su cuestionario de las \d+ horas ya está abierto"
        sent.append((re.search(opened, body).group(0), re.search(r"/f/([\w-]+)/ ", body).group(1)))

    with sqlite3.connect(db) as connection:
        reminded = connection.execute(
            "SELECT COUNT(*) FROM tracker_followup WHERE reminder_sent_at IS NOT NULL"
        ).fetchone()[0]
        missed, missed_sessions, missed_alerts = connection.execute(
            "SELECT COUNT(*), COUNT(DISTINCT session_id), "
            "(SELECT COUNT(*) FROM tracker_alert WHERE rule = 'missed') "
            "FROM tracker_followup WHERE marked_missed_at IS NOT NULL"
        ).fetchone()

    assert reminded >= 5, "the demo data should leave several check-ins open"
    assert len(sent) == reminded
    assert len(set(sent)) == len(sent), "a follow-up got two reminders"
    counts = [
        re.match(r"Sent (\d+) reminders?.*marked (\d+) check-ins? missed", out)
        for out, _err in outputs
    ]
    assert sum(int(m.group(1)) for m in counts) == reminded
    assert sum(int(m.group(2)) for m in counts) == missed
    assert missed_alerts == missed, "each missed check-in opens its own alert, once"
    assert missed_sessions <= missed

    # Escalation, in the same two racing runs: each urgent alert's step 1 once,
    # to the demo clinic's lead (the one lead; no urgent contacts set).
    assert urgent >= 1, "the demo data should hold an urgent alert"
    with sqlite3.connect(db) as connection:
        steps = connection.execute(
            "SELECT COUNT(*), COUNT(DISTINCT alert_id) FROM tracker_alertstep WHERE step = 1"
        ).fetchone()
    assert steps == (urgent, urgent)
    escalations = [
        subject
        for subject, _body in _sent_emails(tmp_path / "mail", reminders=False)
        if subject.startswith("Still open")
    ]
    assert len(escalations) == urgent


def test_check_ins_closed_before_the_link_lifetime_are_not_alerted(session_a, time_machine):
    """A first run on an old database does not alert on every old session."""
    from tracker.models import Alert

    time_machine.move_to(session_a.performed_at + timedelta(days=30), tick=False)
    reminders.mark_missed()
    assert not Alert.objects.exists()


def test_stop_reminders_works_from_a_browser_that_sends_no_referrer(session_a, link_token):
    from django.test import Client

    session_a.patient.reminders_consent = True
    session_a.patient.save()
    browser = Client(enforce_csrf_checks=True, HTTP_ORIGIN="null")
    response = browser.post(
        reverse("patient:stop_reminders", args=[link_token]), {"action": "stop"}
    )
    assert response.status_code == 302
    session_a.patient.refresh_from_db()
    assert not session_a.patient.reminders_consent

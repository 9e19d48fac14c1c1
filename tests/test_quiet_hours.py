"""Quiet hours: no check-in reminder to a patient at night on the clinic's clock,
across daylight-saving changes; urgent alerts to staff are never held.
"""

import uuid
from datetime import UTC, datetime, time, timedelta

import pytest
from django.core import mail
from django.core.management import call_command
from django.urls import reverse

from tests.factories import MembershipFactory, PatientFactory, UserFactory, make_session
from tracker import reminders
from tracker.choices import ReminderChannel, Role, TimePoint
from tracker.models import Alert, AlertStep, Clinic, FollowUp
from tracker.security import tokens

pytestmark = pytest.mark.django_db

EMAIL = "maya.bennett@example.com"


def _utc(*args):
    return datetime(*args, tzinfo=UTC)


@pytest.fixture
def london_patient(clinic_a):
    clinic_a.time_zone = "Europe/London"
    clinic_a.quiet_hours_start, clinic_a.quiet_hours_end = time(21), time(8)
    clinic_a.save()
    return PatientFactory(
        clinic=clinic_a,
        email=EMAIL,
        reminder_channel=ReminderChannel.EMAIL,
        reminders_consent=True,
    )


def _session_at(patient, therapist, moment, frozen_now):
    frozen_now(moment)
    return make_session(patient=patient, therapist=therapist.user, performed_at=moment)


def _reminded(session, time_point=TimePoint.H24):
    return FollowUp.objects.get(session=session, time_point=time_point).reminder_sent_at


# --- The rule on the clinic's clock ------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "end", "local", "quiet"),
    [
        (time(21), time(8), time(20, 59), False),
        (time(21), time(8), time(21), True),
        (time(21), time(8), time(0, 30), True),
        (time(21), time(8), time(7, 59), True),
        (time(21), time(8), time(8), False),
        (time(13), time(14), time(13, 30), True),
        (time(13), time(14), time(14), False),
        (time(8), time(8), time(3), False),  # the same time twice: no quiet hours
    ],
)
def test_quiet_hours_are_read_on_the_clinics_local_clock(start, end, local, quiet):
    clinic = Clinic(time_zone="America/Chicago", quiet_hours_start=start, quiet_hours_end=end)
    moment = datetime.combine(datetime(2026, 7, 1).date(), local, tzinfo=clinic.zone)
    assert clinic.in_quiet_hours(moment.astimezone(UTC)) is quiet


def test_the_default_is_nine_at_night_to_eight_in_the_morning():
    clinic = Clinic()
    assert (clinic.quiet_hours_start, clinic.quiet_hours_end) == (time(21), time(8))


# --- Held, then sent when they end ------------------------------------------------------


def test_a_reminder_due_at_night_is_held_and_sent_when_quiet_hours_end(
    london_patient, therapist_a, frozen_now
):
    # 23:00 BST on 1 June: the 24 h check-in opens at 21:00 BST the next evening.
    session = _session_at(london_patient, therapist_a, _utc(2026, 6, 1, 22), frozen_now)
    frozen_now(_utc(2026, 6, 2, 20, 30))  # 21:30 BST: open, but quiet
    result = reminders.run()
    assert result.sent_total == 0 and result.held == 1
    assert mail.outbox == [] and _reminded(session) is None

    frozen_now(_utc(2026, 6, 3, 6, 59))  # 07:59 BST
    assert reminders.run().sent_total == 0 and mail.outbox == []

    frozen_now(_utc(2026, 6, 3, 7, 0))  # 08:00 BST: quiet hours are over
    assert reminders.run().sent_total == 1
    [message] = mail.outbox
    assert message.to == [EMAIL] and "24-hour check-in" in message.subject
    assert _reminded(session) == _utc(2026, 6, 3, 7, 0)


def test_a_reminder_whose_window_closed_in_quiet_hours_is_not_sent_afterwards(
    london_patient, therapist_a, frozen_now
):
    clinic = london_patient.clinic
    clinic.window_closes_hours_after = 1
    clinic.save()
    # 03:00 BST: the 24 h check-in is open 01:00–04:00 BST the next night, all of it quiet.
    session = _session_at(london_patient, therapist_a, _utc(2026, 6, 1, 2), frozen_now)
    frozen_now(_utc(2026, 6, 2, 1))
    assert reminders.run().sent_total == 0
    frozen_now(_utc(2026, 6, 2, 7))  # 08:00 BST, window closed at 04:00
    result = reminders.run()
    assert result.sent_total == 0 and mail.outbox == []
    assert _reminded(session) is None
    assert FollowUp.objects.get(session=session, time_point=24).marked_missed_at is not None


def test_a_clinic_can_set_its_own_quiet_hours(london_patient, therapist_a, frozen_now):
    clinic = london_patient.clinic
    clinic.quiet_hours_start, clinic.quiet_hours_end = time(23), time(6)
    clinic.save()
    _session_at(london_patient, therapist_a, _utc(2026, 6, 1, 20), frozen_now)
    frozen_now(_utc(2026, 6, 2, 20, 30))  # 21:30 BST: quiet by default, not here
    assert reminders.run().sent_total == 1


# --- Across daylight-saving changes (Europe/London) ------------------------------------


def test_spring_forward_quiet_hours_end_at_eight_on_the_clocks_that_is_seven_utc(
    london_patient, therapist_a, frozen_now
):
    # Clocks go forward at 01:00 GMT on Sunday 29 March 2026. A session at 06:00 GMT on
    # the 28th: its 24 h check-in is due 06:00 UTC on the 29th, 07:00 BST.
    session = _session_at(london_patient, therapist_a, _utc(2026, 3, 28, 6), frozen_now)
    frozen_now(_utc(2026, 3, 29, 6, 30))  # 07:30 BST: quiet
    assert reminders.run().sent_total == 0
    frozen_now(_utc(2026, 3, 29, 6, 59))  # 07:59 BST (07:59 would still be quiet in GMT too)
    assert reminders.run().sent_total == 0
    frozen_now(_utc(2026, 3, 29, 7, 0))  # 08:00 BST, although only 07:00 GMT
    assert reminders.run().sent_total == 1
    assert _reminded(session) == _utc(2026, 3, 29, 7, 0)


def test_spring_forward_quiet_hours_begin_at_nine_on_the_clocks_that_is_eight_utc(
    london_patient, therapist_a, frozen_now
):
    # A session at 21:30 BST on the 29th (20:30 UTC): its in-clinic check-in is
    # never reminded; at 24 h (20:30 UTC on the 30th, 21:30 BST) it is quiet.
    _session_at(london_patient, therapist_a, _utc(2026, 3, 28, 20, 30), frozen_now)
    frozen_now(_utc(2026, 3, 29, 20, 30))  # 21:30 BST on the day the clocks changed
    result = reminders.run()
    assert result.sent_total == 0 and result.held == 1


def test_fall_back_quiet_hours_end_at_eight_on_the_clocks_that_is_eight_utc(
    london_patient, therapist_a, frozen_now
):
    # Clocks go back at 02:00 BST on Sunday 25 October 2026. A session at 08:00 BST on
    # the 24th (07:00 UTC): its 24 h check-in is due 07:00 UTC on the 25th, 07:00 GMT.
    session = _session_at(london_patient, therapist_a, _utc(2026, 10, 24, 7), frozen_now)
    frozen_now(_utc(2026, 10, 25, 7, 0))  # 07:00 GMT: it would be 08:00 in BST, yet quiet
    assert reminders.run().sent_total == 0
    frozen_now(_utc(2026, 10, 25, 7, 59))
    assert reminders.run().sent_total == 0
    frozen_now(_utc(2026, 10, 25, 8, 0))  # 08:00 GMT
    assert reminders.run().sent_total == 1
    assert _reminded(session) == _utc(2026, 10, 25, 8, 0)


def test_fall_back_the_repeated_small_hour_is_quiet_both_times(
    london_patient, therapist_a, frozen_now
):
    _session_at(london_patient, therapist_a, _utc(2026, 10, 24, 0, 30), frozen_now)
    # 01:30 happens twice on 25 October: 00:30 UTC (BST) and 01:30 UTC (GMT).
    for moment in (_utc(2026, 10, 25, 0, 30), _utc(2026, 10, 25, 1, 30)):
        frozen_now(moment)
        assert reminders.run().sent_total == 0
    assert mail.outbox == []


# --- Urgent alerts are never held --------------------------------------------------------


def test_an_urgent_alert_at_three_in_the_morning_notifies_and_escalates(
    client, london_patient, therapist_a, frozen_now, django_capture_on_commit_callbacks
):
    therapist_a.user.email = "ana@clinic.example"
    therapist_a.user.save()
    lead = UserFactory(email="lena@clinic.example")
    MembershipFactory(user=lead, clinic=london_patient.clinic, role=Role.LEAD)
    # A session at 03:00 GMT on 3 Jan 2026; the patient answers 24 h later, at 03:00 again.
    session = _session_at(london_patient, therapist_a, _utc(2026, 1, 2, 3), frozen_now)
    at_three = frozen_now(_utc(2026, 1, 3, 3))
    assert london_patient.clinic.in_quiet_hours(at_three)
    token = tokens.token_for(session.access_links.get().nonce)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            reverse("patient:check_in", args=[token]),
            {
                "key": str(uuid.uuid4()),
                "soreness": "3",
                "twitching": "none",
                "bruising": "none",
                "interference": "a_little",
                "after_effects": ["none"],
                "red_flags": ["rf_breathing"],
                "local_reaction": "no",
                "pgic": "4",
                "note": "",
            },
        )
    alert = Alert.objects.get()
    assert (alert.severity, alert.rule) == ("urgent", "red_flag")
    # Told at once, at 03:00, though patient reminders are held then.
    assert [message.to for message in mail.outbox] == [["ana@clinic.example"]]

    mail.outbox.clear()
    frozen_now(at_three + timedelta(minutes=16))
    call_command("send_due_reminders")
    assert sorted(address for message in mail.outbox for address in message.to) == [
        "lena@clinic.example"
    ]
    assert list(alert.steps.order_by("step").values_list("step", flat=True)) == [0, 1]
    assert AlertStep.objects.filter(alert=alert, step=1, at=at_three + timedelta(minutes=16))

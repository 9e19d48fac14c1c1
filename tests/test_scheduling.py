"""Follow-up planning, windows and states."""

import uuid
import zoneinfo
from datetime import datetime, timedelta

import pytest
from django.utils import timezone

from tests.factories import answers, make_session
from tracker import reminders, services
from tracker.choices import TimePoint
from tracker.models import Clinic, FollowUpState
from tracker.services import scheduling

pytestmark = pytest.mark.django_db


def test_a_session_plans_in_clinic_24h_and_48h(session_a):
    follow_ups = list(session_a.follow_ups.order_by("time_point"))
    assert [fu.time_point for fu in follow_ups] == [0, 24, 48]
    start = session_a.performed_at
    assert [fu.due_at - start for fu in follow_ups] == [
        timedelta(0),
        timedelta(hours=24),
        timedelta(hours=48),
    ]
    in_clinic, day1, _day2 = follow_ups
    assert in_clinic.opens_at == start and in_clinic.closes_at == start + timedelta(hours=12)
    assert day1.opens_at == start + timedelta(hours=22)
    assert day1.closes_at == start + timedelta(hours=36)


@pytest.mark.parametrize(
    ("hours", "expected"),
    [
        (0, "open"),
        (1.9, "open"),
        (2, "late"),
        (11.9, "late"),
        (12, "missed"),
        (21.9, "upcoming"),
        (22, "open"),
        (25.9, "open"),
        (26, "late"),
        (35.9, "late"),
        (36, "missed"),
    ],
)
def test_states_follow_the_clock(session_a, hours, expected):
    follow_up = session_a.follow_ups.get(
        time_point=TimePoint.IN_CLINIC if hours < 20 else TimePoint.H24
    )
    moment = session_a.performed_at + timedelta(hours=hours)
    assert follow_up.state_at(moment) == expected


def test_answered_wins_over_the_clock(session_a):
    follow_up = session_a.follow_ups.get(time_point=TimePoint.IN_CLINIC)
    services.submit_report(
        follow_up=follow_up,
        idempotency_key=uuid.uuid4(),
        answers=answers(),
        now=session_a.performed_at + timedelta(minutes=10),
    )
    follow_up.refresh_from_db()
    assert follow_up.state_at(session_a.performed_at + timedelta(days=3)) == FollowUpState.ANSWERED


def test_24h_means_24_elapsed_hours_across_a_daylight_saving_change(patient_a, therapist_a):
    london = zoneinfo.ZoneInfo("Europe/London")
    # Clocks went back one hour in London at 02:00 on Sunday 25 October 2026.
    performed_at = datetime(2026, 10, 24, 10, 0, tzinfo=london)
    session = make_session(patient=patient_a, therapist=therapist_a.user, performed_at=performed_at)
    day1 = session.follow_ups.get(time_point=TimePoint.H24)
    assert day1.due_at - session.performed_at == timedelta(hours=24)
    assert day1.due_at.astimezone(london).hour == 9  # shown as 09:00 local, a day later


@pytest.mark.parametrize("hours", [0, 1, 3, 13, 23, 27, 40, 47, 59, 61])
def test_queryset_filters_match_state_at(session_a, hours):
    moment = session_a.performed_at + timedelta(hours=hours)
    by_filter = {
        "open": session_a.follow_ups.open_at(moment),
        "late": session_a.follow_ups.late_at(moment),
        "missed": session_a.follow_ups.missed_at(moment),
    }
    for state, queryset in by_filter.items():
        expected = {
            fu.time_point for fu in session_a.follow_ups.all() if fu.state_at(moment) == state
        }
        assert set(queryset.values_list("time_point", flat=True)) == expected, state


@pytest.mark.parametrize("hours", [0, 1, 3, 13, 23, 26, 27, 40, 47, 59, 61, 100])
@pytest.mark.parametrize("missed_for", [timedelta(hours=1), timedelta(days=3)])
def test_state_counts_match_state_at(session_a, hours, missed_for):
    """The counts on Today: open, late, and missed since ``missed_since``."""
    moment = session_a.performed_at + timedelta(hours=hours)
    since = moment - missed_for
    states = [fu.state_at(moment) for fu in session_a.follow_ups.all()]
    missed = session_a.follow_ups.missed_at(moment).filter(closes_at__gte=since)
    expected = {
        "open": states.count("open"),
        "late": states.count("late"),
        "missed": missed.count(),
    }
    assert session_a.follow_ups.active().state_counts(moment, missed_since=since) == expected


@pytest.mark.parametrize(
    ("at24", "at48", "settled_max", "expected"),
    [
        (3, 2, 2, False),
        (3, 3, 2, True),
        (1, 3, 2, True),
        (None, 3, 2, True),
        (5, 3, 3, False),
        (0, 0, 2, False),
        # 48 h missed: ask at 72 h only if 24 h had not settled
        (6, None, 2, True),
        (2, None, 2, False),
        (None, None, 2, False),
    ],
)
def test_needs_72h_follow_up_uses_the_clinics_meaning_of_settled(at24, at48, settled_max, expected):
    clinic = Clinic(settled_max=settled_max)
    assert (
        scheduling.needs_72h_follow_up(clinic=clinic, soreness_24h=at24, soreness_48h=at48)
        is expected
    )


def _answer(session, time_point, soreness):
    follow_up = session.follow_ups.get(time_point=time_point)
    services.submit_report(
        follow_up=follow_up,
        idempotency_key=uuid.uuid4(),
        answers=answers(soreness=soreness),
        now=follow_up.due_at,
    )


def test_unsettled_48h_report_adds_a_72h_follow_up_once(session_a):
    _answer(session_a, TimePoint.H24, 2)
    _answer(session_a, TimePoint.H48, 3)  # above the default 2/10
    h72 = session_a.follow_ups.get(time_point=TimePoint.H72)
    assert h72.due_at == session_a.performed_at + timedelta(hours=72)
    assert session_a.follow_ups.count() == 4


def test_settled_48h_report_adds_nothing(session_a):
    _answer(session_a, TimePoint.H24, 3)
    _answer(session_a, TimePoint.H48, 1)
    assert not session_a.follow_ups.filter(time_point=TimePoint.H72).exists()


def test_a_session_recorded_late_keeps_a_full_window_for_the_in_clinic_check_in(
    patient_a, therapist_a, time_machine
):
    utc_now = timezone.now()
    time_machine.move_to(utc_now, tick=False)
    performed_at = utc_now - timedelta(hours=10)
    session = make_session(
        patient=patient_a,
        therapist=therapist_a.user,
        performed_at=performed_at,
        recorded_at=utc_now,
    )
    in_clinic = session.follow_ups.get(time_point=TimePoint.IN_CLINIC)
    assert in_clinic.closes_at == utc_now + timedelta(hours=12)
    assert in_clinic.state_at(utc_now + timedelta(hours=11)) in {"open", "late"}
    day1 = session.follow_ups.get(time_point=TimePoint.H24)
    assert day1.closes_at == performed_at + timedelta(hours=36)  # later check-ins keep their times


def test_clinic_settings_choose_fixed_time_points_and_windows(patient_a, therapist_a):
    clinic = patient_a.clinic
    clinic.fixed_6h = clinic.fixed_72h = True
    clinic.window_opens_hours_before, clinic.window_closes_hours_after = 1, 6
    clinic.save()
    session = make_session(patient=patient_a, therapist=therapist_a.user)
    assert list(session.follow_ups.values_list("time_point", flat=True)) == [0, 6, 24, 48, 72]
    day1 = session.follow_ups.get(time_point=TimePoint.H24)
    assert day1.closes_at - day1.opens_at == timedelta(hours=7)


def test_a_missed_48h_check_in_after_unsettled_24h_adds_a_72h_check_in(session_a, frozen_now):
    _answer(session_a, TimePoint.H24, 6)
    frozen_now(session_a.performed_at + timedelta(hours=61))  # the 48 h window has closed
    reminders.run()
    h72 = session_a.follow_ups.get(time_point=TimePoint.H72)
    assert h72.state_at(session_a.performed_at + timedelta(hours=72)) == "open"


def test_a_missed_48h_check_in_after_settled_24h_adds_nothing(session_a, frozen_now):
    _answer(session_a, TimePoint.H24, 2)
    frozen_now(session_a.performed_at + timedelta(hours=61))
    reminders.run()
    assert not session_a.follow_ups.filter(time_point=TimePoint.H72).exists()

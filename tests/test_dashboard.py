"""The home dashboard and the alert inbox."""

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from tests.factories import MembershipFactory, PatientFactory, answers, make_session
from tracker import alerts, services
from tracker.choices import TimePoint
from tracker.models import Alert, FollowUp, NeedlingSession
from tracker.queries import dashboard

# The clock stops on a Tuesday afternoon in London (GMT, so the same date in
# UTC): the factories' sessions, made minutes or hours earlier, are "today"
# whatever time the suite runs. Against the real clock, a session made five
# minutes ago fell on yesterday when the tests ran just after midnight.
AFTERNOON = datetime(2026, 3, 10, 15, 0, tzinfo=UTC)

pytestmark = [pytest.mark.django_db, pytest.mark.time_machine(AFTERNOON, tick=False)]


def _red_flag(session):
    follow_up = session.follow_ups.get(time_point=TimePoint.IN_CLINIC)
    services.submit_report(
        follow_up=follow_up,
        idempotency_key=uuid.uuid4(),
        answers=answers(red_flags=["rf_breathing"]),
        now=follow_up.opens_at,
    )
    return Alert.objects.get(session=session, rule="red_flag")


def _populate(clinic, therapist, count):
    """Sessions now, a day ago and four days ago; half with a missed check-in alert.

    Of those alerts, one has a try to reach the patient and one is acknowledged,
    and one patient's number was refused: everything an alert card can show.
    """
    now = timezone.now()
    for index in range(count):
        patient = PatientFactory(clinic=clinic)
        if index == 1:
            patient.phone, patient.phone_refused_at = "+447700900123", now
            patient.save()
        days = index % 3
        performed_at = now - timedelta(days=days, hours=1)
        session = make_session(patient=patient, therapist=therapist, performed_at=performed_at)
        if index % 2:
            alerts.evaluate_missed(session.follow_ups.get(time_point=TimePoint.IN_CLINIC))
    tried, acknowledged = Alert.objects.filter(clinic=clinic).order_by("pk")[:2]
    services.act_on_alert(alert=tried, user=therapist, outcome="no_answer")
    services.act_on_alert(alert=acknowledged, user=therapist, outcome="advised", note="Fine.")


def test_login_lands_on_the_dashboard(client, therapist_a):
    response = client.post(
        reverse("login"),
        {"username": therapist_a.user.username, "password": "correct-horse-battery"},
    )
    assert response["Location"] == reverse("tracker:home")


def test_dashboard_lists_what_to_act_on(client, therapist_a, session_a):
    alert = _red_flag(session_a)
    client.force_login(therapist_a.user)
    response = client.get(reverse("tracker:home"))
    sections = response.context["sections"]
    assert [s.pk for s in sections["today"].items] == [session_a.pk]
    assert [card.pk for card in sections["alerts"].items] == [alert.pk]
    assert sections["alerts"].count == 1
    page = response.content.decode()
    assert session_a.patient.display_name in page and "Warning sign reported" in page


def test_dashboard_late_and_missed(client, therapist_a, patient_a):
    now = timezone.now()
    late = make_session(
        patient=patient_a, therapist=therapist_a.user, performed_at=now - timedelta(hours=4)
    )
    missed = make_session(
        patient=patient_a, therapist=therapist_a.user, performed_at=now - timedelta(hours=47)
    )
    client.force_login(therapist_a.user)
    sections = client.get(reverse("tracker:home")).context["sections"]
    assert [(f.session_id, f.time_point) for f in sections["late"].items] == [(late.pk, 0)]
    assert [(f.session_id, f.time_point) for f in sections["missed"].items] == [
        (missed.pk, 24),
        (missed.pk, 0),
    ]
    assert [(f.session_id, f.time_point) for f in sections["open"].items] == [(missed.pk, 48)]


def test_urgent_alerts_come_first(client, therapist_a, patient_a):
    first = make_session(patient=patient_a, therapist=therapist_a.user)
    alerts.evaluate_missed(first.follow_ups.get(time_point=TimePoint.IN_CLINIC))
    second = make_session(patient=patient_a, therapist=therapist_a.user)
    _red_flag(second)
    alerts.evaluate_missed(second.follow_ups.get(time_point=TimePoint.H24))
    client.force_login(therapist_a.user)
    items = client.get(reverse("tracker:home")).context["sections"]["alerts"].items
    assert [a.severity for a in items] == ["urgent", "attention", "attention"]


@pytest.mark.parametrize(
    ("now", "yesterday", "today"),
    [
        # Just after midnight in winter (GMT) and in summer (BST, 23:02 UTC the day before).
        (datetime(2026, 3, 10, 0, 2, tzinfo=UTC), "2026-03-09T23:57Z", "2026-03-10T00:01Z"),
        (datetime(2026, 6, 9, 23, 2, tzinfo=UTC), "2026-06-09T22:57Z", "2026-06-09T23:01Z"),
    ],
)
def test_today_starts_at_midnight_in_the_clinics_time_zone(
    client, therapist_a, patient_a, time_machine, now, yesterday, today
):
    time_machine.move_to(now)
    make_session(
        patient=patient_a,
        therapist=therapist_a.user,
        performed_at=datetime.fromisoformat(yesterday),
    )
    tonight = make_session(
        patient=patient_a, therapist=therapist_a.user, performed_at=datetime.fromisoformat(today)
    )
    client.force_login(therapist_a.user)
    sections = client.get(reverse("tracker:home")).context["sections"]
    assert [s.pk for s in sections["today"].items] == [tonight.pk]


def test_my_sessions_only(client, therapist_a, patient_a):
    colleague = MembershipFactory(clinic=therapist_a.clinic).user
    mine = make_session(patient=patient_a, therapist=therapist_a.user)
    make_session(patient=patient_a, therapist=colleague)
    client.force_login(therapist_a.user)
    sections = client.get(reverse("tracker:home") + "?mine=1").context["sections"]
    assert [s.pk for s in sections["today"].items] == [mine.pk]


def test_another_clinic_sees_none_of_it(client, therapist_b, session_a):
    _red_flag(session_a)
    client.force_login(therapist_b.user)
    sections = client.get(reverse("tracker:home")).context["sections"]
    assert all(section.count == 0 for section in sections.values())
    assert (
        not client.get(reverse("tracker:alert_list") + "?state=all").context["page_obj"].object_list
    )


@pytest.mark.parametrize("mine", [False, True])
def test_each_count_is_its_lists_full_length(therapist_a, patient_a, mine, frozen_now):
    """The counts made together agree with each list's own query, past the first ten."""
    zone = therapist_a.clinic.zone
    now = frozen_now(datetime(2026, 3, 10, 20, 0, tzinfo=zone))  # 21 sessions today
    other = MembershipFactory(clinic=therapist_a.clinic).user
    made = []
    for hours in range(100):  # every state: open, late, missed, upcoming, answered
        therapist = therapist_a.user if hours % 4 else other
        session = make_session(
            patient=patient_a, therapist=therapist, performed_at=now - timedelta(hours=hours)
        )
        made.append(session)
        if hours % 3 == 0:
            alerts.evaluate_missed(session.follow_ups.get(time_point=TimePoint.IN_CLINIC))
        if hours % 10 == 0:
            services.submit_report(
                follow_up=session.follow_ups.get(time_point=TimePoint.IN_CLINIC),
                idempotency_key=uuid.uuid4(),
                answers=answers(),
                now=session.performed_at + timedelta(minutes=5),
            )
    services.mark_entered_in_error(session=made[7], user=therapist_a.user, reason="Wrong patient")

    sections = dashboard.for_user(therapist_a.user, now, mine=mine)

    follow_ups = FollowUp.objects.for_user(therapist_a.user)
    open_alerts = Alert.objects.for_user(therapist_a.user).open()
    today = NeedlingSession.objects.for_user(therapist_a.user).filter(
        entered_in_error_at__isnull=True,
        performed_at__gte=datetime(2026, 3, 10, tzinfo=zone),
        performed_at__lt=datetime(2026, 3, 11, tzinfo=zone),
    )
    if mine:
        follow_ups = follow_ups.filter(session__therapist=therapist_a.user)
        open_alerts = open_alerts.filter(session__therapist=therapist_a.user)
        today = today.filter(therapist=therapist_a.user)
    expected = {
        "today": today.count(),
        "open": follow_ups.open_at(now).count(),
        "late": follow_ups.late_at(now).count(),
        "missed": follow_ups.missed_at(now).filter(closes_at__gte=now - timedelta(days=3)).count(),
        "alerts": open_alerts.count(),
        "urgent": open_alerts.filter(severity="urgent").count(),
    }
    assert {name: sections[name].count for name in expected} == expected
    assert expected["open"] and expected["late"] and expected["missed"] > 10
    assert expected["alerts"] > 10 and expected["today"] > 10
    for name in ("today", "open", "late", "missed", "alerts"):
        assert len(sections[name].items) == min(10, expected[name])


@pytest.mark.parametrize("count", [5, 60])
def test_dashboard_query_count_does_not_grow(client, therapist_a, count, django_assert_num_queries):
    _populate(therapist_a.clinic, therapist_a.user, count)
    client.force_login(therapist_a.user)
    # session, user, the user's clinics with their roles (also the "Audit" menu
    # item); the open, late and missed check-ins counted together, the open and
    # urgent alerts counted together (urgent: the tab's title); today's sessions
    # counted; the items of each of the 5 sections, the alerts' contact attempts.
    # A list: no audit event. The alert cards are read as values (their keys);
    # the first view, with nothing kept yet, also reads the alerts and their
    # attempts as models, to draw them, and when the minute job last ran (then
    # kept in the cache).
    with django_assert_num_queries(15):
        client.get(reverse("tracker:home"))
    with django_assert_num_queries(12):
        client.get(reverse("tracker:home"))


@pytest.mark.parametrize("count", [5, 60])
def test_alert_inbox_query_count_does_not_grow(
    client, therapist_a, count, django_assert_num_queries
):
    _populate(therapist_a.clinic, therapist_a.user, count)
    client.force_login(therapist_a.user)
    # session, user, the user's clinics (also the "Audit" menu item), paginator
    # count, the page of alerts, their contact attempts (as values, for the cards'
    # keys; and as models the first time, to draw them). A list: no audit event.
    with django_assert_num_queries(8):
        client.get(reverse("tracker:alert_list") + "?state=all")
    with django_assert_num_queries(6):
        client.get(reverse("tracker:alert_list") + "?state=all")


@pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite's query plan")
def test_a_clinics_open_alerts_are_read_in_order_from_their_index(client, therapist_a):
    """The inbox's page of 50 comes off the open-alert index, not from sorting every open alert."""
    _populate(therapist_a.clinic, therapist_a.user, 5)
    client.force_login(therapist_a.user)
    with CaptureQueriesContext(connection) as captured:
        client.get(reverse("tracker:alert_list"))
    (page,) = [
        q["sql"] for q in captured if 'FROM "tracker_alert"' in q["sql"] and "LIMIT" in q["sql"]
    ]
    with connection.cursor() as cursor:
        plan = " / ".join(row[3] for row in cursor.execute("EXPLAIN QUERY PLAN " + page))
    assert "alert_clinic_open_idx" in plan
    assert "TEMP B-TREE" not in plan, plan


def test_acknowledge_keeps_who_when_and_the_note(client, therapist_a, session_a):
    alert = _red_flag(session_a)
    client.force_login(therapist_a.user)
    response = client.post(
        reverse("tracker:alert_acknowledge", args=[alert.pk]),
        {"outcome": "emergency", "note": "Called: went to A&E, fine.", "next": "/"},
    )
    assert response["Location"] == "/"
    alert.refresh_from_db()
    assert alert.acknowledged_by == therapist_a.user and alert.acknowledged_at is not None
    assert (alert.outcome, alert.note) == ("emergency", "Called: went to A&E, fine.")
    again = client.post(
        reverse("tracker:alert_acknowledge", args=[alert.pk]),
        {"outcome": "advised", "note": "Twice"},
        follow=True,
    )
    assert "already acknowledged" in again.content.decode()
    alert.refresh_from_db()
    assert alert.note == "Called: went to A&E, fine."


def test_acknowledge_needs_an_outcome_and_other_needs_a_note(client, therapist_a, session_a):
    alert = _red_flag(session_a)
    client.force_login(therapist_a.user)
    url = reverse("tracker:alert_acknowledge", args=[alert.pk])
    response = client.post(url, {"note": "Called."}, follow=True)
    assert "Choose what was done" in response.content.decode()
    response = client.post(url, {"outcome": "other", "note": "  "}, follow=True)
    assert "Write a short note" in response.content.decode()
    alert.refresh_from_db()
    assert alert.acknowledged_at is None


def test_acknowledge_refuses_offsite_next_and_other_clinics(
    client, therapist_a, therapist_b, session_a
):
    alert = _red_flag(session_a)
    client.force_login(therapist_b.user)
    assert (
        client.post(
            reverse("tracker:alert_acknowledge", args=[alert.pk]), {"outcome": "advised"}
        ).status_code
        == 404
    )
    client.force_login(therapist_a.user)
    response = client.post(
        reverse("tracker:alert_acknowledge", args=[alert.pk]),
        {"outcome": "advised", "note": "ok", "next": "https://evil.example/"},
    )
    assert response["Location"] == reverse("tracker:alert_list")


def test_inbox_filters_by_state_and_severity(client, therapist_a, session_a):
    urgent = _red_flag(session_a)
    alerts.evaluate_missed(session_a.follow_ups.get(time_point=TimePoint.H24))
    services.acknowledge_alert(alert=urgent, user=therapist_a.user, note="done")
    client.force_login(therapist_a.user)

    def rules(query):
        cards = client.get(reverse("tracker:alert_list") + query).context["cards"]
        return [card.alert.rule for card in cards]

    assert rules("") == ["missed"]
    assert rules("?state=acknowledged") == ["red_flag"]
    assert sorted(rules("?state=all")) == ["missed", "red_flag"]
    assert rules("?state=all&severity=urgent") == ["red_flag"]


@pytest.mark.parametrize("patients", [1, 50])  # about 10 and 500 sessions
def test_staff_lists_cost_the_same_at_10_and_500_sessions(
    client, patients, django_assert_num_queries
):
    """The network builder bulk-writes realistic sessions, follow-ups, reports and alerts."""
    from django.contrib.auth import get_user_model

    from tracker.devdata import scale
    from tracker.models import FollowUp, NeedlingSession

    scale.seed(patients=patients, therapists=2, seed=patients)
    therapist = get_user_model().objects.get(username=f"scale-{patients}-1")
    sessions = NeedlingSession.objects.for_user(therapist).count()
    # At least one alert, so no list is empty (an empty page skips its query).
    alerts.evaluate_missed(FollowUp.objects.for_user(therapist).first())
    assert (sessions < 20) if patients == 1 else (sessions > 200)
    client.force_login(therapist)
    with django_assert_num_queries(15):  # as in test_dashboard_query_count_does_not_grow
        client.get(reverse("tracker:home"))
    with django_assert_num_queries(8):  # as in test_alert_inbox_query_count_does_not_grow
        client.get(reverse("tracker:alert_list") + "?state=all")
    with django_assert_num_queries(6):  # as in test_patient_list_query_count_does_not_grow
        client.get(reverse("tracker:patient_list"))

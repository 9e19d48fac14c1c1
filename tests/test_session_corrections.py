"""Correcting a session, marking one "entered in error", and backdated sessions' check-ins."""

import json
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from tests.factories import MembershipFactory, answers, make_session, site
from tracker import analytics, reminders, services
from tracker.analytics import Filters
from tracker.choices import Muscle, ReminderChannel, Role, TimePoint, TwitchBand
from tracker.fhir import common, resources
from tracker.models import (
    AccessLink,
    Alert,
    AlertRule,
    AuditAction,
    AuditEvent,
    FollowUp,
    FollowUpState,
    NeedledSite,
    NeedlingSession,
)
from tracker.queries import dashboard
from tracker.security import tokens

pytestmark = pytest.mark.django_db

# A Tuesday morning; London is on GMT (= UTC) in March.
NOW = datetime(2026, 3, 3, 9, 0, tzinfo=UTC)


def _remind_by_email(patient):
    patient.email = "rosa@example.com"
    patient.reminder_channel = ReminderChannel.EMAIL
    patient.reminders_consent = True
    patient.save()


@pytest.fixture
def session(frozen_now, patient_a, therapist_a):
    frozen_now(NOW)
    _remind_by_email(patient_a)
    return make_session(
        patient=patient_a,
        therapist=therapist_a.user,
        performed_at=NOW - timedelta(minutes=10),
        sites=[site(muscle=Muscle.GLUTEUS_MEDIUS, insertions=4, twitch_band=TwitchBand.FEW)],
        notes="Tolerated well.",
    )


def _correction_post(session, **overrides):
    [recorded] = session.sites.all()
    data = {
        "notes": session.notes,
        "sites-TOTAL_FORMS": "2",
        "sites-INITIAL_FORMS": "1",
        "sites-MIN_NUM_FORMS": "0",
        "sites-MAX_NUM_FORMS": "20",
        "sites-0-id": str(recorded.pk),
        "sites-0-muscle": recorded.muscle,
        "sites-0-side": recorded.side,
        "sites-0-insertions": str(recorded.insertions),
        "sites-0-technique": recorded.technique,
        "sites-0-twitch_band": recorded.twitch_band,
        "sites-0-notes": "",
        "sites-1-side": "right",
        "sites-1-insertions": "1",
        "sites-1-technique": "deep_pistoning",
        "sites-1-twitch_band": "none",
    }
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


# --- Correcting a session ------------------------------------------------------


def test_a_correction_changes_the_session_and_audits_before_and_after(
    client, session, therapist_a, lead_a
):
    # Any member of staff of the clinic may correct: here the lead, not the treating therapist.
    client.force_login(lead_a.user)
    url = reverse("tracker:session_correct", args=[session.pk])
    assert client.get(url).status_code == 200
    [recorded] = session.sites.all()

    response = client.post(
        url,
        _correction_post(
            session,
            anticoagulants="on",
            notes="Tolerated well; mild bleeding at one site.",
            **{
                "sites-0-insertions": "6",
                "sites-0-twitch_band": TwitchBand.MANY,
                "sites-1-muscle": Muscle.UPPER_TRAPEZIUS,
            },
        ),
    )

    assert response.status_code == 302
    session.refresh_from_db()
    recorded.refresh_from_db()
    assert (recorded.insertions, recorded.twitch_band) == (6, TwitchBand.MANY)
    assert session.anticoagulants is True
    # A new site over the lung-risk areas sets the box, as when recording.
    assert session.chest_wall_area is True
    assert session.sites.count() == 2
    event = AuditEvent.objects.get(action=AuditAction.UPDATE, object_id=session.pk)
    assert event.user == lead_a.user and event.detail == "session corrected"
    assert event.data[f"sites.{recorded.pk}.insertions"] == {"before": 4, "after": 6}
    assert event.data[f"sites.{recorded.pk}.twitch_band"] == {
        "before": TwitchBand.FEW,
        "after": TwitchBand.MANY,
    }
    assert event.data["anticoagulants"] == {"before": False, "after": True}
    assert event.data["chest_wall_area"] == {"before": False, "after": True}
    assert event.data["sites.new1"]["after"]["muscle"] == Muscle.UPPER_TRAPEZIUS
    # Free text stays out of the trail, which outlives erasure: only that it changed.
    assert event.data["notes"] == {"changed": True, "before_length": 15, "after_length": 42}
    assert "bleeding" not in json.dumps(event.data)


def test_a_correction_that_changes_nothing_records_nothing(client, session, therapist_a):
    client.force_login(therapist_a.user)
    before = AuditEvent.objects.filter(action=AuditAction.UPDATE).count()
    response = client.post(
        reverse("tracker:session_correct", args=[session.pk]), _correction_post(session)
    )
    assert response.status_code == 302
    assert AuditEvent.objects.filter(action=AuditAction.UPDATE).count() == before


def test_a_bad_correction_says_so_beside_the_field_and_stores_nothing(client, session, therapist_a):
    client.force_login(therapist_a.user)
    response = client.post(
        reverse("tracker:session_correct", args=[session.pk]),
        _correction_post(session, anticoagulants="on", **{"sites-0-insertions": "0"}),
    )
    assert response.status_code == 200
    assert 'id="id_sites-0-insertions-error"' in response.content.decode()
    session.refresh_from_db()
    assert session.anticoagulants is False
    assert session.sites.get().insertions == 4


def test_a_recorded_site_cannot_be_removed(client, session, therapist_a):
    client.force_login(therapist_a.user)
    response = client.post(
        reverse("tracker:session_correct", args=[session.pk]),
        _correction_post(session, **{"sites-0-muscle": ""}),
    )
    assert response.status_code == 200
    assert "cannot be removed" in response.content.decode()
    assert session.sites.get().muscle == Muscle.GLUTEUS_MEDIUS


def test_a_site_of_another_session_cannot_be_changed_through_this_one(
    client, session, therapist_a, patient_a
):
    other = make_session(patient=patient_a, therapist=therapist_a.user)
    [foreign] = other.sites.all()
    client.force_login(therapist_a.user)
    response = client.post(
        reverse("tracker:session_correct", args=[session.pk]),
        _correction_post(session, **{"sites-0-id": str(foreign.pk), "sites-0-insertions": "9"}),
    )
    assert response.status_code == 200
    foreign.refresh_from_db()
    assert foreign.insertions == 4


def test_corrections_are_refused_once_the_follow_up_has_ended(
    client, session, therapist_a, time_machine
):
    time_machine.move_to(session.links_expire_at, tick=False)
    client.force_login(therapist_a.user)
    url = reverse("tracker:session_correct", args=[session.pk])

    page = client.get(url).content.decode()
    assert "This session can no longer be corrected" in page
    assert 'name="sites-0-insertions"' not in page
    detail = client.get(reverse("tracker:session_detail", args=[session.pk])).content.decode()
    assert "its record can no longer be corrected" in detail

    response = client.post(url, _correction_post(session, **{"sites-0-insertions": "9"}))
    assert response.status_code == 409
    assert session.sites.get().insertions == 4
    with pytest.raises(services.FollowUpOver):
        services.correct_session(
            session=session, user=therapist_a.user, fields={"anticoagulants": True}, sites=[]
        )


def test_another_clinic_cannot_correct_or_mark_a_session(client, session, therapist_b):
    client.force_login(therapist_b.user)
    for name in ("tracker:session_correct", "tracker:session_enter_in_error"):
        url = reverse(name, args=[session.pk])
        assert client.get(url).status_code == 404
        assert client.post(url, {"reason": "x", **_correction_post(session)}).status_code == 404
    session.refresh_from_db()
    assert session.entered_in_error_at is None


# --- Entered in error ---------------------------------------------------------


def _red_flag(session):
    follow_up = session.follow_ups.get(time_point=TimePoint.IN_CLINIC)
    services.submit_report(
        follow_up=follow_up,
        idempotency_key=uuid.uuid4(),
        answers=answers(soreness=7, red_flags=["rf_breathing"]),
        now=follow_up.opens_at,
    )
    return Alert.objects.get(session=session, rule=AlertRule.RED_FLAG)


def test_a_reason_is_required_beside_the_field(client, session, therapist_a):
    client.force_login(therapist_a.user)
    response = client.post(
        reverse("tracker:session_enter_in_error", args=[session.pk]), {"reason": "   "}
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert 'class="invalid-feedback"' in page
    assert "Say why this session was entered in error." in page
    session.refresh_from_db()
    assert session.entered_in_error_at is None


def _mark(client, session, user, reason="Recorded for the wrong patient"):
    client.force_login(user)
    response = client.post(
        reverse("tracker:session_enter_in_error", args=[session.pk]), {"reason": reason}
    )
    assert response.status_code == 302
    session.refresh_from_db()
    return session


def test_marking_is_audited_with_who_and_kept(client, session, lead_a):
    link = session.access_links.get()
    _mark(client, session, lead_a.user)
    assert session.entered_in_error_at == NOW
    assert session.entered_in_error_by == lead_a.user
    assert session.entered_in_error_reason == "Recorded for the wrong patient"
    event = AuditEvent.objects.get(action=AuditAction.ENTERED_IN_ERROR)
    assert (event.user, event.object_id) == (lead_a.user, session.pk)
    link.refresh_from_db()
    assert link.revoked_at == NOW
    assert AuditEvent.objects.filter(action=AuditAction.REVOKE_LINK, object_id=link.pk).exists()
    # Nothing clinical is deleted.
    assert NeedlingSession.objects.filter(pk=session.pk).exists()
    assert session.sites.count() == 1 and session.follow_ups.count() == 3
    # Twice is refused, and says so.
    client.force_login(lead_a.user)
    response = client.post(
        reverse("tracker:session_enter_in_error", args=[session.pk]), {"reason": "again"}
    )
    assert response.status_code == 302
    session.refresh_from_db()
    assert session.entered_in_error_reason == "Recorded for the wrong patient"


def test_no_reminder_and_no_missed_alert_after_marking(client, session, therapist_a, time_machine):
    due_24h = session.follow_ups.get(time_point=TimePoint.H24).due_at
    assert list(reminders.due_reminders(due_24h)), "without the mark, a reminder is due"
    _mark(client, session, therapist_a.user)

    time_machine.move_to(due_24h, tick=False)
    result = reminders.run()
    assert result.sent_total == 0 and mail.outbox == []
    time_machine.move_to(due_24h + timedelta(days=3), tick=False)
    result = reminders.run()
    assert result.marked_missed == 0
    assert not Alert.objects.filter(session=session, rule=AlertRule.MISSED).exists()


def test_the_patients_link_says_the_clinic_closed_it_in_their_language(
    client, session, therapist_a
):
    clinic = session.clinic
    clinic.phone = "+44 20 7946 0000"
    clinic.emergency_number = "999"
    clinic.save()
    patient = session.patient
    patient.language = "es"
    patient.save()
    token = tokens.token_for(session.access_links.get().nonce)
    _mark(client, session, therapist_a.user)
    client.logout()

    response = client.get(reverse("patient:check_in", args=[token]))
    assert response.status_code == 404
    assert response["Content-Language"] == "es"
    page = response.content.decode()
    assert 'href="tel:+44 20 7946 0000"' in page
    assert 'href="tel:999"' in page
    # The staff's reason is never shown to the patient.
    assert "wrong patient" not in page
    # In English, the words the patient reads.
    patient.language = "en"
    patient.save()
    page = client.get(reverse("patient:check_in", args=[token])).content.decode()
    assert "This follow-up was closed by your clinic" in page
    assert "If you feel unwell, please call the clinic." in page


def test_the_session_leaves_today_and_its_open_alerts_close_with_the_reason(
    client, session, therapist_a
):
    alert = _red_flag(session)
    before = dashboard.for_user(therapist_a.user, NOW)
    assert [s.pk for s in before["today"].items] == [session.pk]
    assert [a.pk for a in before["alerts"].items] == [alert.pk]
    assert before["open"].count == 0  # in-clinic answered; 24 h is not open yet
    _mark(client, session, therapist_a.user)

    after = dashboard.for_user(therapist_a.user, NOW)
    assert after["today"].count == 0 and after["alerts"].count == 0 and after["urgent"].count == 0
    # Today reads its check-ins by the copy of the mark each of them carries.
    assert set(session.follow_ups.values_list("session_in_error", flat=True)) == {True}
    later = dashboard.for_user(therapist_a.user, session.performed_at + timedelta(hours=24))
    assert later["open"].count == 0
    alert.refresh_from_db()
    assert alert.acknowledged_by == therapist_a.user
    assert alert.note == "Session entered in error: Recorded for the wrong patient"
    assert AuditEvent.objects.filter(
        action=AuditAction.ACKNOWLEDGE, object_id=alert.pk, detail="session entered in error"
    ).exists()
    inbox = client.get(reverse("tracker:alert_list")).content.decode()
    assert f"/sessions/{session.pk}/" not in inbox


def test_the_session_leaves_the_analytics(client, session, therapist_a, patient_a, time_machine):
    other = make_session(
        patient=patient_a, therapist=therapist_a.user, performed_at=NOW - timedelta(minutes=5)
    )
    for each in (session, other):
        follow_up = each.follow_ups.get(time_point=TimePoint.IN_CLINIC)
        services.submit_report(
            follow_up=follow_up,
            idempotency_key=uuid.uuid4(),
            answers=answers(soreness=9, bruising="lt2.5"),
            now=follow_up.due_at,
        )
    filters = Filters(clinic=session.clinic)
    assert analytics.sessions(filters).count() == 2
    _mark(client, session, therapist_a.user)

    assert list(analytics.sessions(filters)) == [other]
    later = NOW + timedelta(days=5)
    weeks = analytics.completion_by_week(filters, now=later)
    assert sum(week.due for week in weeks) == 3, "the other session's three check-ins only"
    rates = analytics.rates(filters, now=later)
    assert rates.sessions == 1
    by_therapist = analytics.soreness_by_therapist(filters)
    assert [point.n for point in by_therapist.groups[0].points] == [1]


def test_the_session_stays_visible_struck_through_on_staff_pages_and_in_exports(
    client, session, therapist_a
):
    _mark(client, session, therapist_a.user)
    patient = session.patient

    page = client.get(reverse("tracker:patient_detail", args=[patient.pk])).content.decode()
    assert "<del>" in page and "Entered in error" in page
    assert "Recorded for the wrong patient" in page
    detail = client.get(reverse("tracker:session_detail", args=[session.pk])).content.decode()
    assert "<del>" in detail and "Recorded for the wrong patient" in detail
    assert "Correct this session" not in detail and "Replace the patient" not in detail
    # Unanswered check-ins say why they will never be answered.
    assert 'class="badge state-entered_in_error"' in detail

    record = json.loads(
        client.get(reverse("tracker:patient_export", args=[patient.pk])).content.decode()
    )
    [exported] = record["sessions"]
    assert exported["entered_in_error"] == {
        "at": "2026-03-03T09:00:00Z",
        "by_id": therapist_a.user.pk,
        "reason": "Recorded for the wrong patient",
    }
    assert {fu["state"] for fu in exported["follow_ups"]} == {FollowUpState.ENTERED_IN_ERROR}
    assert resources.procedure(session, [], common.Refs(bundle=True))["status"] == (
        "entered-in-error"
    )
    bundle = client.get(reverse("tracker:patient_fhir", args=[patient.pk])).json()
    [procedure] = [
        e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "Procedure"
    ]
    assert procedure["status"] == "entered-in-error"


def test_the_patient_list_does_not_count_it(client, session, therapist_a):
    _mark(client, session, therapist_a.user)
    response = client.get(reverse("tracker:patient_list"))
    [patient] = response.context["patient_list"]
    assert (patient.session_count, patient.last_session_at) == (0, None)


def test_erasure_keeps_that_a_session_was_entered_in_error_not_why(client, session, lead_a):
    _mark(client, session, lead_a.user)
    services.erase_patient(patient=session.patient, user=lead_a.user, request_ip=None)
    session.refresh_from_db()
    assert session.entered_in_error_at is not None
    assert session.entered_in_error_reason == "(erased)"


def test_a_link_cannot_be_replaced_for_a_session_entered_in_error(client, session, therapist_a):
    _mark(client, session, therapist_a.user)
    with pytest.raises(Exception, match="entered in error"):
        services.replace_access_link(session=session, user=therapist_a.user)
    assert not AccessLink.objects.filter(session=session, revoked_at__isnull=True).exists()


# --- Backdated sessions: check-ins not asked ------------------------------------


def _session_post(performed_at, **overrides):
    data = {
        "performed_at": timezone.localtime(performed_at).strftime("%Y-%m-%dT%H:%M"),
        "pre_pain": "6",
        "sites-TOTAL_FORMS": "1",
        "sites-INITIAL_FORMS": "0",
        "sites-MIN_NUM_FORMS": "0",
        "sites-MAX_NUM_FORMS": "20",
        "sites-0-muscle": "gluteus_medius",
        "sites-0-side": "left",
        "sites-0-insertions": "3",
        "sites-0-technique": "deep_static",
        "sites-0-twitch_band": "none",
    }
    data.update(overrides)
    return data


def test_the_form_warns_which_check_ins_will_not_be_asked_before_saving(
    client, frozen_now, therapist_a, patient_a
):
    frozen_now(NOW)
    client.force_login(therapist_a.user)
    url = reverse("tracker:session_create", args=[patient_a.pk])
    # 40 h ago: the 24 h window (22 h to 36 h after) has closed; 48 h has not.
    performed_at = NOW - timedelta(hours=40)

    response = client.post(url, _session_post(performed_at))
    assert response.status_code == 200
    page = response.content.decode()
    assert "The time of the 24-hour check-in has passed: it will not be asked" in page
    assert "48-hour" not in page.split("The time of the", 1)[1].split("</p>", 1)[0]
    assert 'id="id_performed_at_error"' in page
    assert 'name="confirm_not_asked"' in page and 'name="not_asked_warned" value="24"' in page
    assert not NeedlingSession.objects.exists()

    # Confirmed for the list it was warned of: saved.
    response = client.post(
        url, _session_post(performed_at, confirm_not_asked="on", not_asked_warned="24")
    )
    assert response.status_code == 302
    session = NeedlingSession.objects.get()
    asked = dict(session.follow_ups.values_list("time_point", "asked"))
    assert asked == {TimePoint.IN_CLINIC: True, TimePoint.H24: False, TimePoint.H48: True}


def test_a_confirmation_covers_only_the_check_ins_it_was_warned_of(
    client, frozen_now, therapist_a, patient_a
):
    frozen_now(NOW)
    client.force_login(therapist_a.user)
    url = reverse("tracker:session_create", args=[patient_a.pk])
    # Warned of 24 h only, then the time changed to 3 days ago: 48 h would go too.
    response = client.post(
        url,
        _session_post(NOW - timedelta(days=3), confirm_not_asked="on", not_asked_warned="24"),
    )
    assert response.status_code == 200
    assert (
        "The times of the 24-hour check-in and 48-hour check-in have passed"
        in response.content.decode()
    )
    assert not NeedlingSession.objects.exists()


def test_a_session_recorded_now_gets_no_warning(client, frozen_now, therapist_a, patient_a):
    frozen_now(NOW)
    client.force_login(therapist_a.user)
    response = client.post(
        reverse("tracker:session_create", args=[patient_a.pk]),
        _session_post(NOW - timedelta(hours=3)),
    )
    assert response.status_code == 302
    assert set(FollowUp.objects.values_list("asked", flat=True)) == {True}


@pytest.fixture
def backdated(frozen_now, patient_a, therapist_a):
    """A session performed 40 h before it was recorded: its 24 h check-in was never asked."""
    frozen_now(NOW)
    _remind_by_email(patient_a)
    return make_session(
        patient=patient_a,
        therapist=therapist_a.user,
        performed_at=NOW - timedelta(hours=40),
        recorded_at=NOW,
    )


def test_a_check_in_not_asked_is_not_missed_nor_alerted_nor_reminded(backdated, time_machine):
    not_asked = backdated.follow_ups.get(time_point=TimePoint.H24)
    assert not_asked.asked is False
    assert not_asked.state_at(NOW) == FollowUpState.NOT_ASKED
    assert not FollowUp.objects.missed_at(NOW).filter(pk=not_asked.pk).exists()

    # 48 h is due 8 h after it was recorded: reminded, the 48 h check-in only.
    time_machine.move_to(NOW + timedelta(hours=8), tick=False)
    reminders.run()
    assert [m.subject for m in mail.outbox] == [
        f"Your 48-hour check-in is open ({backdated.clinic.name})"
    ]
    time_machine.move_to(NOW + timedelta(hours=30), tick=False)
    result = reminders.run()
    missed = Alert.objects.filter(session=backdated, rule=AlertRule.MISSED)
    # The in-clinic and 48 h check-ins were asked, went unanswered, and are missed;
    # 24 h was never asked.
    assert sorted(missed.values_list("follow_up__time_point", flat=True)) == [0, 48]
    assert result.marked_missed == 2
    not_asked.refresh_from_db()
    assert not_asked.marked_missed_at is None and not_asked.reminder_sent_at is None


def test_check_ins_not_asked_are_left_out_of_completion(backdated):
    later = NOW + timedelta(days=5)
    weeks = analytics.completion_by_week(Filters(clinic=backdated.clinic), now=later)
    assert sum(week.due for week in weeks) == 2


def test_not_asked_is_shown_on_staff_pages_and_not_as_missed_on_today(
    client, backdated, therapist_a
):
    client.force_login(therapist_a.user)
    detail = client.get(reverse("tracker:session_detail", args=[backdated.pk])).content.decode()
    assert 'class="badge state-not_asked">Not asked<' in detail
    page = client.get(
        reverse("tracker:patient_detail", args=[backdated.patient.pk])
    ).content.decode()
    assert 'class="badge state-not_asked">Not asked<' in page
    today = dashboard.for_user(therapist_a.user, NOW)
    assert today["missed"].count == 0


def test_correcting_is_open_to_any_member_of_the_clinic(client, session, therapist_a):
    colleague = MembershipFactory(clinic=therapist_a.clinic, role=Role.THERAPIST)
    client.force_login(colleague.user)
    response = client.post(
        reverse("tracker:session_correct", args=[session.pk]),
        _correction_post(session, lung_condition="on"),
    )
    assert response.status_code == 302
    assert NeedlingSession.objects.get(pk=session.pk).lung_condition is True
    assert NeedledSite.objects.filter(session=session).count() == 1

"""The audit trail: what is recorded, that it cannot be changed, and the lead's pages."""

import csv
import io
import uuid
from datetime import UTC, timedelta

import pytest
from django.contrib import admin
from django.db import DatabaseError, IntegrityError, connection, transaction
from django.db.models import ProtectedError
from django.http import StreamingHttpResponse
from django.test import Client, RequestFactory
from django.urls import reverse
from django.utils import timezone

from tests.factories import MembershipFactory, PatientFactory, UserFactory, answers
from tracker import services
from tracker.choices import TimePoint
from tracker.models import (
    Alert,
    AuditAction,
    AuditActor,
    AuditEvent,
    AuditTrailIsAppendOnly,
    Patient,
)
from tracker.security import audit

pytestmark = pytest.mark.django_db

ADDRESS = "203.0.113.9"


@pytest.fixture
def alert_a(session_a):
    follow_up = session_a.follow_ups.get(time_point=TimePoint.IN_CLINIC)
    services.submit_report(
        follow_up=follow_up,
        idempotency_key=uuid.uuid4(),
        answers=answers(red_flags=["rf_breathing"]),
        now=follow_up.opens_at,
    )
    return Alert.objects.get(session=session_a)


def _mark() -> int:
    """The newest event so far: what the fixtures' own writes recorded comes before it."""
    return AuditEvent.objects.order_by("-pk").values_list("pk", flat=True).first() or 0


def _events_after(mark: int):
    return AuditEvent.objects.filter(pk__gt=mark)


def _only_event(after: int = 0):
    [event] = _events_after(after)
    return event


# ---------------------------------------------------------------------------
# What is recorded


@pytest.mark.parametrize(
    ("name", "target", "page"),
    [
        ("tracker:patient_detail", "patient", "patient_detail"),
        ("tracker:visit_summary", "patient", "visit_summary"),
        ("tracker:patient_edit", "patient", "patient_edit"),
        ("tracker:patient_chart", "patient", "patient_chart"),
        ("tracker:patient_export", "patient", "patient_export"),
        ("tracker:patient_fhir", "patient", "patient_fhir"),
        ("tracker:patient_record", "patient", "patient_record"),
        ("tracker:session_detail", "session", "session_detail"),
        ("tracker:session_chart", "session", "session_chart"),
    ],
)
def test_each_read_of_a_patients_data_is_recorded(
    client, therapist_a, session_a, name, target, page
):
    objects = {"patient": session_a.patient, "session": session_a}
    obj = objects[target]
    client.force_login(therapist_a.user)
    mark = _mark()
    response = client.get(reverse(name, args=[obj.pk]), REMOTE_ADDR=ADDRESS)
    assert response.status_code == 200
    event = _only_event(after=mark)
    exports = {"tracker:patient_export", "tracker:patient_fhir"}
    expected_action = AuditAction.EXPORT if name in exports else AuditAction.VIEW
    assert event.action == expected_action
    assert (event.user, event.patient, event.clinic) == (
        therapist_a.user,
        session_a.patient,
        therapist_a.clinic,
    )
    assert (event.object_type, event.object_id) == (obj._meta.model_name, obj.pk)
    assert event.ip == ADDRESS and event.detail == page
    assert abs(event.at - timezone.now()) < timedelta(minutes=1)


def test_adding_a_patient_is_recorded(client, therapist_a):
    client.force_login(therapist_a.user)
    client.post(
        reverse("tracker:patient_create"),
        {
            "clinic": therapist_a.clinic.pk,
            "display_name": "Rosa Díaz",
            "language": "es",
            "reminder_channel": "none",
        },
        REMOTE_ADDR=ADDRESS,
    )
    patient = Patient.objects.get()
    event = _only_event()
    assert (event.action, event.patient, event.object_type, event.object_id, event.ip) == (
        AuditAction.CREATE,
        patient,
        "patient",
        patient.pk,
        ADDRESS,
    )


def test_recording_a_session_is_recorded(client, therapist_a, patient_a):
    client.force_login(therapist_a.user)
    response = client.post(
        reverse("tracker:session_create", args=[patient_a.pk]),
        {
            "performed_at": timezone.localtime(timezone.now()).strftime("%Y-%m-%dT%H:%M"),
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
        },
        REMOTE_ADDR=ADDRESS,
    )
    assert response.status_code == 302
    session = patient_a.sessions.get()
    event = _only_event()
    assert (event.action, event.patient, event.object_type, event.object_id) == (
        AuditAction.CREATE,
        patient_a,
        "needlingsession",
        session.pk,
    )


def test_acknowledging_an_alert_is_recorded(client, therapist_a, alert_a):
    client.force_login(therapist_a.user)
    mark = _mark()
    client.post(
        reverse("tracker:alert_acknowledge", args=[alert_a.pk]),
        {"outcome": "advised", "note": "Called."},
        REMOTE_ADDR=ADDRESS,
    )
    event = _only_event(after=mark)
    assert (event.action, event.user, event.patient, event.object_type, event.object_id) == (
        AuditAction.ACKNOWLEDGE,
        therapist_a.user,
        alert_a.session.patient,
        "alert",
        alert_a.pk,
    )
    # A refused change (already acknowledged) records nothing more.
    client.post(
        reverse("tracker:alert_acknowledge", args=[alert_a.pk]),
        {"outcome": "advised", "note": "Again."},
    )
    assert _events_after(mark).count() == 1


def test_a_failed_write_records_nothing(client, therapist_a, patient_a):
    client.force_login(therapist_a.user)
    client.post(reverse("tracker:session_create", args=[patient_a.pk]), {"pre_pain": "11"})
    client.post(reverse("tracker:patient_create"), {"display_name": ""})
    assert not AuditEvent.objects.exists()


def test_list_pages_record_nothing(client, therapist_a, alert_a):
    client.force_login(therapist_a.user)
    mark = _mark()
    for name in ("tracker:patient_list", "tracker:home", "tracker:alert_list"):
        assert client.get(reverse(name)).status_code == 200
    assert not _events_after(mark).exists()


def test_pages_outside_ones_scope_record_nothing(client, therapist_b, session_a):
    client.force_login(therapist_b.user)
    mark = _mark()
    assert (
        client.get(reverse("tracker:patient_detail", args=[session_a.patient.pk])).status_code
        == 404
    )
    assert client.get(reverse("tracker:session_detail", args=[session_a.pk])).status_code == 404
    assert not _events_after(mark).exists()


# ---------------------------------------------------------------------------
# The address


def _request(**meta):
    return RequestFactory().get("/", **meta)


def test_forwarded_for_is_ignored_unless_a_proxy_is_trusted(settings):
    settings.TRUSTED_PROXY_COUNT = 0
    request = _request(REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="198.51.100.7")
    assert audit.client_ip(request) == "10.0.0.2"


def test_with_one_trusted_proxy_the_address_it_saw_is_used(settings):
    settings.TRUSTED_PROXY_COUNT = 1
    # The client wrote the first entry itself; our proxy appended the second.
    request = _request(REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="1.2.3.4, 198.51.100.7")
    assert audit.client_ip(request) == "198.51.100.7"
    settings.TRUSTED_PROXY_COUNT = 2
    assert audit.client_ip(request) == "1.2.3.4"
    settings.TRUSTED_PROXY_COUNT = 3  # fewer entries than proxies: not through our proxies
    assert audit.client_ip(request) == "10.0.0.2"


def test_an_unreadable_address_is_stored_as_none(settings):
    settings.TRUSTED_PROXY_COUNT = 1
    assert audit.client_ip(_request(HTTP_X_FORWARDED_FOR="not-an-ip")) is None
    assert audit.client_ip(_request(REMOTE_ADDR="::1")) == "::1"


def test_the_view_records_the_trusted_address(client, therapist_a, patient_a, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    client.force_login(therapist_a.user)
    client.get(
        reverse("tracker:patient_detail", args=[patient_a.pk]),
        REMOTE_ADDR="10.0.0.2",
        HTTP_X_FORWARDED_FOR="2001:db8::5",
    )
    assert _only_event().ip == "2001:db8::5"


# ---------------------------------------------------------------------------
# Append-only


@pytest.fixture
def event(therapist_a, patient_a):
    return audit.record_event(
        user=therapist_a.user, ip=ADDRESS, action=AuditAction.VIEW, patient=patient_a, obj=patient_a
    )


def test_events_cannot_be_updated_through_a_queryset(event):
    with pytest.raises(AuditTrailIsAppendOnly):
        AuditEvent.objects.update(detail="changed")
    with pytest.raises(AuditTrailIsAppendOnly):
        AuditEvent.objects.filter(pk=event.pk).update(ip=None)
    event.detail = "changed"
    # bulk_update runs in a transaction of its own: give it a savepoint to roll back to.
    with pytest.raises(AuditTrailIsAppendOnly), transaction.atomic():
        AuditEvent.objects.bulk_update([event], ["detail"])
    assert AuditEvent.objects.get().detail == ""


def test_events_cannot_be_deleted(event):
    with pytest.raises(AuditTrailIsAppendOnly):
        AuditEvent.objects.all().delete()
    with pytest.raises(AuditTrailIsAppendOnly):
        AuditEvent.objects.filter(pk=event.pk).delete()
    with pytest.raises(AuditTrailIsAppendOnly):
        event.delete()
    assert AuditEvent.objects.count() == 1


def test_a_stored_event_cannot_be_saved_again(event):
    event.action = AuditAction.ERASE
    with pytest.raises(AuditTrailIsAppendOnly):
        event.save()
    with pytest.raises(AuditTrailIsAppendOnly):
        event.save(update_fields=["action"])
    fetched = AuditEvent.objects.get()
    with pytest.raises(AuditTrailIsAppendOnly):
        fetched.save()
    assert AuditEvent.objects.get().action == AuditAction.VIEW


def test_a_new_event_with_a_taken_id_is_not_an_update(event, therapist_a):
    copy = AuditEvent(
        pk=event.pk,
        clinic=therapist_a.clinic,
        actor=AuditActor.SYSTEM,
        action=AuditAction.ERASE,
        at=timezone.now(),
    )
    with pytest.raises(IntegrityError), transaction.atomic():
        copy.save()
    assert AuditEvent.objects.get().action == AuditAction.VIEW


def test_erasing_a_patient_keeps_the_trail(client, lead_a, patient_a, event):
    services.erase_patient(patient=patient_a, user=lead_a.user, request_ip=None)
    assert AuditEvent.objects.filter(patient=patient_a).count() == 2


def test_admin_is_read_only(client, event):
    model_admin = admin.site._registry[AuditEvent]
    superuser = UserFactory(is_staff=True, is_superuser=True)
    request = RequestFactory().get("/")
    request.user = superuser
    assert not model_admin.has_add_permission(request)
    assert not model_admin.has_change_permission(request, event)
    assert not model_admin.has_delete_permission(request, event)
    assert "delete_selected" not in model_admin.get_actions(request)

    client.force_login(superuser)
    change_url = reverse("admin:tracker_auditevent_change", args=[event.pk])
    page = client.get(change_url)
    assert page.status_code == 200 and b'name="_save"' not in page.content
    assert client.post(change_url, {"detail": "changed"}).status_code == 403
    assert client.get(reverse("admin:tracker_auditevent_add")).status_code == 403
    delete_url = reverse("admin:tracker_auditevent_delete", args=[event.pk])
    assert client.post(delete_url, {"post": "yes"}).status_code == 403
    list_url = reverse("admin:tracker_auditevent_changelist")
    client.post(
        list_url, {"action": "delete_selected", "_selected_action": [event.pk], "post": "yes"}
    )
    assert AuditEvent.objects.get().detail == ""


# ---------------------------------------------------------------------------
# The lead's pages


def _event(*, clinic, user=None, patient=None, action=AuditAction.VIEW, at=None, ip=ADDRESS):
    return AuditEvent.objects.create(
        clinic=clinic,
        actor=AuditActor.STAFF if user else AuditActor.SYSTEM,
        user=user,
        patient=patient,
        action=action,
        at=at or timezone.now(),
        ip=ip,
        object_type="patient" if patient else "",
        object_id=patient.pk if patient else None,
    )


def test_only_leads_see_the_audit_pages(client, therapist_a, lead_a, therapist_b):
    for url in (reverse("tracker:audit_list"), reverse("tracker:audit_csv")):
        assert client.get(url).status_code == 302
        client.force_login(therapist_a.user)
        assert client.get(url).status_code == 404
        client.force_login(therapist_b.user)
        assert client.get(url).status_code == 404
        client.force_login(lead_a.user)
        assert client.get(url).status_code == 200
        client.logout()


def test_the_audit_menu_item_is_for_leads_only(client, therapist_a, lead_a):
    client.force_login(therapist_a.user)
    assert reverse("tracker:audit_list") not in client.get(reverse("tracker:home")).content.decode()
    client.force_login(lead_a.user)
    assert reverse("tracker:audit_list") in client.get(reverse("tracker:home")).content.decode()


def test_a_lead_sees_only_the_clinics_they_lead(client, lead_a, therapist_a, therapist_b):
    mine = _event(clinic=lead_a.clinic, user=therapist_a.user)
    _event(clinic=therapist_b.clinic, user=therapist_b.user)
    # A lead of A who is only a therapist at B sees nothing of B's trail.
    MembershipFactory(user=lead_a.user, clinic=therapist_b.clinic)
    client.force_login(lead_a.user)
    page = client.get(reverse("tracker:audit_list")).context["page_obj"]
    assert list(page) == [mine]


def test_lead_filters(client, lead_a, therapist_a):
    clinic = lead_a.clinic
    colleague = MembershipFactory(clinic=clinic).user
    known = PatientFactory(clinic=clinic, reference="MRN-7")
    other = PatientFactory(clinic=clinic, reference="MRN-8")
    now = timezone.now()
    old = _event(clinic=clinic, user=therapist_a.user, patient=known, at=now - timedelta(days=10))
    viewed = _event(clinic=clinic, user=therapist_a.user, patient=known, at=now)
    exported = _event(
        clinic=clinic, user=colleague, patient=other, action=AuditAction.EXPORT, at=now
    )
    client.force_login(lead_a.user)

    def shown(**query):
        response = client.get(reverse("tracker:audit_list"), query)
        assert response.status_code == 200
        return set(response.context["page_obj"])

    assert shown() == {old, viewed, exported}
    today = timezone.localdate(now, clinic.zone).isoformat()
    assert shown(date_from=today) == {viewed, exported}
    assert shown(date_to=(now - timedelta(days=5)).date().isoformat()) == {old}
    assert shown(user=colleague.pk) == {exported}
    assert shown(action="export") == {exported}
    assert shown(patient="mrn-7") == {old, viewed}
    assert shown(patient=f"#{other.pk}") == {exported}
    assert shown(patient="MRN-7", date_from=today, user=therapist_a.user.pk) == {viewed}


def test_bad_filters_show_a_message_and_no_events(client, lead_a, therapist_a):
    _event(clinic=lead_a.clinic, user=therapist_a.user)
    client.force_login(lead_a.user)
    response = client.get(
        reverse("tracker:audit_list"),
        {"date_from": "2026-05-02", "date_to": "2026-05-01", "patient": "#x"},
    )
    assert set(response.context["form"].errors) == {"date_to", "patient"}
    assert not list(response.context["page_obj"])
    assert "The end date is before the start date." in response.content.decode()


@pytest.mark.parametrize("patient", ["#9999999999999999999", "#²"])
def test_a_patient_number_no_patient_can_have_is_a_message_not_an_error(client, lead_a, patient):
    client.force_login(lead_a.user)
    response = client.get(reverse("tracker:audit_list"), {"patient": patient})
    assert response.status_code == 200
    assert set(response.context["form"].errors) == {"patient"}


def test_the_list_is_paginated(client, lead_a, patient_a):
    AuditEvent.objects.bulk_create(
        [
            AuditEvent(
                clinic=lead_a.clinic,
                actor=AuditActor.SYSTEM,
                patient=patient_a,
                action=AuditAction.VIEW,
                at=timezone.now(),
            )
            for _ in range(60)
        ]
    )
    client.force_login(lead_a.user)
    first = client.get(reverse("tracker:audit_list")).context["page_obj"]
    second = client.get(reverse("tracker:audit_list"), {"page": 2}).context["page_obj"]
    assert (len(first), len(second), first.paginator.num_pages) == (50, 10, 2)


@pytest.mark.parametrize("count", [5, 60])
def test_audit_list_query_count_does_not_grow(
    client, lead_a, therapist_a, count, django_assert_num_queries
):
    for index in range(count):
        _event(
            clinic=lead_a.clinic,
            user=therapist_a.user,
            patient=PatientFactory(clinic=lead_a.clinic, reference=f"R{index}"),
        )
    client.force_login(lead_a.user)
    # session, user, led clinics, the user filter's choices, paginator count, the page of
    # events with users and patients, the clinics the user leads (the "Audit" menu item)
    with django_assert_num_queries(7):
        client.get(reverse("tracker:audit_list"), {"action": "view"})


def _csv(response):
    assert isinstance(response, StreamingHttpResponse)
    text = b"".join(response.streaming_content).decode()
    return list(csv.reader(io.StringIO(text)))


def test_csv_holds_ids_and_references_not_names(client, lead_a, therapist_a):
    patient = PatientFactory(
        clinic=lead_a.clinic, display_name="Ana Torres", reference="=HYPERLINK"
    )
    event = _event(clinic=lead_a.clinic, user=therapist_a.user, patient=patient)
    _event(clinic=lead_a.clinic, user=therapist_a.user, action=AuditAction.EXPORT)
    client.force_login(lead_a.user)
    response = client.get(reverse("tracker:audit_csv"), {"action": "view"})
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="audit-')
    header, *rows = _csv(response)
    assert header == [
        "at_utc",
        "clinic_id",
        "actor",
        "user_id",
        "action",
        "what",
        "patient_id",
        "patient_reference",
        "object_type",
        "object_id",
        "ip",
        "detail",
    ]
    assert rows == [
        [
            event.at.astimezone(UTC).isoformat().replace("+00:00", "Z"),
            str(lead_a.clinic.pk),
            "staff",
            str(therapist_a.user.pk),
            "view",
            "viewed the patient's data",
            str(patient.pk),
            "'=HYPERLINK",
            "patient",
            str(patient.pk),
            ADDRESS,
            "",
        ]
    ]
    text = "\n".join(",".join(row) for row in rows)
    assert "Ana Torres" not in text and therapist_a.user.last_name not in text


def test_csv_is_scoped_to_the_leads_clinics(client, lead_a, therapist_b):
    _event(clinic=therapist_b.clinic, user=therapist_b.user)
    client.force_login(lead_a.user)
    header, *rows = _csv(client.get(reverse("tracker:audit_csv")))
    assert rows == []


def test_events_of_system_jobs_have_no_user(lead_a, patient_a):
    event = audit.record_event(
        user=None, ip=None, action=AuditAction.REVOKE_LINK, patient=patient_a
    )
    assert (event.actor, event.user, event.clinic, event.object_type) == (
        AuditActor.SYSTEM,
        None,
        lead_a.clinic,
        "",
    )
    with pytest.raises(ValueError):
        audit.record_event(user=None, ip=None, action=AuditAction.VIEW)


@pytest.mark.parametrize(
    ("query", "field", "message"),
    [
        ({"date_to": "9999-12-31"}, "date_to", "Choose a date between 2000-01-01 and 2999-12-31."),
        (
            {"date_from": "0001-01-01"},
            "date_from",
            "Choose a date between 2000-01-01 and 2999-12-31.",
        ),
        ({"patient": "#" + "9" * 31}, "patient", "No patient has this number."),
        ({"patient": "#²"}, "patient", "After # write the patient's number, e.g. #12."),
    ],
)
def test_filters_past_what_the_database_holds_are_a_message(client, lead_a, query, field, message):
    """Each of these was a server error: a date past the calendar's end, an id past a bigint."""
    client.force_login(lead_a.user)
    response = client.get(reverse("tracker:audit_list"), query)
    assert response.status_code == 200
    assert response.context["form"].errors[field] == [message]
    # The CSV download is whole (the header and no rows), not cut off mid-file.
    header, *rows = _csv(client.get(reverse("tracker:audit_csv"), query))
    assert header[0] == "at_utc" and rows == []


def test_the_actor_matches_the_user(lead_a, patient_a, therapist_a):
    event = audit.record_event(
        user=therapist_a.user, ip=None, action=AuditAction.VIEW, patient=patient_a
    )
    assert event.actor == AuditActor.STAFF
    with pytest.raises(ValueError):
        audit.record_event(
            user=therapist_a.user,
            ip=None,
            action=AuditAction.UPDATE,
            patient=patient_a,
            actor=AuditActor.PATIENT,
        )
    # The database holds to it too.
    for actor, user in [(AuditActor.STAFF, None), (AuditActor.PATIENT, therapist_a.user)]:
        with pytest.raises(IntegrityError), transaction.atomic():
            AuditEvent.objects.create(
                clinic=lead_a.clinic,
                actor=actor,
                user=user,
                action=AuditAction.VIEW,
                at=timezone.now(),
            )


# ---------------------------------------------------------------------------
# Downloads of the trail, and the patient's own changes


def test_downloading_the_trail_is_recorded(client, lead_a, therapist_b):
    # A lead of two clinics: one event for each clinic whose trail the file holds.
    MembershipFactory(user=lead_a.user, clinic=therapist_b.clinic, role=lead_a.role)
    client.force_login(lead_a.user)
    mark = _mark()
    response = client.get(reverse("tracker:audit_csv"), {"action": "view"}, REMOTE_ADDR=ADDRESS)
    _csv(response)
    events = list(_events_after(mark).order_by("clinic_id"))
    assert [(e.clinic, e.actor, e.user, e.action, e.patient, e.ip, e.detail) for e in events] == [
        (clinic, AuditActor.STAFF, lead_a.user, AuditAction.EXPORT, None, ADDRESS, "audit_csv")
        for clinic in sorted([lead_a.clinic, therapist_b.clinic], key=lambda c: c.pk)
    ]
    # Browsing the trail on the page is not an export.
    client.get(reverse("tracker:audit_list"))
    assert _events_after(mark).count() == 2


def test_the_patients_own_reminder_choice_is_recorded_with_the_patient_as_actor(
    client, session_a, link_token
):
    patient = session_a.patient
    Patient.objects.filter(pk=patient.pk).update(
        reminders_consent=True, reminder_channel="email", email="p@example.org"
    )
    url = reverse("patient:stop_reminders", args=[link_token])
    mark = _mark()
    client.post(url, {"action": "stop"}, REMOTE_ADDR=ADDRESS)
    client.post(url, {"action": "stop"})  # a second tap changes nothing and records nothing
    client.post(url, {"action": "resume"})
    events = list(_events_after(mark).order_by("pk"))
    assert [
        (e.actor, e.user, e.action, e.patient, e.object_type, e.ip, e.detail) for e in events
    ] == [
        (AuditActor.PATIENT, None, AuditAction.UPDATE, patient, "patient", None, "reminders off"),
        (AuditActor.PATIENT, None, AuditAction.UPDATE, patient, "patient", None, "reminders on"),
    ]


def test_the_patients_language_choice_is_recorded_with_the_patient_as_actor(
    client, session_a, link_token
):
    patient = session_a.patient
    url = reverse("patient:set_language", args=[link_token])
    mark = _mark()
    client.post(url, {"language": "es"})
    client.post(url, {"language": "es"})
    client.post(url, {"language": "xx"})
    [event] = _events_after(mark)
    assert (event.actor, event.user, event.action, event.patient, event.detail) == (
        AuditActor.PATIENT,
        None,
        AuditAction.UPDATE,
        patient,
        "language es",
    )
    patient.refresh_from_db()
    assert patient.language == "es"


def test_the_audit_page_names_the_patient_as_the_actor(client, lead_a, patient_a):
    services.set_language(patient=patient_a, language="es")
    client.force_login(lead_a.user)
    page = client.get(reverse("tracker:audit_list")).content.decode()
    assert "Patient" in page and "chose Spanish" in page


# ---------------------------------------------------------------------------
# Below the ORM: the patient row and the table itself


def test_a_patient_with_a_trail_cannot_be_deleted(event, patient_a):
    """Deleting a patient emptied their events' patient; now the events keep them."""
    with pytest.raises(ProtectedError), transaction.atomic():
        Patient.objects.filter(pk=patient_a.pk).delete()
    assert AuditEvent.objects.get().patient == patient_a


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the trigger is PostgreSQL's")
def test_postgresql_refuses_any_update_or_delete_of_events(event):
    statements = [
        "UPDATE tracker_auditevent SET detail = 'changed'",
        "DELETE FROM tracker_auditevent",
    ]
    for sql in statements:
        with pytest.raises(DatabaseError, match="never changed or deleted"), transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute(sql)
    # The managers the model does not guard: the trigger does.
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditEvent._base_manager.filter(pk=event.pk).update(detail="changed")
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditEvent._base_manager.filter(pk=event.pk)._raw_delete(connection.alias)
    assert AuditEvent.objects.get().detail == ""
    # Writing new events goes on as ever.
    audit.record_event(user=None, ip=None, action=AuditAction.VIEW, patient=event.patient)
    assert AuditEvent.objects.count() == 2


@pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite only")
def test_on_sqlite_the_trigger_migration_adds_nothing():
    with connection.cursor() as cursor:
        cursor.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")
        assert cursor.fetchall() == []


# ---------------------------------------------------------------------------
# The trail in words, with the patient's name


def test_every_action_has_words_of_its_own():
    from tracker.queries.audit import ACTION_WORDS, describe

    assert set(ACTION_WORDS) == set(AuditAction.values)
    phrases = {describe(action) for action in AuditAction.values}
    assert len(phrases) == len(AuditAction.values)
    assert not phrases & set(AuditAction.values)  # never the bare code


def _rows(client, **query):
    response = client.get(reverse("tracker:audit_list"), query)
    assert response.status_code == 200
    return [(e.words, getattr(e, "patient_name", None)) for e in response.context["page_obj"]]


def test_the_trail_says_what_was_done_to_whom(client, lead_a, therapist_a, session_a):
    patient = session_a.patient
    patient.display_name = "Ana Torres"
    patient.save()
    client.force_login(therapist_a.user)
    client.get(reverse("tracker:patient_detail", args=[patient.pk]))
    client.get(reverse("tracker:patient_export", args=[patient.pk]))
    client.get(reverse("tracker:session_detail", args=[session_a.pk]))
    client.force_login(lead_a.user)
    rows = _rows(client)
    assert rows[:3] == [
        ("viewed a session page", "Ana Torres"),
        ("downloaded the record", "Ana Torres"),
        ("viewed the patient page", "Ana Torres"),
    ]
    assert ("recorded a session", "Ana Torres") in rows
    page = client.get(reverse("tracker:audit_list")).content.decode()
    assert "viewed the patient page" in page and "Ana Torres" in page
    assert therapist_a.user.get_full_name() in page
    # In Spanish for a lead who reads Spanish.
    spanish = client.get(reverse("tracker:audit_list"), HTTP_ACCEPT_LANGUAGE="es")
    assert spanish.context["page_obj"][0].words  # a phrase, whichever the catalogue has


def test_an_erased_patient_is_named_as_erased(client, lead_a, patient_a, event):
    services.erase_patient(patient=patient_a, user=lead_a.user, request_ip=None)
    patient_a.refresh_from_db()
    tag = patient_a.display_name.rsplit(" ", 1)[-1]
    client.force_login(lead_a.user)
    rows = _rows(client)
    assert rows == [
        ("erased the patient's personal details", f"Erased patient {tag}"),
        ("viewed the patient's data", f"Erased patient {tag}"),
    ]


def _chart_src(page: str, name: str) -> str:
    import html
    import re

    [src] = re.findall(r'src="([^"]*/soreness\.svg[^"]*)"', page)
    assert name in src
    return html.unescape(src)


@pytest.mark.parametrize(
    ("page_name", "target"),
    [("tracker:patient_detail", "patient"), ("tracker:session_detail", "session")],
)
def test_a_page_and_its_chart_are_one_event(client, therapist_a, session_a, page_name, target):
    obj = {"patient": session_a.patient, "session": session_a}[target]
    client.force_login(therapist_a.user)
    mark = _mark()
    page = client.get(reverse(page_name, args=[obj.pk])).content.decode()
    chart = _chart_src(page, f"/{target}s/{obj.pk}/soreness.svg?v=")
    assert client.get(chart).status_code == 200
    assert client.get(chart).status_code == 200  # zoomed or printed: still that page's view
    [event] = _events_after(mark)
    assert event.detail == page_name.split(":")[1]


def test_a_chart_opened_on_its_own_or_with_a_borrowed_key_is_recorded(
    client, therapist_a, lead_a, session_a, time_machine
):
    patient = session_a.patient
    time_machine.move_to(timezone.now(), tick=False)
    client.force_login(therapist_a.user)
    page = client.get(reverse("tracker:patient_detail", args=[patient.pk])).content.decode()
    chart = _chart_src(page, "soreness.svg?v=")
    key = chart.split("?v=")[1]
    mark = _mark()
    url = reverse("tracker:patient_chart", args=[patient.pk])
    client.get(url)  # no key
    client.get(url, {"v": key + "x"})  # a key that is no signature
    client.get(reverse("tracker:session_chart", args=[session_a.pk]), {"v": "1:2"})
    other = Client()
    other.force_login(lead_a.user)
    other.get(chart)  # another user's key
    time_machine.move_to(timezone.now() + timedelta(minutes=11), tick=False)
    client.get(chart)  # the page's key, long after the page
    events = list(_events_after(mark).order_by("pk"))
    assert [e.detail for e in events] == ["patient_chart", "patient_chart", "session_chart"] + [
        "patient_chart"
    ] * 2
    assert events[3].user == lead_a.user


def test_filters_by_patient_name_staff_action_and_date(client, lead_a, therapist_a):
    clinic = lead_a.clinic
    colleague = MembershipFactory(clinic=clinic).user
    ana = PatientFactory(clinic=clinic, display_name="Ana Torres")
    bea = PatientFactory(clinic=clinic, display_name="Beatriz Ramos", reference="MRN-2")
    now = timezone.now()
    old = _event(clinic=clinic, user=therapist_a.user, patient=ana, at=now - timedelta(days=10))
    new = _event(clinic=clinic, user=colleague, patient=bea, action=AuditAction.EXPORT, at=now)
    client.force_login(lead_a.user)

    def shown(**query):
        return set(client.get(reverse("tracker:audit_list"), query).context["page_obj"])

    assert shown(patient="torres") == {old}
    assert shown(patient="  beatriz   ramos ") == {new}
    assert shown(patient="mrn-2") == {new}
    assert shown(patient="nobody") == set()
    assert shown(user=colleague.pk) == {new}
    assert shown(action="export") == {new}
    today = timezone.localdate(now, clinic.zone)
    assert shown(date_from=today.isoformat()) == {new}
    assert shown(date_to=(today - timedelta(days=5)).isoformat()) == {old}


@pytest.mark.parametrize(
    ("query", "field", "message"),
    [
        ({"date_from": "2026-02-30"}, "date_from", "Enter a valid date."),
        ({"date_to": "yesterday"}, "date_to", "Enter a valid date."),
        ({"user": "999999"}, "user", "Select a valid choice."),
        ({"action": "delete"}, "action", "Select a valid choice."),
    ],
)
def test_a_bad_filter_is_a_message_beside_its_field(
    client, lead_a, therapist_a, query, field, message
):
    _event(clinic=lead_a.clinic, user=therapist_a.user)
    client.force_login(lead_a.user)
    response = client.get(reverse("tracker:audit_list"), query)
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert list(errors) == [field] and message in errors[field][0]
    page = response.content.decode()
    assert f'id="id_{field}_error"' in page and "Correct the filters above" in page
    assert not list(response.context["page_obj"])


def test_the_csv_says_the_same_words_as_the_page(client, lead_a, therapist_a, session_a):
    client.force_login(therapist_a.user)
    client.get(reverse("tracker:patient_export", args=[session_a.patient.pk]))
    client.force_login(lead_a.user)
    on_page = [e.words for e in client.get(reverse("tracker:audit_list")).context["page_obj"]]
    header, *rows = _csv(client.get(reverse("tracker:audit_csv")))
    in_file = [row[header.index("what")] for row in rows]
    assert in_file == on_page and "downloaded the record" in in_file


# ---------------------------------------------------------------------------
# The admin's lists, and what protects the trail's patients


def test_an_admin_list_of_patient_data_records_each_patient_shown(
    admin_client, admin_user, session_a, therapist_a
):
    from tests.factories import make_session

    other = make_session(patient=PatientFactory(clinic=therapist_a.clinic))
    mark = _mark()
    response = admin_client.get(reverse("admin:tracker_needlingsession_changelist"))
    assert response.status_code == 200
    events = _events_after(mark)
    assert {(e.patient, e.user, e.action, e.detail, e.object_type) for e in events} == {
        (s.patient, admin_user, AuditAction.VIEW, "admin list", "needlingsession")
        for s in (session_a, other)
    }
    assert len(events) == 2
    # The patients' list too; the clinics' list holds no patient data.
    mark = _mark()
    admin_client.get(reverse("admin:tracker_patient_changelist"))
    assert len(_events_after(mark)) == 2
    mark = _mark()
    admin_client.get(reverse("admin:tracker_clinic_changelist"))
    assert not _events_after(mark).exists()


def test_a_clinic_whose_patients_have_a_trail_cannot_be_deleted(event, patient_a):
    """No cascade detaches events from their patient: deleting the clinic is refused as well."""
    from tracker.models import Clinic

    with pytest.raises(ProtectedError), transaction.atomic():
        Clinic.objects.filter(pk=patient_a.clinic_id).delete()
    with pytest.raises(ProtectedError), transaction.atomic():
        patient_a.delete()
    event = AuditEvent.objects.get()
    assert event.patient_id == patient_a.pk and Patient.objects.filter(pk=patient_a.pk).exists()


def test_the_admin_cannot_delete_a_patient_with_a_trail(admin_client, patient_a, event):
    url = reverse("admin:tracker_patient_delete", args=[patient_a.pk])
    assert admin_client.post(url, {"post": "yes"}).status_code == 403
    assert Patient.objects.filter(pk=patient_a.pk).exists()
    assert AuditEvent.objects.get(pk=event.pk).patient == patient_a

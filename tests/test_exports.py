"""Patient rights: the whole record as JSON, and erasure on request."""

import json
import uuid

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from tests.factories import PatientFactory, answers, make_session, site
from tracker import services
from tracker.choices import TimePoint
from tracker.exports.record import patient_record
from tracker.models import (
    AccessLink,
    Alert,
    AuditAction,
    AuditEvent,
    FollowUp,
    NeedledSite,
    NeedlingSession,
    Patient,
    SymptomReport,
)
from tracker.security import tokens

pytestmark = pytest.mark.django_db


def _answer(session, time_point, **overrides):
    follow_up = session.follow_ups.get(time_point=time_point)
    report, _created = services.submit_report(
        follow_up=follow_up,
        idempotency_key=uuid.uuid4(),
        answers=answers(**overrides),
        now=follow_up.due_at,
    )
    return report


@pytest.fixture
def full_patient(patient_a, therapist_a):
    """A patient with every kind of row, and free text everywhere free text goes."""
    patient_a.reference, patient_a.email, patient_a.phone = (
        "MRN-42",
        "ana@example.com",
        "+447700900123",
    )
    patient_a.year_of_birth, patient_a.reminder_channel, patient_a.reminders_consent = (
        1980,
        "email",
        True,
    )
    patient_a.display_name = "Ana Torres"
    patient_a.save()
    session = make_session(
        patient=patient_a,
        therapist=therapist_a.user,
        notes="Lives at 4 Elm Road, daughter Eva",
        sites=[
            site(notes="left of the scar from 2019 surgery"),
            site(muscle="piriformis", insertions=2),
        ],
    )
    _answer(
        session,
        TimePoint.IN_CLINIC,
        soreness=6,
        red_flags=["rf_breathing"],
        note="I am Ana, call me",
    )
    _answer(session, TimePoint.H24, soreness=3, after_effects=["headache"])
    alert = Alert.objects.get(session=session, rule="red_flag")
    services.acknowledge_alert(alert=alert, user=therapist_a.user, note="Phoned Ana at home")
    return patient_a


# ---------------------------------------------------------------------------
# The record


def test_record_holds_every_row_of_the_patient(full_patient, therapist_a):
    other = make_session(
        patient=PatientFactory(clinic=full_patient.clinic), therapist=therapist_a.user
    )
    record = patient_record(full_patient)
    assert record["format"] == "needle-aftercare/patient-record" and record["version"] == 1
    assert record["codes"]["pain_nrs"]["code"] == "72514-3"
    patient = record["patient"]
    assert (
        patient["id"],
        patient["name"],
        patient["reference"],
        patient["email"],
        patient["phone"],
        patient["year_of_birth"],
        patient["erased_at"],
    ) == (full_patient.pk, "Ana Torres", "MRN-42", "ana@example.com", "+447700900123", 1980, None)
    [session] = record["sessions"]
    assert session["id"] != other.pk
    assert session["notes"] == "Lives at 4 Elm Road, daughter Eva"
    assert session["pre_session_pain"] == {
        "value": 5,
        "code": "72514-3",
        "system": "http://loinc.org",
    }
    assert [s["muscle"] for s in session["sites"]] == ["gluteus_medius", "piriformis"]
    assert [f["hours_after_session"] for f in session["follow_ups"]] == [0, 24, 48]
    in_clinic, at_24, at_48 = session["follow_ups"]
    assert in_clinic["report"]["soreness"] == {
        "value": 6,
        "code": "72514-3",
        "system": "http://loinc.org",
    }
    assert isinstance(in_clinic["report"]["soreness"]["value"], int)
    assert in_clinic["report"]["red_flags"] == ["rf_breathing"]
    assert in_clinic["report"]["note"] == "I am Ana, call me"
    assert at_24["report"]["after_effects"] == ["headache"] and at_48["report"] is None
    assert {a["rule"] for a in session["alerts"]} >= {"red_flag"}
    red_flag = next(a for a in session["alerts"] if a["rule"] == "red_flag")
    assert (
        red_flag["note"] == "Phoned Ana at home"
        and red_flag["acknowledged_by_id"] == therapist_a.user.pk
    )
    assert len(session["links"]) == 1 and set(session["links"][0]) == {
        "created_at",
        "expires_at",
        "revoked_at",
    }


def test_record_times_are_utc_iso_8601(full_patient):
    record = patient_record(full_patient)
    session = record["sessions"][0]
    times = [
        record["exported_at"],
        session["performed_at"],
        session["follow_ups"][0]["due_at"],
        session["follow_ups"][0]["report"]["submitted_at"],
        session["alerts"][0]["opened_at"],
    ]
    assert all(t.endswith("Z") and "T" in t for t in times), times
    performed = NeedlingSession.objects.get().performed_at
    assert session["performed_at"] == performed.isoformat().replace("+00:00", "Z")


def test_record_never_holds_a_link_token(full_patient):
    link = AccessLink.objects.get()
    text = json.dumps(patient_record(full_patient))
    assert link.token not in text and link.nonce not in text and link.token_hash not in text


def test_export_download_is_audited(client, therapist_a, full_patient):
    client.force_login(therapist_a.user)
    response = client.get(
        reverse("tracker:patient_export", args=[full_patient.pk]), REMOTE_ADDR="192.0.2.1"
    )
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json; charset=utf-8"
    assert (
        response["Content-Disposition"]
        == f'attachment; filename="patient-{full_patient.pk}-record.json"'
    )
    assert "no-store" in response["Cache-Control"]
    assert json.loads(response.content)["patient"]["id"] == full_patient.pk
    event = AuditEvent.objects.get(action=AuditAction.EXPORT)
    assert (event.action, event.patient, event.user, event.ip) == (
        AuditAction.EXPORT,
        full_patient,
        therapist_a.user,
        "192.0.2.1",
    )


def test_export_is_scoped(client, therapist_b, full_patient):
    url = reverse("tracker:patient_export", args=[full_patient.pk])
    assert client.get(url).status_code == 302
    client.force_login(therapist_b.user)
    assert client.get(url).status_code == 404
    assert not AuditEvent.objects.filter(action=AuditAction.EXPORT).exists()


@pytest.mark.parametrize("sessions", [1, 6])
def test_export_query_count_does_not_grow(
    client, therapist_a, patient_a, sessions, django_assert_num_queries
):
    for _ in range(sessions):
        _answer(make_session(patient=patient_a, therapist=therapist_a.user), TimePoint.IN_CLINIC)
    client.force_login(therapist_a.user)
    # session, user, patient+clinic, the audit event's INSERT, then the record:
    # sessions+therapists, sites, follow-ups+reports, alerts, links, warning reports
    with django_assert_num_queries(10):
        client.get(reverse("tracker:patient_export", args=[patient_a.pk]))


# ---------------------------------------------------------------------------
# Erasure


def _erase_url(patient):
    return reverse("tracker:patient_erase", args=[patient.pk])


def test_only_a_lead_of_the_patients_clinic_may_erase(
    client, therapist_a, therapist_b, lead_a, full_patient
):
    url = _erase_url(full_patient)
    assert client.get(url).status_code == 302
    for member in (therapist_a, therapist_b):
        client.force_login(member.user)
        assert client.get(url).status_code == 404
        assert client.post(url, {"confirm": "MRN-42"}).status_code == 404
    assert Patient.objects.get().erased_at is None
    with pytest.raises(ValidationError):
        services.erase_patient(patient=full_patient, user=therapist_a.user, request_ip=None)
    client.force_login(lead_a.user)
    page = client.get(url)
    assert page.status_code == 200 and "Ana Torres" in page.content.decode()


def test_erase_button_only_for_leads(client, therapist_a, lead_a, full_patient):
    url = _erase_url(full_patient)
    client.force_login(therapist_a.user)
    assert (
        url
        not in client.get(
            reverse("tracker:patient_detail", args=[full_patient.pk])
        ).content.decode()
    )
    client.force_login(lead_a.user)
    assert (
        url
        in client.get(reverse("tracker:patient_detail", args=[full_patient.pk])).content.decode()
    )


def test_a_wrong_confirmation_erases_nothing(client, lead_a, full_patient):
    client.force_login(lead_a.user)
    response = client.post(_erase_url(full_patient), {"confirm": "MRN-43"})
    assert response.status_code == 200
    assert "confirm" in response.context["form"].errors
    patient = Patient.objects.get()
    assert (patient.display_name, patient.erased_at) == ("Ana Torres", None)
    assert not AuditEvent.objects.filter(action=AuditAction.ERASE).exists()


@pytest.mark.parametrize("typed", ["MRN-42", " mrn-42 ", "ana  torres"])
def test_reference_or_name_confirms(client, lead_a, full_patient, typed):
    client.force_login(lead_a.user)
    response = client.post(_erase_url(full_patient), {"confirm": typed})
    assert response["Location"] == reverse("tracker:patient_detail", args=[full_patient.pk])
    assert Patient.objects.get().erased_at is not None


def test_erasure_removes_personal_details_and_keeps_the_clinical_rows(client, lead_a, full_patient):
    session = NeedlingSession.objects.get()
    link_token = tokens.token_for(session.access_links.get().nonce)
    before = {
        "sessions": list(
            NeedlingSession.objects.values_list("pk", "performed_at", "pre_pain", "chest_wall_area")
        ),
        "sites": list(
            NeedledSite.objects.values_list("pk", "muscle", "side", "insertions", "twitch_band")
        ),
        "follow_ups": list(FollowUp.objects.values_list("pk", "time_point", "answered_at")),
        "reports": list(
            SymptomReport.objects.values_list(
                "pk", "soreness", "twitching", "rf_breathing", "headache"
            )
        ),
        "alerts": list(Alert.objects.values_list("pk", "rule", "severity", "acknowledged_at")),
    }
    client.force_login(lead_a.user)
    client.post(_erase_url(full_patient), {"confirm": "MRN-42"}, REMOTE_ADDR="192.0.2.7")

    patient = Patient.objects.get()
    assert patient.display_name.startswith("Erased patient ") and "Ana" not in patient.display_name
    assert (patient.reference, patient.email, patient.phone, patient.year_of_birth) == (
        "",
        "",
        "",
        None,
    )
    assert (patient.reminders_consent, patient.reminder_channel) == (False, "none")
    assert patient.erased_at is not None and patient.clinic == lead_a.clinic
    # Free text is gone everywhere.
    assert set(NeedlingSession.objects.values_list("notes", flat=True)) == {""}
    assert set(NeedledSite.objects.values_list("notes", flat=True)) == {""}
    assert set(SymptomReport.objects.values_list("note", flat=True)) == {""}
    assert set(Alert.objects.values_list("note", flat=True)) == {""}
    # The clinical rows and their numbers stay.
    assert before == {
        "sessions": list(
            NeedlingSession.objects.values_list("pk", "performed_at", "pre_pain", "chest_wall_area")
        ),
        "sites": list(
            NeedledSite.objects.values_list("pk", "muscle", "side", "insertions", "twitch_band")
        ),
        "follow_ups": list(FollowUp.objects.values_list("pk", "time_point", "answered_at")),
        "reports": list(
            SymptomReport.objects.values_list(
                "pk", "soreness", "twitching", "rf_breathing", "headache"
            )
        ),
        "alerts": list(Alert.objects.values_list("pk", "rule", "severity", "acknowledged_at")),
    }
    # The link no longer opens.
    assert AccessLink.objects.get().revoked_at is not None
    client.logout()
    assert client.get(reverse("patient:check_in", args=[link_token])).status_code == 404
    # And the erasure itself is in the trail.
    event = AuditEvent.objects.get(action=AuditAction.ERASE)
    assert (event.patient, event.user, event.ip, event.object_type, event.object_id) == (
        patient,
        lead_a.user,
        "192.0.2.7",
        "patient",
        patient.pk,
    )
    assert "Ana" not in event.detail and "MRN" not in event.detail


def test_an_erased_patient_is_marked_and_not_erased_twice(client, lead_a, full_patient):
    services.erase_patient(patient=full_patient, user=lead_a.user, request_ip=None)
    with pytest.raises(ValidationError):
        services.erase_patient(patient=full_patient, user=lead_a.user, request_ip=None)
    client.force_login(lead_a.user)
    listing = client.get(reverse("tracker:patient_list")).content.decode()
    assert "Erased</span>" in listing
    page = client.get(_erase_url(full_patient)).content.decode()
    assert "already erased" in page
    assert AuditEvent.objects.filter(action=AuditAction.ERASE).count() == 1


def test_no_session_can_be_recorded_for_an_erased_patient(lead_a, therapist_a, full_patient):
    services.erase_patient(patient=full_patient, user=lead_a.user, request_ip=None)
    with pytest.raises(ValidationError):
        make_session(patient=Patient.objects.get(), therapist=therapist_a.user)


def test_erased_patients_still_count_in_the_record_export(lead_a, full_patient):
    services.erase_patient(patient=full_patient, user=lead_a.user, request_ip=None)
    record = patient_record(Patient.objects.get())
    assert record["patient"]["email"] == "" and record["patient"]["erased_at"].endswith("Z")
    assert record["sessions"][0]["follow_ups"][0]["report"]["soreness"]["value"] == 6

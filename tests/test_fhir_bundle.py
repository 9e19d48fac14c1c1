"""A patient's record as a FHIR Bundle: who may have it, what it holds, and that it round-trips."""

import uuid
from datetime import datetime, timedelta

import pytest
from django import forms
from django.urls import reverse
from django.utils import timezone

from tests.factories import MembershipFactory, PatientFactory, answers, make_session, site
from tests.fhir_checks import (
    assert_bundle_is_valid,
    assert_questionnaire_is_valid,
    assert_response_fits,
)
from tracker import services
from tracker.choices import TimePoint
from tracker.fhir import common, resources
from tracker.forms.patient import CheckInForm
from tracker.models import AuditAction, AuditEvent, SymptomReport, WarningReport

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
def treated(patient_a, therapist_a):
    """Two sessions by two therapists, four check-ins answered, every kind of answer,
    and warning signs sent after the last check-in."""
    patient_a.reference, patient_a.year_of_birth, patient_a.language = "MRN-7", 1984, "es"
    patient_a.save()
    first = make_session(
        patient=patient_a,
        therapist=therapist_a.user,
        anticoagulants=True,
        performed_at=timezone.now() - timedelta(days=3),
        sites=[
            site(muscle="upper_trapezius", side="right"),
            site(muscle="piriformis", side="both"),
        ],
    )
    _answer(first, TimePoint.IN_CLINIC, soreness=6, red_flags=["rf_breathing"], note="Tight")
    _answer(
        first,
        TimePoint.H24,
        soreness=4,
        bruising="2.5-5",
        bruise_growing=True,
        after_effects=["headache", "bleeding"],
        twitching="mild",
    )
    _answer(first, TimePoint.H48, soreness=2, interference="a_little")
    services.report_warning(
        session=first,
        idempotency_key=uuid.uuid4(),
        flags=["rf_infection", "rf_cough"],
        now=first.performed_at + timedelta(hours=60),
    )
    other = MembershipFactory(clinic=patient_a.clinic).user
    second = make_session(patient=patient_a, therapist=other, sites=[site(side="midline")])
    _answer(second, TimePoint.IN_CLINIC, soreness=0)
    return patient_a


def _bundle(client, user, patient):
    client.force_login(user)
    return client.get(reverse("tracker:patient_fhir", args=[patient.pk]))


def _of_type(bundle, kind):
    return [e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == kind]


def _when(text):
    return datetime.fromisoformat(text)  # Python 3.11 reads the Z


def test_a_member_of_the_clinic_gets_it_as_fhir_json_and_it_is_audited(
    client, therapist_a, treated
):
    mark = AuditEvent.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    response = _bundle(client, therapist_a.user, treated)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/fhir+json; charset=utf-8"
    assert "no-store" in response["Cache-Control"]
    [event] = AuditEvent.objects.filter(pk__gt=mark)
    assert (event.action, event.patient, event.user, event.detail) == (
        AuditAction.EXPORT,
        treated,
        therapist_a.user,
        "patient_fhir",
    )


def test_another_clinic_gets_a_404_and_nothing_is_recorded(client, therapist_b, treated):
    before = AuditEvent.objects.count()
    assert _bundle(client, therapist_b.user, treated).status_code == 404
    assert AuditEvent.objects.count() == before


def test_every_resource_parses_and_every_reference_resolves(client, therapist_a, treated):
    bundle = _bundle(client, therapist_a.user, treated).json()
    assert (bundle["resourceType"], bundle["type"]) == ("Bundle", "collection")
    by_url = assert_bundle_is_valid(bundle)
    [questionnaire] = _of_type(bundle, "Questionnaire")
    assert by_url[questionnaire["url"]] is questionnaire
    items = assert_questionnaire_is_valid(questionnaire)
    for response in _of_type(bundle, "QuestionnaireResponse"):
        assert response["questionnaire"] == f"{questionnaire['url']}|{questionnaire['version']}"
        assert_response_fits(response, items)
    counts = {
        kind: len(_of_type(bundle, kind))
        for kind in ("Patient", "Practitioner", "Procedure", "QuestionnaireResponse", "Observation")
    }
    # Two sessions: a pain-before Observation each, a soreness one per check-in
    # answered, and one of the warning signs sent between check-ins.
    assert counts == {
        "Patient": 1,
        "Practitioner": 2,
        "Procedure": 2,
        "QuestionnaireResponse": 4,
        "Observation": 7,
    }


def test_warning_signs_sent_between_check_ins_are_an_observation_of_their_session(
    client, therapist_a, treated
):
    bundle = _bundle(client, therapist_a.user, treated).json()
    warning = WarningReport.objects.get()
    [observation] = [o for o in _of_type(bundle, "Observation") if "component" in o]
    procedure = common.resource_id("Procedure", warning.session_id)
    assert observation["partOf"] == [{"reference": f"urn:uuid:{procedure}"}]
    assert observation["identifier"][0]["value"] == f"urn:uuid:{warning.idempotency_key}"
    assert _when(observation["effectiveDateTime"]) == warning.reported_at
    assert [
        (c["code"]["coding"][0]["code"], c["code"]["coding"][0]["display"], c["valueBoolean"])
        for c in observation["component"]
    ] == [
        ("rf_cough", "A new dry cough, or coughing up blood", True),
        (
            "rf_infection",
            "Spreading redness or swelling (5 cm or more), pus, or a temperature above 38 °C",
            True,
        ),
    ]
    # Coded as the Questionnaire's own answers to its warning-sign question.
    [questionnaire] = _of_type(bundle, "Questionnaire")
    systems = {
        option["valueCoding"]["system"]
        for item in questionnaire["item"]
        if item["linkId"] == "red_flags"
        for option in item["answerOption"]
    }
    assert systems == {observation["component"][0]["code"]["coding"][0]["system"]}


def test_procedures_carry_time_performer_sites_sides_and_risk_factors(client, therapist_a, treated):
    bundle = _bundle(client, therapist_a.user, treated).json()
    by_url = assert_bundle_is_valid(bundle)
    first = treated.sessions.order_by("performed_at").first()
    [procedure] = [
        p
        for p in _of_type(bundle, "Procedure")
        if p["id"] == common.resource_id("Procedure", first.pk)
    ]
    assert procedure["status"] == "completed"
    assert _when(procedure["performedDateTime"]) == first.performed_at
    [performer] = procedure["performer"]
    assert (
        by_url[performer["actor"]["reference"]]["name"][0]["text"]
        == first.therapist.get_full_name()
    )
    sites = [
        (s["coding"][0]["code"], s["extension"][0]["valueCodeableConcept"]["coding"][0]["code"])
        for s in procedure["bodySite"]
    ]
    assert sites == [("upper_trapezius", "24028007"), ("piriformis", "51440002")]
    # The upper trapezius is over the lung: the chest-wall box ticks itself.
    assert [e["valueCoding"]["code"] for e in procedure["extension"]] == [
        "chest_wall_area",
        "anticoagulants",
    ]
    assert any("anticoagulant" in note["text"] for note in procedure["note"])


def test_a_session_entered_in_error_says_so(therapist_a, patient_a):
    session = make_session(patient=patient_a, therapist=therapist_a.user)
    refs = common.Refs(bundle=True)
    assert resources.procedure(session, [], refs)["status"] == "completed"
    session.entered_in_error_at = timezone.now()
    assert resources.procedure(session, [], refs)["status"] == "entered-in-error"


def _decoded(item):
    """An item's answers as plain values: codes for Codings."""
    values = []
    for answer in item["answer"]:
        [(key, value)] = answer.items()
        values.append(value["code"] if key == "valueCoding" else value)
    return values


def _expected(report, name, field):
    """What ``report`` stores for the form's question ``name``, read from the row itself."""
    if isinstance(field, forms.MultipleChoiceField):
        ticked = [
            str(value) for value, _ in field.choices if getattr(report, str(value), None) is True
        ]
        return ticked or ["none"]
    value = getattr(report, name)
    if value in ("", None):
        return []
    return [value if isinstance(value, bool | int) else str(value)]


def test_each_report_round_trips_once_as_a_response_and_once_as_a_soreness_observation(
    client, therapist_a, treated
):
    bundle = _bundle(client, therapist_a.user, treated).json()
    by_url = assert_bundle_is_valid(bundle)
    responses = _of_type(bundle, "QuestionnaireResponse")
    patient_url = f"urn:uuid:{common.resource_id('Patient', treated.pk)}"
    soreness = [o for o in _of_type(bundle, "Observation") if "derivedFrom" in o]
    reports = SymptomReport.objects.filter(follow_up__session__patient=treated).select_related(
        "follow_up"
    )
    assert len(responses) == len(soreness) == reports.count() == 4
    fields = {n: f for n, f in CheckInForm.base_fields.items() if not f.widget.is_hidden}
    for report in reports:
        [response] = [
            r for r in responses if r["identifier"]["value"] == f"urn:uuid:{report.idempotency_key}"
        ]
        assert _when(response["authored"]) == report.submitted_at
        assert response["source"]["reference"] == response["subject"]["reference"] == patient_url
        procedure = by_url[response["partOf"][0]["reference"]]
        assert procedure["id"] == common.resource_id("Procedure", report.follow_up.session_id)
        answered = {item["linkId"]: _decoded(item) for item in response["item"]}
        for name, field in fields.items():
            assert answered.get(name, []) == _expected(report, name, field), name

        response_url = f"urn:uuid:{response['id']}"
        [observation] = [o for o in soreness if o["derivedFrom"] == [{"reference": response_url}]]
        assert observation["code"]["coding"][0]["code"] == "72514-3"
        assert observation["valueInteger"] == report.soreness
        assert _when(observation["effectiveDateTime"]) == report.submitted_at
        assert observation["partOf"] == response["partOf"]


def test_the_patient_resource_and_an_erased_one(client, therapist_a, lead_a, treated):
    [patient] = _of_type(_bundle(client, therapist_a.user, treated).json(), "Patient")
    assert patient["identifier"][0]["value"] == "MRN-7" and patient["birthDate"] == "1984"
    assert patient["name"] == [{"text": treated.display_name}]
    assert patient["communication"][0]["language"]["coding"][0]["code"] == "es"
    services.erase_patient(patient=treated, user=lead_a.user, request_ip=None)
    [erased] = _of_type(_bundle(client, therapist_a.user, treated).json(), "Patient")
    assert erased == {"resourceType": "Patient", "id": patient["id"]}


@pytest.mark.parametrize("sessions", [1, 6])
def test_query_count_does_not_grow_with_sessions(
    client, therapist_a, sessions, django_assert_num_queries
):
    patient = PatientFactory(clinic=therapist_a.clinic)
    for _ in range(sessions):
        _answer(make_session(patient=patient, therapist=therapist_a.user), TimePoint.IN_CLINIC)
    client.force_login(therapist_a.user)
    # session, user, patient+clinic, the audit event's INSERT, then the Bundle:
    # sessions+therapists, sites, check-ins+reports, warning reports
    with django_assert_num_queries(8):
        response = client.get(reverse("tracker:patient_fhir", args=[patient.pk]))
    assert len(_of_type(response.json(), "Procedure")) == sessions

"""A clinic's bulk export as FHIR NDJSON: the command, the lead's zip, since, streaming."""

import io
import json
import uuid
import zipfile
from datetime import date, datetime, timedelta

import pytest
from django.core.management import call_command
from django.db import connection
from django.http import StreamingHttpResponse
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests.factories import PatientFactory, answers, make_session
from tests.fhir_checks import (
    assert_files_are_valid,
    assert_questionnaire_is_valid,
    assert_response_fits,
)
from tracker import services
from tracker.choices import TimePoint
from tracker.fhir import bulk, common
from tracker.models import AuditAction, AuditEvent, NeedlingSession, Patient, SymptomReport

pytestmark = pytest.mark.django_db

TYPES = [
    "Questionnaire",
    "Patient",
    "Practitioner",
    "Procedure",
    "QuestionnaireResponse",
    "Observation",
]


def _answer(session, time_point, **overrides):
    follow_up = session.follow_ups.get(time_point=time_point)
    return services.submit_report(
        follow_up=follow_up,
        idempotency_key=uuid.uuid4(),
        answers=answers(**overrides),
        now=follow_up.due_at,
    )[0]


@pytest.fixture
def clinic_data(clinic_a, therapist_a, therapist_b):
    """Clinic A: three patients (one never treated), three sessions, four reports and a
    warning report; B: one of each."""
    first, second = PatientFactory(clinic=clinic_a), PatientFactory(clinic=clinic_a)
    PatientFactory(clinic=clinic_a)
    one = make_session(patient=first, therapist=therapist_a.user)
    _answer(one, TimePoint.IN_CLINIC, soreness=5, after_effects=["headache"])
    _answer(one, TimePoint.H24, soreness=3)
    two = make_session(patient=first, therapist=therapist_a.user)
    _answer(two, TimePoint.IN_CLINIC, soreness=1, red_flags=["rf_cough"])
    three = make_session(patient=second, therapist=therapist_a.user)
    _answer(three, TimePoint.IN_CLINIC, soreness=0, note="Fine")
    services.report_warning(session=three, idempotency_key=uuid.uuid4(), flags=["rf_bleeding"])
    elsewhere = make_session(
        patient=PatientFactory(clinic=therapist_b.clinic), therapist=therapist_b.user
    )
    _answer(elsewhere, TimePoint.IN_CLINIC)
    return clinic_a


def _read(directory):
    return {
        kind: [json.loads(line) for line in (directory / f"{kind}.ndjson").read_text().splitlines()]
        for kind in TYPES
    }


def test_the_command_writes_one_valid_ndjson_file_per_type(clinic_data, tmp_path):
    out = io.StringIO()
    call_command("export_fhir", str(tmp_path / "out"), clinic=clinic_data.pk, stdout=out)
    directory = tmp_path / "out"
    assert sorted(p.name for p in directory.iterdir()) == sorted(
        [f"{kind}.ndjson" for kind in TYPES] + ["manifest.json"]
    )
    files = _read(directory)
    assert_files_are_valid(files)
    items = assert_questionnaire_is_valid(files["Questionnaire"][0])
    for response in files["QuestionnaireResponse"]:
        assert_response_fits(response, items)
        assert response["subject"]["reference"].startswith("Patient/")
    counts = {kind: len(resources) for kind, resources in files.items()}
    # Three sessions: a pain-before Observation each, a soreness one per report,
    # and one for the warning report.
    assert counts == {
        "Questionnaire": 1,
        "Patient": 3,
        "Practitioner": 1,
        "Procedure": 3,
        "QuestionnaireResponse": 4,
        "Observation": 8,
    }
    [warning] = [o for o in files["Observation"] if "component" in o]
    assert warning["partOf"][0]["reference"].startswith("Procedure/")
    assert [c["code"]["coding"][0]["code"] for c in warning["component"]] == ["rf_bleeding"]
    manifest = json.loads((directory / "manifest.json").read_text())
    assert {o["type"]: o["count"] for o in manifest["output"]} == counts
    assert manifest["request"] == f"manage.py export_fhir --clinic {clinic_data.pk}"
    assert out.getvalue().startswith("Wrote 1 Questionnaire, 3 Patient")


def test_the_command_is_audited_and_refuses_an_unknown_clinic(clinic_data, tmp_path):
    call_command("export_fhir", str(tmp_path), clinic=clinic_data.pk, stdout=io.StringIO())
    event = AuditEvent.objects.order_by("-pk").first()
    assert (event.action, event.clinic, event.user, event.patient, event.detail) == (
        AuditAction.EXPORT,
        clinic_data,
        None,
        None,
        "export_fhir",
    )
    with pytest.raises(Exception, match="No clinic with id 999999"):
        call_command("export_fhir", str(tmp_path), clinic=999999)


def test_nothing_of_another_clinic(clinic_data, tmp_path):
    bulk.write_directory(bulk.ClinicExport(clinic_data), tmp_path, request="test")
    ids = {r["id"] for resources in _read(tmp_path).values() for r in resources}
    others = NeedlingSession.objects.exclude(clinic=clinic_data)
    assert others.exists()
    assert not {common.resource_id("Procedure", s.pk) for s in others} & ids
    assert (
        not {
            common.resource_id("Patient", p.pk) for p in Patient.objects.exclude(clinic=clinic_data)
        }
        & ids
    )


def test_since_keeps_sessions_performed_or_answered_from_that_day(clinic_a, therapist_a, tmp_path):
    patients = [PatientFactory(clinic=clinic_a) for _ in range(3)]
    # Performed at noon ten days ago, answered then, in clinic and at 24 h: all before.
    noon = datetime(2026, 3, 10, 12, tzinfo=clinic_a.zone)
    old = make_session(patient=patients[0], therapist=therapist_a.user, performed_at=noon)
    _answer(old, TimePoint.IN_CLINIC)
    _answer(old, TimePoint.H24)
    # Performed the day before "since", answered at 24 h: on the day itself.
    late = make_session(
        patient=patients[1], therapist=therapist_a.user, performed_at=noon + timedelta(days=4)
    )
    _answer(late, TimePoint.H24)
    recent = make_session(
        patient=patients[2], therapist=therapist_a.user, performed_at=noon + timedelta(days=6)
    )
    Patient.objects.filter(pk__in=[p.pk for p in patients]).update(created_at=noon)

    call_command(
        "export_fhir",
        str(tmp_path),
        clinic=clinic_a.pk,
        since=date(2026, 3, 15),
        stdout=io.StringIO(),
    )
    files = _read(tmp_path)
    assert_files_are_valid(files)
    procedures = {r["id"] for r in files["Procedure"]}
    assert procedures == {common.resource_id("Procedure", s.pk) for s in (late, recent)}
    assert {r["id"] for r in files["Patient"]} == {
        common.resource_id("Patient", p.pk) for p in patients[1:]
    }
    late_report = SymptomReport.objects.get(follow_up__session=late)
    assert [r["id"] for r in files["QuestionnaireResponse"]] == [
        common.resource_id("QuestionnaireResponse", late_report.pk)
    ]
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    assert manifest["request"].endswith("--since 2026-03-15")


def test_since_keeps_a_session_with_warning_signs_sent_from_that_day(
    clinic_a, therapist_a, tmp_path
):
    noon = datetime(2026, 3, 10, 12, tzinfo=clinic_a.zone)
    session = make_session(
        patient=PatientFactory(clinic=clinic_a), therapist=therapist_a.user, performed_at=noon
    )
    Patient.objects.update(created_at=noon)
    services.report_warning(
        session=session,
        idempotency_key=uuid.uuid4(),
        flags=["rf_breathing"],
        now=noon + timedelta(days=5),
    )
    call_command(
        "export_fhir",
        str(tmp_path),
        clinic=clinic_a.pk,
        since=date(2026, 3, 15),
        stdout=io.StringIO(),
    )
    files = _read(tmp_path)
    assert_files_are_valid(files)
    assert [r["id"] for r in files["Procedure"]] == [common.resource_id("Procedure", session.pk)]
    assert [o["effectiveDateTime"] for o in files["Observation"] if "component" in o] == [
        "2026-03-15T12:00:00Z"
    ]


def _lines(export):
    return {kind: b"".join(lines) for kind, lines in export.ndjson()}


def test_rows_are_read_a_chunk_at_a_time(clinic_data):
    whole = _lines(bulk.ClinicExport(clinic_data))
    with CaptureQueriesContext(connection) as captured:
        chunked = _lines(bulk.ClinicExport(clinic_data, chunk_size=2))
    assert chunked == whole
    # Three sessions in chunks of two: their sites are fetched once per chunk.
    site_queries = [q for q in captured if 'FROM "tracker_needledsite"' in q["sql"]]
    assert len(site_queries) == 2


def test_a_lead_downloads_the_zip_as_it_is_made_and_it_is_audited(
    client, lead_a, clinic_data, tmp_path, monkeypatch
):
    monkeypatch.setattr(bulk, "FLUSH_BYTES", 512)
    client.force_login(lead_a.user)
    mark = AuditEvent.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    response = client.get(reverse("tracker:clinic_fhir_export", args=[clinic_data.pk]))
    assert response.status_code == 200 and isinstance(response, StreamingHttpResponse)
    assert response["Content-Type"] == "application/zip"
    assert response["Content-Disposition"].startswith(
        f'attachment; filename="clinic-{clinic_data.pk}-fhir-'
    )
    assert "no-store" in response["Cache-Control"]
    [event] = AuditEvent.objects.filter(pk__gt=mark)
    assert (event.action, event.clinic, event.user, event.patient, event.detail) == (
        AuditAction.EXPORT,
        clinic_data,
        lead_a.user,
        None,
        "clinic_fhir_export",
    )
    pieces = list(response.streaming_content)
    assert len(pieces) > 3  # handed on as it was made, not at the end
    archive = zipfile.ZipFile(io.BytesIO(b"".join(pieces)))
    assert archive.testzip() is None
    assert archive.namelist() == [f"{kind}.ndjson" for kind in TYPES] + ["manifest.json"]
    bulk.write_directory(bulk.ClinicExport(clinic_data), tmp_path, request="test")
    for kind in TYPES:
        assert archive.read(f"{kind}.ndjson") == (tmp_path / f"{kind}.ndjson").read_bytes()


def test_the_download_is_offered_to_leads_on_the_clinics_analytics(client, therapist_a, lead_a):
    url = reverse("tracker:clinic_fhir_export", args=[therapist_a.clinic.pk])
    page = reverse("tracker:analytics", args=[therapist_a.clinic.pk])
    client.force_login(lead_a.user)
    assert url in client.get(page).content.decode()
    client.force_login(therapist_a.user)
    assert url not in client.get(page).content.decode()

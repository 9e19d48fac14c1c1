"""The app in FHIR R4: the check-in Questionnaire, a patient's Bundle, a clinic's bulk export.

The Questionnaire is public: it holds the questions and nothing about anyone.
A patient's Bundle is open to the members of the patient's clinic, as the
JSON record is; the clinic's export to its leads. Both are audited as exports.
"""

import json

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils.cache import patch_cache_control
from django.views.decorators.http import require_GET

from tracker import clock, site
from tracker.fhir import bulk, common, questionnaire
from tracker.fhir.bundle import patient_bundle
from tracker.models import AuditAction, Clinic, Patient
from tracker.security import audit


def _fhir_json(resource: dict) -> HttpResponse:
    body = json.dumps(resource, ensure_ascii=False, indent=2)
    return HttpResponse(body, content_type=f"{common.JSON_TYPE}; charset=utf-8")


def _private(response, filename: str):
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    # Patient data: never kept by a browser or a shared cache.
    patch_cache_control(response, private=True, no_store=True)
    return response


@require_GET
def check_in_questionnaire(request):
    """The check-in as a Questionnaire, at its canonical URL."""
    response = _fhir_json(questionnaire.questionnaire())
    patch_cache_control(response, public=True, max_age=3600)
    return response


@login_required
def patient_fhir(request, pk):
    """The patient's whole record as a FHIR Bundle."""
    patient = get_object_or_404(
        Patient.objects.for_user(request.user).select_related("clinic"), pk=pk
    )
    audit.record(request, action=AuditAction.EXPORT, patient=patient, obj=patient)
    return _private(_fhir_json(patient_bundle(patient)), f"patient-{patient.pk}-fhir.json")


@login_required
def clinic_fhir_export(request, clinic_id):
    """Everything of the clinic as FHIR Bulk Data files in a zip, made while it is sent."""
    clinic = get_object_or_404(Clinic.objects.led_by(request.user), pk=clinic_id)
    audit.record(request, action=AuditAction.EXPORT, clinic=clinic, obj=clinic)
    address = site.absolute_url(reverse("tracker:clinic_fhir_export", args=[clinic.pk]), request)
    response = StreamingHttpResponse(
        bulk.zip_stream(bulk.ClinicExport(clinic), request=address), content_type="application/zip"
    )
    day = clock.now().astimezone(clinic.zone).date().isoformat()
    return _private(response, f"clinic-{clinic.pk}-fhir-{day}.zip")

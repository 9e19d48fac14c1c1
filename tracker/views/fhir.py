"""The app in FHIR R4: the check-in Questionnaire, a patient's Bundle.

The Questionnaire is public: it holds the questions and nothing about anyone.
A patient's Bundle is open to the members of the patient's clinic, as the
JSON record is, and audited as an export.
"""

import json

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from django.utils.cache import patch_cache_control
from django.views.decorators.http import require_GET

from tracker.fhir import common, questionnaire
from tracker.fhir.bundle import patient_bundle
from tracker.models import AuditAction, Patient
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
    patient = get_object_or_404(Patient.objects.for_user(request.user).select_related("clinic"), pk=pk)
    audit.record(request, action=AuditAction.EXPORT, patient=patient, obj=patient)
    return _private(_fhir_json(patient_bundle(patient)), f"patient-{patient.pk}-fhir.json")

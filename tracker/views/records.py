"""A patient's rights over their record: a copy of all of it, and erasure.

The copy comes as JSON, as a FHIR Bundle (``views/fhir.py``) and as a page
the patient can read, printed in their language. These are open to any
member of the patient's clinic (the same people who can read the record page
by page); erasure only to a lead of that clinic. All are audited.
"""

import base64
import json

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import translation
from django.utils.cache import patch_cache_control
from django.utils.translation import gettext as _

from tracker import analytics, clock, services
from tracker.exports.record import patient_record
from tracker.fhir.readable import patient_sessions
from tracker.forms.lead import EraseConfirmForm
from tracker.models import AuditAction, Patient
from tracker.queries.soreness import patient_soreness_svg
from tracker.security import audit


@login_required
def patient_export(request, pk):
    """The patient's whole record as a JSON download."""
    patient = get_object_or_404(
        Patient.objects.for_user(request.user).select_related("clinic"), pk=pk
    )
    audit.record(request, action=AuditAction.EXPORT, patient=patient, obj=patient)
    body = json.dumps(patient_record(patient), ensure_ascii=False, indent=2)
    response = HttpResponse(body, content_type="application/json; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="patient-{patient.pk}-record.json"'
    return response


@login_required
def patient_record_page(request, pk):
    """The patient's record to print and hand over, in the patient's language.

    The chart is drawn in that language too and put in the page itself (an
    image in the page's address), so the page prints in one piece.
    """
    patient = get_object_or_404(
        Patient.objects.for_user(request.user).select_related("clinic"), pk=pk
    )
    audit.record(request, action=AuditAction.VIEW, patient=patient, obj=patient)
    with translation.override(patient.language):
        sessions = patient_sessions(patient)
        chart = None
        if any(record.check_ins for record in sessions):
            svg = patient_soreness_svg(
                patient,
                band=analytics.cached_typical_course(patient.clinic),
                title=_("Your soreness after each session"),
            )
            chart = "data:image/svg+xml;base64," + base64.b64encode(svg).decode()
        response = render(
            request,
            "tracker/patient_record.html",
            {
                "patient": patient,
                "sessions": sessions,
                "chart": chart,
                "now": clock.now(),
            },
        )
        # LocaleMiddleware would otherwise label it with the reader's language.
        response["Content-Language"] = translation.get_language()
    patch_cache_control(response, private=True, no_store=True)
    return response


@login_required
def patient_erase(request, pk):
    """Confirm, then erase the patient's personal details (leads of their clinic only)."""
    patient = get_object_or_404(
        Patient.objects.led_by(request.user).select_related("clinic"), pk=pk
    )
    # Bound on every POST, even an empty one, so that it always says what is missing.
    form = EraseConfirmForm(request.POST if request.method == "POST" else None, patient=patient)
    if request.method == "POST":
        if form.is_valid():
            try:
                services.erase_patient(
                    patient=patient, user=request.user, request_ip=audit.client_ip(request)
                )
            except ValidationError as error:
                form.add_error(None, error)
            else:
                messages.success(request, _("The patient's personal details were erased."))
                return redirect("tracker:patient_detail", pk=patient.pk)
    else:
        # The confirmation page shows who the patient is: a read like any other.
        audit.record(request, action=AuditAction.VIEW, patient=patient, obj=patient)
    return render(request, "tracker/patient_erase.html", {"patient": patient, "form": form})

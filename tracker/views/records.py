"""A patient's rights over their record: a copy of all of it, and erasure.

The export is open to any member of the patient's clinic (the same people
who can read the record page by page); erasure only to a lead of that
clinic. Both are audited.
"""

import json

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _

from tracker import services
from tracker.exports.record import patient_record
from tracker.forms.lead import EraseConfirmForm
from tracker.models import AuditAction, Patient
from tracker.security import audit


@login_required
def patient_export(request, pk):
    """The patient's whole record as a JSON download."""
    patient = get_object_or_404(Patient.objects.for_user(request.user).select_related("clinic"), pk=pk)
    audit.record(request, action=AuditAction.EXPORT, patient=patient, obj=patient)
    body = json.dumps(patient_record(patient), ensure_ascii=False, indent=2)
    response = HttpResponse(body, content_type="application/json; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="patient-{patient.pk}-record.json"'
    return response


@login_required
def patient_erase(request, pk):
    """Confirm, then erase the patient's personal details (leads of their clinic only)."""
    patient = get_object_or_404(Patient.objects.led_by(request.user).select_related("clinic"), pk=pk)
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

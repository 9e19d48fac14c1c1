"""The audit trail for clinic leads: browse and filter it, download it as CSV.

Only leads see it, and only their clinics' events (``AuditEvent.objects.for_user``);
anyone else gets a 404. Dates are read, and times shown, in the clinics' time
zone when all the user's led clinics share one, and in UTC otherwise. Each
event is said in words (``tracker.queries.audit``): the page and the CSV use
the same phrase. The page names the patient (an erased one as "Erased
patient …"); the CSV holds ids and references, never names.
"""

import csv
import zoneinfo

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, StreamingHttpResponse
from django.shortcuts import render
from django.utils import timezone

from tracker import clock
from tracker.exports.csv import safe_cell
from tracker.forms.lead import AuditFilterForm
from tracker.models import AuditAction, AuditEvent, Clinic
from tracker.queries.audit import describe, erased_name
from tracker.security import audit

PAGE_SIZE = 50
UTC = zoneinfo.ZoneInfo("UTC")
CSV_HEADER = [
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


def _audit_request(request):
    """(clinics, form, zone, events) for the lead's filters; 404 for anyone who leads no clinic."""
    clinics = list(Clinic.objects.led_by(request.user))
    if not clinics:
        raise Http404("No audit trail to show.")
    zones = {clinic.time_zone for clinic in clinics}
    zone = clinics[0].zone if len(zones) == 1 else UTC
    form = AuditFilterForm(request.GET, clinics=clinics)
    events = AuditEvent.objects.for_user(request.user)
    with timezone.override(zone):
        if form.is_valid():
            events = form.filter(events)
        else:
            events = events.none()
    return clinics, form, zone, events


@login_required
def audit_list(request):
    _clinics, form, zone, events = _audit_request(request)
    events = events.select_related("user", "patient")
    page = Paginator(events, PAGE_SIZE).get_page(request.GET.get("page"))
    page.object_list = list(page.object_list)
    for event in page.object_list:
        event.words = describe(event.action, event.detail, event.object_type)
        patient = event.patient
        if patient is not None:
            event.patient_name = (
                erased_name(patient.display_name) if patient.is_erased else patient.display_name
            )
    with timezone.override(zone):
        return render(
            request,
            "tracker/audit_list.html",
            {
                "form": form,
                "page_obj": page,
                "zone": zone,
                "filtered": bool(request.GET),
            },
        )


class _Echo:
    """A file-like object for csv.writer that hands back each line instead of keeping it."""

    def write(self, value):
        return value


def _csv_rows(events):
    yield CSV_HEADER
    rows = events.values_list(
        "at",
        "clinic_id",
        "actor",
        "user_id",
        "action",
        "patient_id",
        "patient__reference",
        "object_type",
        "object_id",
        "ip",
        "detail",
    )
    for (
        at,
        clinic,
        actor,
        user,
        action,
        patient,
        reference,
        kind,
        object_id,
        ip,
        detail,
    ) in rows.iterator(chunk_size=2000):
        yield [
            at.astimezone(UTC).isoformat().replace("+00:00", "Z"),
            clinic,
            actor,
            user or "",
            action,
            describe(action, detail, kind),
            patient or "",
            safe_cell(reference or ""),
            kind,
            "" if object_id is None else object_id,
            ip or "",
            safe_cell(detail),
        ]


@login_required
def audit_csv(request):
    """The filtered events, streamed: the trail can be long, the memory need not be.

    A download is itself recorded, once for each clinic whose trail it holds:
    who took a copy of who read which patient's record, and when.
    """
    clinics, _form, _zone, events = _audit_request(request)
    recorded = [audit.record(request, action=AuditAction.EXPORT, clinic=c).pk for c in clinics]
    # The file holds the trail as it was when asked for, not its own download.
    events = events.exclude(pk__in=recorded)
    writer = csv.writer(_Echo())
    response = StreamingHttpResponse(
        (writer.writerow(row) for row in _csv_rows(events)), content_type="text/csv; charset=utf-8"
    )
    filename = f"audit-{clock.now().astimezone(UTC):%Y-%m-%d}.csv"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response

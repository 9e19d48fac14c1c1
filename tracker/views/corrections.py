"""Correcting a session while its follow-up runs, and marking one "entered in error".

Any member of staff of the session's clinic may do either (anything outside
their clinics is a 404); the services check the membership again, audit each
change and refuse a correction once the follow-up has ended.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _

from tracker import clock, services
from tracker.forms.sessions import (
    EnteredInErrorForm,
    SessionCorrectionForm,
    correction_site_formset,
)
from tracker.models import AuditAction, NeedlingSession
from tracker.security import audit


def _session(request, pk):
    return get_object_or_404(
        NeedlingSession.objects.for_user(request.user).select_related(
            "patient__clinic", "therapist"
        ),
        pk=pk,
    )


@login_required
def correct_session(request, pk):
    """The session's risk factors, notes and sites, to correct; refused once its follow-up ended."""
    session = _session(request, pk)
    patient = session.patient
    over = session.follow_up_over_at(clock.now())
    form = sites = None
    if not over:
        if request.method == "POST":
            form = SessionCorrectionForm(request.POST)
            sites = correction_site_formset(session, request.POST)
            if form.is_valid() and sites.is_valid():
                try:
                    changes = services.correct_session(
                        session=session,
                        user=request.user,
                        fields=form.cleaned_data,
                        sites=sites.site_rows,
                        request_ip=audit.client_ip(request),
                    )
                except ValidationError as error:
                    form.add_error(None, error)
                else:
                    messages.success(
                        request,
                        _("Session corrected; the change is in the audit trail.")
                        if changes
                        else _("Nothing was changed."),
                    )
                    return redirect("tracker:session_detail", pk=session.pk)
        else:
            form = SessionCorrectionForm(
                initial={
                    name: getattr(session, name)
                    for name in ("chest_wall_area", "anticoagulants", "lung_condition", "notes")
                }
            )
            sites = correction_site_formset(session)
    if request.method == "GET":
        audit.record(request, action=AuditAction.VIEW, patient=patient, obj=session)
    return render(
        request,
        "tracker/session_correct.html",
        {"session": session, "patient": patient, "form": form, "sites": sites, "over": over},
        status=409 if over and request.method == "POST" else 200,
    )


@login_required
def enter_in_error(request, pk):
    """Ask why, then mark the session "entered in error": kept and shown, never deleted."""
    session = _session(request, pk)
    patient = session.patient
    if session.is_entered_in_error:
        messages.info(request, _("This session is already marked as entered in error."))
        return redirect("tracker:session_detail", pk=session.pk)
    form = EnteredInErrorForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            services.mark_entered_in_error(
                session=session,
                user=request.user,
                reason=form.cleaned_data["reason"],
                request_ip=audit.client_ip(request),
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(
                request,
                _(
                    "The session was marked as entered in error. Its reminders and link are "
                    "stopped, its open alerts closed, and it no longer counts in the analytics."
                ),
            )
            return redirect("tracker:session_detail", pk=session.pk)
    if request.method == "GET":
        audit.record(request, action=AuditAction.VIEW, patient=patient, obj=session)
    return render(
        request,
        "tracker/session_enter_in_error.html",
        {"session": session, "patient": patient, "form": form},
    )

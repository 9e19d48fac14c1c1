"""The session pages for staff: recording a session, its page and link (replace,
send, the printable card), its chart, and correcting it or marking it entered
in error. Every session comes through a ``for_user`` queryset, so anything
outside the user's clinics is a 404; each page that shows one patient's data,
and each change, leaves an audit event (``tracker.security.audit``).
"""

import logging

import segno
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from tracker import clock, services, site
from tracker.choices import ReminderChannel, TimePoint
from tracker.forms.sessions import (
    EnteredInErrorForm,
    SessionCorrectionForm,
    SessionForm,
    SiteFormSet,
    correction_site_formset,
)
from tracker.models import AuditAction, NeedlingSession, Patient
from tracker.queries import dashboard
from tracker.queries.soreness import session_soreness_svg
from tracker.security import audit
from tracker.views.responses import svg_response

logger = logging.getLogger(__name__)


@login_required
def record_session(request, pk):
    patient = get_object_or_404(
        Patient.objects.for_user(request.user).select_related("clinic"), pk=pk
    )
    # Times typed into the form are the clinic's local times.
    with timezone.override(patient.clinic.zone):
        if request.method == "POST":
            form = SessionForm(request.POST, clinic=patient.clinic)
            sites = SiteFormSet(request.POST, prefix="sites")
            if form.is_valid() and sites.is_valid():
                try:
                    session = services.record_session(
                        patient=patient,
                        therapist=request.user,
                        sites=sites.site_rows,
                        request_ip=audit.client_ip(request),
                        **form.session_fields,
                    )
                except ValidationError as error:
                    form.add_error(None, error)
                else:
                    messages.success(
                        request, _("Session recorded. Give the patient the link below.")
                    )
                    return redirect("tracker:session_detail", pk=session.pk)
        else:
            form = SessionForm(clinic=patient.clinic)
            sites = SiteFormSet(prefix="sites")
        return render(
            request, "tracker/session_form.html", {"patient": patient, "form": form, "sites": sites}
        )


def _sessions_for(user):
    return NeedlingSession.objects.for_user(user).select_related(
        "patient__clinic", "therapist", "entered_in_error_by"
    )


def _link_qr(url: str, title: str) -> str:
    """The QR code of ``url`` as inline SVG: drawn here, nothing fetched from another host."""
    return segno.make(url, error="m").svg_inline(dark="#212529", omitsize=True, title=title)


@login_required
def session_detail(request, pk):
    session = get_object_or_404(_sessions_for(request.user), pk=pk)
    audit.record(request, action=AuditAction.VIEW, patient=session.patient, obj=session)
    follow_ups = list(session.follow_ups.select_related("report"))
    link = session.access_links.usable_at(clock.now()).first()
    url = qr_svg = None
    if link is not None:
        url = site.absolute_url(reverse("patient:check_in", args=[link.token]), request)
        qr_svg = _link_qr(url, _("QR code of the patient's link"))
    now = clock.now()
    zone = session.patient.clinic.zone
    channels = services.send_channels(session.patient)
    return render(
        request,
        "tracker/session_detail.html",
        {
            "session": session,
            "patient": session.patient,
            # The chart on the page belongs to this view: it records nothing of its own.
            "page_key": audit.page_key(request, session.patient),
            "sites": session.sites.all(),
            "cards": dashboard.AlertCards(
                session.alerts.urgent_first().values_list(*dashboard.CARD_ROW)
            ),
            "follow_ups": [(fu, fu.state_at(now)) for fu in follow_ups],
            "link": link,
            "link_url": url,
            "qr_svg": qr_svg,
            # "Scan this now, before leaving": only on the day of the session, on the clinic's clock.
            "session_is_today": session.performed_at.astimezone(zone).date()
            == now.astimezone(zone).date(),
            "send_by_email": ReminderChannel.EMAIL in channels,
            "send_by_sms": ReminderChannel.SMS in channels,
            "sends_left": services.sends_left(session, now=now) if link and channels else 0,
            # Within the check-in period a lost or shared link can be replaced.
            "can_replace_link": not session.patient.is_erased
            and not session.is_entered_in_error
            and now < session.links_expire_at,
            # Its record may be corrected until its follow-up ends.
            "can_correct": not session.follow_up_over_at(now),
            # In development, where no phone may be at hand, a way to the patient's side.
            "offer_patient_page": settings.DEBUG,
        },
    )


@login_required
@require_POST
def send_link(request, pk):
    """Send the session's link to the patient's stored email address or phone now."""
    session = get_object_or_404(_sessions_for(request.user), pk=pk)
    channel = request.POST.get("channel", "")
    try:
        services.send_access_link(
            session=session,
            user=request.user,
            channel=channel,
            request_ip=audit.client_ip(request),
        )
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    except Exception:  # noqa: BLE001 - a mail server or SMS provider that is down
        logger.warning("The link of session %s could not be sent.", session.pk, exc_info=False)
        messages.error(
            request,
            _("The link could not be sent just now. Try again, or give the patient the card."),
        )
    else:
        if channel == ReminderChannel.SMS:
            messages.success(
                request, _("The link was sent by text message to the patient's phone.")
            )
        else:
            messages.success(request, _("The link was sent by email to the patient's address."))
    return redirect("tracker:session_detail", pk=session.pk)


@login_required
def link_card(request, pk):
    """A pocket card (A6) for the patient: the QR code, the link, when each check-in opens,
    the clinic's phone and the emergency number, in the patient's language."""
    session = get_object_or_404(_sessions_for(request.user), pk=pk)
    audit.record(request, action=AuditAction.VIEW, patient=session.patient, obj=session)
    now = clock.now()
    link = session.access_links.usable_at(now).order_by("-created_at", "-pk").first()
    patient = session.patient
    context = {"session": session, "patient": patient, "clinic": patient.clinic, "link": link}
    if link is not None:
        url = site.absolute_url(reverse("patient:check_in", args=[link.token]), request)
        context["link_url"] = url
        with translation.override(patient.language):
            context["qr_svg"] = _link_qr(url, _("QR code of your check-in link"))
        # The check-ins still to answer: one answered, or whose window has closed, is no
        # use on the card.
        context["check_ins"] = [
            fu
            for fu in session.follow_ups.order_by("time_point")
            if fu.closes_at > now and fu.answered_at is None
        ]
        context["may_add_72h"] = not patient.clinic.fixed_72h and not any(
            fu.time_point == TimePoint.H72 for fu in session.follow_ups.all()
        )
    response = render(request, "tracker/link_card.html", context)
    return response


@login_required
@require_POST
def replace_link(request, pk):
    """Revoke the session's link and issue a new one: the old QR code and reminders stop working."""
    session = get_object_or_404(_sessions_for(request.user), pk=pk)
    try:
        services.replace_access_link(
            session=session, user=request.user, request_ip=audit.client_ip(request)
        )
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(
            request,
            _(
                "The patient's link was replaced. The old link and its QR code no longer open; "
                "give the patient the new one below."
            ),
        )
    return redirect("tracker:session_detail", pk=session.pk)


@login_required
def session_chart(request, pk):
    session = get_object_or_404(_sessions_for(request.user), pk=pk)
    if not audit.shown_on_page(request, session.patient):
        audit.record(request, action=AuditAction.VIEW, patient=session.patient, obj=session)
    svg = session_soreness_svg(
        session, label=_("Soreness"), title=_("Soreness after this session"), small=True
    )
    return svg_response(svg, request)


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

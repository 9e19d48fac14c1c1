"""Pages for therapists and clinic leads. Every object comes through a
``for_user`` queryset, so anything outside the user's clinics is a 404.

Each page that shows one patient's data, and each change, leaves an audit
event (``tracker.security.audit``); a change and its event are saved together.
"""

import logging

import segno
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import ValidationError
from django.db.models import Count, Max, Prefetch, Q
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from django.views.generic import CreateView, DetailView, ListView

from tracker import analytics, clock, services, site
from tracker.choices import ReminderChannel, TimePoint
from tracker.forms.staff import PatientForm, SessionForm, SiteFormSet
from tracker.models import Alert, AuditAction, FollowUp, NeedlingSession, Patient
from tracker.queries import dashboard
from tracker.queries.soreness import patient_soreness_svg, session_soreness_svg
from tracker.security import audit
from tracker.views.responses import svg_response

logger = logging.getLogger(__name__)


class PatientListView(LoginRequiredMixin, ListView):
    template_name = "tracker/patient_list.html"
    paginate_by = 50

    def get_queryset(self):
        patients = (
            Patient.objects.for_user(self.request.user)
            .select_related("clinic")
            .annotate(
                session_count=Count("sessions"), last_session_at=Max("sessions__performed_at")
            )
            .order_by("display_name", "pk")
        )
        # No NUL: PostgreSQL refuses it in any text, even a search term.
        query = self.request.GET.get("q", "").replace("\x00", "").strip()[:100]
        if query:
            patients = patients.filter(
                Q(display_name__icontains=query) | Q(reference__iexact=query)
            )
        return patients

    def get_context_data(self, **kwargs):
        return super().get_context_data(query=self.request.GET.get("q", "")[:100], **kwargs)

    def paginate_queryset(self, queryset, page_size):
        # A page number that is none (edited by hand, or past the end after a
        # search) shows the nearest page, as the alert inbox does, not a 404.
        paginator = self.get_paginator(queryset, page_size)
        page = paginator.get_page(self.request.GET.get(self.page_kwarg))
        return paginator, page, page.object_list, page.has_other_pages()


class PatientCreateView(LoginRequiredMixin, CreateView):
    form_class = PatientForm
    template_name = "tracker/patient_form.html"

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "user": self.request.user}

    def form_valid(self, form):
        self.object = services.add_patient(
            patient=form.save(commit=False),
            user=self.request.user,
            request_ip=audit.client_ip(self.request),
        )
        return HttpResponseRedirect(self.get_success_url())

    def get_success_url(self):
        messages.success(self.request, _("Patient added."))
        return reverse("tracker:patient_detail", args=[self.object.pk])


class PatientDetailView(LoginRequiredMixin, DetailView):
    """All of a patient's sessions, their check-ins and sites, and the soreness chart."""

    template_name = "tracker/patient_detail.html"
    context_object_name = "patient"

    def get_queryset(self):
        sessions = NeedlingSession.objects.select_related("therapist").prefetch_related(
            "sites",
            Prefetch("follow_ups", queryset=FollowUp.objects.select_related("report")),
            Prefetch(
                "alerts",
                queryset=Alert.objects.select_related("acknowledged_by").order_by("opened_at"),
            ),
        )
        return (
            Patient.objects.for_user(self.request.user)
            .select_related("clinic")
            .prefetch_related(Prefetch("sessions", queryset=sessions))
        )

    def get(self, request, *args, **kwargs):
        response = super().get(request, *args, **kwargs)
        audit.record(request, action=AuditAction.VIEW, patient=self.object, obj=self.object)
        return response

    def get_context_data(self, **kwargs):
        return super().get_context_data(
            now=clock.now(),
            # Whether the chart draws the clinic's typical band (the same cached course it uses).
            typical_band=analytics.cached_typical_course(self.object.clinic) is not None,
            **kwargs,
        )


class VisitSummaryView(PatientDetailView):
    """A printable page to bring to the next visit: one block per session."""

    template_name = "tracker/visit_summary.html"


@login_required
def patient_chart(request, pk):
    patient = get_object_or_404(
        Patient.objects.for_user(request.user).select_related("clinic"), pk=pk
    )
    audit.record(request, action=AuditAction.VIEW, patient=patient, obj=patient)
    svg = patient_soreness_svg(
        patient,
        band=analytics.cached_typical_course(patient.clinic),
        title=_("Soreness after each session"),
    )
    return svg_response(svg)


@login_required
def record_session(request, pk):
    patient = get_object_or_404(
        Patient.objects.for_user(request.user).select_related("clinic"), pk=pk
    )
    # Times typed into the form are the clinic's local times.
    with timezone.override(patient.clinic.zone):
        if request.method == "POST":
            form = SessionForm(request.POST)
            sites = SiteFormSet(request.POST, prefix="sites")
            if form.is_valid() and sites.is_valid():
                try:
                    session = services.record_session(
                        patient=patient,
                        therapist=request.user,
                        sites=sites.site_rows,
                        request_ip=audit.client_ip(request),
                        **form.cleaned_data,
                    )
                except ValidationError as error:
                    form.add_error(None, error)
                else:
                    messages.success(
                        request, _("Session recorded. Give the patient the link below.")
                    )
                    return redirect("tracker:session_detail", pk=session.pk)
        else:
            form = SessionForm()
            sites = SiteFormSet(prefix="sites")
        return render(
            request, "tracker/session_form.html", {"patient": patient, "form": form, "sites": sites}
        )


def _sessions_for(user):
    return NeedlingSession.objects.for_user(user).select_related("patient__clinic", "therapist")


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
            "sites": session.sites.all(),
            "alerts": list(
                session.alerts.select_related("acknowledged_by")
                .prefetch_related(dashboard.ATTEMPTS)
                .urgent_first()
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
            "can_replace_link": not session.patient.is_erased and now < session.links_expire_at,
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
    audit.record(request, action=AuditAction.VIEW, patient=session.patient, obj=session)
    svg = session_soreness_svg(
        session, label=_("Soreness"), title=_("Soreness after this session"), small=True
    )
    return svg_response(svg)

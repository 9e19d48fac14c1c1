"""Pages for therapists and clinic leads. Every object comes through a
``for_user`` queryset, so anything outside the user's clinics is a 404.

Each page that shows one patient's data, and each change, leaves an audit
event (``tracker.security.audit``); a change and its event are saved together.
"""

import copy
import logging

import segno
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import ValidationError
from django.db.models import Prefetch
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from django.views.generic import CreateView, DetailView, ListView

from tracker import analytics, clock, names, services, site
from tracker.choices import ReminderChannel, TimePoint
from tracker.forms.patient_details import PatientEditForm, PatientFilterForm, PatientForm
from tracker.forms.sessions import SessionForm, SiteFormSet
from tracker.models import Alert, AuditAction, Clinic, FollowUp, NeedlingSession, Patient
from tracker.queries import dashboard
from tracker.queries.patients import patient_list
from tracker.queries.soreness import patient_soreness_svg, session_soreness_svg
from tracker.security import audit
from tracker.views.responses import svg_response

User = get_user_model()
logger = logging.getLogger(__name__)


class PatientListView(LoginRequiredMixin, ListView):
    """The patients of the user's clinics: searched, filtered, sorted, 50 a page.

    Two queries a page whatever it shows (the count and the page: sessions,
    last session, a shared name are columns of the same query), and one for
    the therapist filter's choices.
    """

    template_name = "tracker/patient_list.html"
    paginate_by = 50

    def get_queryset(self):
        user = self.request.user
        self.filter_form = PatientFilterForm(
            self.request.GET,
            therapists=User.objects.filter(memberships__clinic__in=Clinic.objects.for_user(user))
            .distinct()
            .order_by("first_name", "last_name", "username"),
        )
        self.filter_form.is_valid()  # an unknown value is left out of cleaned_data
        filters = self.filter_form.cleaned_data
        return patient_list(
            user,
            clock.now(),
            query=filters.get("q", ""),
            therapist=filters.get("therapist", ""),
            status=filters.get("status", ""),
            sort=filters.get("sort") or "name",
        )

    def get_context_data(self, **kwargs):
        filters = self.filter_form.cleaned_data
        return super().get_context_data(
            query=filters.get("q", ""),
            filter_form=self.filter_form,
            filtered=any(filters.get(name) for name in ("q", "therapist", "status")),
            **kwargs,
        )

    def paginate_queryset(self, queryset, page_size):
        # A page number that is none (edited by hand, or past the end after a
        # search) shows the nearest page, as the alert inbox does, not a 404.
        paginator = self.get_paginator(queryset, page_size)
        page = paginator.get_page(self.request.GET.get(self.page_kwarg))
        return paginator, page, page.object_list, page.has_other_pages()


def _possible_duplicates(request, form, *, clinic_id, exclude_pk=None) -> list:
    """Patients to show before saving (same name ignoring accents, case and word order,
    same year of birth, same clinic); none once the user chose "Save anyway"."""
    if "save_anyway" in request.POST:
        return []
    return list(
        services.possible_duplicates(
            clinic_id=clinic_id,
            display_name=form.cleaned_data["display_name"],
            year_of_birth=form.cleaned_data.get("year_of_birth"),
            exclude_pk=exclude_pk,
        )[:5]
    )


class PatientCreateView(LoginRequiredMixin, CreateView):
    form_class = PatientForm
    template_name = "tracker/patient_form.html"

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "user": self.request.user}

    def form_valid(self, form):
        duplicates = _possible_duplicates(
            self.request, form, clinic_id=form.cleaned_data["clinic"].pk
        )
        if duplicates:
            return self.render_to_response(self.get_context_data(form=form, duplicates=duplicates))
        self.object = services.add_patient(
            patient=form.save(commit=False),
            user=self.request.user,
            request_ip=audit.client_ip(self.request),
        )
        return HttpResponseRedirect(self.get_success_url())

    def get_success_url(self):
        messages.success(self.request, _("Patient added."))
        return reverse("tracker:patient_detail", args=[self.object.pk])


@login_required
def patient_edit(request, pk):
    """Correct a patient's details (the staff of their clinic; not once erased)."""
    patient = get_object_or_404(
        Patient.objects.for_user(request.user)
        .filter(erased_at__isnull=True)
        .select_related("clinic"),
        pk=pk,
    )
    duplicates = []
    if request.method == "POST":
        # The form works on a copy, so the page's heading keeps the stored name.
        form = PatientEditForm(request.POST, instance=copy.copy(patient), user=request.user)
        if form.is_valid():
            # Asked again only when the name or year changes: a known namesake does
            # not stand in the way of every later correction.
            renamed = (
                names.name_key(form.cleaned_data["display_name"]) != patient.name_key
                or form.cleaned_data.get("year_of_birth") != patient.year_of_birth
            )
            if renamed:
                duplicates = _possible_duplicates(
                    request, form, clinic_id=patient.clinic_id, exclude_pk=patient.pk
                )
            if not duplicates:
                try:
                    changed = services.update_patient(
                        patient=patient,
                        changes={name: form.cleaned_data[name] for name in form.Meta.fields},
                        user=request.user,
                        request_ip=audit.client_ip(request),
                    )
                except ValidationError as error:
                    form.add_error(None, error)
                else:
                    messages.success(
                        request,
                        _("Patient’s details saved.") if changed else _("Nothing was changed."),
                    )
                    return redirect("tracker:patient_detail", pk=patient.pk)
    else:
        audit.record(request, action=AuditAction.VIEW, patient=patient, obj=patient)
        form = PatientEditForm(instance=copy.copy(patient), user=request.user)
    return render(
        request,
        "tracker/patient_form.html",
        {"form": form, "patient": patient, "duplicates": duplicates, "editing": True},
    )


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
        # The chart on the page belongs to this view: it records nothing of its own.
        response.context_data["page_key"] = audit.page_key(request, self.object)
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
    if not audit.shown_on_page(request, patient):
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
    return svg_response(svg)

"""The patient pages for staff: the list, adding and editing, the patient page,
the visit summary and the patient's chart. Every object comes through a
``for_user`` queryset, so anything outside the user's clinics is a 404.

Each page that shows one patient's data, and each change, leaves an audit
event (``tracker.security.audit``); a change and its event are saved together.
"""

import copy
import logging

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import ValidationError
from django.db.models import Prefetch
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.generic import CreateView, DetailView, ListView

from tracker import analytics, clock, fragments, names, services
from tracker.forms.patient_details import PatientEditForm, PatientFilterForm, PatientForm
from tracker.models import AuditAction, Clinic, Patient
from tracker.queries.patients import patient_list, session_block_keys, sessions_shown
from tracker.queries.soreness import patient_soreness_svg
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


class _PatientPage(LoginRequiredMixin, DetailView):
    """A page of the whole patient: it records that the patient's record was viewed."""

    context_object_name = "patient"

    def get_queryset(self):
        return Patient.objects.for_user(self.request.user).select_related("clinic")

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


class PatientDetailView(_PatientPage):
    """All of a patient's sessions, their check-ins and sites, and the soreness chart.

    Each session's block is kept rendered under a digest of what it shows
    (``session_block_keys``, read as plain values): a patient seen again reads
    no session as a model, and one whose check-in was just answered reads
    only that session (tracker.fragments).
    """

    template_name = "tracker/patient_detail.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        patient, now = self.object, context["now"]
        zone = patient.clinic.time_zone

        def draw(session_ids):
            sessions = sessions_shown().filter(pk__in=session_ids).in_bulk()
            with timezone.override(zone):
                return [
                    render_to_string(
                        "tracker/_patient_session.html", {"session": sessions[pk], "now": now}
                    )
                    for pk in session_ids
                ]

        context["session_blocks"] = fragments.kept(
            "patient_session",
            session_block_keys(patient, now),
            draw,
            vary_on=(get_language(), zone),
        )
        return context


class VisitSummaryView(_PatientPage):
    """A printable page to bring to the next visit: one block per session."""

    template_name = "tracker/visit_summary.html"

    def get_queryset(self):
        return super().get_queryset().prefetch_related(Prefetch("sessions", sessions_shown()))


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
    return svg_response(svg, request)

"""The patient's pages, reached by the token in their link; no login.

A token that is unknown, expired or revoked gets the same 404 page, so the
page tells nothing about which links exist.
"""

import uuid

from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.cache import never_cache

from tracker import clock, services
from tracker.forms import FEELING_FINE, CheckInForm
from tracker.models import FollowUpState, SymptomReport
from tracker.models.followups import ANSWERABLE_STATES


def _link_not_found(request):
    return render(request, "patient/link_not_found.html", status=404)


def _page_context(link):
    session = link.session
    now = clock.now()
    follow_ups = list(session.follow_ups.select_related("report"))
    states = [(fu, fu.state_at(now)) for fu in follow_ups]
    open_now = [fu for fu, state in states if state in ANSWERABLE_STATES]
    upcoming = [fu for fu, state in states if state == FollowUpState.UPCOMING]
    return {
        "session": session,
        "clinic": session.patient.clinic,
        "follow_ups": states,
        # When two windows overlap, ask about now rather than the past.
        "open_follow_up": open_now[-1] if open_now else None,
        "next_follow_up": upcoming[0] if upcoming else None,
    }


@never_cache
def check_in(request, token):
    link = services.find_access_link(token)
    if link is None:
        return _link_not_found(request)
    patient = link.session.patient
    with timezone.override(patient.clinic.zone):
        context = _page_context(link)
        follow_up = context["open_follow_up"]
        form = None
        if follow_up is not None:
            if request.method == "POST":
                form = CheckInForm(request.POST)
                if form.is_valid():
                    try:
                        report, _created = services.submit_report(
                            follow_up=follow_up,
                            idempotency_key=form.cleaned_data["key"],
                            answers=form.answers,
                        )
                    except services.FollowUpNotOpen:
                        return redirect("patient:check_in", token=token)
                    return redirect(
                        "patient:done", token=token, time_point=report.follow_up.time_point
                    )
            else:
                form = CheckInForm()
        elif request.method == "POST":
            # A resend after the follow-up was answered: show its confirmation.
            key = request.POST.get("key", "")
            report = _report_for_key(link, key)
            if report is not None:
                return redirect("patient:done", token=token, time_point=report.follow_up.time_point)
        context["form"] = form
        if form is not None:
            context["bruise_fields"] = [form["bruise_growing"], form["bruise_elsewhere"]]
            context["feeling_fine"] = FEELING_FINE
        return render(request, "patient/check_in.html", context)


def _report_for_key(link, key):
    try:
        key = uuid.UUID(key)
    except ValueError:
        return None
    return (
        SymptomReport.objects.select_related("follow_up")
        .filter(idempotency_key=key, follow_up__session=link.session)
        .first()
    )


@never_cache
def done(request, token, time_point):
    link = services.find_access_link(token)
    if link is None:
        return _link_not_found(request)
    patient = link.session.patient
    with timezone.override(patient.clinic.zone):
        report = (
            SymptomReport.objects.select_related("follow_up")
            .filter(follow_up__session=link.session, follow_up__time_point=time_point)
            .first()
        )
        if report is None:
            return _link_not_found(request)
        context = _page_context(link)
        context["report"] = report
        return render(request, "patient/done.html", context)


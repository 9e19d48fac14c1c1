"""The patient's pages, reached by the token in their link; no login.

An unknown token gets a plain 404 that tells nothing about which links
exist; a known link that has expired or was replaced is a 404 too, but says
so kindly, with the clinic's phone number.
"""

import functools
import uuid

from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt

from tracker import clock, plots, services
from tracker.forms import FEELING_FINE, CheckInForm
from tracker.models import FollowUpState, SymptomReport
from tracker.models.followups import ANSWERABLE_STATES


def patient_link(view):
    """Resolve the token to a usable link and show times in the clinic's zone.

    Patient pages send no referrer at all, so that the token in their URL
    never reaches another site. Browsers then post forms with ``Origin:
    null``, which Django's CSRF check refuses; these views are exempt from it
    because the 256-bit token in the URL already does that job: a forged
    request cannot name a link it does not know. They also set no cookie.
    """

    @functools.wraps(view)
    @csrf_exempt
    @never_cache
    def wrapper(request, token, *args, **kwargs):
        link = services.lookup_access_link(token)
        if link is None:
            response = render(request, "patient/link_not_found.html", status=404)
        else:
            clinic = link.session.patient.clinic
            with timezone.override(clinic.zone):
                if link.is_usable_at(clock.now()):
                    response = view(request, link, *args, **kwargs)
                else:
                    context = {"clinic": clinic, "session": link.session, "revoked": link.revoked_at}
                    response = render(request, "patient/link_closed.html", context, status=404)
        response["Referrer-Policy"] = "no-referrer"
        return response

    return wrapper


def _page_context(link):
    session = link.session
    now = clock.now()
    states = [(fu, fu.state_at(now)) for fu in session.follow_ups.select_related("report")]
    answerable = [fu for fu, state in states if state in ANSWERABLE_STATES]
    upcoming = [fu for fu, state in states if state == FollowUpState.UPCOMING]
    return {
        "token": link.token,
        "session": session,
        "clinic": session.patient.clinic,
        "follow_ups": states,
        "answered": [fu for fu, state in states if state == FollowUpState.ANSWERED],
        # When two windows overlap, ask about now rather than the past.
        "open_follow_up": answerable[-1] if answerable else None,
        "next_follow_up": upcoming[0] if upcoming else None,
    }


@patient_link
def check_in(request, link):
    context = _page_context(link)
    follow_up = context["open_follow_up"]
    form = None
    if follow_up is not None:
        form = CheckInForm(request.POST if request.method == "POST" else None)
        if form.is_bound and form.is_valid():
            try:
                report, _created = services.submit_report(
                    follow_up=follow_up,
                    idempotency_key=form.cleaned_data["key"],
                    answers=form.answers,
                )
            except services.FollowUpNotOpen:
                return redirect("patient:check_in", token=link.token)
            return redirect("patient:done", token=link.token, time_point=report.follow_up.time_point)
    elif request.method == "POST":
        # A resend after the check-in was answered: show its confirmation.
        report = _report_for_key(link, request.POST.get("key", ""))
        if report is not None:
            return redirect("patient:done", token=link.token, time_point=report.follow_up.time_point)
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


@patient_link
def done(request, link, time_point):
    report = (
        SymptomReport.objects.select_related("follow_up")
        .filter(follow_up__session=link.session, follow_up__time_point=time_point)
        .first()
    )
    if report is None:
        return render(request, "patient/link_not_found.html", status=404)
    context = _page_context(link)
    context["report"] = report
    context["trend"] = _trend([fu.report.soreness for fu in context["answered"]])
    return render(request, "patient/done.html", context)


def _trend(soreness: list[int]) -> str | None:
    """How the latest soreness compares with the one before it."""
    if len(soreness) < 2 or soreness[-1] == soreness[-2]:
        return None
    return "easing" if soreness[-1] < soreness[-2] else "rising"


@patient_link
def soreness_chart(request, link):
    svg = plots.session_soreness_svg(
        link.session, label=_("Your soreness"), title=_("Your soreness since the session"),
        small=True,
    )
    return HttpResponse(svg, content_type="image/svg+xml")

"""The patient's pages, reached by the token in their link; no login.

An unknown token gets a plain 404 that tells nothing about which links
exist; a known link that has expired or was replaced, or whose session the
clinic marked "entered in error", is a 404 too, but says so kindly, with the
clinic's phone number (and, for a follow-up the clinic closed, the emergency
number).

Pages speak the patient's language (``Patient.language``, set by the clinic
and switchable by the patient on every page), never the browser's: a phone
borrowed from a relative, or set to another language, must not change what
the patient reads. The unknown-link page speaks English and Spanish both,
since nobody is known to choose for.
"""

import functools
import math
import uuid

from django.conf import settings
from django.http import HttpResponseBadRequest, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.functional import SimpleLazyObject
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from tracker import clock, services
from tracker.alerts.rules import guidance_for
from tracker.choices import RedFlag
from tracker.forms.patient import FEELING_FINE, CheckInForm, WarningForm, questions_digest
from tracker.models import FollowUpState, SymptomReport
from tracker.models.followups import ANSWERABLE_STATES
from tracker.queries.soreness import session_soreness_svg
from tracker.security import ratelimit
from tracker.views.responses import safe_next, svg_data_uri, svg_response


def patient_link(view):
    """Resolve the token to a usable link; clinic's time zone, patient's language.

    Patient pages send no referrer at all, so that the token in their URL
    never reaches another site. Browsers then post forms with ``Origin:
    null``, which Django's CSRF check refuses; these views are exempt from it
    because the 256-bit token in the URL already does that job: a forged
    request cannot name a link it does not know. They also set no cookie.

    A right token is always answered, however many wrong ones came from the
    same address (a clinic's Wi-Fi, a carrier's shared address): only tokens
    that match no link are counted (``_unknown_link``).
    """

    @functools.wraps(view)
    @csrf_exempt
    @never_cache
    def wrapper(request, token, *args, **kwargs):
        response = _open_link(request, token, view, *args, **kwargs)
        response["Referrer-Policy"] = "no-referrer"
        return response

    return wrapper


def _open_link(request, token, view, *args, **kwargs):
    link = services.lookup_access_link(token)
    if link is None:
        return _unknown_link(request)

    patient = link.session.patient
    clinic = patient.clinic
    with timezone.override(clinic.zone), translation.override(patient.language):
        if link.session.entered_in_error_at is not None:
            # Whichever of the session's links: the clinic closed this follow-up.
            context = {"clinic": clinic, "session": link.session, "closed_by_clinic": True}
            response = render(request, "patient/link_closed.html", context, status=404)
        elif link.is_usable_at(clock.now()):
            response = view(request, link, *args, **kwargs)
        else:
            context = {"clinic": clinic, "session": link.session, "revoked": link.revoked_at}
            response = render(request, "patient/link_closed.html", context, status=404)
        # LocaleMiddleware would otherwise label it with the browser's language.
        response["Content-Language"] = translation.get_language()
    return response


def _unknown_link(request):
    """A token that matches no link: 404, or 429 past ``LINK_MISSES_PER_HOUR`` from this address.

    Counted per client address, and per /64 for IPv6 (``ratelimit.client_key``).
    A token is 256 bits, so guessing one is hopeless at any rate; the limit
    keeps a flood of junk requests cheap to answer and out of the logs' way.
    Whose link this was is unknown: the pages say it in every language.
    """
    misses, wait = ratelimit.hit(
        "link-misses", ratelimit.client_key(request), seconds=3600, now=clock.now().timestamp()
    )
    if misses > settings.LINK_MISSES_PER_HOUR:
        response = _bilingual(
            request, "patient/too_many_requests.html", {"minutes": math.ceil(wait / 60)}, status=429
        )
        response["Retry-After"] = str(wait)
        return response
    return _bilingual(request, "patient/link_not_found.html", _link_days(), status=404)


def _link_days() -> dict:
    return {"link_days": settings.ACCESS_LINK_LIFETIME_DAYS}


def _bilingual(request, template, context, *, status):
    """A page for a visitor whose language is unknown: it says everything in every language."""
    with translation.override(settings.LANGUAGE_CODE):
        response = render(request, template, context, status=status)
    response["Content-Language"] = ", ".join(code for code, _name in settings.LANGUAGES)
    return response


def _page_context(link):
    session = link.session
    now = clock.now()
    # Read with the link (services.lookup_access_link), with their reports.
    follow_ups = session.follow_up_list
    states = [(fu, fu.state_at(now)) for fu in follow_ups]
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
        questions = {
            "time_point": follow_up.time_point,
            "last_planned": follow_up.time_point
            >= max(link.session.patient.clinic.fixed_time_points),
        }
        if request.method == "POST":
            form = CheckInForm(request.POST, **questions)
            if form.is_valid():
                try:
                    report, _created = services.submit_report(
                        follow_up=follow_up,
                        idempotency_key=form.cleaned_data["key"],
                        answers=form.answers,
                    )
                except services.FollowUpNotOpen:
                    return redirect("patient:check_in", token=link.token)
                return redirect(
                    "patient:done", token=link.token, time_point=report.follow_up.time_point
                )
            flags = form.warning_signs
            if flags and services.report_warning_signs(follow_up=follow_up, flags=flags):
                # Answers missing, but a warning sign ticked: the clinic is
                # told now, as the patient may be calling for help instead,
                # and the page says what to do first ("emergency" or "doctor").
                context["warning_sent"] = guidance_for(flags)
            key = form["key"].value()
        else:
            # The unanswered questions are kept rendered (check_in.html): the form
            # is made only if they are to be drawn.
            form = SimpleLazyObject(functools.partial(CheckInForm, **questions))
            key = uuid.uuid4()
        context.update(
            bound=request.method == "POST",
            key=key,
            questions_digest=questions_digest(**questions),
            bruise_fields=SimpleLazyObject(
                lambda: [form["bruise_growing"], form["bruise_elsewhere"]]
            ),
            feeling_fine=FEELING_FINE,
        )
    else:
        if request.method == "POST":
            # A resend after the check-in was answered: show its confirmation.
            report = _report_for_key(link, request.POST.get("key", ""))
            if report is not None:
                return redirect(
                    "patient:done", token=link.token, time_point=report.follow_up.time_point
                )
        context.update(_warning_context(WarningForm()))
    context["form"] = form
    return render(request, "patient/check_in.html", context)


def _warning_context(form) -> dict:
    key = form["key"].value() if form.is_bound and not form.has_error("key") else None
    return {"warning_form": form, "warning_key": key or uuid.uuid4()}


@patient_link
def warning(request, link):
    """Warning signs with no check-in open: the clinic is alerted at once.

    Posted from the check-in page whenever it has no check-in to answer
    (between check-ins, after answering one, after the last); answered,
    like a check-in, by a redirect to a page of its own (GET), which shows
    what to do about the latest signs reported. A resend stores nothing more.
    """
    session = link.session
    if request.method == "POST":
        form = WarningForm(request.POST)
        if form.is_valid():
            try:
                services.report_warning(
                    session=session,
                    idempotency_key=form.cleaned_data["key"],
                    flags=form.cleaned_data["red_flags"],
                )
            except services.SessionClosed:
                return redirect("patient:check_in", token=link.token)
            return redirect("patient:warning", token=link.token)
        context = _page_context(link)
        # The signs to tick again, even if a check-in opened meanwhile.
        context.update(_warning_context(form), open_follow_up=None, form=None)
        return render(request, "patient/check_in.html", context)
    warning = session.warning_reports.last()
    if warning is None:
        return redirect("patient:check_in", token=link.token)
    context = {
        "token": link.token,
        "session": session,
        "clinic": session.patient.clinic,
        "warning": warning,
        "guidance": guidance_for(warning.flags),
    }
    return render(request, "patient/warning_sent.html", context)


def _report_for_key(link, key):
    try:
        key = uuid.UUID(key)
    except ValueError:
        return None
    return next((report for report in _reports(link) if report.idempotency_key == key), None)


def _reports(link) -> list[SymptomReport]:
    """The session's reports, in time-point order, as read with the link."""
    return [
        follow_up.report
        for follow_up in link.session.follow_up_list
        if hasattr(follow_up, "report")
    ]


@patient_link
def done(request, link, time_point):
    report = next(
        (report for report in _reports(link) if report.follow_up.time_point == time_point), None
    )
    if report is None:
        return render(request, "patient/link_not_found.html", _link_days(), status=404)
    context = _page_context(link)
    context["report"] = report
    # "emergency" (call now) or "doctor" (infection alone: a doctor today).
    context["guidance"] = (
        guidance_for(flag for flag in RedFlag.values if getattr(report, flag))
        if report.has_red_flag
        else None
    )
    context["trend"] = _trend([fu.report.soreness for fu in context["answered"]])
    patient = link.session.patient
    # The reminder job's own rule (``due_reminders``): consent and an address for the channel.
    context["reminder_coming"] = patient.reminders_consent and services.has_reminder_address(
        patient
    )
    if not report.has_red_flag and len(context["answered"]) > 1:
        # In the page: on a slow network a chart of its own is one more round trip.
        context["chart_uri"] = svg_data_uri(_soreness_svg(link.session))
    return render(request, "patient/done.html", context)


def _trend(soreness: list[int]) -> str | None:
    """How the latest soreness compares with the one before it."""
    if len(soreness) < 2 or soreness[-1] == soreness[-2]:
        return None
    return "easing" if soreness[-1] < soreness[-2] else "rising"


def _soreness_svg(session) -> bytes:
    return session_soreness_svg(
        session,
        label=_("Your soreness"),
        title=_("Your soreness since the session"),
        small=True,
    )


@patient_link
def soreness_chart(request, link):
    """The done page's chart as a file of its own (the page itself carries it inline)."""
    return svg_response(_soreness_svg(link.session), request)


@patient_link
@require_POST
def set_language(request, link):
    """Switch the patient's pages to another language, and their reminders with them.

    It is the patient's own preference, stored on the patient (patient pages
    set no cookie), so the clinic's record and the next reminder follow it.
    Back to the check-in, or to ``next`` when it is another page of this
    same link: never anywhere else.
    """
    language = request.POST.get("language", "")
    if language not in dict(settings.LANGUAGES):
        return HttpResponseBadRequest(
            _("This language is not available."), content_type="text/plain"
        )
    services.set_language(patient=link.session.patient, language=language)
    check_in_url = reverse("patient:check_in", args=[link.token])
    if next_url := safe_next(request, within=check_in_url):
        return HttpResponseRedirect(next_url)
    return redirect(check_in_url)

"""What happens around a member of staff's sign-in: session limits and the second step.

A staff session ends after ``SESSION_IDLE_MINUTES`` without a request and,
however busy, ``SESSION_COOKIE_AGE`` seconds after signing in (the cookie and
the stored session expire then too, since the expiry is fixed at sign-in and
never slides).

The second step (django-otp, TOTP) is asked right after the password: of
anyone with a confirmed device, and of a lead of a clinic that requires it,
who is first sent to set one up. What the session still needs is worked out
once, at sign-in, and kept in the session, so staff pages cost no query for it.
A clinic that starts requiring it reaches its leads at their next sign-in.

Patient link pages are never touched here: they set no session and no cookie.
"""

import time
from datetime import timedelta
from urllib.parse import urlencode

from axes.attempts import get_cool_off_threshold
from axes.helpers import get_client_username
from axes.models import AccessAttempt
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.signals import user_logged_in
from django.db.models import Sum
from django.dispatch import receiver
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django_otp import user_has_device

from tracker.choices import Role
from tracker.models import Membership, StaffProfile

# Session keys (seconds since the epoch, and what the second step still needs).
SIGNED_IN_AT = "tracker.signed_in_at"
LAST_SEEN_AT = "tracker.last_seen_at"
TWO_STEP = "tracker.two_step"
# The language the staff member chose for themselves (StaffProfile), kept in the
# session at sign-in so that no page pays a query to read it.
LANGUAGE = "tracker.language"

# What TWO_STEP holds.
VERIFY = "verify"  # has a device: must type a code before any staff page
ENROL = "enrol"  # must set up a device before any staff page
DONE = "done"  # nothing (more) to ask

# Last-seen is written at most this often, so that a page does not cost a
# session write per request; the idle limit is exact to within this.
TOUCH_EVERY_SECONDS = 60

# Pages a signed-in user can reach before the second step is done: the way
# out, and the second step itself. (Patient pages are outside this middleware
# altogether; static files are served before it.)
OPEN_BEFORE_SECOND_STEP = {"login", "logout", "admin:logout", "healthz"}


def _now() -> float:
    # Seconds since the epoch: the session (JSON) can hold a number, not a datetime.
    return time.time()


def failure_limit(request, credentials=None) -> int:
    """django-axes' AXES_FAILURE_LIMIT: the limit that applies to this sign-in now.

    django-axes counts wrong passwords for each of AXES_LOCKOUT_PARAMETERS
    (the username from this address; the username from any address) and
    locks once the larger count reaches one limit. Two limits are wanted: a
    few from one address (``SIGNIN_FAILURES_PER_ADDRESS``), more from all of
    them (``SIGNIN_FAILURES_PER_ACCOUNT``, a password sprayed from many
    addresses). So the limit is the pair's once the pair has reached it, and
    the account's otherwise: the larger count then reaches the limit exactly
    when either count reaches its own. One query: this pair's failures.
    """
    per_address = settings.SIGNIN_FAILURES_PER_ADDRESS
    failures = (
        AccessAttempt.objects.filter(
            username=get_client_username(request, credentials),
            ip_address=getattr(request, "axes_ip_address", None),
            attempt_time__gte=get_cool_off_threshold(request),
        ).aggregate(total=Sum("failures_since_start"))["total"]
        or 0
    )
    return per_address if failures >= per_address else settings.SIGNIN_FAILURES_PER_ACCOUNT


def second_step_needed(user) -> str:
    """VERIFY, ENROL or DONE for a user who has just given the right password."""
    if user_has_device(user, confirmed=True):
        return VERIFY
    if two_step_required(user):
        return ENROL
    return DONE


def two_step_required(user) -> bool:
    """Whether a clinic the user leads requires the second step of its leads."""
    return Membership.objects.filter(
        user=user, role=Role.LEAD, clinic__require_2fa_for_leads=True
    ).exists()


@receiver(user_logged_in, dispatch_uid="tracker.security.signin.start_session")
def start_session(sender, request, user, **kwargs):
    """Fix the session's end, start the idle clock, and note what the second step needs."""
    if request is None or not hasattr(request, "session"):
        return
    now = _now()
    request.session[SIGNED_IN_AT] = now
    request.session[LAST_SEEN_AT] = now
    # A fixed moment, not a number of seconds: saving the session later does
    # not move it, so SESSION_COOKIE_AGE is a maximum, not an idle limit.
    request.session.set_expiry(timezone.now() + timedelta(seconds=settings.SESSION_COOKIE_AGE))
    # django-otp's own login hook may already have verified a device (an
    # OTP-aware login form); then nothing is left to ask.
    if getattr(user, "otp_device", None) is not None:
        request.session[TWO_STEP] = DONE
    else:
        request.session[TWO_STEP] = second_step_needed(user)
    profile = StaffProfile.objects.filter(user=user).values_list("language", flat=True).first()
    if profile:
        remember_language(request, profile)


def remember_language(request, language: str) -> None:
    """Show this session's staff pages in ``language`` from the next request on."""
    request.session[LANGUAGE] = language


class StaffLanguageMiddleware:
    """Staff pages in the language the staff member chose, whatever the browser says.

    After LocaleMiddleware (the browser's language, for staff who chose
    none) and the session. Patient pages set the patient's language
    themselves, over this.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        session = getattr(request, "session", None)
        language = session.get(LANGUAGE) if session is not None else None
        if language in dict(settings.LANGUAGES):
            translation.activate(language)
            request.LANGUAGE_CODE = language
        return self.get_response(request)


def second_step_done(request):
    """Call once the user has typed a good code (or set up a device)."""
    request.session[TWO_STEP] = DONE


class StaffSessionMiddleware:
    """End idle and over-age staff sessions; hold back staff pages until the second step.

    Placed after AuthenticationMiddleware and django-otp's OTPMiddleware. It
    works in ``process_view`` so that it knows which page is asked for:
    patient link pages (namespace ``patient``) are left alone entirely.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        match = request.resolver_match
        if match is not None and "patient" in match.namespaces:
            return None
        # No session cookie: nothing to end or ask, and nothing is created here.
        if not request.user.is_authenticated:
            return None

        session = request.session
        now = _now()
        signed_in_at = session.get(SIGNED_IN_AT)
        last_seen_at = session.get(LAST_SEEN_AT)
        if not isinstance(signed_in_at, (int, float)) or not isinstance(last_seen_at, (int, float)):
            # A session from before these limits, or made some other way: start counting now.
            signed_in_at = last_seen_at = now
            session[SIGNED_IN_AT] = session[LAST_SEEN_AT] = now

        if now - last_seen_at > settings.SESSION_IDLE_MINUTES * 60:
            return self._sign_out(
                request,
                _(
                    "You were signed out after %(minutes)s minutes without activity. "
                    "Sign in again to continue."
                )
                % {"minutes": settings.SESSION_IDLE_MINUTES},
            )
        if now - signed_in_at > settings.SESSION_COOKIE_AGE:
            return self._sign_out(
                request,
                _(
                    "You were signed out %(hours)s hours after signing in. Sign in again to continue."
                )
                % {"hours": settings.SESSION_COOKIE_AGE // 3600},
            )
        if now - last_seen_at >= TOUCH_EVERY_SECONDS:
            session[LAST_SEEN_AT] = now

        return self._second_step(request, match)

    @staticmethod
    def _sign_out(request, message):
        logout(request)
        messages.info(request, message)
        return redirect(reverse(settings.LOGIN_URL) + _next_query(request))

    @staticmethod
    def _second_step(request, match):
        session = request.session
        needed = session.get(TWO_STEP)
        if needed not in (VERIFY, ENROL, DONE):
            needed = session[TWO_STEP] = second_step_needed(request.user)
        if needed == DONE:
            return None
        if needed == VERIFY and request.user.is_verified():
            second_step_done(request)
            return None
        name = match.view_name if match is not None else None
        target = "tracker:two_step_verify" if needed == VERIFY else "tracker:two_step"
        if name in OPEN_BEFORE_SECOND_STEP or name == target:
            return None
        return redirect(reverse(target) + _next_query(request))


def _next_query(request) -> str:
    """Back to this page afterwards, when it is one a browser can ask for again (a GET)."""
    if request.method != "GET":
        return ""
    return "?" + urlencode({"next": request.get_full_path()})

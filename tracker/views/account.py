"""A member of staff's own account: settings, two-step set-up and code, the lockout page,
password reset.

Two-step sign-in uses time-based codes (TOTP, RFC 6238) from any
authenticator app. While an app is being set up, its secret waits in the
session; the device row is written only once the user has typed a code that
proves the app holds it. ``tracker.security.signin`` decides who must pass which page.
"""

import base64
import hashlib
import logging
import math
import secrets

import segno
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import HttpResponseRedirect
from django.shortcuts import redirect, render
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django_otp import login as otp_login
from django_otp import match_token
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from tracker import clock, services
from tracker.forms.account import CodeForm, NewAppForm, PasswordForm, StaffSettingsForm
from tracker.models import StaffProfile
from tracker.security import audit, ratelimit, signin
from tracker.views.responses import safe_next

PENDING_KEY = "tracker.two_step_pending_key"

# Changes to how someone signs in, for the server's security log (user ids only).
log = logging.getLogger("tracker.security.signin")


def _done(request, next_url):
    return redirect(next_url or settings.LOGIN_REDIRECT_URL)


@login_required
@never_cache
def two_step(request):
    """The user's two-step sign-in: its state, setting up an app, turning it off."""
    user = request.user
    confirmed = list(TOTPDevice.objects.devices_for_user(user, confirmed=True))
    required = signin.two_step_required(user)
    next_url = safe_next(request)

    removing = request.method == "POST" and request.POST.get("action") == "remove"
    remove_form = PasswordForm(request.POST if removing else None, user=user)
    if removing:
        if required:
            messages.error(request, _("Your clinic requires two-step sign-in for leads."))
            return redirect("tracker:two_step")
        if not confirmed:
            return redirect("tracker:two_step")
        if remove_form.is_valid():
            TOTPDevice.objects.filter(user=user).delete()
            log.warning("Two-step sign-in turned off by user %s", user.pk)
            messages.success(request, _("Two-step sign-in is off."))
            return redirect("tracker:two_step")

    setting_up = (
        not confirmed
        or request.GET.get("new") == "1"
        or (request.method == "POST" and not removing)
    )
    if not setting_up:
        return render(
            request,
            "tracker/two_step.html",
            {
                "devices": confirmed,
                "required": required,
                "setting_up": False,
                "remove_form": remove_form,
            },
        )

    key = request.session.get(PENDING_KEY)
    if not isinstance(key, str) or len(key) != 40:
        key = request.session[PENDING_KEY] = secrets.token_hex(20)
    # Not saved: only the page's QR code and the check below use it.
    device = TOTPDevice(user=user, key=key, name=_("Authenticator app"))
    form = NewAppForm(
        request.POST if request.method == "POST" else None, user=user, replacing=bool(confirmed)
    )
    if form.is_valid():
        if _code_matches(device, form.cleaned_data["code"]):
            with transaction.atomic():
                # One app per person: a new phone replaces the old one.
                TOTPDevice.objects.filter(user=user).delete()
                device.confirmed = True
                device.save()
            del request.session[PENDING_KEY]
            log.info("Two-step sign-in %s by user %s", "moved" if confirmed else "set up", user.pk)
            otp_login(request, device)
            signin.second_step_done(request)
            messages.success(
                request,
                _(
                    "Two-step sign-in is on. From now on, after your password, type the code "
                    "your app shows."
                ),
            )
            return _done(request, next_url)
        form.add_error(
            "code",
            _(
                "That code does not match. Check that the app shows “%(issuer)s”, and type the "
                "code showing now."
            )
            % {"issuer": settings.OTP_TOTP_ISSUER},
        )

    secret = base64.b32encode(device.bin_key).decode("ascii")
    return render(
        request,
        "tracker/two_step.html",
        {
            "devices": confirmed,
            "required": required,
            "setting_up": True,
            "form": form,
            "next": next_url,
            "qr_svg": segno.make(device.config_url, error="m").svg_inline(
                dark="#212529",
                omitsize=True,
                title=_("QR code to add Needle Aftercare to your app"),
            ),
            "secret_groups": [secret[i : i + 4] for i in range(0, len(secret), 4)],
        },
    )


def _code_matches(device, code) -> bool:
    """The code against an unsaved device, with the app's usual one-step tolerance.

    A match marks the code's time step used, so the same code cannot then
    pass the sign-in check as well.
    """
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    if not totp.verify(int(code), tolerance=device.tolerance):
        return False
    device.last_t = totp.t()
    device.drift = totp.drift
    return True


@login_required
@never_cache
def two_step_verify(request):
    """After the password: the code from the user's app."""
    next_url = safe_next(request)
    if request.session.get(signin.TWO_STEP) != signin.VERIFY:
        return _done(request, next_url)
    form = CodeForm(request.POST if request.method == "POST" else None)
    if form.is_valid():
        # django-otp throttles each device: after a wrong code, the next try
        # waits 1, 2, 4… seconds, so codes cannot be guessed quickly.
        device = match_token(request.user, form.cleaned_data["code"])
        if device is not None:
            otp_login(request, device)
            signin.second_step_done(request)
            return _done(request, next_url)
        form.add_error(
            "code",
            _(
                "That code did not work. Codes change every 30 seconds: type the one showing now. "
                "After several wrong codes, wait a minute before trying again."
            ),
        )
    return render(request, "registration/two_step_verify.html", {"form": form, "next": next_url})


def locked_out(request, original_response=None, credentials=None):
    """django-axes' answer to a sign-in while locked out (AXES_LOCKOUT_CALLABLE).

    The same page whichever limit was reached, and whether or not an account
    has this username.
    """
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    response = render(request, "registration/locked_out.html", {"minutes": minutes}, status=429)
    response["Retry-After"] = str(int(settings.AXES_COOLOFF_TIME.total_seconds()))
    return response


@login_required
def staff_settings(request):
    """The signed-in staff member's own settings: language, and a mobile for urgent texts."""
    profile = StaffProfile.for_user(request.user)
    form = StaffSettingsForm(request.POST if request.method == "POST" else None, instance=profile)
    if request.method == "POST" and form.is_valid():
        profile = services.save_staff_settings(
            profile=form.save(commit=False), request_ip=audit.client_ip(request)
        )
        signin.remember_language(request, profile.language)
        with translation.override(profile.language):
            messages.success(request, _("Your settings were saved."))
        return redirect("tracker:staff_settings")
    return render(request, "tracker/staff_settings.html", {"form": form})


class PasswordResetView(auth_views.PasswordResetView):
    """Django's password reset page, with its mails limited per client address and per account.

    Past ``PASSWORD_RESETS_PER_ADDRESS`` requests an hour from one address,
    that address gets a "please wait" page (429). Past
    ``PASSWORD_RESET_MAILS_PER_ACCOUNT`` an hour for one email address, no
    more mail is sent, but the page is the usual "check your inbox": whether
    an account has that address, and whether a mail went, is never shown.
    Email addresses are counted by their hash, so the cache holds none.
    """

    def form_valid(self, form):
        now = clock.now().timestamp()
        tries, wait = ratelimit.hit(
            "reset-address", ratelimit.client_key(self.request), seconds=3600, now=now
        )
        if tries > settings.PASSWORD_RESETS_PER_ADDRESS:
            minutes = max(1, math.ceil(wait / 60))
            response = render(
                self.request,
                "registration/password_reset_paused.html",
                {"minutes": minutes},
                status=429,
            )
            response["Retry-After"] = str(wait)
            return response
        email = form.cleaned_data["email"].strip().casefold()
        account = hashlib.sha256(email.encode()).hexdigest()
        mails, _wait = ratelimit.hit("reset-account", account, seconds=3600, now=now)
        if mails > settings.PASSWORD_RESET_MAILS_PER_ACCOUNT:
            return HttpResponseRedirect(self.get_success_url())
        return super().form_valid(form)

"""Staff sign-in: lockout after wrong passwords, session limits, two-step sign-in."""

import re
import time
from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.contrib.auth import SESSION_KEY
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from tests.factories import MembershipFactory
from tracker.choices import Role
from tracker.security import signin
from tracker.views.account import PENDING_KEY

pytestmark = pytest.mark.django_db

PASSWORD = "correct-horse-battery"  # tests/factories.py


def _sign_in(client, user, password=PASSWORD, **extra):
    return client.post(reverse("login"), {"username": user.username, "password": password}, **extra)


# --- Lockout (django-axes) ------------------------------------------------------------


def test_five_wrong_passwords_lock_that_username_from_that_address(client, therapist_a, settings):
    assert settings.AXES_ENABLED and settings.SIGNIN_FAILURES_PER_ADDRESS == 5
    user = therapist_a.user
    for _attempt in range(4):
        response = _sign_in(client, user, "wrong-password")
        assert response.status_code == 200  # the form again, with its error
        assert "Please enter a correct username and password" in response.content.decode()
    locked = _sign_in(client, user, "wrong-password")
    assert locked.status_code == 429
    # Now even the right password is refused, with a page that says why and for how long.
    response = _sign_in(client, user)
    assert response.status_code == 429
    assert response["Retry-After"] == str(15 * 60)
    page = response.content.decode()
    assert "Sign-in paused" in page and "paused for 15 minutes" in page
    assert "wrong too many times for this username" in page
    assert SESSION_KEY not in client.session
    # The page is the app's own layout, not a bare message.
    assert '<html lang="en">' in page and reverse("password_reset") in page


def test_a_username_longer_than_any_account_s_is_refused_beside_the_field(client):
    response = client.post(reverse("login"), {"username": "a" * 5000, "password": "x"})
    assert response.status_code == 200
    assert "at most 150 characters" in response.content.decode()
    assert not AccessAttempt.objects.exists()  # never reached the attempt log


def test_a_lockout_is_by_username_and_address_together(client, therapist_a, therapist_b):
    for _attempt in range(5):
        _sign_in(client, therapist_a.user, "wrong-password")
    assert _sign_in(client, therapist_a.user).status_code == 429
    # A colleague at the same desk, and the same user from another address, still sign in.
    assert _sign_in(Client(), therapist_b.user).status_code == 302
    elsewhere = Client(REMOTE_ADDR="192.0.2.44")
    assert _sign_in(elsewhere, therapist_a.user)["Location"] == reverse("tracker:home")


def _from(address):
    return Client(REMOTE_ADDR=address)


def test_a_password_sprayed_from_many_addresses_locks_the_account(therapist_a, settings):
    """Ten wrong passwords for one username from ten addresses: the username is paused everywhere."""
    assert settings.SIGNIN_FAILURES_PER_ACCOUNT == 10
    user = therapist_a.user
    for n in range(9):
        assert _sign_in(_from(f"198.51.100.{n}"), user, "wrong-password").status_code == 200
    # Nine: the right password still works, from anywhere, and clears the count.
    assert _sign_in(_from("203.0.113.1"), user).status_code == 302
    for n in range(10):
        _sign_in(_from(f"198.51.100.{n}"), user, "wrong-password")
    response = _sign_in(_from("203.0.113.2"), user)
    assert response.status_code == 429 and response["Retry-After"] == str(15 * 60)
    assert SESSION_KEY not in Client().session
    # The lock lifts after the cool-off, as the pair's does.
    AccessAttempt.objects.update(attempt_time=timezone.now() - timedelta(minutes=16))
    assert _sign_in(_from("203.0.113.2"), user).status_code == 302


def test_the_answers_never_tell_whether_an_account_exists(therapist_a):
    """A username no account has is counted and paused exactly as a real one."""
    answers = {}
    for username in (therapist_a.user.username, "nobody-has-this-name"):
        seen = []
        for n in range(11):
            response = _from(f"198.51.100.{n}").post(
                reverse("login"), {"username": username, "password": "wrong-password"}
            )
            seen.append(response.status_code)
        locked = _from("203.0.113.9").post(
            reverse("login"), {"username": username, "password": PASSWORD}
        )
        page = re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", locked.content.decode())
        answers[username] = (seen, locked.status_code, locked["Retry-After"], page)
    real, nobody = answers.values()
    assert real == nobody
    assert real[0] == [200] * 9 + [429, 429] and real[1] == 429


def test_the_lock_lifts_after_the_cool_off(client, therapist_a):
    for _attempt in range(5):
        _sign_in(client, therapist_a.user, "wrong-password")
    assert _sign_in(client, therapist_a.user).status_code == 429
    AccessAttempt.objects.update(attempt_time=timezone.now() - timedelta(minutes=16))
    assert _sign_in(client, therapist_a.user).status_code == 302


def test_a_right_password_clears_earlier_failures(client, therapist_a):
    for _attempt in range(4):
        _sign_in(client, therapist_a.user, "wrong-password")
    assert _sign_in(client, therapist_a.user).status_code == 302
    client.post(reverse("logout"))
    for _attempt in range(4):
        assert _sign_in(client, therapist_a.user, "wrong-password").status_code == 200


def test_the_admin_sign_in_is_locked_too(client, therapist_a):
    user = therapist_a.user
    user.is_staff = True
    user.save()
    for _attempt in range(5):
        client.post(reverse("admin:login"), {"username": user.username, "password": "nope"})
    response = client.post(
        reverse("admin:login"), {"username": user.username, "password": PASSWORD}
    )
    assert response.status_code == 429


# --- Password reset ---------------------------------------------------------------------


def _reset(client, email):
    return client.post(reverse("password_reset"), {"email": email})


def test_password_reset_mails_a_link(client, therapist_a, mailoutbox):
    therapist_a.user.email = "ana@example.org"
    therapist_a.user.save()
    response = _reset(client, "ANA@example.org")
    assert response["Location"] == reverse("password_reset_done")
    [mail] = mailoutbox
    assert mail.to == ["ana@example.org"] and "/accounts/reset/" in mail.body


def test_password_reset_mails_are_limited_per_account(therapist_a, mailoutbox, settings):
    assert settings.PASSWORD_RESET_MAILS_PER_ACCOUNT == 3
    therapist_a.user.email = "ana@example.org"
    therapist_a.user.save()
    for n in range(5):
        # Each from another address, so only the account's limit is met.
        response = _reset(_from(f"198.51.100.{n}"), "ana@example.org")
        assert response["Location"] == reverse("password_reset_done")  # the same page every time
    assert len(mailoutbox) == 3
    # Another account is not affected.
    colleague = MembershipFactory(clinic=therapist_a.clinic).user
    colleague.email = "ben@example.org"
    colleague.save()
    _reset(_from("198.51.100.9"), "ben@example.org")
    assert len(mailoutbox) == 4


def test_password_resets_are_limited_per_address(client, therapist_a, mailoutbox, settings):
    assert settings.PASSWORD_RESETS_PER_ADDRESS == 5
    for n in range(5):
        assert _reset(client, f"someone{n}@example.org").status_code == 302
    response = _reset(client, "someone-else@example.org")
    assert response.status_code == 429
    assert 0 < int(response["Retry-After"]) <= 3600
    assert "Password reset paused" in response.content.decode()
    # Another address still asks.
    assert _reset(_from("198.51.100.7"), "someone@example.org").status_code == 302
    assert mailoutbox == []  # none of these addresses has an account


def test_a_reset_for_an_unknown_address_looks_like_any_other(client, therapist_a, mailoutbox):
    therapist_a.user.email = "ana@example.org"
    therapist_a.user.save()
    known = _reset(_from("198.51.100.1"), "ana@example.org")
    unknown = _reset(_from("198.51.100.2"), "nobody@example.org")
    assert (known.status_code, known["Location"]) == (unknown.status_code, unknown["Location"])
    assert len(mailoutbox) == 1


def test_passwords_are_checked_by_djangos_validators(client, therapist_a):
    client.force_login(therapist_a.user)
    for weak, message in [
        ("short1", "at least 12 characters"),
        ("password1234", "too common"),
        ("493817264519", "entirely numeric"),
    ]:
        response = client.post(
            reverse("password_change"),
            {
                "old_password": PASSWORD,
                "new_password1": weak,
                "new_password2": weak,
            },
        )
        assert response.status_code == 200
        assert message in response.content.decode(), weak
    therapist_a.user.refresh_from_db()
    assert therapist_a.user.check_password(PASSWORD)


# --- Session limits ------------------------------------------------------------------


@pytest.fixture
def wall_clock(time_machine):
    """Stop the clock; call with seconds to move it on. Returns seconds since the epoch."""
    time_machine.move_to(timezone.now(), tick=False)

    def move(seconds=0):
        time_machine.shift(seconds)
        return time.time()

    return move


def test_a_session_ends_after_thirty_idle_minutes(client, therapist_a, wall_clock, settings):
    assert settings.SESSION_IDLE_MINUTES == 30
    client.force_login(therapist_a.user)
    home = reverse("tracker:home")
    wall_clock(29 * 60)
    assert client.get(home).status_code == 200
    wall_clock(29 * 60)  # 58 minutes in, but only 29 since the last page
    assert client.get(home).status_code == 200
    wall_clock(31 * 60)
    response = client.get(home + "?mine=1")
    assert response.status_code == 302
    assert response["Location"] == reverse("login") + "?next=%2F%3Fmine%3D1"
    assert SESSION_KEY not in client.session
    page = client.get(response["Location"]).content.decode()
    assert "signed out after 30 minutes without activity" in page


def test_a_busy_session_still_ends_ten_hours_after_signing_in(client, therapist_a, wall_clock):
    client.force_login(therapist_a.user)
    # The session's own expiry is fixed at sign-in: saving it later does not move it.
    deadline = client.session.get_expiry_date()
    assert deadline - timezone.now() == timedelta(hours=10)
    for _ in range(29):  # a page every 20 minutes, up to 9 h 40 min in
        wall_clock(20 * 60)
        assert client.get(reverse("tracker:home")).status_code == 200
    assert client.session.get_expiry_date() == deadline
    assert client.cookies["sessionid"]["max-age"] <= 10 * 3600
    # Ten hours in, the stored session has expired: the next page asks to sign in again.
    wall_clock(20 * 60)
    response = client.get(reverse("tracker:home"))
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))
    assert SESSION_KEY not in client.session


def test_ten_hours_after_signing_in_end_a_session_whose_own_expiry_keeps_moving(
    client, therapist_a, wall_clock
):
    """The middleware counts from signing in, whatever the stored session's expiry:
    here one that moves on with every save, as Django's default does."""
    start = wall_clock()
    client.force_login(therapist_a.user)
    session = client.session
    session.set_expiry(10 * 3600)  # seconds from the last save, not a fixed moment
    session.save()
    while wall_clock(20 * 60) - start <= 10 * 3600:
        assert client.get(reverse("tracker:home")).status_code == 200
    response = client.get(reverse("tracker:home"))
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))
    assert (
        "signed out 10 hours after signing in" in client.get(response["Location"]).content.decode()
    )


def test_last_activity_is_written_at_most_once_a_minute(client, therapist_a, wall_clock):
    client.force_login(therapist_a.user)
    first = client.session[signin.LAST_SEEN_AT]
    wall_clock(30)
    client.get(reverse("tracker:home"))
    assert client.session[signin.LAST_SEEN_AT] == first
    wall_clock(31)
    client.get(reverse("tracker:home"))
    assert client.session[signin.LAST_SEEN_AT] == first + 61


def test_patient_pages_neither_touch_nor_create_a_session(
    client, therapist_a, link_token, wall_clock
):
    check_in = reverse("patient:check_in", args=[link_token])
    response = Client().get(check_in)
    assert response.status_code == 200 and not response.cookies
    # A therapist who opens the patient's link on their own computer: no session write,
    # and no idle sign-out from the patient page either.
    client.force_login(therapist_a.user)
    wall_clock(45 * 60)
    response = client.get(check_in)
    assert response.status_code == 200 and not response.cookies
    assert SESSION_KEY in client.session


# --- Two-step sign-in (django-otp) ---------------------------------------------------


def _code(key_hex, steps_ahead=0):
    totp = TOTP(bytes.fromhex(key_hex))
    totp.drift = steps_ahead
    return f"{totp.token():06d}"


def _enrol(client):
    page = client.get(reverse("tracker:two_step"))
    key = client.session[PENDING_KEY]
    response = client.post(reverse("tracker:two_step"), {"code": _code(key)})
    return page, response, key


def test_staff_set_up_two_step_sign_in_with_a_qr_code(client, therapist_a):
    client.force_login(therapist_a.user)
    page, response, key = _enrol(client)
    html = page.content.decode()
    qr = re.search(r'<div class="qr my-3">(<svg .*?</svg>)</div>', html, re.S).group(1)
    assert "<title>QR code to add Needle Aftercare to your app</title>" in qr
    assert "style=" not in qr  # allowed by the CSP: no inline style
    assert page["Cache-Control"].startswith("max-age=0") and "no-store" in page["Cache-Control"]
    assert response.status_code == 302 and response["Location"] == reverse("tracker:home")
    device = TOTPDevice.objects.get(user=therapist_a.user)
    assert device.confirmed and device.key == key
    assert PENDING_KEY not in client.session
    # The same code cannot be used again to pass the sign-in step.
    assert device.last_t > 0


def test_a_wrong_code_sets_nothing_up(client, therapist_a):
    client.force_login(therapist_a.user)
    client.get(reverse("tracker:two_step"))
    key = client.session[PENDING_KEY]
    wrong = f"{(int(_code(key)) + 1) % 1_000_000:06d}"
    for code, message in [
        (wrong, "That code does not match"),
        ("12ab56", "6-digit code"),
        ("", "6-digit code"),
        ("1" * 12, "6-digit code"),
    ]:
        response = client.post(reverse("tracker:two_step"), {"code": code})
        assert response.status_code == 200 and message in response.content.decode()
    assert not TOTPDevice.objects.exists()
    assert client.session[PENDING_KEY] == key  # the app already scanned still works


def test_after_the_password_a_user_with_a_device_types_a_code(therapist_a, session_a):
    enrolment = Client()
    enrolment.force_login(therapist_a.user)
    _page, _response, key = _enrol(enrolment)

    client = Client()
    response = _sign_in(client, therapist_a.user)
    assert response["Location"] == reverse("tracker:home")
    # Every staff page (and the set-up page, which could add another device) waits for the code.
    for url in [
        reverse("tracker:home"),
        reverse("tracker:session_detail", args=[session_a.pk]),
        reverse("tracker:two_step"),
        reverse("password_change"),
        "/admin/",
    ]:
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith(reverse("tracker:two_step_verify") + "?next="), url
    response = client.post(reverse("tracker:alert_list"))
    assert response["Location"] == reverse("tracker:two_step_verify")
    # Signing out is always possible.
    assert client.post(reverse("logout")).status_code == 302

    _sign_in(client, therapist_a.user)
    verify = reverse("tracker:two_step_verify")
    assert client.get(verify).status_code == 200
    response = client.post(verify, {"code": "000000", "next": "/patients/"})
    assert response.status_code == 200 and "That code did not work" in response.content.decode()
    # django-otp throttles the device: right after a wrong code, even the right one waits.
    right = _code(key, steps_ahead=1)
    response = client.post(verify, {"code": right})
    assert response.status_code == 200 and "That code did not work" in response.content.decode()
    TOTPDevice.objects.update(throttling_failure_timestamp=timezone.now() - timedelta(seconds=5))
    response = client.post(verify, {"code": right, "next": "https://evil.example/"})
    assert response["Location"] == reverse("tracker:home")  # never off-site
    assert client.get(reverse("tracker:session_detail", args=[session_a.pk])).status_code == 200


def test_a_lead_of_a_clinic_that_requires_it_must_set_it_up_first(clinic_a, therapist_a, lead_a):
    clinic_a.require_2fa_for_leads = True
    clinic_a.save()
    client = Client()
    _sign_in(client, lead_a.user)
    response = client.get(reverse("tracker:audit_list"))
    assert response["Location"] == reverse("tracker:two_step") + "?next=%2Faudit%2F"
    page = client.get(response["Location"]).content.decode()
    assert "Your clinic asks its leads to use two-step sign-in" in page
    key = client.session[PENDING_KEY]
    response = client.post(reverse("tracker:two_step"), {"code": _code(key), "next": "/audit/"})
    assert response["Location"] == "/audit/"
    assert client.get("/audit/").status_code == 200
    # It cannot be turned off while the clinic requires it.
    client.post(reverse("tracker:two_step"), {"action": "remove"})
    assert TOTPDevice.objects.filter(user=lead_a.user, confirmed=True).exists()

    # A therapist of the same clinic is not asked.
    therapist = Client()
    _sign_in(therapist, therapist_a.user)
    assert therapist.get(reverse("tracker:home")).status_code == 200


def test_two_step_can_be_turned_off_when_not_required(client, therapist_a):
    client.force_login(therapist_a.user)
    _enrol(client)
    page = client.get(reverse("tracker:two_step")).content.decode()
    assert "Turn off two-step sign-in" in page
    response = client.post(reverse("tracker:two_step"), {"action": "remove", "password": PASSWORD})
    assert response["Location"] == reverse("tracker:two_step")
    assert not TOTPDevice.objects.exists()


@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("", "Type your password to confirm."),
        ("not-my-password", "That is not your password."),
    ],
)
def test_turning_it_off_asks_for_the_password_again(client, therapist_a, password, message):
    client.force_login(therapist_a.user)
    _enrol(client)
    response = client.post(reverse("tracker:two_step"), {"action": "remove", "password": password})
    assert response.status_code == 200
    assert response.context["remove_form"].errors["password"] == [message]
    assert 'id="error_1_id_password"' in response.content.decode()  # beside the field
    assert TOTPDevice.objects.filter(user=therapist_a.user, confirmed=True).exists()


def test_moving_to_a_new_phone_replaces_the_old_device(client, therapist_a):
    client.force_login(therapist_a.user)
    _enrol(client)
    old = TOTPDevice.objects.get()
    client.get(reverse("tracker:two_step") + "?new=1")
    key = client.session[PENDING_KEY]
    assert key != old.key
    # The password too: an open session alone cannot move it to another phone.
    response = client.post(reverse("tracker:two_step"), {"code": _code(key), "password": "wrong"})
    assert response.context["form"].errors == {"password": ["That is not your password."]}
    assert list(TOTPDevice.objects.values_list("key", flat=True)) == [old.key]
    client.post(reverse("tracker:two_step"), {"code": _code(key), "password": PASSWORD})
    assert list(TOTPDevice.objects.values_list("key", flat=True)) == [key]


def test_the_second_step_costs_staff_pages_no_query(client, therapist_a, django_assert_num_queries):
    client.force_login(therapist_a.user)
    client.get(reverse("tracker:two_step"))  # a page first, so the session is settled
    # The session and the user: the second step's state is read from the session.
    with django_assert_num_queries(2):
        client.get(reverse("tracker:two_step_verify"))


def test_a_lead_whose_clinic_does_not_require_it_is_not_asked(client, lead_a):
    response = _sign_in(client, lead_a.user)
    assert client.get(response["Location"]).status_code == 200
    assert client.session[signin.TWO_STEP] == signin.DONE
    assert MembershipFactory(user=lead_a.user, role=Role.THERAPIST)  # another clinic, still fine

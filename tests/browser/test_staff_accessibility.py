"""Every staff page passes axe-core (WCAG 2.0, 2.1 and 2.2, A and AA) at 1280×800 and 390×844,
signed in as a therapist and as a lead, forms also with their errors shown.

The URLs come from Django's resolver (tests/url_walk.py): each named URL is
either shown by at least one of the page states below (``@shows``) or listed in
NOT_STAFF_PAGES with the reason, so a new staff page without a state fails
``test_every_url_has_a_row``, as the authorization matrix does.

One browser page per user walks every state in turn; axe runs on each at the
desktop size, then again after the window is narrowed to the phone's. Beside
axe, each state checks what axe cannot see on its own: every sideways-scrolling
table wrapper is focusable and named, every chart is tied to its caption, and
a form that failed focuses the error summary, which links to each field.
"""

import uuid
from datetime import timedelta

import pytest
from axe_playwright_python.base import AxeResults
from axe_playwright_python.sync_playwright import Axe
from django.utils import timezone
from playwright.sync_api import expect

from tests.browser.conftest import DESKTOP, PASSWORD
from tests.url_walk import named_routes

pytestmark = pytest.mark.browser

AXE = Axe()
AXE_OPTIONS = {
    "runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]},
    "resultTypes": ["violations"],
}
PHONE_SIZE = {"width": 390, "height": 844}
DESKTOP_SIZE = DESKTOP["viewport"]
# A walk loads some thirty pages, several drawing charts, while the other test
# worker does the same: one slow moment on a busy machine must not fail it.
SLOW_MS = 15_000

THERAPIST, LEAD = "therapist", "lead"

# URLs that are no staff page of their own, and why.
NOT_STAFF_PAGES = {
    "healthz": "plain text for the load balancer",
    "healthz_jobs": "plain text for an uptime monitor",
    "admin:index": "Django's admin, for superusers only",
    "logout": "POST only: signs out and redirects",
    "tracker:alert_acknowledge": "POST only: redirects back to the list it was sent from",
    "tracker:alerts_acknowledge": "POST only: redirects back to the list it was sent from",
    "tracker:patient_fhir": "a FHIR JSON download",
    "tracker:fhir_questionnaire": "the public FHIR Questionnaire, JSON",
    "tracker:clinic_fhir_export": "a zip download",
    "tracker:link_replace": "POST only: redirects to the session page",
    "tracker:clinic_home": "redirects to the settings of the clinic the lead leads",
    "tracker:staff_member": "POST only: redirects to the staff page",
    "tracker:link_send": "POST only: redirects to the session page",
    "tracker:analytics_home": "redirects to the first clinic's analytics",
    "tracker:patient_chart": "an SVG image, checked on the patient page",
    "tracker:session_chart": "an SVG image, checked on the session page",
    "tracker:analytics_chart": "an SVG image, checked on the analytics page",
    "tracker:patient_export": "a JSON download",
    "tracker:audit_csv": "a CSV download",
    "tracker:analytics_csv": "a CSV download",
    "patient:check_in": "patient page: tests/browser/test_accessibility.py",
    "patient:done": "patient page: tests/browser/test_accessibility.py",
    "patient:stop_reminders": "patient page: tests/browser/test_accessibility.py",
    "patient:warning": "patient page: tests/browser/test_accessibility.py",
    "patient:set_language": "patient page, POST only: redirects",
    "patient:soreness_chart": "an SVG image on a patient page",
    "patient:service_worker": "the patient pages' service worker script",
    "patient:manifest": "the patient pages' web app manifest",
}


def shows(url_name, *, only=None):
    """Mark a function as bringing the page at ``url_name`` to one state (for ``only`` that user)."""

    def mark(show):
        show.url_name = url_name
        show.only = only
        return show

    return mark


def answers(**overrides):
    return {
        "soreness": 3,
        "twitching": "none",
        "bruising": "none",
        "interference": "not_at_all",
        "after_effects": [],
        "red_flags": [],
        "note": "",
        **overrides,
    }


# ---- The world: a clinic with a therapist, a lead and sessions in every state ----------


@pytest.fixture
def lead(clinic, django_user_model):
    """Lena, the clinic's lead, with two-step sign-in on (so she passes the code page)."""
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from tracker.choices import Role
    from tracker.models import Membership

    user = django_user_model.objects.create_user(
        username="lena",
        password=PASSWORD,
        first_name="Lena",
        last_name="Berg",
    )
    Membership.objects.create(user=user, clinic=clinic, role=Role.LEAD)
    TOTPDevice.objects.create(user=user, name="Authenticator app", confirmed=True)
    return user


@pytest.fixture
def world(live_server, settings, clinic, therapist, lead, patient, recorded_session):
    """Maria Lopez's three sessions show every check-in state the clock can give.

    - 5 minutes ago (``recorded_session``): in clinic open, 24 h and 48 h upcoming;
    - 27 hours ago: answered in clinic with a warning sign (an urgent alert, which
      the therapist acknowledged), 24 h late;
    - 3 days ago: in clinic missed (an open "missed" alert), 24 h answered, 48 h missed.

    Older sessions, answered, give the analytics page rows in every table.
    """
    from tracker import alerts, services
    from tracker.choices import TimePoint

    settings.SITE_URL = live_server.url
    now = timezone.now()

    def session(hours_ago, **kwargs):
        performed = now - timedelta(hours=hours_ago)
        return services.record_session(
            patient=patient,
            therapist=therapist,
            performed_at=performed,
            recorded_at=performed,
            pre_pain=5,
            sites=[
                {
                    "muscle": "upper_trapezius",
                    "side": "right",
                    "insertions": 3,
                    "technique": "deep_pistoning",
                    "twitch_band": "3-5",
                }
            ],
            **kwargs,
        )

    def answer(session, time_point, **kwargs):
        follow_up = session.follow_ups.get(time_point=time_point)
        services.submit_report(
            follow_up=follow_up,
            idempotency_key=uuid.uuid4(),
            answers=answers(**kwargs),
            now=follow_up.due_at,
        )

    yesterday = session(27, chest_wall_area=True)
    answer(
        yesterday,
        TimePoint.IN_CLINIC,
        soreness=6,
        red_flags=["rf_breathing"],
        note="Tight chest on the bus.",
    )
    urgent = yesterday.alerts.get()
    services.acknowledge_alert(alert=urgent, user=therapist, note="Phoned: breathing normal.")

    earlier = session(72)
    answer(earlier, TimePoint.H24, soreness=2, bruising="5-10", after_effects=["bleeding"])
    alerts.evaluate_missed(earlier.follow_ups.get(time_point=TimePoint.IN_CLINIC))

    for days in (10, 17, 24):
        settled = session(24 * days)
        answer(settled, TimePoint.IN_CLINIC, soreness=4)
        answer(settled, TimePoint.H24, soreness=2)
        answer(settled, TimePoint.H48, soreness=0)

    return {
        "url": live_server.url,
        "clinic": clinic,
        "patient": patient,
        "lead": lead,
        "yesterday": yesterday,
        "users": {THERAPIST: therapist, LEAD: lead},
    }


# ---- The states of each page ----------------------------------------------------------


def go(page, world, path):
    response = page.goto(world["url"] + path)
    assert response.status == 200, path


def heading(page, text):
    expect(page.get_by_role("heading", level=1)).to_contain_text(text)


def send(page, name):
    """Click a form's button and wait for the page it answers with."""
    with page.expect_navigation():
        page.get_by_role("button", name=name).click()


def submit(page, name):
    """Send a form that fails: its error summary has focus."""
    send(page, name)
    expect(page.locator(".error-summary")).to_be_focused()


def fill_sign_in(page, user):
    page.get_by_label("Username").fill(user.username)
    page.get_by_label("Password").fill(PASSWORD)
    send(page, "Sign in")


def sign_in_as(page, world, user):
    go(page, world, "/accounts/login/")
    fill_sign_in(page, user)
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()


@shows("login")
def sign_in_page(page, world):
    go(page, world, "/accounts/login/")
    heading(page, "Sign in")


@shows("login")
def sign_in_with_errors(page, world):
    page.get_by_label("Username").fill("nobody")
    page.get_by_label("Password").fill("wrong")
    submit(page, "Sign in")


@shows("password_reset", only=THERAPIST)  # the same for anyone: checked once
def password_reset(page, world):
    go(page, world, "/accounts/password_reset/")


@shows("password_reset_done", only=THERAPIST)
def password_reset_sent(page, world):
    go(page, world, "/accounts/password_reset/done/")


@shows("password_reset_confirm", only=THERAPIST)
def password_reset_bad_link(page, world):
    go(page, world, "/accounts/reset/MQ/set-password/")


@shows("password_reset_complete", only=THERAPIST)
def password_reset_complete(page, world):
    go(page, world, "/accounts/reset/done/")


@shows("tracker:invitation", only=THERAPIST)  # the same for anyone: checked once
def invitation_bad_link(page, world):
    go(page, world, "/invitation/MQ/made-up/")
    heading(page, "This link does not work")


@shows("tracker:invitation", only=THERAPIST)
def invitation(page, world):
    from django.contrib.auth import get_user_model

    from tracker.models import Membership
    from tracker.security.invitations import link_parts

    nora = get_user_model().objects.create(
        username="nora@example.org", email="nora@example.org", first_name="Nora"
    )
    nora.set_unusable_password()
    nora.save()
    Membership.objects.create(user=nora, clinic=world["clinic"])
    uidb64, token = link_parts(nora)
    go(page, world, f"/invitation/{uidb64}/{token}/")
    heading(page, "Choose your password")


@shows("tracker:invitation", only=THERAPIST)
def invitation_with_errors(page, world):
    page.locator("#id_new_password1").fill("a-long-new-pass-2026")
    page.locator("#id_new_password2").fill("something else")
    submit(page, "Set my password")


@shows("tracker:two_step_verify", only=LEAD)
def code_page(page, world):
    fill_sign_in(page, world["lead"])
    heading(page, "Code from your app")


@shows("tracker:two_step_verify", only=LEAD)
def code_with_errors(page, world):
    page.get_by_label("Code from your authenticator app").fill("12")
    submit(page, "Continue")


@shows("tracker:home")
def today(page, world):
    go(page, world, "/")
    heading(page, "Today")


@shows("tracker:alert_list")
def alerts_open(page, world):
    go(page, world, "/alerts/")
    heading(page, "Alerts")


@shows("tracker:alert_list")
def alerts_acknowledged(page, world):
    go(page, world, "/alerts/?state=acknowledged")
    expect(page.locator("main")).to_contain_text("Phoned: breathing normal.")


@shows("tracker:patient_list")
def patients(page, world):
    go(page, world, "/patients/")
    heading(page, "Patients")


@shows("tracker:patient_list")
def patients_none_found(page, world):
    go(page, world, "/patients/?q=zzz")
    expect(page.locator("main")).to_contain_text("No patient matches")


@shows("tracker:patient_list")
def patients_searched_and_filtered(page, world):
    go(page, world, "/patients/?q=lopez+MARÍA&status=missed&sort=last_session")
    expect(page.get_by_role("link", name="Maria Lopez")).to_be_visible()


@shows("tracker:patient_create")
def add_patient(page, world):
    go(page, world, "/patients/new/")
    heading(page, "Add patient")


@shows("tracker:patient_create")
def add_patient_with_errors(page, world):
    page.get_by_label("Reminders by").select_option("email")
    submit(page, "Save patient")


@shows("tracker:patient_create")
def add_patient_possible_duplicate(page, world):
    go(page, world, "/patients/new/")
    page.get_by_label("Name").fill("maria lópez")
    page.get_by_label("Year of birth").fill("1984")
    send(page, "Save patient")
    expect(page.locator("#possible-duplicates")).to_be_focused()
    expect(page.get_by_role("button", name="Save anyway")).to_be_visible()


@shows("tracker:patient_edit")
def edit_patient(page, world):
    go(page, world, f"/patients/{world['patient'].pk}/edit/")
    heading(page, "Edit patient’s details")


@shows("tracker:patient_edit")
def edit_patient_with_errors(page, world):
    page.get_by_label("Reminders by").select_option("sms")
    page.get_by_label("Mobile number").fill("12345")
    submit(page, "Save patient")


@shows("tracker:patient_detail")
def patient_page(page, world):
    go(page, world, f"/patients/{world['patient'].pk}/")
    heading(page, world["patient"].display_name)
    expect(page.locator(".badge.state-late").first).to_be_visible()


@shows("tracker:visit_summary")
def visit_summary(page, world):
    go(page, world, f"/patients/{world['patient'].pk}/summary/")
    heading(page, "After-needling summary")


@shows("tracker:patient_record")
def patient_record(page, world):
    go(page, world, f"/patients/{world['patient'].pk}/record/")
    heading(page, "Your after-needling record")


@shows("tracker:session_create")
def record_session(page, world):
    go(page, world, f"/patients/{world['patient'].pk}/sessions/new/")
    heading(page, "Record a session")


@shows("tracker:session_create")
def record_session_with_errors(page, world):
    page.locator('[name="sites-0-muscle"]').select_option("piriformis")
    page.locator('[name="sites-0-insertions"]').fill("0")
    submit(page, "Save session and create the patient's link")


@shows("tracker:session_detail")
def session_page(page, world):
    go(
        page, world, f"/sessions/{world['yesterday'].pk}/"
    )  # its link, a warning sign, a late check-in
    expect(page.locator(".badge.state-late")).to_be_visible()


@shows("tracker:session_create")
def record_session_backdated(page, world):
    """A time 40 h ago: the warning that the 24 h check-in will not be asked, and its box."""
    go(page, world, f"/patients/{world['patient'].pk}/sessions/new/")
    then = timezone.localtime(timezone.now() - timedelta(hours=40), world["clinic"].zone)
    page.get_by_label("Date and time").fill(then.strftime("%Y-%m-%dT%H:%M"))
    page.get_by_label("Pain before the session (0–10)").select_option("4")
    page.locator('[name="sites-0-muscle"]').select_option("piriformis")
    submit(page, "Save session and create the patient's link")
    expect(page.locator("#id_performed_at_error")).to_contain_text("24-hour check-in")
    expect(page.get_by_label("Record it anyway")).to_be_visible()


@shows("tracker:session_correct")
def correct_session(page, world):
    go(page, world, f"/sessions/{world['yesterday'].pk}/correct/")
    heading(page, "Correct the session")


@shows("tracker:session_correct")
def correct_session_with_errors(page, world):
    page.locator('[name="sites-0-insertions"]').fill("0")
    submit(page, "Save the correction")


@shows("tracker:session_enter_in_error")
def enter_in_error(page, world):
    go(page, world, f"/sessions/{world['yesterday'].pk}/entered-in-error/")
    heading(page, "Mark this session as entered in error")


@shows("tracker:session_enter_in_error")
def enter_in_error_with_errors(page, world):
    submit(page, "Mark as entered in error")


@shows("tracker:link_card")
def link_card(page, world):
    go(page, world, f"/sessions/{world['yesterday'].pk}/link/card/")
    heading(page, "Your check-ins")


@shows("tracker:patient_erase", only=LEAD)
def erase(page, world):
    go(page, world, f"/patients/{world['patient'].pk}/erase/")
    heading(page, "Erase the personal details")


@shows("tracker:patient_erase", only=LEAD)
def erase_with_errors(page, world):
    page.get_by_label("Type the patient's reference").fill("someone else")
    submit(page, "Erase personal details")


@shows("tracker:staff_settings")
def staff_settings(page, world):
    go(page, world, "/account/")
    heading(page, "Your settings")


@shows("tracker:staff_settings")
def staff_settings_with_errors(page, world):
    page.get_by_label("Mobile number").fill("0770")
    submit(page, "Save settings")


@shows("tracker:two_step", only=THERAPIST)
def two_step_set_up(page, world):
    go(page, world, "/account/two-step/")
    heading(page, "Two-step sign-in")


@shows("tracker:two_step", only=THERAPIST)
def two_step_set_up_with_errors(page, world):
    page.get_by_label("Code from your authenticator app").fill("12")
    submit(page, "Turn on two-step sign-in")


@shows("tracker:two_step", only=LEAD)
def two_step_on(page, world):
    go(page, world, "/account/two-step/")
    expect(page.get_by_role("heading", name="Turn off two-step sign-in")).to_be_visible()


@shows("tracker:two_step", only=LEAD)
def two_step_off_with_errors(page, world):
    page.get_by_label("Your password").fill("not my password")
    submit(page, "Turn off two-step sign-in")


@shows("tracker:audit_list", only=LEAD)
def audit(page, world):
    go(page, world, "/audit/")
    heading(page, "Audit trail")


@shows("tracker:audit_list", only=LEAD)
def audit_with_errors(page, world):
    go(page, world, "/audit/?date_from=2026-05-02&date_to=2026-05-01&patient=%23x")
    expect(page.locator(".error-summary")).to_be_focused()


@shows("tracker:clinic_settings", only=LEAD)
def clinic_settings(page, world):
    go(page, world, f"/clinics/{world['clinic'].pk}/settings/")
    heading(page, world["clinic"].name)


@shows("tracker:clinic_settings", only=LEAD)
def clinic_settings_with_errors(page, world):
    page.locator("#id_soreness_72h_threshold").fill("0")
    page.locator("#id_escalation_minutes").fill("0")
    submit(page, "Save settings")


@shows("tracker:clinic_staff", only=LEAD)
def clinic_staff(page, world):
    go(page, world, f"/clinics/{world['clinic'].pk}/staff/")
    heading(page, world["clinic"].name)


@shows("tracker:clinic_staff", only=LEAD)
def clinic_staff_with_errors(page, world):
    page.get_by_label("Email address").fill("not an email")
    submit(page, "Send invitation")


@shows("tracker:analytics")
def analytics(page, world):
    go(page, world, f"/clinics/{world['clinic'].pk}/analytics/")
    heading(page, "Analytics")


@shows("tracker:analytics")
def analytics_with_errors(page, world):
    go(page, world, f"/clinics/{world['clinic'].pk}/analytics/?date_from=2026-13-01")
    expect(page.locator(".error-summary")).to_be_focused()


@shows("password_change")
def password_change(page, world):
    go(page, world, "/accounts/password_change/")


@shows("password_change")
def password_change_with_errors(page, world):
    page.locator("#id_old_password").fill("not my password")
    page.locator("#id_new_password1").fill("a-new-pass-2026!")
    page.locator("#id_new_password2").fill("a-new-pass-2026!")
    submit(page, "Change my password")


@shows("password_change_done")
def password_changed(page, world):
    go(page, world, "/accounts/password_change/done/")


# In the order one user passes through them: signed out, the second step, signed in.
SIGNED_OUT = [
    password_reset,
    password_reset_sent,
    password_reset_bad_link,
    password_reset_complete,
    invitation_bad_link,
    invitation,
    invitation_with_errors,
    sign_in_page,
    sign_in_with_errors,
]
SIGNED_IN = [
    today,
    alerts_open,
    alerts_acknowledged,
    patients,
    patients_none_found,
    patients_searched_and_filtered,
    add_patient,
    add_patient_with_errors,
    add_patient_possible_duplicate,
    edit_patient,
    edit_patient_with_errors,
    patient_page,
    visit_summary,
    patient_record,
    record_session,
    record_session_with_errors,
    record_session_backdated,
    session_page,
    correct_session,
    correct_session_with_errors,
    enter_in_error,
    enter_in_error_with_errors,
    link_card,
    erase,
    erase_with_errors,
    staff_settings,
    staff_settings_with_errors,
    two_step_set_up,
    two_step_set_up_with_errors,
    two_step_on,
    two_step_off_with_errors,
    audit,
    audit_with_errors,
    clinic_settings,
    clinic_settings_with_errors,
    clinic_staff,
    clinic_staff_with_errors,
    analytics,
    analytics_with_errors,
    password_change,
    password_change_with_errors,
    password_changed,
]
SECOND_STEP = [code_page, code_with_errors]


def test_every_url_has_a_row():
    names = {name for name, _route in named_routes()}
    shown = {show.url_name for show in SIGNED_OUT + SECOND_STEP + SIGNED_IN}
    assert shown.isdisjoint(NOT_STAFF_PAGES), "a URL is both shown and not a staff page"
    assert sorted(names - shown - set(NOT_STAFF_PAGES)) == [], "URLs with no page state here"
    assert sorted((shown | set(NOT_STAFF_PAGES)) - names) == [], "rows whose URL no longer exists"


# ---- What each state is checked for --------------------------------------------------

# Beside axe: what keyboard and screen-reader users need of tables, charts and errors.
PAGE_CHECKS = """() => {
    const problems = [];
    for (const box of document.querySelectorAll(".table-responsive")) {
        if (box.getAttribute("tabindex") !== "0" || box.getAttribute("role") !== "region"
                || !(box.getAttribute("aria-label") || "").trim()) {
            problems.push("a sideways-scrolling table is not a focusable, named region");
        }
    }
    for (const img of document.querySelectorAll("img.chart")) {
        const figure = img.closest("figure");
        const described = (img.getAttribute("aria-describedby") || "").split(" ").filter(Boolean);
        const tied = figure && figure.querySelector("figcaption")
            && described.every((id) => document.getElementById(id));
        if (!tied) problems.push(`chart ${img.src} is not in a figure with its caption`);
    }
    const summary = document.querySelector(".error-summary");
    const invalid = document.querySelectorAll("[aria-invalid=true], .is-invalid");
    if (invalid.length && !summary) problems.push("fields in error but no error summary");
    if (summary) {
        if (document.activeElement !== summary) problems.push("the error summary is not focused");
        const targets = [...summary.querySelectorAll("a[href^='#']")].map((a) => a.hash.slice(1));
        for (const field of invalid) {
            if (field.id && !targets.includes(field.id)) {
                problems.push(`the error summary does not link to #${field.id}`);
            }
        }
        for (const id of targets) {
            if (!document.getElementById(id)) problems.push(`the summary links to no field: #${id}`);
        }
    }
    return problems;
}"""


def run_axe(page):
    """axe-core's violations on the page as it is now (axe is loaded once per document)."""
    if not page.evaluate("typeof window.axe === 'object'"):
        page.evaluate(AXE.axe_script)
    return AxeResults(page.evaluate("(options) => axe.run(document, options)", AXE_OPTIONS))


def check(page, name):
    """axe at both sizes, and PAGE_CHECKS; what failed, as text."""
    failures = [f"{name}: {problem}" for problem in page.evaluate(PAGE_CHECKS)]
    for size, label in [(DESKTOP_SIZE, "1280"), (PHONE_SIZE, "390")]:
        page.set_viewport_size(size)
        results = run_axe(page)
        if results.violations_count:
            failures.append(f"axe on {name} at {label} px:\n{results.generate_report()}")
    page.set_viewport_size(DESKTOP_SIZE)
    return failures


@pytest.mark.parametrize("role", [THERAPIST, LEAD])
def test_staff_pages_have_no_axe_violations(role, desktop_page, world):
    page = desktop_page
    page.context.set_default_timeout(SLOW_MS)
    page.context.set_default_navigation_timeout(SLOW_MS)
    user = world["users"][role]
    failures = []

    def walk(states):
        for show in states:
            if show.only in (None, role):
                show(page, world)
                failures.extend(check(page, f"{show.__name__} ({role})"))

    walk(SIGNED_OUT)
    if role == LEAD:
        walk(SECOND_STEP)
        page.get_by_label("Code from your authenticator app").fill(_current_code(user))
        send(page, "Continue")
    else:
        fill_sign_in(page, user)
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()
    walk(SIGNED_IN)
    assert not failures, "\n\n".join(failures)


def _current_code(user):
    from django_otp.oath import TOTP
    from django_otp.plugins.otp_totp.models import TOTPDevice

    device = TOTPDevice.objects.get(user=user)
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    return f"{totp.token():0{device.digits}d}"


# ---- Check-in state badges: every state readable, in the browser's own colours ----------


def parse_color(css):
    """(r, g, b, alpha) of a computed CSS colour ("rgb(…)" or "rgba(…)")."""
    inside = css[css.index("(") + 1 : css.index(")")]
    parts = [float(part) for part in inside.replace("/", " ").replace(",", " ").split()]
    return (*parts[:3], parts[3] if len(parts) == 4 else 1.0)


def contrast(first, second):
    """WCAG 2 contrast ratio of two opaque colours given as (r, g, b, …) in 0–255."""

    def luminance(color):
        channels = [c / 255 for c in color[:3]]
        r, g, b = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
        return 0.2126 * r + 0.7152 * g + 0.0722 * b

    light, dark = sorted([luminance(first), luminance(second)], reverse=True)
    return (light + 0.05) / (dark + 0.05)


# States Maria's sessions do not reach (a backdated session's "not asked", a session
# entered in error), added beside hers; both spellings ("state-{{ state }}" gives the underscore).
COMING_STATES = ["not_asked", "not-asked", "entered_in_error", "entered-in-error"]

BADGE_COLOURS = """(extra) => {
    const cell = document.querySelector("td > .badge[class*='state-']").parentElement;
    for (const state of extra) {
        const badge = document.createElement("span");
        badge.className = `badge state-${state}`;
        badge.textContent = state.replaceAll(/[_-]/g, " ");
        cell.append(badge);
    }
    return [...document.querySelectorAll(".badge[class*='state-']")].map((badge) => ({
        state: [...badge.classList].find((name) => name.startsWith("state-")).slice(6),
        text: badge.textContent.trim(),
        visible: badge.checkVisibility(),
        color: getComputedStyle(badge).color,
        background: getComputedStyle(badge).backgroundColor,
    }));
}"""


def test_every_check_in_state_has_a_readable_badge(desktop_page, world):
    """Each state's badge has words, an opaque background, and text at 4.5:1 on it."""
    from tracker.models.followups import FollowUpState

    page = desktop_page
    sign_in_as(page, world, world["users"][THERAPIST])
    go(page, world, f"/patients/{world['patient'].pk}/")
    badges = page.evaluate(BADGE_COLOURS, COMING_STATES)

    states = {badge["state"] for badge in badges}
    assert set(FollowUpState.values) <= states, "Maria's sessions show every state there is"
    problems = []
    for badge in badges:
        text, background = parse_color(badge["color"]), parse_color(badge["background"])
        if not badge["visible"] or not badge["text"]:
            problems.append(f"{badge['state']}: no visible words")
        elif background[3] < 1:
            problems.append(f"{badge['state']}: no background of its own ({badge['background']})")
        elif (ratio := contrast(text, background)) < 4.5:
            problems.append(f"{badge['state']}: text at {ratio:.2f}:1 on its background")
    assert not problems, "\n".join(problems)


# ---- Focus you can see ---------------------------------------------------------------

# The focused element, its outline, and the colour the outline is drawn on: the
# first ancestor with a background of its own (the ring sits 2 px outside the element).
FOCUSED = """() => {
    const el = document.activeElement;
    const style = getComputedStyle(el);
    let background = "rgb(255, 255, 255)";
    for (let node = el.parentElement; node; node = node.parentElement) {
        const color = getComputedStyle(node).backgroundColor;
        if (!/^rgba\\(.*,\\s*0\\)$/.test(color)) { background = color; break; }
    }
    return {
        tag: el.tagName.toLowerCase(),
        label: (el.getAttribute("aria-label") || el.textContent || el.name || el.id).trim().slice(0, 40),
        style: style.outlineStyle, width: parseFloat(style.outlineWidth),
        color: style.outlineColor, background,
    };
}"""


def tab_through(page, stops):
    """Press Tab ``stops`` times; what had focus after each press on the page."""
    seen = []
    for _ in range(stops):
        page.keyboard.press("Tab")
        seen.append(page.evaluate(FOCUSED))
    return [stop for stop in seen if stop["tag"] != "body"]  # body: focus left for the browser


def test_focus_is_visible_on_links_buttons_fields_and_tables(desktop_page, world):
    """Every stop of the keyboard shows a ring at least 2 px wide and 3:1 against what is around it."""
    page = desktop_page
    sign_in_as(page, world, world["users"][THERAPIST])
    go(page, world, f"/patients/{world['patient'].pk}/sessions/new/")
    stops = tab_through(page, 45)  # the menu, the breadcrumb, the session's fields, the first sites
    go(page, world, "/patients/")
    stops += tab_through(page, 18)  # … the search and its filters, the table

    problems = []
    for stop in stops:
        what = f"{stop['tag']} {stop['label']!r}"
        if stop["style"] in ("none", "hidden") or stop["width"] < 2:
            problems.append(f"{what}: outline {stop['style']} {stop['width']} px")
        elif (ratio := contrast(parse_color(stop["color"]), parse_color(stop["background"]))) < 3:
            problems.append(f"{what}: ring at {ratio:.2f}:1 against {stop['background']}")
    assert not problems, "\n".join(problems)
    assert {"a", "button", "input", "select", "textarea", "div"} <= {s["tag"] for s in stops}


# ---- A form that fails: the error summary ----------------------------------------------


def test_error_summary_takes_focus_and_leads_to_each_field(desktop_page, world):
    page = desktop_page
    sign_in_as(page, world, world["users"][THERAPIST])
    go(page, world, f"/patients/{world['patient'].pk}/sessions/new/")
    page.get_by_label("Pain before the session (0–10)").select_option("")
    page.locator('[name="sites-1-muscle"]').select_option("piriformis")
    page.locator('[name="sites-1-insertions"]').fill("0")
    submit(page, "Save session and create the patient's link")

    summary = page.locator(".error-summary")
    expect(summary).to_contain_text("Please correct the following")
    expect(summary.get_by_role("link")).to_have_text(
        [
            "Pain before the session (0–10): Ask the patient and choose 0 to 10.",
            "Site 2, insertions: Ensure this value is greater than or equal to 1.",
        ]
    )
    summary.get_by_role("link").nth(1).click()
    expect(page.locator('[name="sites-1-insertions"]')).to_be_focused()
    expect(page.get_by_text("Insertions", exact=True).nth(1)).to_be_in_viewport()


def test_error_summary_takes_focus_without_javascript(new_context, world):
    """The summary's focus comes from the autofocus attribute, not from a script."""
    context = new_context(**DESKTOP, java_script_enabled=False)
    context.set_default_timeout(5_000)
    page = context.new_page()
    sign_in_as(page, world, world["users"][THERAPIST])
    go(page, world, "/patients/new/")
    submit(page, "Save patient")
    expect(page.locator(".error-summary")).to_contain_text("Name: This field is required.")

"""A warning sign gets its guidance at once, with or without JavaScript or a network,
and reaches the clinic's open Today page without a reload."""

import re
import uuid

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import DESKTOP, PASSWORD, PHONE
from tests.browser.pages import open_check_in
from tracker.models import Alert, SymptomReport

pytestmark = pytest.mark.browser

CALL_NOW = "Call 999 now"
DOCTOR_TODAY = "See a doctor or call the clinic today."

KEPT_FOR_OFFLINE = """async () => {
    if (!navigator.serviceWorker.controller) return false;
    const files = [...document.querySelectorAll('link[rel~="stylesheet"], script[src]')];
    for (const url of [location.href, ...files.map((el) => el.href || el.src)]) {
        if (!(await caches.match(url))) return false;
    }
    return true;
}"""


def _warning_question(page):
    return page.locator("fieldset", has_text="warning signs")


def _tick(page, question_text, option):
    page.locator("fieldset", has_text=question_text).locator("label").filter(
        has_text=re.compile(rf"^\s*{re.escape(option)}")
    ).first.click()


def _answer_all_but_warning_signs(page):
    page.locator("fieldset", has_text="How sore is the needled area").locator(
        "label", has_text=re.compile(r"^\s*3\s*$")
    ).click()
    _tick(page, "Twitching or cramping", "None")
    _tick(page, "Bruising where the needle went in", "No bruise")
    _tick(page, "get in the way of your usual activities", "Not at all")
    _tick(page, "Anything else since the session?", "None of these")


def test_ticking_a_warning_sign_shows_what_to_do_before_sending(phone_page, patient_url):
    page = phone_page
    open_check_in(page, patient_url)
    emergency = page.locator('[data-warning-now="emergency"]')
    infection = page.locator('[data-warning-now="infection"]')
    expect(emergency).to_be_hidden()

    _tick(page, "warning signs", "Spreading redness")
    expect(infection).to_be_visible()
    expect(infection).to_contain_text(DOCTOR_TODAY)
    expect(emergency).to_be_hidden()

    _tick(page, "warning signs", "Fainting")
    expect(emergency).to_be_visible()
    expect(emergency).to_contain_text(CALL_NOW)
    expect(emergency.get_by_role("link", name="Call 999")).to_have_attribute("href", "tel:999")
    expect(infection).to_be_hidden()
    assert not SymptomReport.objects.exists()  # nothing was sent to show it


def test_without_javascript_the_guidance_is_printed_beside_the_question(new_context, patient_url):
    context = new_context(**PHONE, java_script_enabled=False)
    page = context.new_page()
    page.goto(patient_url)
    guidance = page.locator("#warning-guidance")
    expect(guidance).to_be_visible()
    expect(guidance).to_contain_text("call 999 now")
    expect(guidance).to_contain_text("Signs of infection alone")
    box = guidance.bounding_box()
    question = _warning_question(page).bounding_box()
    assert 0 <= box["y"] - (question["y"] + question["height"]) < 40  # right under it


def test_a_warning_sign_sent_alone_reaches_the_clinic(phone_page, patient_url):
    """Ticked and sent with every other question unanswered: the clinic's alert
    opens, and the patient reads that the clinic knows beside the guidance."""
    page = phone_page
    open_check_in(page, patient_url)
    _tick(page, "warning signs", "New shortness of breath")
    page.get_by_role("button", name="Send my answers", exact=True).click()
    expect(page.get_by_text("Your clinic has been told about the warning sign")).to_be_visible()
    expect(page.get_by_text("Some answers are missing")).to_be_visible()
    assert not SymptomReport.objects.exists()
    alert = Alert.objects.get()
    assert (alert.rule, alert.severity, alert.facts["flags"]) == (
        "red_flag",
        "urgent",
        ["rf_breathing"],
    )


def test_offline_answers_with_a_warning_sign_show_the_emergency_guidance(phone_page, patient_url):
    page = phone_page
    page.goto(patient_url)
    page.wait_for_function(f"({KEPT_FOR_OFFLINE})()")
    page.context.set_offline(True)
    _answer_all_but_warning_signs(page)
    _tick(page, "warning signs", "New shortness of breath")
    page.get_by_role("button", name="Send my answers", exact=True).click()

    status = page.locator("[data-offline-status]")
    banner = status.locator('[data-warning-banner="emergency"]')
    expect(banner).to_be_visible()
    expect(banner).to_contain_text(CALL_NOW)
    expect(banner.get_by_role("link", name="Call 999")).to_have_attribute("href", "tel:999")
    expect(status).to_contain_text("Saved on this phone")
    # Above the saved-answers news, at the top of the screen.
    assert banner.bounding_box()["y"] < 400
    assert not SymptomReport.objects.exists()

    page.context.set_offline(False)
    page.evaluate("window.dispatchEvent(new Event('online'))")
    expect(page.get_by_role("heading", name=CALL_NOW)).to_be_visible()
    assert SymptomReport.objects.get().rf_breathing


def test_today_shows_a_new_urgent_alert_without_a_reload(
    new_context, live_server, recorded_session, therapist, settings
):
    from tracker import services
    from tracker.choices import TimePoint

    settings.LIVE_REFRESH_SECONDS = 1
    page = new_context(**DESKTOP).new_page()
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Username").fill(therapist.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Today", level=1)).to_be_visible()
    assert page.title().startswith("Today")
    expect(page.locator("#alerts")).to_contain_text("No open alerts.")

    follow_up = recorded_session.follow_ups.get(time_point=TimePoint.IN_CLINIC)
    services.submit_report(
        follow_up=follow_up,
        idempotency_key=uuid.uuid4(),
        answers={
            "soreness": 4,
            "twitching": "none",
            "bruising": "none",
            "interference": "not_at_all",
            "red_flags": ["rf_cough"],
        },
    )
    expect(page.locator("#alerts")).to_contain_text("Warning sign reported", timeout=10_000)
    expect(page).to_have_title(re.compile(r"^\(1\) Today"))
    expect(page.locator("#alerts")).to_contain_text("A new dry cough")


# ---- Between check-ins --------------------------------------------------------------

TELL_CLINIC = "Tell my clinic now"


def _warning_form(page):
    return page.locator("#warning")


def test_between_check_ins_a_warning_sign_sent_offline_reaches_the_clinic_back_online(
    phone_page, between_check_ins_url, screenshot
):
    from tracker.models import WarningReport

    page = phone_page
    page.goto(between_check_ins_url)
    page.wait_for_function(f"({KEPT_FOR_OFFLINE})()")
    expect(
        page.get_by_role("heading", name="Thank you — nothing to answer right now")
    ).to_be_visible()
    form = _warning_form(page)
    expect(form.get_by_role("heading")).to_have_text("A warning sign now? Tell your clinic here")
    screenshot(page, "warning-between-check-ins")

    page.context.set_offline(True)
    form.locator("label", has_text="New shortness of breath").click()
    expect(form.locator('[data-warning-now="emergency"]')).to_be_visible()
    form.get_by_role("button", name=TELL_CLINIC).click()
    banner = page.locator('[data-offline-status] [data-warning-banner="emergency"]')
    expect(banner).to_be_visible()
    expect(banner).to_contain_text(CALL_NOW)
    assert not WarningReport.objects.exists()

    page.context.set_offline(False)
    page.evaluate("window.dispatchEvent(new Event('online'))")
    expect(page.get_by_role("heading", name=CALL_NOW)).to_be_visible()
    expect(page.get_by_text("Your clinic was alerted at")).to_be_visible()
    assert page.url.endswith("/warning/")
    screenshot(page, "warning-sent")
    warning = WarningReport.objects.get()
    assert warning.flags == ["rf_breathing"]
    assert Alert.objects.get(warning_report=warning).severity == "urgent"


def test_between_check_ins_a_warning_sign_is_sent_without_javascript(
    new_context, between_check_ins_url
):
    from tracker.models import WarningReport

    page = new_context(**PHONE, java_script_enabled=False).new_page()
    page.goto(between_check_ins_url)
    form = _warning_form(page)
    form.get_by_role("button", name=TELL_CLINIC).click()
    expect(page.locator("#red_flags-error")).to_have_text("Tick the warning signs you have.")
    assert not WarningReport.objects.exists()

    _warning_form(page).locator("label", has_text="Spreading redness").click()
    _warning_form(page).get_by_role("button", name=TELL_CLINIC).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "See a doctor or call the clinic today"
    )
    assert WarningReport.objects.get().flags == ["rf_infection"]

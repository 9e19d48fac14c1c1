"""A therapist records a session on a desktop and gets the patient's link."""

import re

import pytest
from playwright.sync_api import expect

from tests.browser.pages import PASSWORD, PHONE, wait_for_charts
from tracker.models import NeedlingSession

pytestmark = pytest.mark.browser


def test_therapist_records_a_session_and_gets_the_patients_link(
    desktop_page, make_page, live_server, settings, therapist, patient, screenshot
):
    # Links and QR codes carry SITE_URL; point it at the live server so the link works.
    settings.SITE_URL = live_server.url
    page = desktop_page
    page.goto(f"{live_server.url}/accounts/login/")
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    screenshot(page, "staff-login")

    page.get_by_label("Username").fill(therapist.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()

    # Signed in: the navigation bar shows who, and leads to the patient list.
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()
    screenshot(page, "staff-home")
    page.get_by_role("navigation").get_by_role("link", name="Patients", exact=True).click()
    expect(page.get_by_role("heading", name="Patients", level=1)).to_be_visible()
    screenshot(page, "staff-patient-list")

    page.get_by_role("link", name=patient.display_name).click()
    expect(page.get_by_role("heading", name=patient.display_name, level=1)).to_be_visible()
    page.get_by_role("link", name="Record a session").click()

    expect(page.get_by_role("heading", level=1)).to_have_text(
        f"Record a session for {patient.display_name}"
    )
    expect(page.locator("fieldset.site-row")).to_have_count(3)
    page.get_by_label("Pain before the session (0–10)").select_option("6")
    for index, site in enumerate(
        [
            {
                "muscle": "upper_trapezius",
                "side": "right",
                "insertions": "3",
                "technique": "deep_pistoning",
                "twitch_band": "3-5",
            },
            {
                "muscle": "levator_scapulae",
                "side": "right",
                "insertions": "2",
                "technique": "deep_static",
                "twitch_band": "1-2",
            },
        ]
    ):
        row = f"sites-{index}"
        page.locator(f'[name="{row}-muscle"]').select_option(site["muscle"])
        page.locator(f'[name="{row}-side"]').select_option(site["side"])
        page.locator(f'[name="{row}-insertions"]').fill(site["insertions"])
        page.locator(f'[name="{row}-technique"]').select_option(site["technique"])
        page.locator(f'[name="{row}-twitch_band"]').select_option(site["twitch_band"])
    screenshot(page, "staff-session-form")

    page.get_by_role("button", name="Save session and create the patient's link").click()

    expect(page.get_by_role("heading", level=1)).to_have_text(f"Session for {patient.display_name}")
    expect(page.get_by_role("status")).to_contain_text("Session recorded")
    link = page.locator("#link-url")
    expect(link).to_have_value(re.compile(rf"^{re.escape(live_server.url)}/f/[\w-]{{20,}}/$"))
    assert "/f/" in link.input_value()
    expect(page.locator(".qr svg")).to_be_visible()
    chart = page.locator("img.chart")
    expect(chart).to_be_visible()
    wait_for_charts(page)
    assert chart.evaluate("img => img.naturalWidth") > 0
    screenshot(page, "staff-session-detail")

    session = NeedlingSession.objects.get()
    assert session.patient == patient
    assert session.therapist == therapist
    assert session.pre_pain == 6
    assert session.chest_wall_area  # set by itself: both muscles are over the chest wall
    assert session.sites.count() == 2
    assert session.follow_ups.count() == 3
    assert session.access_links.count() == 1

    # The same page on a phone, signed in as the same user.
    phone = make_page(PHONE)
    phone.context.add_cookies(page.context.cookies())
    phone.goto(page.url)
    expect(phone.locator(".qr svg")).to_be_visible()
    wait_for_charts(phone)
    screenshot(phone, "staff-session-detail-phone")

    # The link on the page opens the patient's check-in.
    patient_phone = make_page(PHONE)
    patient_phone.goto(link.input_value())
    expect(patient_phone.get_by_text("How do you feel right after the session?")).to_be_visible()


def test_in_development_the_session_page_opens_the_patients_page_at_phone_width(
    desktop_page, live_server, settings, recorded_session, therapist
):
    settings.SITE_URL = live_server.url
    settings.DEBUG = True
    page = desktop_page
    page.goto(f"{live_server.url}/accounts/login/?next=/sessions/{recorded_session.pk}/")
    page.get_by_label("Username").fill(therapist.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()

    with page.expect_popup() as opened:
        page.get_by_role("link", name="Open the patient's page here").click()
    patient_page = opened.value
    expect(patient_page.get_by_text("How do you feel right after the session?")).to_be_visible()
    assert patient_page.url == page.locator("#link-url").input_value()
    assert patient_page.evaluate("window.innerWidth") <= 400
    assert patient_page.evaluate("window.opener") is None

"""A therapist corrects a session, then marks another one "entered in error"; the patient's
link then says the clinic closed the follow-up."""

import pytest
from playwright.sync_api import expect

from tests.browser.pages import PHONE, new_page, sign_in

pytestmark = pytest.mark.browser

DESKTOP = {"viewport": {"width": 1280, "height": 800}}


def test_therapist_marks_a_session_entered_in_error(
    desktop_page,
    new_context,
    warm_live_server,
    patient_url,
    recorded_session,
    therapist,
    screenshot,
):
    page = desktop_page
    live = warm_live_server.url
    sign_in(page, warm_live_server, therapist.username)

    # A correction first: one more insertion at the first site.
    page.goto(f"{live}/sessions/{recorded_session.pk}/")
    page.get_by_role("link", name="Correct this session").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Correct the session")
    screenshot(page, "session-correct-1280")
    page.set_viewport_size(PHONE["viewport"])
    screenshot(page, "session-correct-390")
    page.set_viewport_size(DESKTOP["viewport"])
    page.locator('[name="sites-0-insertions"]').fill("5")
    page.get_by_role("button", name="Save the correction").click()
    expect(page.get_by_role("status")).to_contain_text("Session corrected")
    expect(
        page.locator("table").filter(has_text="Insertions").locator("tbody tr").first
    ).to_contain_text("5")

    # Then entered in error: the reason is asked for, beside the field.
    page.get_by_role("link", name="Mark as entered in error").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Mark this session as entered in error"
    )
    page.get_by_role("button", name="Mark as entered in error").click()
    expect(page.locator(".error-summary")).to_be_focused()
    expect(page.locator(".invalid-feedback")).to_contain_text("Say why")
    screenshot(page, "session-entered-in-error-form-1280")
    page.set_viewport_size(PHONE["viewport"])
    screenshot(page, "session-entered-in-error-form-390")
    page.set_viewport_size(DESKTOP["viewport"])
    page.get_by_label("Why was this session entered in error?").fill(
        "Recorded for the wrong patient"
    )
    page.get_by_role("button", name="Mark as entered in error").click()

    expect(page.get_by_role("status")).to_contain_text("marked as entered in error")
    expect(page.locator("h1 del")).to_be_visible()
    expect(page.locator(".entered-in-error-note")).to_contain_text("Recorded for the wrong patient")
    expect(page.get_by_role("link", name="Correct this session")).to_have_count(0)
    expect(page.locator("#link-url")).to_have_count(0)
    screenshot(page, "session-entered-in-error-1280")
    page.set_viewport_size(PHONE["viewport"])
    screenshot(page, "session-entered-in-error-390")
    page.set_viewport_size(DESKTOP["viewport"])

    # The patient's page keeps it, struck through, with the reason.
    page.goto(f"{live}/patients/{recorded_session.patient.pk}/")
    card = page.locator("section.session-entered-in-error")
    expect(card.locator("del")).to_be_visible()
    expect(card).to_contain_text("Recorded for the wrong patient")
    screenshot(page, "patient-with-session-in-error-1280")

    # Today no longer lists it.
    page.goto(f"{live}/")
    expect(page.locator("main")).not_to_contain_text(recorded_session.patient.display_name)

    # The patient's link: a kind page with the clinic's phone and the emergency number.
    phone = new_page(new_context, PHONE)
    response = phone.goto(patient_url)
    assert response.status == 404
    expect(phone.get_by_role("heading", level=1)).to_have_text(
        "This follow-up was closed by your clinic"
    )
    expect(phone.locator('a[href="tel:020 7946 0000"]')).to_be_visible()
    expect(phone.locator('a[href="tel:999"]')).to_be_visible()
    screenshot(phone, "patient-link-closed-by-clinic-390")
    phone.set_viewport_size(DESKTOP["viewport"])
    screenshot(phone, "patient-link-closed-by-clinic-1280")

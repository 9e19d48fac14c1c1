"""The patient's check-in on a phone, through the tokenised link."""

import re

import pytest
from playwright.sync_api import expect

from tests.browser.pages import MIN_TAP, question, send, soreness_label, tap
from tracker.models import SymptomReport

pytestmark = pytest.mark.browser


def test_the_check_in_form_is_accepted_by_a_real_browser(phone_page, patient_url):
    """Patient pages send no referrer, so Chromium posts with `Origin: null`: no 403."""
    page = phone_page
    page.goto(patient_url)
    soreness_label(page, 1).click()
    tap(page, "Bruising where the needle went in", "No bruise")
    with page.expect_response(lambda r: r.request.method == "POST") as posted:
        send(page)

    response = posted.value
    assert response.status != 403, "the check-in POST was refused (CSRF: `Origin: null`)"
    assert response.status == 200  # the form again: twitching was not answered
    expect(page.locator("#twitching-error")).to_be_visible()


def test_patient_answers_the_in_clinic_check_in(phone_page, patient_url, clinic, screenshot):
    page = phone_page
    page.goto(patient_url)

    expect(page.get_by_text(clinic.name, exact=True)).to_be_visible()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Your needling session on")
    expect(page.get_by_text("How do you feel right after the session?")).to_be_visible()
    expect(page.get_by_role("button", name="Send my answers")).to_be_visible()
    screenshot(page, "patient-check-in")

    soreness = page.locator("fieldset", has_text="How sore is the needled area")
    labels = soreness.locator("label.nrs-option")
    expect(labels).to_have_count(11)
    for n in range(11):
        label = labels.nth(n)
        expect(label).to_have_text(str(n))
        box = label.bounding_box()
        assert box is not None, f"soreness {n} has no box"
        assert box["width"] >= MIN_TAP and box["height"] >= MIN_TAP, (
            f"soreness {n} is {box['width']:.0f}×{box['height']:.0f} px, under {MIN_TAP}×{MIN_TAP}"
        )

    soreness_label(page, 3).click()
    expect(soreness.get_by_role("radio", name="3", exact=True)).to_be_checked()
    tap(page, "Twitching or cramping", "None")
    tap(page, "Bruising where the needle went in", "No bruise")
    tap(page, "get in the way of your usual activities", "Not at all")
    tap(page, "Anything else since the session?", "None of these")
    tap(page, "warning signs", "None of these")
    expect(page.locator('input[type="radio"][name="twitching"][value="none"]')).to_be_checked()
    expect(page.locator('input[type="radio"][name="bruising"][value="none"]')).to_be_checked()
    screenshot(page, "patient-check-in-answered")
    send(page)

    expect(page.get_by_role("heading", name="Thank you — your answers were sent")).to_be_visible()
    expect(page.get_by_text("soreness 3 out of 10")).to_be_visible()
    screenshot(page, "patient-thank-you")

    reports = list(SymptomReport.objects.all())
    assert len(reports) == 1
    assert reports[0].soreness == 3
    assert reports[0].twitching == "none"
    assert reports[0].bruising == "none"
    assert not reports[0].has_red_flag


def test_nothing_chosen_shows_errors_beside_the_questions(phone_page, patient_url, screenshot):
    page = phone_page
    page.goto(patient_url)
    send(page)

    expect(page.get_by_role("alert")).to_contain_text("Some answers are missing")
    soreness = question(page, "How sore is the needled area")
    expect(soreness.locator("#soreness-error")).to_have_text("Choose a number from 0 to 10.")
    expect(soreness).to_have_attribute("aria-describedby", re.compile(r"\bsoreness-error\b"))
    expect(page.locator("#twitching-error")).to_have_text("Choose none, mild or strong.")
    expect(page.locator("#bruising-error")).to_have_text(
        "Choose the size closest to your bruise, or no bruise."
    )
    screenshot(page, "patient-check-in-errors")

    assert not SymptomReport.objects.exists()


def test_a_warning_sign_sends_the_patient_to_emergency_services(
    phone_page, patient_url, screenshot
):
    page = phone_page
    page.goto(patient_url)

    soreness_label(page, 2).click()
    tap(page, "Twitching or cramping", "Mild")
    tap(page, "Bruising where the needle went in", "No bruise")
    tap(page, "get in the way of your usual activities", "A little bit")
    tap(page, "Anything else since the session?", "None of these")
    question(page, "warning signs").get_by_text("shortness of breath").click()
    expect(page.get_by_role("checkbox", name=re.compile("shortness of breath"))).to_be_checked()
    send(page)

    expect(page.get_by_role("heading", level=1)).to_have_text("Call 999 now")
    expect(page.get_by_role("link", name="Call 999")).to_have_attribute("href", "tel:999")
    screenshot(page, "patient-emergency")

    report = SymptomReport.objects.get()
    assert report.rf_breathing
    assert report.soreness == 2


@pytest.mark.parametrize("width", [320, 390, 576, 600, 768, 1280])
def test_the_soreness_buttons_stay_inside_their_card_at_every_width(make_page, patient_url, width):
    """Eleven in one row only where each still gets MIN_TAP px; more rows otherwise."""
    page = make_page({"viewport": {"width": width, "height": 900}})
    page.goto(patient_url)
    card = question(page, "How sore is the needled area right now?").bounding_box()
    boxes = [page.locator("label.nrs-option").nth(i).bounding_box() for i in range(11)]
    assert all(
        card["x"] <= box["x"] and box["x"] + box["width"] <= card["x"] + card["width"]
        for box in boxes
    ), (width, card, boxes[-1])
    assert min(box["width"] for box in boxes) >= MIN_TAP
    rows = len({round(box["y"]) for box in boxes})
    assert (rows == 1) == (width >= 600)

"""A therapist finds a patient by name, in any order and without accents, and corrects
their details: the reminder rules answer beside the fields, the number is kept in E.164."""

import pytest
from playwright.sync_api import expect

from tests.browser.pages import PHONE, sign_in
from tracker.models import AuditEvent, Patient

pytestmark = pytest.mark.browser


def test_therapist_finds_and_edits_a_patient(
    desktop_page, make_page, live_server, therapist, patient, screenshot
):
    Patient.objects.create(clinic=patient.clinic, display_name="María López", year_of_birth=1990)
    page = desktop_page
    sign_in(page, live_server, therapist.username)

    page.goto(f"{live_server.url}/patients/")
    page.get_by_label("Name or reference").fill("LOPEZ maria")
    page.get_by_role("button", name="Search").click()
    # Both share a name: each shows what tells them apart.
    expect(page.locator("tbody tr")).to_have_count(2)
    expect(page.locator(".shared-name").first).to_have_text("(Ref. HP-0042)")
    expect(page.locator(".shared-name").last).to_have_text("(born 1990)")
    screenshot(page, "patient-list-desktop")

    page.get_by_role("link", name="Maria Lopez").click()
    page.get_by_role("link", name="Edit details").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Edit patient’s details")

    # Text reminders without a number or the patient's agreement: said beside each field.
    page.get_by_label("Reminders by").select_option("sms")
    page.get_by_role("button", name="Save patient").click()
    expect(page.locator(".error-summary")).to_be_focused()
    expect(
        page.locator("#id_phone ~ .invalid-feedback, #id_phone + .invalid-feedback")
    ).to_contain_text("Add a mobile number")
    expect(page.locator(".invalid-feedback", has_text="agreement")).to_be_visible()
    screenshot(page, "patient-edit-errors-desktop")

    page.get_by_label("Mobile number").fill("07911 123456")
    page.get_by_label("Agrees to reminders").check()
    page.locator("#id_display_name").fill("Maria López Vidal")
    page.get_by_role("button", name="Save patient").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Maria López Vidal")
    expect(page.get_by_role("link", name="Call +44 7911 123456")).to_be_visible()
    expect(page.locator("main")).to_contain_text("reminders by text message (sms)")
    patient.refresh_from_db()
    assert patient.phone == "+447911123456" and patient.reminders_consent
    assert AuditEvent.objects.filter(patient=patient, detail__startswith="changed ").exists()

    phone = make_page(PHONE)
    sign_in(phone, live_server, therapist.username)
    phone.goto(f"{live_server.url}/patients/{patient.pk}/edit/")
    expect(phone.get_by_label("Mobile number")).to_have_value("+44 7911 123456")
    screenshot(phone, "patient-edit-phone")
    phone.goto(f"{live_server.url}/patients/?q=lopez")
    expect(phone.locator("tbody tr")).to_have_count(2)
    screenshot(phone, "patient-list-phone")


def test_a_possible_duplicate_is_shown_and_can_be_saved_anyway(
    desktop_page, live_server, therapist, patient, screenshot
):
    page = desktop_page
    sign_in(page, live_server, therapist.username)
    page.goto(f"{live_server.url}/patients/new/")
    page.locator("#id_display_name").fill("lópez MARIA")
    page.get_by_label("Year of birth").fill("1984")
    page.get_by_role("button", name="Save patient").click()

    warning = page.locator("#possible-duplicates")
    expect(warning).to_be_focused()
    expect(warning.get_by_role("link", name="Maria Lopez")).to_be_visible()
    screenshot(page, "patient-add-duplicate-desktop")
    assert Patient.objects.count() == 1

    page.get_by_role("button", name="Save anyway").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("lópez MARIA")
    assert Patient.objects.count() == 2


def test_the_patient_page_says_when_texts_cannot_reach_the_number(
    desktop_page, live_server, therapist, patient, screenshot
):
    from tracker import services

    Patient.objects.filter(pk=patient.pk).update(
        phone="+447911123456", reminder_channel="sms", reminders_consent=True
    )
    services.record_phone_refused(patient_id=patient.pk, phone="+447911123456")
    page = desktop_page
    sign_in(page, live_server, therapist.username)
    page.goto(f"{live_server.url}/patients/{patient.pk}/")
    expect(page.locator(".phone-refused")).to_contain_text(
        "Text reminders cannot reach this number."
    )
    screenshot(page, "patient-refused-number-desktop", full_page=False)

"""Every patient page passes axe-core, keeps 44 px tap targets and reflows at 200 % zoom."""

import re
from datetime import timedelta

import pytest
from playwright.sync_api import expect

from tests.browser.pages import (
    assert_no_sideways_scrolling,
    assert_tap_targets,
    axe_report,
    feel_fine,
    question,
    send,
    soreness_label,
    tap,
)

pytestmark = pytest.mark.browser


# ---- One function per patient page: bring the page to that state ---------------


def check_in(page, url, **_):
    page.goto(url)
    expect(page.get_by_role("button", name="Send my answers")).to_be_visible()


def check_in_with_errors(page, url, **_):
    page.goto(url)
    send(page)
    expect(page.get_by_role("alert")).to_contain_text("Some answers are missing")


def confirmation(page, url, **_):
    page.goto(url)
    feel_fine(page)


def emergency(page, url, **_):
    page.goto(url)
    soreness_label(page, 2).click()
    for text, option in [
        ("Twitching or cramping", "None"),
        ("Bruising where the needle went in", "No bruise"),
        ("get in the way of your usual activities", "A little bit"),
        ("Anything else since the session?", "None of these"),
    ]:
        tap(page, text, option)
    question(page, "warning signs").get_by_text("shortness of breath").click()
    send(page)
    expect(page.get_by_role("heading", level=1)).to_have_text("Call 999 now")


def nothing_to_answer(page, url, **_):
    page.goto(url)  # after the in-clinic check-in was answered
    expect(
        page.get_by_role("heading", name="Thank you — nothing to answer right now")
    ).to_be_visible()


def check_ins_finished(page, url, session, time_machine, **_):
    # The live server runs in a thread of this process: time-machine moves its clock too.
    time_machine.move_to(session.performed_at + timedelta(hours=61), tick=False)  # 48 h closed
    page.goto(url)
    expect(
        page.get_by_role("heading", name="Your check-ins for this session are finished")
    ).to_be_visible()


def warning_with_errors(page, url, **_):
    page.goto(url)  # no check-in open: the warning-sign form
    page.get_by_role("button", name="Tell my clinic now").click()
    expect(page.locator("#red_flags-error")).to_be_visible()


def warning_sent(page, url, **_):
    page.goto(url)
    page.locator("#warning label", has_text="Fainting").click()
    page.get_by_role("button", name="Tell my clinic now").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Call 999 now")


def saved_on_this_phone(page, url, **_):
    page.goto(url)
    soreness_label(page, 1).click()
    page.context.set_offline(True)
    send(page)
    expect(page.get_by_role("status")).to_contain_text("Saved on this phone")


def link_closed(page, url, session, time_machine, **_):
    time_machine.move_to(session.performed_at + timedelta(days=8), tick=False)
    page.goto(url)
    expect(
        page.get_by_role("heading", name="Your check-ins for this session have closed")
    ).to_be_visible()


def link_replaced(page, url, session, **_):
    link = session.access_links.get()
    link.revoked_at = link.created_at
    link.save(update_fields=["revoked_at"])
    page.goto(url)
    expect(page.get_by_role("heading", name="This link has been replaced")).to_be_visible()


def unknown_link(page, url, **_):
    page.goto(re.sub(r"/f/[^/]+/$", "/f/no-such-link/", url))
    expect(page.get_by_role("heading", name="This link is not valid")).to_be_visible()


def too_many_lookups(page, url, monkeypatch, **_):
    from django.conf import settings

    monkeypatch.setattr(settings, "LINK_MISSES_PER_HOUR", 0)  # every unknown token is one too many
    page.goto(re.sub(r"/f/[^/]+/$", "/f/no-such-link/", url))
    expect(page.get_by_role("heading", name="Please wait a moment")).to_be_visible()


def reminders_stopped(page, url, **_):
    page.goto(url + "reminders/")
    expect(page.get_by_role("heading", name="Reminders stopped")).to_be_visible()


def reminders_on(page, url, session, **_):
    patient = session.patient
    patient.reminder_channel, patient.reminders_consent = "email", True
    patient.save(update_fields=["reminder_channel", "reminders_consent"])
    page.goto(url + "reminders/")
    expect(page.get_by_role("button", name="Stop reminders")).to_be_visible()


# Pages in an order that one session can pass through, so that a few contexts
# see them all; each page is checked and every violation reported at the end.
PAGE_WALKS = {
    "check-in-to-closed": [
        check_in,
        check_in_with_errors,
        emergency,
        nothing_to_answer,
        check_ins_finished,
        warning_with_errors,
        warning_sent,
        link_closed,
        unknown_link,
        too_many_lookups,
    ],
    "fine-and-reminders": [reminders_stopped, reminders_on, confirmation, link_replaced],
    "saved-offline": [saved_on_this_phone],
}


@pytest.mark.parametrize("walk", PAGE_WALKS.values(), ids=PAGE_WALKS.keys())
def test_patient_pages_have_no_axe_violations(
    walk, phone_page, patient_url, recorded_session, monkeypatch, time_machine
):
    failures = []
    for show in walk:
        show(
            phone_page,
            patient_url,
            session=recorded_session,
            monkeypatch=monkeypatch,
            time_machine=time_machine,
        )
        if report := axe_report(phone_page):
            failures.append(f"axe on {show.__name__}:\n{report}")
    assert not failures, "\n\n".join(failures)


# ---- Tap targets ------------------------------------------------------------------


def test_every_button_on_the_patient_pages_is_a_large_tap_target(phone_page, patient_url):
    page = phone_page
    page.goto(patient_url)
    assert_tap_targets(page)
    send(page)  # errors: the same questions, with messages
    expect(page.get_by_role("alert")).to_be_visible()
    assert_tap_targets(page)
    page.goto(patient_url + "reminders/")
    assert_tap_targets(page)


# ---- 200 % zoom on a 390 px phone: 195 CSS px across ----------------------------------

ZOOM_200 = {
    "viewport": {"width": 195, "height": 422},
    "device_scale_factor": 4,
    "is_mobile": True,
    "has_touch": True,
}


def test_check_in_reflows_at_200_percent_zoom(make_page, patient_url, screenshot):
    page = make_page(ZOOM_200)
    page.goto(patient_url)
    assert_no_sideways_scrolling(page)
    assert_tap_targets(page)
    screenshot(page, "zoom-200-check-in", full_page=False)

    button = page.get_by_role("button", name="Send my answers")
    button.scroll_into_view_if_needed()
    box = button.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= 195 + 1
    button.click()
    expect(page.get_by_role("alert")).to_contain_text("Some answers are missing")
    assert_no_sideways_scrolling(page)
    screenshot(page, "zoom-200-check-in-errors", full_page=False)

    page.goto(patient_url)
    feel_fine(page)
    assert_no_sideways_scrolling(page)
    screenshot(page, "zoom-200-thank-you", full_page=False)

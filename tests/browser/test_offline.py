"""A check-in without a network: kept on the phone, sent once when the network returns.

Playwright's offline mode cuts the page and its service worker off the
network, as a phone in a basement would be; the live server keeps running.
"""

import re

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError
from playwright.sync_api import expect

from tests.browser.pages import (
    PHONE,
    answer,
    open_check_in,
    question,
    send,
    soreness_label,
    wait_until,
)
from tracker.models import SymptomReport

pytestmark = pytest.mark.browser

SAVED = "Saved on this phone — will send when you are back online."
THANKS = "Thank you — your answers were sent"

OUTBOX = """() => Object.keys(localStorage)
    .filter((key) => key.startsWith("needle-aftercare:outbox:"))
    .map((key) => JSON.parse(localStorage.getItem(key)))"""

# The worker controls the page and keeps it, its styles and its script.
KEPT_FOR_OFFLINE = """async () => {
    if (!navigator.serviceWorker.controller) return false;
    const files = [...document.querySelectorAll('link[rel~="stylesheet"], script[src]')];
    for (const url of [location.href, ...files.map((el) => el.href || el.src)]) {
        if (!(await caches.match(url))) return false;
    }
    return true;
}"""


def open_and_keep_for_offline(page, url):
    page.goto(url)
    wait_until(page, KEPT_FOR_OFFLINE)


def back_online(page, url_pattern):
    """Reconnect and wait for the kept answers to be sent and the page to move on."""
    page.context.set_offline(False)  # Chromium fires "online": no 30 s wait
    try:
        page.wait_for_url(url_pattern, timeout=2_000)
    except PlaywrightTimeoutError:
        # The page never saw itself offline (see the reload below), so it got no
        # "online" event: send the one the phone would, rather than wait 30 s.
        page.evaluate("window.dispatchEvent(new Event('online'))")
        page.wait_for_url(url_pattern)


def test_a_check_in_sent_offline_is_kept_and_sent_once_back_online(
    phone_page, patient_url, screenshot
):
    page = phone_page
    open_and_keep_for_offline(page, patient_url)
    answer(page, 3)

    page.context.set_offline(True)
    send(page)

    status = page.get_by_role("status")
    expect(status).to_contain_text(SAVED)
    expect(status).to_be_in_viewport()
    screenshot(page, "offline-saved", full_page=False)
    assert not SymptomReport.objects.exists()
    (kept,) = page.evaluate(OUTBOX)
    assert kept["url"] == patient_url
    key = re.search(r"(?:^|&)key=([0-9a-f-]{36})", kept["body"]).group(1)

    # Reopened while still offline: the page comes from the phone, still waiting.
    # (No "nothing stored" check here: Playwright applies offline mode to the
    # reloaded document a moment late, and the page may get its answers through;
    # a reply lost on the way is exactly what the resend below makes safe.)
    page.reload()
    expect(page.get_by_role("status")).to_contain_text(SAVED)

    back_online(page, re.compile(r"/done/0/$"))
    expect(page.get_by_role("heading", name=THANKS)).to_be_visible()
    expect(page.get_by_text("soreness 3 out of 10")).to_be_visible()
    screenshot(page, "offline-sent")
    report = SymptomReport.objects.get()
    assert str(report.idempotency_key) == key
    assert report.soreness == 3
    assert page.evaluate(OUTBOX) == []

    # The same answers sent again (a phone that never saw the reply) store nothing new.
    resent_to = page.evaluate(
        """async ([url, body]) => {
            const response = await fetch(url, {
                method: "POST", body: new URLSearchParams(body), signal: AbortSignal.timeout(5000),
            });
            return response.url;
        }""",
        [kept["url"], kept["body"]],
    )
    assert resent_to == page.url
    page.reload()
    expect(page.get_by_role("heading", name=THANKS)).to_be_visible()
    assert SymptomReport.objects.count() == 1


def test_answers_kept_offline_come_back_with_their_error_messages(phone_page, patient_url):
    page = phone_page
    open_check_in(page, patient_url)
    soreness_label(page, 2).click()  # and nothing else

    page.context.set_offline(True)
    send(page)
    expect(page.get_by_role("status")).to_contain_text(SAVED)

    page.context.set_offline(False)  # "online": sent, and the server's answer shown
    expect(page.get_by_role("alert")).to_contain_text("Some answers are missing")
    expect(page.locator("#twitching-error")).to_have_text("Choose none, mild or strong.")
    # The answer already given is still chosen, and nothing waits any more.
    expect(question(page, "How sore").get_by_role("radio", name="2", exact=True)).to_be_checked()
    expect(page.get_by_role("status")).to_be_empty()
    assert page.evaluate(OUTBOX) == []
    assert not SymptomReport.objects.exists()


def test_a_visited_check_in_opens_again_offline(phone_page, patient_url, recorded_session):
    page = phone_page
    open_and_keep_for_offline(page, patient_url)
    # From now on the server would answer "this link has been replaced":
    # what opens offline can only be the copy kept on the phone.
    link = recorded_session.access_links.get()
    link.revoked_at = link.created_at
    link.save(update_fields=["revoked_at"])

    page.context.set_offline(True)
    page.reload()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Your needling session on")
    expect(page.get_by_role("button", name="Send my answers")).to_be_visible()
    # Styled by the kept stylesheet: soreness buttons are large tap targets.
    assert soreness_label(page, 0).bounding_box()["height"] >= 44

    # Online again, the closed link is shown and the copy on the phone deleted.
    page.context.set_offline(False)
    page.reload()
    expect(page.get_by_role("heading", name="This link has been replaced")).to_be_visible()
    wait_until(page, "async () => !(await caches.match(location.href))")


def test_check_in_works_without_javascript(make_page, patient_url):
    page = make_page({**PHONE, "java_script_enabled": False})
    page.goto(patient_url)
    page.get_by_role("button", name="I feel fine — send these answers").click()

    expect(page.get_by_role("heading", name=THANKS)).to_be_visible()
    assert page.url.endswith("/done/0/")
    assert SymptomReport.objects.get().soreness == 0

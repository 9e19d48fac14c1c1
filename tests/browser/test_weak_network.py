"""A check-in on a weak network: one round trip per answer; a kept page when the network stalls."""

import re
import threading
import time

import pytest
from playwright.sync_api import expect

from tests.browser.pages import CHECK_IN_JS_READY, open_check_in
from tests.browser.test_offline import (
    KEPT_FOR_OFFLINE,
    THANKS,
    open_and_keep_for_offline,
    wait_until,
)
from tracker import services
from tracker.models import SymptomReport

pytestmark = pytest.mark.browser

FINE = "I feel fine — send these answers"


def test_an_answer_takes_one_round_trip_and_the_page_it_brought_back_is_shown(
    phone_page, second_check_in_url
):
    page = phone_page
    open_and_keep_for_offline(page, second_check_in_url)  # the worker controls the page too
    requests = []
    page.context.on("request", lambda request: requests.append((request.method, request.url)))
    history = page.evaluate("history.length")

    page.get_by_role("button", name=FINE).click()

    expect(page.get_by_role("heading", name=THANKS)).to_be_visible()
    expect(page).to_have_url(re.compile(r"/done/24/$"))
    # The address was corrected in place: Back leaves the link, not back to the form sent.
    assert page.evaluate("history.length") == history
    chart = page.locator("img.chart")
    assert chart.get_attribute("src").startswith("data:image/svg+xml,")
    page.wait_for_function("() => document.querySelector('img.chart').naturalWidth > 0")
    # The worker keeps the page it was shown, and fetches the answered check-in page again.
    wait_until(page, "async () => Boolean(await caches.match(location.href))")
    wait_until(
        page,
        f"""async () => {{
        const kept = await caches.match({second_check_in_url!r});
        return Boolean(kept) && (await kept.text()).includes("nothing to answer right now");
    }}""",
    )

    posts = [url for method, url in requests if method == "POST"]
    done = [url for method, url in requests if "/done/" in url]
    charts = [url for method, url in requests if url.endswith("/soreness.svg")]
    assert posts == [second_check_in_url]
    assert len(done) == 1, f"the done page was asked for {len(done)} times: {done}"
    assert charts == []
    assert SymptomReport.objects.count() == 2

    # Both pages open again without a network, as they were shown.
    page.context.set_offline(True)
    page.reload()
    expect(page.get_by_role("heading", name=THANKS)).to_be_visible()
    page.goto(second_check_in_url)
    expect(page.get_by_text("Thank you — nothing to answer right now")).to_be_visible()


@pytest.fixture
def stalled_server(monkeypatch):
    """From the moment it is called, every link lookup hangs until the test ends."""
    release = threading.Event()

    def stall():
        real = services.lookup_access_link

        def hanging(token):
            release.wait(20)
            return real(token)

        monkeypatch.setattr(services, "lookup_access_link", hanging)

    yield stall
    release.set()


def test_a_stalled_network_shows_the_kept_page_after_about_three_seconds(
    phone_page, patient_url, stalled_server
):
    page = phone_page
    open_and_keep_for_offline(page, patient_url)
    wait_until(page, KEPT_FOR_OFFLINE)

    stalled_server()  # connected, but the answer never comes
    started = time.monotonic()
    page.reload(timeout=10_000)
    waited = time.monotonic() - started

    expect(page.get_by_role("button", name="Send my answers")).to_be_visible()
    assert 2.5 < waited < 6, f"the kept page came after {waited:.1f} s"


def test_check_in_js_is_asked_for_only_once_the_page_has_loaded(phone_page, patient_url):
    """On a slow link a file fetched beside the stylesheet shares the bandwidth the first
    paint waits for: load.js asks for check-in.js only after the load event."""
    page = phone_page
    open_check_in(page, patient_url)
    timings = page.evaluate("""() => {
        const file = (part) => performance.getEntriesByType("resource")
            .find((entry) => new URL(entry.name).pathname.includes(part));
        return {
            stylesheet: file("/css/patient.").responseEnd,
            loaded: performance.getEntriesByType("navigation")[0].loadEventStart,
            script: file("/js/check-in.").startTime,
        };
    }""")
    assert 0 < timings["stylesheet"] <= timings["loaded"] <= timings["script"], timings


def test_check_in_js_is_asked_for_again_when_the_network_comes_back(phone_page, patient_url):
    page = phone_page
    failed = []

    def drop_once(route):
        if failed:
            route.continue_()
        else:
            failed.append(route.request.url)
            route.abort("internetdisconnected")

    page.route(re.compile(r"/js/check-in\.[^/]*js$"), drop_once)
    with page.expect_event("requestfailed", lambda request: "/check-in." in request.url):
        page.goto(patient_url)
    expect(page.get_by_role("button", name="Send my answers")).to_be_visible()
    assert len(failed) == 1
    assert page.evaluate("document.documentElement.dataset.checkIn") is None

    page.evaluate("window.dispatchEvent(new Event('online'))")  # as the phone reconnects
    page.wait_for_function(CHECK_IN_JS_READY)

"""A check-in on a weak network: one round trip per answer."""

import re

import pytest
from playwright.sync_api import expect

from tests.browser.test_offline import (
    THANKS,
    open_and_keep_for_offline,
    wait_until,
)
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
    wait_until(page, f"""async () => {{
        const kept = await caches.match({second_check_in_url!r});
        return Boolean(kept) && !(await kept.text()).includes("data-offline-form");
    }}""")

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

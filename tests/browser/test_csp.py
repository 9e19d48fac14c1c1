"""The Content Security Policy holds in Chromium: no page breaks it.

Every page is opened with a listener for ``securitypolicyviolation`` events
(added before any of the page's own script runs) and with the browser console
watched for "Content Security Policy" messages, which is where Chromium also
reports what it blocked. Staff: sign-in, dashboard, the session page with its
QR code and copy button, analytics with its chart images, two-step set-up and
the Django admin. Patient: the check-in with its service worker, "I feel fine",
and the confirmation with its chart.
"""

import re

import pytest
from playwright.sync_api import expect

from tests.browser.pages import PASSWORD, new_page, open_with_charts
from tracker.models import SymptomReport

pytestmark = pytest.mark.browser

# In every document, before its own scripts: keep what the policy blocked.
LISTEN = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
    window.__cspViolations.push(
        `${event.effectiveDirective} blocked ${event.blockedURI || "inline"} ` +
        `in ${event.sourceFile || document.location.pathname}:${event.lineNumber}`
    );
});
"""


@pytest.fixture
def watched(new_context):
    """(make_page, violations): pages whose CSP violations and messages are collected."""
    seen = []

    def make(options):
        page = new_page(new_context, options, init_script=LISTEN)
        page.on(
            "console",
            lambda message: (
                seen.append(f"console: {message.text}")
                if "Content Security Policy" in message.text
                else None
            ),
        )
        page.on("pageerror", lambda error: seen.append(f"page error: {error}"))
        return page

    return make, seen


def collect(page, seen):
    """Add what the current document recorded to ``seen``."""
    seen.extend(page.evaluate("window.__cspViolations || []"))


def visit(page, seen, url, *, charts=0):
    """Open ``url`` (and its ``charts`` chart images) and collect what it blocked."""
    response = open_with_charts(page, url, charts) if charts else page.goto(url)
    assert response.status == 200, url
    assert "script-src 'self'" in response.headers["content-security-policy"], url
    page.wait_for_load_state("load")
    collect(page, seen)
    return response


def sign_in(page, seen, live_server, username):
    """Sign in, watching the sign-in page too (pages.sign_in would not collect from it)."""
    visit(page, seen, f"{live_server.url}/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()
    collect(page, seen)


def test_staff_pages_break_no_policy(watched, live_server, settings, therapist, recorded_session):
    settings.SITE_URL = live_server.url
    make, seen = watched
    page = make({"viewport": {"width": 1280, "height": 800}})
    sign_in(page, seen, live_server, therapist.username)

    visit(page, seen, f"{live_server.url}/")
    expect(page.get_by_role("heading", name="Today", level=1)).to_be_visible()

    visit(page, seen, f"{live_server.url}/sessions/{recorded_session.pk}/")
    expect(page.locator(".qr svg")).to_be_visible()
    page.wait_for_function(
        "() => [...document.images].every((img) => img.complete && img.naturalWidth > 0)"
    )
    page.get_by_role("button", name="Copy").click()  # staff.js
    collect(page, seen)

    from tracker.analytics.figures import CHARTS

    visit(page, seen, f"{live_server.url}/analytics/", charts=len(CHARTS))

    visit(page, seen, f"{live_server.url}/patients/{recorded_session.patient_id}/sessions/new/")
    page.get_by_role("button", name="Add another site").click()  # staff.js, from a <template>
    expect(page.locator("fieldset.site-row")).to_have_count(4)
    collect(page, seen)

    visit(page, seen, f"{live_server.url}/account/two-step/")
    expect(page.locator(".qr svg")).to_be_visible()
    collect(page, seen)

    assert seen == []


def test_the_admin_breaks_no_policy(
    watched, live_server, django_user_model, clinic, recorded_session
):
    make, seen = watched
    django_user_model.objects.create_superuser("admin", "admin@example.org", PASSWORD)
    page = make({"viewport": {"width": 1280, "height": 800}})
    visit(page, seen, f"{live_server.url}/admin/login/")
    page.get_by_label("Username").fill("admin")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Site administration")).to_be_visible()
    collect(page, seen)
    for path in [
        "tracker/clinic/",
        f"tracker/clinic/{clinic.pk}/change/",
        f"tracker/needlingsession/{recorded_session.pk}/change/",
        "tracker/auditevent/",
        "auth/user/",
    ]:
        visit(page, seen, f"{live_server.url}/admin/{path}")
    # The date widget's calendar, drawn by the admin's own script.
    page.goto(f"{live_server.url}/admin/tracker/needlingsession/{recorded_session.pk}/change/")
    page.locator(".datetimeshortcuts a", has_text="Today").first.click()
    collect(page, seen)
    assert seen == []


def test_patient_pages_and_service_worker_break_no_policy(watched, live_server, patient_url):
    make, seen = watched
    page = make({"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True})
    response = visit(page, seen, patient_url)
    assert response.headers["referrer-policy"] == "no-referrer"
    # check-in.js registers the worker; it must be allowed to run and to control the page.
    assert page.evaluate("""async () => {
        const registration = await navigator.serviceWorker.ready;
        return Boolean(registration.active) && registration.scope.endsWith("/f/");
    }""")
    page.reload()
    page.wait_for_function("() => Boolean(navigator.serviceWorker.controller)")
    collect(page, seen)

    page.get_by_role("button", name="I feel fine — send these answers").click()
    page.wait_for_url(re.compile(r"/done/0/$"))
    expect(page.get_by_role("heading", name=re.compile("Thank you"))).to_be_visible()
    page.wait_for_function(
        "() => [...document.images].every((img) => img.complete && img.naturalWidth > 0)"
    )
    collect(page, seen)
    assert SymptomReport.objects.count() == 1

    assert seen == []


def test_the_done_page_draws_its_inline_chart_within_the_policy(watched, second_check_in_url):
    """The chart travels inside the page as a data: URI (img-src allows data:); its own
    <style> is the image's, out of the page's style-src."""
    make, seen = watched
    page = make({"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True})
    visit(page, seen, second_check_in_url)
    page.get_by_role("button", name="I feel fine — send these answers").click()
    expect(page).to_have_url(re.compile(r"/done/24/$"))
    chart = page.locator("img.chart")
    assert chart.get_attribute("src").startswith("data:image/svg+xml,")
    page.wait_for_function("() => document.querySelector('img.chart').naturalWidth > 0")
    collect(page, seen)

    visit(page, seen, page.url)  # opened afresh, not shown from a fetch()
    page.wait_for_function("() => document.querySelector('img.chart').naturalWidth > 0")
    collect(page, seen)
    assert seen == []

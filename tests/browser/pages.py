"""What the browser tests do with a page: open it, sign in, answer a check-in, check it.

Plain functions and constants shared by the browser tests; the fixtures that
hand them pages and data live in conftest.py. A test module imports from
here, never from another test module.
"""

import re
from datetime import timedelta
from pathlib import Path

from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect

SCREENSHOTS = Path(__file__).resolve().parents[2] / "screenshots"
PASSWORD = "browser-test-pass-2026"

PHONE = {
    "viewport": {"width": 390, "height": 844},
    "is_mobile": True,
    "has_touch": True,
    "device_scale_factor": 2,
}
DESKTOP = {"viewport": {"width": 1280, "height": 800}}

# Playwright's default timeouts are 30 s; a local live server answers in well
# under a second, so fail fast instead of hanging the suite.
TIMEOUT_MS = 5_000

MIN_TAP = 44  # px, WCAG 2.5.5


# ---- Pages ---------------------------------------------------------------------------


def new_page(new_context, options, *, init_script=None):
    """A page in a new browser context made with ``options`` (e.g. PHONE), failing fast.

    ``init_script`` runs in every document before its own scripts.
    """
    context = new_context(**options)
    context.set_default_timeout(TIMEOUT_MS)
    context.set_default_navigation_timeout(TIMEOUT_MS)
    if init_script is not None:
        context.add_init_script(init_script)
    return context.new_page()


def save_screenshot(page, name, *, full_page=True):
    """Save a screenshot of ``page`` as screenshots/<name>.png; returns the path."""
    SCREENSHOTS.mkdir(exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    # Finish CSS transitions first, so a just-tapped option shows its final state.
    page.screenshot(path=str(path), full_page=full_page, animations="disabled")
    return path


def sign_in(page, live_server, username, *, password=PASSWORD):
    """Sign in on the staff sign-in page and wait for "Today", where staff land."""
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Today", level=1)).to_be_visible()


# ---- The patient's check-in page -------------------------------------------------------


def question(page, text):
    """The fieldset of the question whose text contains ``text``."""
    return page.locator("fieldset", has_text=text)


def soreness_label(page, n):
    return question(page, "How sore is the needled area").locator(
        "label", has_text=re.compile(rf"^\s*{n}\s*$")
    )


def tap(page, question_text, option):
    """Tap the option (its label, styled as a button) of a question."""
    question(page, question_text).locator("label").filter(
        has_text=re.compile(rf"^\s*{re.escape(option)}\s*$")
    ).click()


def send(page):
    page.get_by_role("button", name="Send my answers", exact=True).click()


def answer(page, soreness):
    """Answer every question: ``soreness``, and nothing else felt or seen."""
    soreness_label(page, soreness).click()
    tap(page, "Twitching or cramping", "None")
    tap(page, "Bruising where the needle went in", "No bruise")
    tap(page, "get in the way of your usual activities", "Not at all")
    tap(page, "Anything else since the session?", "None of these")
    tap(page, "warning signs", "None of these")
    # Asked after the first check-in, and at the last planned one.
    local_reaction = question(page, "swelling or redness where the needle went in")
    if local_reaction.count():
        tap(page, "swelling or redness where the needle went in", "No")
    if question(page, "how is the problem you came to the clinic for").count():
        tap(page, "how is the problem you came to the clinic for", "A little better")


def feel_fine(page):
    page.get_by_role("button", name="I feel fine — send these answers").click()
    expect(page.get_by_role("heading", name="Thank you — your answers were sent")).to_be_visible()


# ---- Data, through the services --------------------------------------------------------


def answers(**overrides):
    """A check-in's answers as ``services.submit_report`` takes them: soreness 3, nothing else."""
    return {
        "soreness": 3,
        "twitching": "none",
        "bruising": "none",
        "interference": "not_at_all",
        "after_effects": [],
        "red_flags": [],
        "note": "",
        **overrides,
    }


def record_session(*, patient, therapist, sites, minutes_ago=5, pre_pain=6):
    """A session performed ``minutes_ago``, with its check-ins and the patient's link."""
    from django.utils import timezone

    from tracker import services

    return services.record_session(
        patient=patient,
        therapist=therapist,
        performed_at=timezone.now() - timedelta(minutes=minutes_ago),
        pre_pain=pre_pain,
        sites=sites,
    )


# ---- Checks ----------------------------------------------------------------------------

_AXE = Axe()


def axe_report(page):
    """axe-core's report on the page (WCAG 2.x A and AA, best practices); "" when it passes.

    axe-core runs inside Chromium (axe-playwright-python bundles it, so nothing
    is fetched).
    """
    results = _AXE.run(page)
    return results.generate_report() if results.violations_count else ""


def assert_tap_targets(page):
    """Every visible button and button-styled label or link is at least MIN_TAP px each way."""
    # One round trip for all of them: a page has about fifty.
    boxes = page.evaluate(
        """() => [...document.querySelectorAll("label.btn, button, a.btn")]
            .filter((el) => el.checkVisibility())
            .map((el) => {
                const box = el.getBoundingClientRect();
                return {name: el.textContent.trim(), width: box.width, height: box.height};
            })"""
    )
    assert boxes
    small = [
        f"{b['name']!r} {b['width']:.0f}×{b['height']:.0f}"
        for b in boxes
        if b["width"] < MIN_TAP or b["height"] < MIN_TAP
    ]
    assert not small, f"under {MIN_TAP}×{MIN_TAP} px: {', '.join(small)}"


def assert_no_sideways_scrolling(page):
    """Nothing on the page (the navigation bar above all) is wider than the screen."""
    # Against the screen, not innerWidth: a phone browser widens its layout
    # viewport (and shrinks the text) to fit content that is too wide.
    screen = page.viewport_size["width"]
    width, inner = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert width <= screen + 1 and inner == screen, (
        f"{page.url} is {width} px wide on a {screen} px screen"
    )


def wait_for_charts(page, count=None):
    """Wait until the page's chart images (``count`` of them, if given) have all loaded.

    The server draws each chart on request, one at a time (matplotlib's
    settings are process-wide, so drawing holds a lock): a page with five
    charts gets five times a page's timeout.
    """
    page.wait_for_function(
        """(expected) => {
            const imgs = [...document.querySelectorAll("img.chart")];
            return imgs.length > 0 && (expected === null || imgs.length === expected)
                && imgs.every((img) => img.complete && img.naturalWidth > 0);
        }""",
        arg=count,
        timeout=TIMEOUT_MS * (count or 1),
    )


def open_with_charts(page, url, count):
    """Open ``url`` and wait for its ``count`` charts, each with its own timeout.

    Not for the page's load event as ``goto`` does: that waits for every chart
    image within a single page's timeout.
    """
    response = page.goto(url, wait_until="domcontentloaded")
    wait_for_charts(page, count)
    return response


# check-in.js marks the page once it sends the check-ins (load.js brings it in after load).
CHECK_IN_JS_READY = '() => document.documentElement.dataset.checkIn === "ready"'


def open_check_in(page, url):
    """Open a patient page and wait until check-in.js is running on it."""
    response = page.goto(url)
    page.wait_for_function(CHECK_IN_JS_READY)
    return response


def wait_until(page, predicate, timeout_ms=TIMEOUT_MS):
    """Wait for an async JS predicate (``wait_for_function`` takes a Promise as truthy)."""
    # Spelled into the expression, not eval()ed in the page: a strict CSP forbids eval.
    assert page.evaluate(
        f"""async (timeout) => {{
            const check = {predicate};
            for (const end = Date.now() + timeout; Date.now() < end;) {{
                if (await check()) return true;
                await new Promise((resolve) => setTimeout(resolve, 50));
            }}
            return false;
        }}""",
        timeout_ms,
    ), f"not true within {timeout_ms} ms: {predicate}"

"""The therapist's day: the "Today" dashboard, acknowledging an alert, the inbox,
the patient page and the printable visit summary, on a desktop and a tablet."""

import re
import uuid
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from tests.browser.pages import (
    answers,
    assert_no_sideways_scrolling,
    record_session,
    sign_in,
    wait_for_charts,
)

pytestmark = pytest.mark.browser

VIEWPORTS = [
    pytest.param({"width": 1280, "height": 800}, id="1280"),
    pytest.param({"width": 768, "height": 1024}, id="768"),
]

NOTE = "Phoned Tom at 14:10: breathing normal, no chest pain. Advised 999 if it returns."


@pytest.fixture
def day(clinic, therapist, patient, recorded_session):
    """A clinic day with work in it.

    - Tom Baker, needled at the upper trapezius 20 minutes ago, reported a
      warning sign at his in-clinic check-in: an urgent alert.
    - Sam Okafor, needled 40 hours ago, answered neither the in-clinic nor the
      24-hour check-in: two missed check-ins, one "missed" alert.
    - Maria Lopez (``recorded_session``), needled 5 minutes ago: her
      in-clinic check-in is open.
    """
    from tracker import alerts, services
    from tracker.choices import TimePoint
    from tracker.models import Patient

    tom = Patient.objects.create(clinic=clinic, display_name="Tom Baker", reference="HP-0107")
    urgent_session = record_session(
        patient=tom,
        therapist=therapist,
        minutes_ago=20,
        pre_pain=5,
        sites=[
            {
                "muscle": "upper_trapezius",
                "side": "right",
                "insertions": 3,
                "technique": "deep_pistoning",
                "twitch_band": "3-5",
            }
        ],
    )
    services.submit_report(
        follow_up=urgent_session.follow_ups.get(time_point=TimePoint.IN_CLINIC),
        idempotency_key=uuid.uuid4(),
        answers=answers(soreness=4, red_flags=["rf_breathing"], note="Tight chest on the bus."),
    )

    sam = Patient.objects.create(clinic=clinic, display_name="Sam Okafor", reference="HP-0093")
    performed = timezone.now() - timedelta(hours=40)
    quiet_session = services.record_session(
        patient=sam,
        therapist=therapist,
        performed_at=performed,
        recorded_at=performed,
        pre_pain=4,
        sites=[
            {
                "muscle": "gastrocnemius",
                "side": "left",
                "insertions": 2,
                "technique": "deep_static",
                "twitch_band": "1-2",
            }
        ],
    )
    alerts.evaluate_missed(quiet_session.follow_ups.get(time_point=TimePoint.H24))

    local_today = timezone.now().astimezone(clinic.zone).date()
    today = sum(
        s.performed_at.astimezone(clinic.zone).date() == local_today
        for s in (urgent_session, quiet_session, recorded_session)
    )
    return {"tom": tom, "sam": sam, "urgent_session": urgent_session, "sessions_today": today}


@pytest.mark.parametrize("viewport", VIEWPORTS)
def test_therapist_works_through_the_dashboard(
    make_page, live_server, therapist, patient, day, viewport, screenshot
):
    from tracker.models import Alert, AlertRule

    width = viewport["width"]
    page = make_page({"viewport": viewport})
    sign_in(page, live_server, therapist.username)

    # Signed in, the therapist lands on "Today".
    assert page.url == f"{live_server.url}/"
    assert_no_sideways_scrolling(page)
    # On a tablet the links sit behind the menu button; opened, they still fit.
    menu = page.get_by_role("button", name="Menu")
    if width < 992:
        expect(menu).to_be_visible()
        nav = page.locator("#nav")
        menu.click()
        expect(nav).to_have_class(re.compile(r"\bcollapse show\b"))  # opened, not opening
        expect(page.get_by_role("button", name="Sign out")).to_be_visible()
        assert_no_sideways_scrolling(page)
        menu.click()
        expect(nav).to_be_hidden()
    else:
        expect(menu).to_be_hidden()
        expect(page.get_by_role("button", name="Sign out")).to_be_visible()

    def count(anchor):
        return page.locator(f'a.count-card[href="#{anchor}"] .count')

    expect(count("alerts")).to_have_text("2")
    expect(count("open")).to_have_text("1")
    expect(count("late")).to_have_text("0")
    expect(count("missed")).to_have_text("2")
    expect(count("today")).to_have_text(str(day["sessions_today"]))

    # The urgent alert comes first, above the missed check-in.
    items = page.locator("#alerts li")
    expect(items).to_have_count(2)
    urgent = items.first
    expect(urgent.locator(".badge")).to_have_text("Urgent")
    expect(urgent).to_contain_text("Tom Baker")
    expect(urgent).to_contain_text("Warning sign reported")
    expect(items.nth(1).locator(".badge")).to_have_text("Attention")
    expect(items.nth(1)).to_contain_text("Sam Okafor")
    expect(items.nth(1)).to_contain_text("24-hour check-in not answered")
    expect(page.locator("#open li")).to_contain_text(patient.display_name)
    expect(page.locator("#missed li")).to_have_count(2)
    screenshot(page, f"staff-dashboard-{width}")

    # The patient's number is on the card; acknowledge the urgent alert with an outcome and a note.
    urgent.get_by_label("What was done").select_option(label="Called: sent to emergency care")
    urgent.get_by_label("Note (needed for “Other”)").fill(NOTE)
    urgent.get_by_role("button", name="Record").click()
    expect(page.get_by_role("status")).to_have_text("Alert acknowledged.")
    expect(page.get_by_role("heading", name="Today", level=1)).to_be_visible()
    expect(count("alerts")).to_have_text("1")
    expect(page.locator("#alerts li")).to_have_count(1)
    expect(page.locator("#alerts li")).to_contain_text("Sam Okafor")

    alert = Alert.objects.get(session=day["urgent_session"], rule=AlertRule.RED_FLAG)
    assert alert.acknowledged_by == therapist
    assert alert.acknowledged_at is not None
    assert (alert.outcome, alert.note) == ("emergency", NOTE)
    assert Alert.objects.filter(acknowledged_at__isnull=True).count() == 1

    # The inbox, acknowledged alerts: who did it and what they wrote.
    page.goto(f"{live_server.url}/alerts/?state=acknowledged")
    expect(page.get_by_role("heading", name="Alerts", level=1)).to_be_visible()
    expect(page.get_by_label("State")).to_have_value("acknowledged")
    listed = page.locator("main li")
    expect(listed).to_have_count(1)
    expect(listed).to_contain_text("Tom Baker")
    expect(listed).to_contain_text("Acknowledged by Ana Ruiz")
    expect(listed).to_contain_text(NOTE)
    expect(listed).to_contain_text("Called: sent to emergency care")
    expect(listed.get_by_role("button", name="Record")).to_have_count(0)
    assert_no_sideways_scrolling(page)
    screenshot(page, f"staff-alerts-{width}")

    # The patient's page: the soreness chart has loaded.
    tom = day["tom"]
    page.goto(f"{live_server.url}/patients/{tom.pk}/")
    expect(page.get_by_role("heading", name="Tom Baker", level=1)).to_be_visible()
    wait_for_charts(page)
    assert page.locator("img.chart").evaluate("img => img.naturalWidth") > 0
    expect(page.locator("main")).to_contain_text("acknowledged")
    assert_no_sideways_scrolling(page)
    screenshot(page, f"staff-patient-{width}")

    # The visit summary, and how it prints: no navigation bar, no buttons.
    page.get_by_role("link", name="Visit summary").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("After-needling summary: Tom Baker")
    expect(page.locator("main")).to_contain_text(
        re.compile(r"Urgent: Warning sign reported .*acknowledged by Ana Ruiz")
    )
    assert_no_sideways_scrolling(page)
    navbar = page.locator("nav.navbar")
    expect(navbar).to_be_visible()
    page.emulate_media(media="print")
    expect(navbar).to_be_hidden()
    expect(page.get_by_role("link", name="Back to the patient")).to_be_hidden()
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    if width == 768:  # about the width of an A4 page's printable area
        screenshot(page, "staff-summary-print")
    page.emulate_media(media="screen")
    expect(navbar).to_be_visible()

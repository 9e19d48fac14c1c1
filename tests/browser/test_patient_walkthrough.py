"""One patient's recovery from the clinic to 72 hours, on a phone.

Time moves with time-machine: the live server runs in a thread of this
process, so its clock moves with the test's. Nothing sleeps.
"""

import re
from datetime import timedelta

import pytest
from playwright.sync_api import expect

from tests.browser.pages import answer
from tracker.models import Alert, AlertRule, SymptomReport

pytestmark = pytest.mark.browser

# (hours after the session, soreness, what the check-in page asks, what the thank-you says)
WALK = [
    (0, 6, "How do you feel right after the session?", "Your 24-hour check-in opens on"),
    (24, 3, "It is time for your 24-hour check-in.", "It is easing, as expected."),
    # Two points higher than at 24 h and not settled: a 72-hour check-in is added by itself.
    (48, 5, "It is time for your 48-hour check-in.", "Your 72-hour check-in opens on"),
    (
        72,
        2,
        "It is time for your 72-hour check-in.",
        "That was your last check-in for this session.",
    ),
]


def test_patient_checks_in_from_the_clinic_to_72_hours(
    phone_page, patient_url, recorded_session, time_machine, screenshot
):
    page = phone_page
    for hours, soreness, asked, told in WALK:
        # In clinic: five minutes after the session; later ones: at their due time.
        moment = recorded_session.performed_at + timedelta(hours=hours, minutes=5)
        time_machine.move_to(moment, tick=False)

        page.goto(patient_url)
        expect(page.get_by_text(asked)).to_be_visible()
        answer(page, soreness)
        page.get_by_role("button", name="Send my answers", exact=True).click()

        page.wait_for_url(re.compile(rf"/done/{hours}/$"))
        expect(
            page.get_by_role("heading", name="Thank you — your answers were sent")
        ).to_be_visible()
        expect(page.get_by_text(f"soreness {soreness} out of 10")).to_be_visible()
        expect(page.get_by_text(told)).to_be_visible()
        screenshot(page, f"walk-{hours:02d}h")

    reports = SymptomReport.objects.filter(follow_up__session=recorded_session).order_by(
        "follow_up__time_point"
    )
    assert [(r.follow_up.time_point, r.soreness) for r in reports] == [
        (0, 6),
        (24, 3),
        (48, 5),
        (72, 2),
    ]
    assert Alert.objects.filter(session=recorded_session, rule=AlertRule.SORENESS_RISING).exists()
    # Asked at the last planned check-in (48 h), and again at the 72 h one added after it.
    assert [r.pgic for r in reports] == [None, None, 3, 3]
    assert [r.local_reaction for r in reports] == [None, False, False, False]
    expect(page.get_by_text("Your soreness so far:")).to_contain_text("5/10 at 48 hours")

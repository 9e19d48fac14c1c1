"""A clinic lead reads the clinic's analytics on a desktop and a tablet: charts,
their tables, the published reference rates, CSV downloads and the filters."""

import csv
import re
import uuid
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from tests.browser.pages import (
    PASSWORD,
    answers,
    assert_no_sideways_scrolling,
    open_with_charts,
    sign_in,
    wait_for_charts,
)

pytestmark = pytest.mark.browser

VIEWPORTS = [
    pytest.param({"width": 1280, "height": 800}, id="1280"),
    pytest.param({"width": 768, "height": 1024}, id="768"),
]

PANELS = [
    "rates",
    "soreness-by-muscle",
    "soreness-by-therapist",
    "pgic-by-muscle",
    "pgic-by-therapist",
    "settled",
    "completion",
]

# What a cell of several numbers reads like on the page; the CSV gives each number
# its own column.
SEVERAL_NUMBER_CELLS = [
    re.compile(r"^(\d+) of (\d+)$"),  # events of n
    re.compile(r"^([\d.]+)–([\d.]+)$"),  # a 95 % interval
    re.compile(r"^([\d.]+) \(([\d.]+)–([\d.]+); (\d+)\)$"),  # median (Q1–Q3; n)
]
MUSCLES = ["gluteus_medius", "upper_trapezius", "lumbar_multifidus", "gastrocnemius"]
SORENESS_IN_CLINIC = [6, 5, 5, 3]


@pytest.fixture
def lead(clinic, django_user_model):
    from tracker.choices import Role
    from tracker.models import Membership

    user = django_user_model.objects.create_user(
        username="lin",
        password=PASSWORD,
        first_name="Lin",
        last_name="Chen",
    )
    Membership.objects.create(user=user, clinic=clinic, role=Role.LEAD)
    return user


@pytest.fixture
def clinic_sessions(clinic, therapist, lead):
    """Twelve sessions over five weeks, each answered in clinic and at 24 h (half at 48 h).

    Ana needled eight, Lin four (every third). Bruising of a palm's size in
    three, bleeding in two, the original complaint worse in one.
    """
    from tracker import services
    from tracker.choices import TimePoint
    from tracker.models import Patient

    patients = [
        Patient.objects.create(clinic=clinic, display_name=name, reference=f"HP-{100 + i}")
        for i, name in enumerate(["Maria Lopez", "Tom Baker", "Sam Okafor"])
    ]
    now = timezone.now()
    for i in range(12):
        # Every check-in window closed: the follow-ups are finished and counted.
        performed = now - timedelta(days=3 + 3 * i, hours=i % 5)
        session = services.record_session(
            patient=patients[i % 3],
            therapist=lead if i % 3 == 0 else therapist,
            performed_at=performed,
            recorded_at=performed,
            pre_pain=5 + i % 4,
            sites=[
                {
                    "muscle": MUSCLES[i % 4],
                    "side": "left",
                    "insertions": 2 + i % 3,
                    "technique": "deep_pistoning" if i % 2 else "deep_static",
                    "twitch_band": "1-2",
                }
            ],
        )
        # Soreness eases by the muscle (calf least sore, glute most), a point more for some.
        base = SORENESS_IN_CLINIC[i % 4] + (i % 3 == 0)
        reports = {
            TimePoint.IN_CLINIC: answers(
                soreness=base, after_effects=["bleeding"] if i in (1, 5) else []
            ),
            TimePoint.H24: answers(
                soreness=max(base - 3, 0) + (i % 3 == 1),
                bruising="5-10" if i in (0, 4, 8) else "none",
                after_effects=["aggravation"] if i == 2 else [],
            ),
        }
        if i % 2 == 0:  # gluteus medius settles by 48 h, lumbar multifidus not quite
            # The last planned check-in also asks how the original complaint is (PGIC).
            reports[TimePoint.H48] = answers(soreness=0 if i % 4 == 0 else 2, pgic=1 + i % 5)
        for time_point, answer in reports.items():
            follow_up = session.follow_ups.get(time_point=time_point)
            services.submit_report(
                follow_up=follow_up,
                idempotency_key=uuid.uuid4(),
                answers=answer,
                now=follow_up.due_at,
            )
    return 12


def table_cells(table):
    headings = table.locator("thead th").all_inner_texts()
    first_row = table.locator("tbody tr").first.locator("th, td").all_inner_texts()
    return [h.strip() for h in headings], [c.strip() for c in first_row]


def expected_csv(headings, row, csv_header):
    """The table's header and first row as the CSV should hold them.

    A column of cells of several numbers ("3 of 12", "8.9–53.2", "4.0 (3.0–5.0; 3)")
    is a CSV column per number, whose headings start with the table's heading
    (without its "(%)"); a dash on the page is an empty CSV cell for each.
    """
    header, values = [headings[0]], [row[0]]
    for heading, cell in zip(headings[1:], row[1:]):
        if csv_header[len(header)] == heading:
            header.append(heading)
            values.append("" if cell == "–" else cell)
            continue
        stem = heading.removesuffix(" (%)")
        count = 0
        while csv_header[len(header) + count :][:1] and (
            csv_header[len(header) + count].startswith(stem)
        ):
            count += 1
        got = csv_header[len(header) : len(header) + count]
        assert count >= 2, (heading, got)
        header += got
        if cell == "–":
            values += [""] * count
        else:
            numbers = next((m.groups() for p in SEVERAL_NUMBER_CELLS if (m := p.match(cell))), None)
            assert numbers and len(numbers) == count, f"{heading}: {cell!r} does not fit {got}"
            values += list(numbers)
    return header, values


@pytest.mark.parametrize("viewport", VIEWPORTS)
def test_lead_reads_the_clinic_analytics(
    make_page, live_server, clinic, lead, clinic_sessions, viewport, screenshot
):
    width = viewport["width"]
    page = make_page({"viewport": viewport})
    sign_in(page, live_server, lead.username)

    # "Analytics" in the navigation bar (behind the menu button on a tablet).
    nav = page.get_by_role("navigation").first
    toggler = page.get_by_role("button", name="Menu")
    if toggler.is_visible():
        toggler.click()
    nav.get_by_role("link", name="Analytics").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Analytics · {clinic.name}")
    assert page.url.startswith(f"{live_server.url}/clinics/{clinic.pk}/analytics/")

    # Every chart has loaded, and each has a table with a caption.
    wait_for_charts(page, len(PANELS))
    for slug in PANELS:
        panel = page.locator(f"section#{slug}")
        expect(panel.locator("img.chart")).to_have_count(1)
        assert panel.locator("img.chart").evaluate("img => img.naturalWidth") > 0
        assert panel.locator("img.chart").get_attribute("alt")
        expect(panel.locator("table caption")).to_have_count(1)
        expect(panel.locator("table caption")).not_to_be_empty()
        expect(panel.locator("table tbody tr").first).not_to_contain_text("No data")
    assert_no_sideways_scrolling(page)

    # The rates against the published Brady 2014 reference, over finished follow-ups:
    # the newest session (two days ago, bruised) still has its 48 h check-in open.
    rates = page.locator("section#rates table")
    expect(rates.locator("caption")).to_contain_text(
        f"{clinic_sessions} sessions whose check-ins have all closed, with an answer "
        f"(of {clinic_sessions} sessions; 0 still in follow-up"
    )
    expect(rates.locator("thead")).to_contain_text("Brady et al. 2014 (%)")
    bruising = rates.locator("tbody tr", has=page.locator("th", has_text="Bruising"))
    expect(bruising.locator("td").first).to_have_text("3 of 12")
    expect(bruising).to_contain_text("7.55")  # Brady 2014: bruising in 7.55 % of treatments
    bleeding = rates.locator("tbody tr", has=page.locator("th", has_text="Bleeding"))
    expect(bleeding.locator("td").first).to_have_text("2 of 12")
    expect(bleeding).to_contain_text("4.65")
    expect(page.locator("section#rates")).to_contain_text("Brady S, McEvoy J, Dommerholt J")
    screenshot(page, f"analytics-{width}")

    # Each "Download CSV" gives the numbers of the table beside it.
    for slug in PANELS:
        panel = page.locator(f"section#{slug}")
        headings, row = table_cells(panel.locator("table"))
        with page.expect_download() as info:
            panel.get_by_role("link", name="Download CSV").click()
        download = info.value
        assert download.suggested_filename.startswith(f"harbourside-physiotherapy-{slug}-")
        assert download.suggested_filename.endswith(".csv")
        with open(download.path(), newline="", encoding="utf-8") as handle:
            data = list(csv.reader(handle))
        header, values = expected_csv(headings, row, data[0])
        assert data[0] == header, slug
        assert data[1] == values, slug
        if slug == "rates":
            assert data[0] == [
                "After-effect",
                "Sessions with it",
                "Sessions (n)",
                "Rate (%)",
                "95 % CI low (%)",
                "95 % CI high (%)",
                "Brady et al. 2014 (%)",
                "Boyce et al. 2020 (%)",
            ]
            assert data[1][:3] == ["Bruising", "3", "12"] and data[1][6] == "7.55"

    # Filtering by therapist narrows the numbers: Ana needled 8 of the 12.
    page.get_by_label("Therapist", exact=True).select_option(label="Ana Ruiz")
    page.get_by_role("button", name="Apply").click()
    expect(page.get_by_label("Therapist", exact=True)).to_have_value(
        str(clinic.memberships.get(user__username="ana").user_id)
    )
    expect(rates.locator("caption")).to_contain_text(
        "8 sessions whose check-ins have all closed, with an answer (of 8 sessions;"
    )
    assert "therapist=" in page.url
    wait_for_charts(page, len(PANELS))
    for img in page.locator("img.chart").all():
        assert "therapist=" in img.get_attribute("src")
    expect(page.locator("section#soreness-by-therapist tbody tr")).to_have_count(1)
    expect(page.locator("section#soreness-by-therapist tbody")).to_contain_text("Ana Ruiz")
    expect(page.locator("section#soreness-by-therapist tbody")).not_to_contain_text("Lin Chen")
    expect(page.locator("section#pgic-by-therapist tbody tr")).to_have_count(1)
    expect(page.locator("section#pgic-by-therapist tbody")).to_contain_text("Ana Ruiz")


def test_on_a_phone_each_tables_caption_fits_the_screen(
    phone_page, live_server, clinic, clinic_sessions, screenshot
):
    page = phone_page
    sign_in(page, live_server, "lin")
    open_with_charts(page, f"{live_server.url}/clinics/{clinic.pk}/analytics/", len(PANELS))
    screen = page.viewport_size["width"]
    for slug in PANELS:
        panel = page.locator(f"section#{slug}")
        caption = panel.locator("table caption")
        shown = panel.locator("p").filter(has_text=caption.text_content().strip())
        expect(shown).to_be_visible()
        box = shown.bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= screen, (slug, box)
    assert_no_sideways_scrolling(page)
    page.locator("section#rates").scroll_into_view_if_needed()
    screenshot(page, "analytics-390")


def test_another_clinics_therapist_gets_not_found(
    desktop_page, live_server, clinic, clinic_sessions, django_user_model
):
    from tracker.choices import Role
    from tracker.models import Clinic, Membership

    other = Clinic.objects.create(name="Northgate Sports Clinic", time_zone="Europe/London")
    ben = django_user_model.objects.create_user(
        username="ben", password=PASSWORD, first_name="Ben", last_name="Hale"
    )
    Membership.objects.create(user=ben, clinic=other, role=Role.THERAPIST)

    page = desktop_page
    sign_in(page, live_server, ben.username)
    base = f"{live_server.url}/clinics/{clinic.pk}/analytics/"
    response = page.goto(base)
    assert response.status == 404
    expect(page.get_by_role("heading", name="Page not found")).to_be_visible()
    expect(page.locator("main")).not_to_contain_text(clinic.name)
    for path in ("rates.svg", "rates.csv"):
        assert page.request.get(base + path).status == 404
    # His own clinic's analytics work, and show none of the other clinic's sessions.
    open_with_charts(page, f"{live_server.url}/analytics/", len(PANELS))
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Analytics · {other.name}")
    expect(page.locator("section#rates tbody")).to_contain_text("No data")

"""What therapists asked for: the visit summary's chart and Print button, each report's
note and warning sign by name on the patient page, and a patient chart where no
session's points hide under another's line, with a caption true to what is drawn.
"""

import re
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from django.urls import reverse

from tests.factories import answers, make_session
from tracker import charts, services
from tracker.charts import soreness as soreness_chart
from tracker.choices import TimePoint

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parent.parent
NO_BAND = "Once the clinic has enough check-ins"
BAND = "The grey band shows the middle half of the clinic’s patients at each check-in"


def _answer(session, time_point, **overrides):
    follow_up = session.follow_ups.get(time_point=time_point)
    services.submit_report(
        follow_up=follow_up,
        idempotency_key=uuid.uuid4(),
        now=follow_up.due_at,
        answers=answers(**overrides),
    )


def test_the_visit_summary_has_the_soreness_chart_and_a_print_button(
    client, session_a, therapist_a
):
    client.force_login(therapist_a.user)
    page = client.get(
        reverse("tracker:visit_summary", args=[session_a.patient.pk])
    ).content.decode()
    chart = reverse("tracker:patient_chart", args=[session_a.patient.pk])
    assert re.search(rf'<img class="[^"]*summary-chart[^"]*" src="{chart}"', page)
    assert re.search(r"<button[^>]*data-print[^>]*>Print</button>", page)
    assert "<figcaption" in page
    css = (ROOT / "tracker/static/tracker/css/app.css").read_text()
    assert "size: A4" in css and ".summary-chart" in css
    # The print rules do not hide the chart: only the navigation, buttons and forms.
    print_rules = " ".join(re.findall(r"@media print\s*{(.*?)\n}", css, re.S))
    assert "summary-chart { width: 100%" in print_rules
    assert not re.search(r"(\.chart|summary-chart|img)[^{]*{[^}]*display:\s*none", print_rules)


def test_the_patient_page_shows_each_reports_note_and_which_warning_sign(
    client, session_a, therapist_a
):
    _answer(session_a, TimePoint.IN_CLINIC, note="Tight after the gym")
    _answer(session_a, TimePoint.H24, red_flags=["rf_breathing"], note="Hard to breathe in")
    client.force_login(therapist_a.user)
    page = client.get(
        reverse("tracker:patient_detail", args=[session_a.patient.pk])
    ).content.decode()
    assert "Patient’s note" in page
    assert "Tight after the gym" in page and "Hard to breathe in" in page
    badge = re.search(r'<span class="badge text-bg-danger[^"]*warning-sign">([^<]+)</span>', page)
    assert badge and badge.group(1).startswith("Warning sign: ")
    assert "breath" in badge.group(1).lower()


def test_the_caption_speaks_of_the_band_only_as_drawn(client, session_a, therapist_a, monkeypatch):
    client.force_login(therapist_a.user)
    url = reverse("tracker:patient_detail", args=[session_a.patient.pk])
    monkeypatch.setattr("tracker.analytics.cached_typical_course", lambda clinic: None)
    page = client.get(url).content.decode()
    assert NO_BAND in page and BAND not in page

    band = charts.Band(hours=[0, 24, 48], low=[2, 1, 0], median=[4, 2, 1], high=[6, 4, 2])
    monkeypatch.setattr("tracker.analytics.cached_typical_course", lambda clinic: band)
    page = client.get(url).content.decode()
    assert BAND in page and NO_BAND not in page
    summary = client.get(reverse("tracker:visit_summary", args=[session_a.patient.pk]))
    assert BAND in summary.content.decode()


def test_one_sessions_points_are_never_under_another_sessions_line():
    same = [(0, 5), (24, 3), (48, 1)]
    series = [charts.Series(label=name, points=same) for name in ("1 May", "8 May", "15 May")]
    band = charts.Band(hours=[0, 24, 48], low=[2, 1, 0], median=[4, 2, 1], high=[6, 4, 2])
    figure = soreness_chart._soreness_figure(series, band, 6.4, 3.2)
    [ax] = figure.axes
    lines = [line for line in ax.lines if line.get_linestyle() not in ("None", "none", "")]
    points = [line for line in ax.lines if line.get_marker() not in (None, "None", "none", "")]
    session_lines = [line for line in lines if line.get_zorder() >= soreness_chart.LINE_Z]
    assert len(session_lines) == 3
    # Every session's markers are drawn above every session's line.
    assert min(p.get_zorder() for p in points if p.get_zorder() >= soreness_chart.LINE_Z) > max(
        line.get_zorder() for line in session_lines
    )
    # Three sessions with the same answers: their points sit apart, not on top of each other.
    firsts = {round(float(line.get_xdata()[0]), 3) for line in session_lines}
    assert len(firsts) == 3 and max(firsts) - min(firsts) < 4
    # Each session keeps its own marker.
    markers = {p.get_marker() for p in points if p.get_zorder() >= soreness_chart.POINT_Z}
    assert len(markers) == 3


def test_a_single_session_is_drawn_at_its_true_hours():
    figure = soreness_chart._soreness_figure(
        [charts.Series(label="1 May", points=[(0, 5), (24, 3)])], None, 6.4, 3.2
    )
    xs = {float(x) for line in figure.axes[0].lines for x in line.get_xdata()}
    assert xs == {0.0, 24.0}


def test_the_session_page_chart_still_draws_after_two_sessions(client, session_a, therapist_a):
    second = make_session(
        patient=session_a.patient,
        therapist=therapist_a.user,
        performed_at=session_a.performed_at - timedelta(days=9),
    )
    _answer(second, TimePoint.IN_CLINIC)
    _answer(session_a, TimePoint.IN_CLINIC)
    client.force_login(therapist_a.user)
    svg = client.get(reverse("tracker:patient_chart", args=[session_a.patient.pk]))
    assert svg.status_code == 200 and svg.content.startswith(b"<?xml")

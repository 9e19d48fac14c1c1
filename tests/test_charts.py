"""Tests for tracker.charts: pure SVG rendering, no database or Django needed."""

import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import matplotlib
import pytest

ROOT = Path(__file__).resolve().parent.parent

from tracker.charts import (
    EMPTY_MESSAGE,
    Band,
    Series,
    _sorted_points,
    _x_ticks,
    soreness_chart,
)

SVG_NS = "{http://www.w3.org/2000/svg}"

FIRST = Series("12 Nov 2026 session", [(48, 2), (0, 6), (24, 4)], marked=(24,))
SECOND = Series("26 Nov 2026 session", [(0, 5), (6, 6), (24, 3), (48, 1)])
BAND = Band(hours=[0, 24, 48, 72], low=[3, 1, 0, 0], median=[5, 3, 1.5, 0.5], high=[7, 6, 4, 2])


def parse(svg: bytes) -> ET.Element:
    root = ET.fromstring(svg)
    assert root.tag.endswith("svg")
    return root


def texts(svg: bytes) -> list[str]:
    return ["".join(t.itertext()) for t in parse(svg).iter(f"{SVG_NS}text")]


def test_output_is_svg_xml():
    svg = soreness_chart([FIRST])
    assert isinstance(svg, bytes)
    parse(svg)


def test_title_is_first_child_of_root():
    root = parse(soreness_chart([FIRST], title="Knee soreness"))
    assert root[0].tag == f"{SVG_NS}title"
    assert root[0].text == "Knee soreness"


def test_title_special_characters_are_escaped():
    title = 'Hip & "knee" <left> \'side\''
    svg = soreness_chart([FIRST], title=title)
    root = parse(svg)
    assert root[0].text == title
    assert b"Hip &amp; " in svg and b"&lt;left&gt;" in svg


def test_same_input_gives_identical_bytes():
    assert soreness_chart([FIRST, SECOND], band=BAND) == soreness_chart([FIRST, SECOND], band=BAND)


def test_different_input_gives_different_bytes():
    changed = Series(FIRST.label, [(48, 3), (0, 6), (24, 4)], marked=FIRST.marked)
    assert soreness_chart([FIRST]) != soreness_chart([changed])


def test_changing_marked_changes_output():
    unmarked = Series(FIRST.label, FIRST.points)
    assert soreness_chart([FIRST]) != soreness_chart([unmarked])


def test_sorted_points_orders_by_hour_and_keeps_every_point():
    assert _sorted_points(FIRST) == [(0.0, 6), (24.0, 4), (48.0, 2)]
    assert _sorted_points(Series("empty", [])) == []


def test_x_ticks_include_6_only_when_present():
    assert _x_ticks([0, 24, 48]) == [0, 24, 48, 72]
    assert _x_ticks([0, 6, 24]) == [0, 6, 24, 48, 72]
    assert _x_ticks([]) == [0, 24, 48, 72]


def test_axis_labels_and_ticks_are_text():
    found = texts(soreness_chart([SECOND]))
    assert "Hours since the session" in found
    assert "Soreness (0–10)" in found
    assert {"0", "6", "24", "48", "72", "10"} <= set(found)


def test_two_series_show_both_labels_in_legend():
    found = texts(soreness_chart([FIRST, SECOND]))
    assert FIRST.label in found
    assert SECOND.label in found


def test_single_series_has_no_legend():
    assert FIRST.label not in texts(soreness_chart([FIRST]))


def test_markers_are_explained_in_the_legend():
    plain = Series("plain", [(0, 4), (24, 2)])
    assert "Bruising reported" not in texts(soreness_chart([plain]))
    marked = Series("marked", [(0, 4), (24, 2)], marked=[24], twitching=[0])
    labels = texts(soreness_chart([marked]))
    assert "Bruising reported" in labels and "Twitching or cramping felt" in labels


@pytest.mark.parametrize("series", [[], [Series("no answers yet", [])]])
def test_empty_input_shows_message(series):
    svg = soreness_chart(series)
    assert EMPTY_MESSAGE in texts(svg)
    assert "Hours since the session" in texts(svg)


def test_points_hide_empty_message():
    assert EMPTY_MESSAGE not in texts(soreness_chart([FIRST]))


def test_band_renders_with_legend_label():
    found = texts(soreness_chart([FIRST], band=BAND))
    assert BAND.label in found
    assert FIRST.label in found


def test_global_rcparams_untouched():
    before = dict(matplotlib.rcParams)
    soreness_chart([FIRST, SECOND], band=BAND)
    assert dict(matplotlib.rcParams) == before


def test_module_imports_neither_pyplot_nor_django():
    code = (
        "import tracker.charts, sys; "
        "print('matplotlib.pyplot' in sys.modules, "
        "any(m.startswith('django') for m in sys.modules))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "False False"


# ---------------------------------------------------------------------------
# Clinic analytics charts

from tracker.charts import (  # noqa: E402
    NO_CLOSED_MESSAGE,
    NO_DATA_MESSAGE,
    GroupLine,
    RateBar,
    ReferenceRate,
    ShareBar,
    completion_chart,
    rates_chart,
    settled_chart,
    soreness_by_group_chart,
)

RATES = [
    RateBar("Bruising", 25.0, 4.6, 69.9, 1, 4),
    RateBar("Bleeding", 50.0, 15.0, 85.0, 2, 4),
]
REFERENCES = [
    ReferenceRate("Bruising", 7.55, "Brady et al. 2014"),
    ReferenceRate("Bleeding", 4.65, "Brady et al. 2014"),
    ReferenceRate("Bruising", 7.7, "Boyce et al. 2020"),
    ReferenceRate("Not drawn", 3.0, "Nobody 1999"),
]
GROUPS = [
    GroupLine("Upper trapezius", [(0, 5.2), (24, 3.1), (48, 1.4)]),
    GroupLine("Gluteus medius", [(24, 2.5), (0, 4.5)]),
]
SETTLED = [ShareBar("24 h", 17.4, 40, 230), ShareBar("48 h", 47.8, 87, 182)]
WEEKS = [ShareBar("2 Nov", 77.8, 28, 36), ShareBar("9 Nov", 92.4, 208, 225)]

ANALYTICS_CHARTS = [
    (lambda **kw: rates_chart(RATES, REFERENCES, **kw), lambda **kw: rates_chart([], (), **kw)),
    (lambda **kw: soreness_by_group_chart(GROUPS, **kw),
     lambda **kw: soreness_by_group_chart([], **kw)),
    (lambda **kw: settled_chart(SETTLED, **kw), lambda **kw: settled_chart([], **kw)),
    (lambda **kw: completion_chart(WEEKS, **kw), lambda **kw: completion_chart([], **kw)),
]


@pytest.mark.parametrize(("draw", "draw_empty"), ANALYTICS_CHARTS)
def test_analytics_charts_are_titled_deterministic_svg(draw, draw_empty):
    svg = draw(title="Clinic & co")
    root = parse(svg)
    assert root[0].tag == f"{SVG_NS}title" and root[0].text == "Clinic & co"
    assert draw(title="Clinic & co") == svg
    assert parse(draw_empty(title="Nothing"))[0].text == "Nothing"


def test_rates_chart_shows_values_counts_and_named_sources():
    found = texts(rates_chart(RATES, REFERENCES))
    assert {"Bruising", "Bleeding", "25.0 % (1 of 4)", "50.0 % (2 of 4)"} <= set(found)
    assert {"Brady et al. 2014", "Boyce et al. 2020", "This clinic", "95 % interval"} <= set(found)
    assert "Nobody 1999" not in found  # its row is not drawn, so neither is its source
    assert NO_DATA_MESSAGE not in found


def test_rates_chart_changes_with_a_reference_or_an_interval():
    base = rates_chart(RATES, REFERENCES)
    assert rates_chart(RATES, REFERENCES[:1]) != base
    wider = [RateBar("Bruising", 25.0, 4.0, 70.0, 1, 4), RATES[1]]
    assert rates_chart(wider, REFERENCES) != base


def test_rates_chart_without_rows_says_so():
    assert NO_DATA_MESSAGE in texts(rates_chart([], REFERENCES))


def test_group_chart_names_each_group_and_notes_the_rest():
    found = texts(soreness_by_group_chart(GROUPS, hidden=3, noun="muscles"))
    assert {"Upper trapezius", "Gluteus medius", "Hours since the session"} <= set(found)
    assert "3 more muscles with fewer answers not drawn" in found
    many = [GroupLine(f"Group {i}", [(0, i / 2), (24, i / 3)]) for i in range(10)]
    found = texts(soreness_by_group_chart(many, max_groups=8))
    assert "Group 7" in found and "Group 8" not in found
    assert "2 more groups with fewer answers not drawn" in found


def test_group_chart_without_groups_says_so():
    found = texts(soreness_by_group_chart([GroupLine("No answers", [])]))
    assert NO_DATA_MESSAGE in found
    assert "No answers" not in found


def test_settled_chart_labels_each_bar_with_share_and_counts():
    found = texts(settled_chart(SETTLED))
    assert {"24 h", "48 h", "17.4 %", "40 of 230", "47.8 %", "87 of 182"} <= set(found)
    assert NO_DATA_MESSAGE in texts(settled_chart([]))


def test_completion_chart_labels_weeks_and_drops_counts_when_crowded():
    found = texts(completion_chart(WEEKS))
    assert {"2 Nov", "9 Nov", "77.8 %", "28 of 36", "92.4 %"} <= set(found)
    crowded = [ShareBar(f"{d} Oct", 80.0 + d / 10, 8, 10) for d in range(1, 13)]
    found = texts(completion_chart(crowded))
    assert "1 Oct" in found and "81.2 %" in found and "8 of 10" not in found
    assert NO_CLOSED_MESSAGE in texts(completion_chart([]))


def test_analytics_charts_leave_global_rcparams_untouched():
    before = dict(matplotlib.rcParams)
    for draw, draw_empty in ANALYTICS_CHARTS:
        draw()
        draw_empty()
    assert dict(matplotlib.rcParams) == before

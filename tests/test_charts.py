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

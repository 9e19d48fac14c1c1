"""Tests for tracker.charts: pure SVG rendering, no database or Django needed.

What a chart draws is read back from its SVG (text stays text there): the
axis and tick labels, the key's labels and the colour of the sample beside
each, the lines and markers in data units, the bars and their whiskers.
"""

import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

import matplotlib
import pytest
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.text import Text

from tracker import charts
from tracker.charts import (
    GroupLine,
    RateBar,
    ReferenceRate,
    ShareBar,
    base,
    clinic,
    completion_chart,
    groups,
    rates_chart,
    settled_chart,
    soreness,
    soreness_by_group_chart,
)
from tracker.charts.base import EMPTY_MESSAGE, TEXT
from tracker.charts.clinic import BAR_COLOUR, NO_CLOSED_MESSAGE, NO_DATA_MESSAGE
from tracker.charts.groups import GROUP_COLOURS
from tracker.charts.soreness import Band, Series, _sorted_points, _x_ticks, soreness_chart

ROOT = Path(__file__).resolve().parent.parent

SVG_NS = "{http://www.w3.org/2000/svg}"

FIRST = Series("12 Nov 2026 session", [(48, 2), (0, 6), (24, 4)], marked=(24,))
SECOND = Series("26 Nov 2026 session", [(0, 5), (6, 6), (24, 3), (48, 1)])
BAND = Band(hours=[0, 24, 48, 72], low=[3, 1, 0, 0], median=[5, 3, 1.5, 0.5], high=[7, 6, 4, 2])
BLUE, VERMILION = (colour.lower() for colour in charts.PALETTE[:2])
KEY_GREY = "#444444"  # the samples of the bruising and twitching marks


def parse(svg: bytes) -> ET.Element:
    root = ET.fromstring(svg)
    assert root.tag.endswith("svg")
    return root


def texts(svg: bytes) -> list[str]:
    return ["".join(t.itertext()) for t in parse(svg).iter(f"{SVG_NS}text")]


# ---------------------------------------------------------------------------
# Reading a chart back from its SVG

_NUMBER = re.compile(r"-?\d+(?:\.\d+)?")


def _style(element) -> dict[str, str]:
    return dict(item.split(": ", 1) for item in element.get("style", "").split("; ") if item)


def _children(parent, prefix):
    return [g for g in parent.findall(f"{SVG_NS}g") if g.get("id", "").startswith(prefix)]


def _points(path) -> list[tuple[float, float]]:
    """The corners of a path of straight lines ("M x y L x y …")."""
    numbers = [float(n) for n in _NUMBER.findall(path.get("d"))]
    return list(zip(numbers[::2], numbers[1::2]))


def _uses(group) -> list:
    return list(group.iter(f"{SVG_NS}use"))


@dataclass(frozen=True)
class Label:
    text: str
    x: float
    y: float
    size: float


def _label(group) -> Label | None:
    element = group.find(f"{SVG_NS}text")
    if element is None:
        return None
    return Label(
        "".join(element.itertext()),
        float(element.get("x")),
        float(element.get("y")),
        float(_style(element)["font-size"].removesuffix("px")),
    )


@dataclass(frozen=True)
class Mark:
    """A line (its corners) or a set of markers (their centres), in pixels."""

    colour: str
    points: list[tuple[float, float]]
    dashed: bool = False
    hollow: bool = False


def _line(group) -> Mark | None:
    """The line a ``line2d`` group draws, if it draws one (not markers alone)."""
    path = group.find(f"{SVG_NS}path")  # markers are <use>s of a path kept in <defs>
    if path is None:
        return None
    style = _style(path)
    return Mark(style["stroke"], _points(path), dashed="stroke-dasharray" in style)


def _markers(group) -> Mark | None:
    """The markers a ``line2d`` group draws without a line (bruising rings, twitching ticks)."""
    uses = _uses(group)
    if group.find(f"{SVG_NS}path") is not None or not uses:
        return None
    style = _style(uses[0])
    hollow = style.get("fill-opacity") == "0" or style.get("fill") == "none"
    # SVG's fill defaults to black, which matplotlib leaves unwritten.
    return Mark(
        style["stroke"] if hollow else style.get("fill", "#000000"),
        [(float(u.get("x")), float(u.get("y"))) for u in uses],
        hollow=hollow,
    )


def _box(points):
    xs, ys = zip(*points)
    return min(xs), min(ys), max(xs), max(ys)


class Drawn:
    """What a chart's SVG shows.

    matplotlib writes a group per artist: in the figure, the axes (its x and
    y axis with their ticks and labels, then what was plotted and the texts
    placed in it), then the key's samples and labels and any note. Positions
    are turned into data units through the tick marks, whose labels give their
    values.
    """

    def __init__(self, svg: bytes):
        figure = parse(svg).find(f"{SVG_NS}g[@id='figure_1']")
        (axes,) = _children(figure, "axes_")
        self.x_ticks, self.x_label, self._x = self._axis(axes, "matplotlib.axis_1", "xtick_", 0)
        self.y_ticks, self.y_label, self._y = self._axis(axes, "matplotlib.axis_2", "ytick_", 1)
        self.texts = [_label(g).text for g in _children(axes, "text_")]
        plotted = _children(axes, "line2d_")
        self.lines = [line for g in plotted if (line := _line(g))]
        self.markers = [marks for g in plotted if (marks := _markers(g))]
        self.bars = sorted(
            (
                _box(_points(g.find(f"{SVG_NS}path")))
                for g in _children(axes, "patch_")
                if _style(g.find(f"{SVG_NS}path")).get("fill") == BAR_COLOUR.lower()
            ),
            key=lambda box: (box[0], box[1]),
        )
        self.whiskers = [
            _points(path)
            for g in _children(axes, "LineCollection_")
            for path in g.findall(f"{SVG_NS}path")
        ]
        self.key, self.notes = self._key(figure, axes)

    @staticmethod
    def _axis(axes, name, tick_prefix, coordinate):
        (axis,) = [g for g in axes.findall(f"{SVG_NS}g") if g.get("id") == name]
        ticks = []
        for tick in _children(axis, tick_prefix):
            mark = _uses(tick)[0]  # the tick mark, where the value is
            label = _label(_children(tick, "text_")[0]) if _children(tick, "text_") else None
            ticks.append((label.text if label else "", float(mark.get("xy"[coordinate]))))
        labels = _children(axis, "text_")
        title = _label(labels[0]).text if labels else None
        numbers = [
            (float(t.rstrip("%").replace("−", "-")), at)
            for t, at in ticks
            if re.fullmatch(r"−?[\d.]+%?", t)
        ]
        if len(numbers) < 2:  # labels, not values (a share chart's weeks)
            return [t for t, _ in ticks], title, None
        (v0, p0), (v1, p1) = numbers[0], numbers[-1]

        def value(p):
            return v0 + (p - p0) * (v1 - v0) / (p1 - p0)

        return [t for t, _ in ticks], title, value

    def x(self, px: float) -> float:
        return self._x(px)

    def y(self, py: float) -> float:
        return self._y(py)

    def values(self, mark: Mark, ndigits: int = 2) -> list[tuple[float, float]]:
        """A line's corners or markers' centres in data units."""
        return [(round(self.x(px), ndigits), round(self.y(py), ndigits)) for px, py in mark.points]

    @staticmethod
    def _key(figure, axes):
        """(label, colour of the sample beside it) for each entry of the key; and the notes.

        A sample sits on its label's row, ending just before the label; a
        figure-level text with no sample beside it is a note.
        """
        after_axes = list(figure)[list(figure).index(axes) + 1 :]
        samples = []  # (right end, middle height, is a line, colour)
        for group in after_axes:
            name = group.get("id", "")
            if name.startswith("line2d_"):
                mark = _line(group) or _markers(group)
                xs, ys = zip(*mark.points)
                samples.append((max(xs), sum(ys) / len(ys), True, mark.colour))
            elif name.startswith("patch_"):
                path = group.find(f"{SVG_NS}path")
                _, y0, x1, y1 = _box(_points(path))
                samples.append((x1, (y0 + y1) / 2, False, _style(path)["fill"]))
        key, notes = [], []
        for group in after_axes:
            if not group.get("id", "").startswith("text_"):
                continue
            label = _label(group)
            middle = label.y - 0.35 * label.size  # samples stand 0.35 font sizes above the baseline
            beside = [s for s in samples if s[0] < label.x and abs(s[1] - middle) < label.size]
            if beside:
                # The nearest; a line before a box at the same place (the band's sample).
                nearest = max(beside, key=lambda s: (round(s[0], 1), s[2]))
                key.append((label.text, nearest[3]))
            else:
                notes.append(label.text)
        return key, notes


# ---------------------------------------------------------------------------
# The soreness chart


def test_output_is_svg_xml():
    svg = soreness_chart([FIRST])
    assert isinstance(svg, bytes)
    parse(svg)


def test_title_is_first_child_of_root():
    root = parse(soreness_chart([FIRST], title="Knee soreness"))
    assert root[0].tag == f"{SVG_NS}title"
    assert root[0].text == "Knee soreness"


def test_title_special_characters_are_escaped():
    title = "Hip & \"knee\" <left> 'side'"
    svg = soreness_chart([FIRST], title=title)
    root = parse(svg)
    assert root[0].text == title
    assert b"Hip &amp; " in svg and b"&lt;left&gt;" in svg


def test_same_input_gives_identical_bytes():
    assert soreness_chart([FIRST, SECOND], band=BAND) == soreness_chart([FIRST, SECOND], band=BAND)


def test_sorted_points_orders_by_hour_and_keeps_every_point():
    assert _sorted_points(FIRST) == [(0.0, 6), (24.0, 4), (48.0, 2)]
    assert _sorted_points(Series("empty", [])) == []


def test_x_ticks_include_6_only_when_present():
    assert _x_ticks([0, 24, 48]) == [0, 24, 48, 72]
    assert _x_ticks([0, 6, 24]) == [0, 6, 24, 48, 72]
    assert _x_ticks([]) == [0, 24, 48, 72]


def test_axes_read_hours_across_and_soreness_up():
    drawn = Drawn(soreness_chart([SECOND]))
    assert drawn.x_label == "Hours since the session"
    assert drawn.y_label == "Soreness (0–10)"
    assert drawn.x_ticks == ["0", "6", "24", "48", "72"]  # 6 h: SECOND has a 6-hour check-in
    assert drawn.y_ticks == ["0", "2", "4", "6", "8", "10"]
    assert Drawn(soreness_chart([FIRST])).x_ticks == ["0", "24", "48", "72"]


def test_a_session_is_a_line_through_its_answers_in_hour_order():
    drawn = Drawn(soreness_chart([FIRST]))
    (line,) = drawn.lines
    assert line.colour == BLUE
    assert drawn.values(line) == [(0, 6), (24, 4), (48, 2)]


def test_a_changed_answer_moves_its_point():
    changed = Series(FIRST.label, [(48, 3), (0, 6), (24, 4)], marked=FIRST.marked)
    (line,) = Drawn(soreness_chart([changed])).lines
    assert Drawn(soreness_chart([changed])).values(line) == [(0, 6), (24, 4), (48, 3)]


def test_two_sessions_each_get_a_colour_and_their_name_in_the_key():
    drawn = Drawn(soreness_chart([FIRST, SECOND]))
    first, second = drawn.lines
    assert (first.colour, second.colour) == (BLUE, VERMILION)
    # Set 0.6 h apart either side of the true hour, so equal answers do not overlap.
    assert drawn.values(first) == [(-0.6, 6), (23.4, 4), (47.4, 2)]
    assert drawn.values(second) == [(0.6, 5), (6.6, 6), (24.6, 3), (48.6, 1)]
    # Each session's points are drawn after (above) both lines, on its own line's corners.
    first_points, second_points = [mark for mark in drawn.markers if not mark.hollow]
    assert (first_points.colour, second_points.colour) == (BLUE, VERMILION)
    assert drawn.values(first_points) == drawn.values(first)
    assert drawn.values(second_points) == drawn.values(second)
    assert drawn.key == [
        (FIRST.label, BLUE),
        (SECOND.label, VERMILION),
        ("Bruising reported", KEY_GREY),
    ]
    assert drawn.notes == [] and drawn.texts == []


def test_single_session_has_no_key():
    svg = soreness_chart([Series("plain", [(0, 4), (24, 2)])])
    assert len(Drawn(svg).lines) == 1
    assert Drawn(svg).key == [] and "plain" not in texts(svg)


def test_bruising_is_a_ring_round_its_answer_and_twitching_a_mark_above_it():
    plain = Drawn(soreness_chart([Series("plain", [(0, 4), (24, 2)])]))
    [points] = plain.markers  # the answers themselves, drawn above the line
    assert not points.hollow and plain.values(points) == [(0, 4), (24, 2)]
    drawn = Drawn(soreness_chart([Series("marked", [(0, 4), (24, 2)], marked=[24], twitching=[0])]))
    _points, ring, tick = drawn.markers
    assert ring.hollow and ring.colour == BLUE and drawn.values(ring) == [(24, 2)]
    # Twitching: a small solid triangle three quarters of a point above the answer.
    assert not tick.hollow and tick.colour == BLUE and drawn.values(tick) == [(0, 4.75)]
    assert drawn.key == [("Bruising reported", KEY_GREY), ("Twitching or cramping felt", KEY_GREY)]


@pytest.mark.parametrize("series", [[], [Series("no answers yet", [])]])
def test_empty_input_shows_message(series):
    drawn = Drawn(soreness_chart(series))
    assert drawn.texts == [EMPTY_MESSAGE]
    assert drawn.lines == [] and drawn.key == []
    assert drawn.x_label == "Hours since the session"
    assert drawn.x_ticks == ["0", "24", "48", "72"]


def test_points_hide_empty_message():
    assert EMPTY_MESSAGE not in texts(soreness_chart([FIRST]))


def test_the_clinics_course_is_a_dashed_median_named_first_in_the_key():
    drawn = Drawn(soreness_chart([FIRST], band=BAND))
    median, line = drawn.lines
    assert median.dashed and not line.dashed
    assert drawn.values(median) == list(zip(BAND.hours, BAND.median))
    assert drawn.values(line) == [(0, 6), (24, 4), (48, 2)]
    # With the band, one session is named too: the key tells the two apart.
    assert drawn.key == [
        (BAND.label, median.colour),
        (FIRST.label, BLUE),
        ("Bruising reported", KEY_GREY),
    ]


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
TEXT_GREY = TEXT.lower()

ANALYTICS_CHARTS = [
    (lambda **kw: rates_chart(RATES, REFERENCES, **kw), lambda **kw: rates_chart([], (), **kw)),
    (
        lambda **kw: soreness_by_group_chart(GROUPS, **kw),
        lambda **kw: soreness_by_group_chart([], **kw),
    ),
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


def _rows(drawn):
    """Each bar of the rates chart, top to bottom: (its rate, its whisker's ends), in %."""
    bars = sorted(drawn.bars, key=lambda box: box[1])
    whiskers = sorted(drawn.whiskers, key=lambda ends: ends[0][1])
    return [
        (round(drawn.x(x1), 1), (round(drawn.x(w[0][0]), 1), round(drawn.x(w[1][0]), 1)))
        for (_, _, x1, _), w in zip(bars, whiskers, strict=True)
    ]


def _reference_lines(drawn):
    """The published rates: short upright lines, as (% across, colour), top to bottom."""
    upright = [
        line
        for line in drawn.lines
        if len(line.points) == 2 and line.points[0][0] == line.points[1][0]
    ]
    return [
        (round(drawn.x(line.points[0][0]), 2), line.colour)
        for line in sorted(upright, key=lambda line: min(y for _, y in line.points))
    ]


def test_rates_chart_draws_each_rate_as_a_bar_with_its_interval_and_counts():
    drawn = Drawn(rates_chart(RATES, REFERENCES))
    assert _rows(drawn) == [(25.0, (4.6, 69.9)), (50.0, (15.0, 85.0))]
    # Beside each bar, what it is and how often, top to bottom.
    assert drawn.texts == ["Bruising", "25.0 % (1 of 4)", "Bleeding", "50.0 % (2 of 4)"]
    assert drawn.x_label == "% of sessions"
    assert drawn.x_ticks == ["0%", "20%", "40%", "60%", "80%", "100%"]


def test_rates_chart_draws_each_published_rate_across_its_row_in_its_sources_style():
    drawn = Drawn(rates_chart(RATES, REFERENCES))
    brady, boyce = "#000000", "#d55e00"
    assert drawn.key == [
        ("This clinic", BAR_COLOUR.lower()),
        ("95 % interval", TEXT_GREY),
        ("Brady et al. 2014", brady),
        ("Boyce et al. 2020", boyce),
    ]
    # Bruising's row (top): Brady 7.55 %, Boyce 7.7 %; Bleeding's: Brady 4.65 %.
    # "Nobody 1999" has no row here: no line, no name in the key.
    assert sorted(_reference_lines(drawn)[:2]) == [(7.55, brady), (7.7, boyce)]
    assert _reference_lines(drawn)[2:] == [(4.65, brady)]
    assert "Nobody 1999" not in texts(rates_chart(RATES, REFERENCES))


def test_rates_chart_draws_only_the_references_and_intervals_it_is_given():
    drawn = Drawn(rates_chart(RATES, REFERENCES[:1]))
    assert _reference_lines(drawn) == [(7.55, "#000000")]
    assert [label for label, _ in drawn.key] == [
        "This clinic",
        "95 % interval",
        "Brady et al. 2014",
    ]
    wider = [RateBar("Bruising", 25.0, 4.0, 70.0, 1, 4), RATES[1]]
    assert _rows(Drawn(rates_chart(wider, REFERENCES)))[0] == (25.0, (4.0, 70.0))


def test_rates_chart_without_rows_says_so():
    drawn = Drawn(rates_chart([], REFERENCES))
    assert drawn.texts == [NO_DATA_MESSAGE]
    assert drawn.bars == [] and drawn.key == [] and _reference_lines(drawn) == []


def test_group_chart_draws_a_line_per_group_named_in_the_key_and_notes_the_rest():
    drawn = Drawn(soreness_by_group_chart(GROUPS, hidden=3, noun="muscles"))
    trapezius, gluteus = drawn.lines
    assert drawn.values(trapezius) == [(0, 5.2), (24, 3.1), (48, 1.4)]
    assert drawn.values(gluteus) == [(0, 4.5), (24, 2.5)]  # in hour order
    assert drawn.key == [
        ("Upper trapezius", GROUP_COLOURS[0].lower()),
        ("Gluteus medius", GROUP_COLOURS[1].lower()),
    ]
    assert [trapezius.colour, gluteus.colour] == [colour for _, colour in drawn.key]
    assert drawn.notes == ["3 more muscles with fewer answers not drawn"]
    assert (drawn.x_label, drawn.y_label) == ("Hours since the session", "Median soreness (0–10)")


def test_group_chart_draws_at_most_max_groups():
    many = [GroupLine(f"Group {i}", [(0, i / 2), (24, i / 3)]) for i in range(10)]
    drawn = Drawn(soreness_by_group_chart(many, max_groups=8))
    assert len(drawn.lines) == 8
    assert [label for label, _ in drawn.key] == [f"Group {i}" for i in range(8)]
    assert len({colour for _, colour in drawn.key}) == 8
    assert drawn.notes == ["2 more groups with fewer answers not drawn"]


def test_group_chart_marks_points_of_the_unsettled_sessions_alone():
    later = [
        GroupLine(
            "Upper trapezius", [(0, 5.2), (24, 3.1), (48, 1.4), (72, 3.0)], unsettled_only=[72]
        )
    ]
    svg = soreness_by_group_chart(later)
    assert "72 h: only sessions not settled at 48 h" in texts(svg)
    # The same numbers drawn as an ordinary point: another picture, no such key entry.
    plain = soreness_by_group_chart([GroupLine(later[0].label, later[0].points)])
    assert plain != svg
    assert "72 h: only sessions not settled at 48 h" not in texts(plain)


def test_band_marks_hours_of_the_unsettled_sessions_alone():
    marked = Band(BAND.hours, BAND.low, BAND.median, BAND.high, unsettled_only=[72])
    svg = soreness_chart([FIRST], band=marked)
    assert {"Clinic's typical course", "72 h: only sessions not settled at 48 h"} <= set(texts(svg))
    assert "72 h: only sessions not settled at 48 h" not in texts(
        soreness_chart([FIRST], band=BAND)
    )


def test_group_chart_without_groups_says_so():
    drawn = Drawn(soreness_by_group_chart([GroupLine("No answers", [])]))
    assert drawn.texts == [NO_DATA_MESSAGE]
    assert drawn.lines == [] and drawn.key == [] and drawn.notes == []


def _shares(drawn):
    """Each bar of a share chart, left to right: (the tick label under it, its height in %)."""
    bars = sorted(drawn.bars)
    return [
        (label, round(drawn.y(y0), 1))
        for label, (_, y0, _, _) in zip(drawn.x_ticks, bars, strict=True)
    ]


def test_settled_chart_draws_a_bar_per_check_in_with_share_and_counts():
    drawn = Drawn(settled_chart(SETTLED))
    assert _shares(drawn) == [("24 h", 17.4), ("48 h", 47.8)]
    assert drawn.texts == ["17.4 %", "40 of 230", "47.8 %", "87 of 182"]
    assert (drawn.x_label, drawn.y_label) == ("Check-in", "Settled (% of sessions)")
    assert drawn.y_ticks == ["0%", "20%", "40%", "60%", "80%", "100%"]
    empty = Drawn(settled_chart([]))
    assert empty.bars == [] and empty.texts == [NO_DATA_MESSAGE]


def test_completion_chart_draws_a_bar_per_week_and_drops_counts_when_crowded():
    drawn = Drawn(completion_chart(WEEKS))
    assert _shares(drawn) == [("2 Nov", 77.8), ("9 Nov", 92.4)]
    assert drawn.texts == ["77.8 %", "28 of 36", "92.4 %", "208 of 225"]
    assert (drawn.x_label, drawn.y_label) == ("Week starting", "Answered (% of due)")
    crowded = [ShareBar(f"{d} Oct", 80.0 + d / 10, 8, 10) for d in range(1, 13)]
    drawn = Drawn(completion_chart(crowded))
    assert _shares(drawn) == [(f"{d} Oct", round(80.0 + d / 10, 1)) for d in range(1, 13)]
    assert drawn.texts == [f"{80.0 + d / 10:.1f} %" for d in range(1, 13)]  # no counts
    empty = Drawn(completion_chart([]))
    assert empty.bars == [] and empty.texts == [NO_CLOSED_MESSAGE]


def test_crowded_week_labels_are_turned_to_fit():
    crowded = completion_chart([ShareBar(f"{d} Oct", 80.0, 8, 10) for d in range(1, 13)])
    turned = [t for t in parse(crowded).iter(f"{SVG_NS}text") if "Oct" in "".join(t.itertext())]
    assert len(turned) == 12
    assert all(t.get("transform").startswith("rotate(-45 ") for t in turned)
    assert all("text-anchor: end" in t.get("style") for t in turned)


def test_analytics_charts_leave_global_rcparams_untouched():
    before = dict(matplotlib.rcParams)
    for draw, draw_empty in ANALYTICS_CHARTS:
        draw()
        draw_empty()
    assert dict(matplotlib.rcParams) == before


# ---------------------------------------------------------------------------
# Layout: the axes are placed by base._fit (one measuring pass) rather than
# by constrained layout, so check here that nothing is cut off or overlaps.


LONG = "Original symptoms worse than before the session (self-reported)"
TEN_SESSIONS = [
    Series(
        f"{day} Nov 2026",
        [(0, 6), (6, 5), (24, 3), (48, 2), (72, day % 3)],
        marked=[24] if day % 2 else [],
        twitching=[0] if day % 3 == 0 else [],
    )
    for day in range(3, 13)
]
WIDE_BAND_LEGEND = Series("one", [(0, 5), (24, 3)], marked=[24], twitching=[0])
MANY_GROUPS = [
    GroupLine(f"{name} (left and right sides)", [(0, 5 - i / 3), (24, 3 - i / 4), (72, 1)])
    for i, name in enumerate(
        [
            "Upper trapezius",
            "Gluteus medius",
            "Infraspinatus",
            "Levator scapulae",
            "Quadratus lumborum",
            "Gastrocnemius",
            "Piriformis",
            "Vastus lateralis",
            "Not drawn",
        ]
    )
]
UNSETTLED_72H_GROUPS = [
    GroupLine(group.label, [*group.points, (72, 2.5 + i / 4)], unsettled_only=[72])
    for i, group in enumerate(MANY_GROUPS[:4])
]
UNSETTLED_72H_BAND = Band(
    hours=BAND.hours, low=BAND.low, median=BAND.median, high=BAND.high, unsettled_only=[72]
)
PALETTE_ = charts.PALETTE
TWELVE_WEEKS = [ShareBar(f"{d} Oct", 70.0 + d, 30, 40) for d in range(1, 13)]

FIGURES = {
    "ten sessions, band, both markers": lambda: soreness._soreness_figure(
        TEN_SESSIONS, BAND, 6.4, 3.2
    ),
    "small, band and both markers": lambda: soreness._soreness_figure(
        [WIDE_BAND_LEGEND], BAND, 4.2, 2.4
    ),
    "small, one session": lambda: soreness._soreness_figure([FIRST], None, 4.2, 2.4),
    "no soreness yet": lambda: soreness._soreness_figure([], None, 6.4, 3.2),
    "rates, three sources, a long label": lambda: clinic._rates_figure(
        [*RATES, RateBar(LONG, 3.2, 2.0, 5.0, 18, 563)],
        [*REFERENCES, ReferenceRate(LONG, 0.88, "Third source 2024")],
        6.4,
        3.4,
    ),
    "rates, none": lambda: clinic._rates_figure([], (), 6.4, 3.4),
    "groups, long names and a note": lambda: groups._groups_figure(
        MANY_GROUPS, 3, "muscles", 8, 6.4, 3.4
    ),
    "groups, none": lambda: groups._groups_figure([], 0, "groups", 8, 6.4, 3.4),
    "groups, 72 h of the unsettled alone": lambda: groups._groups_figure(
        UNSETTLED_72H_GROUPS, 1, "muscles", 8, 6.4, 3.4
    ),
    "small, band with 72 h of the unsettled alone": lambda: soreness._soreness_figure(
        [WIDE_BAND_LEGEND], UNSETTLED_72H_BAND, 4.2, 2.4
    ),
    "settled": lambda: clinic._settled_figure(SETTLED, 6.4, 3.0),
    "settled, none": lambda: clinic._settled_figure([], 6.4, 3.0),
    "completion, twelve weeks": lambda: clinic._completion_figure(TWELVE_WEEKS, 6.4, 3.0),
    "completion, none": lambda: clinic._completion_figure([], 6.4, 3.0),
}


def _drawn(build):
    """The figure, drawn once with the SVG renderer so every label has its final place."""
    with base._drawing():
        fig = build()
        renderer = base._measure(fig)
        fig.draw(renderer)
        return fig, renderer


def _figure_level(fig):
    """What is drawn outside the axes: the key's samples and labels, and the note."""
    return [a for a in (*fig.lines, *fig.patches, *fig.texts) if a.get_visible()]


def _texts(fig):
    return [t for t in fig.findobj(Text) if t.get_visible() and t.get_text()]


@pytest.mark.parametrize("name", FIGURES)
def test_everything_drawn_lies_inside_the_figure(name):
    fig, renderer = _drawn(FIGURES[name])
    page = fig.bbox
    drawn = [*_texts(fig), *_figure_level(fig)]
    assert drawn
    for artist in drawn:
        box = artist.get_window_extent(renderer)
        assert page.x0 <= box.x0 and box.x1 <= page.x1, (name, artist, box)
        assert page.y0 <= box.y0 and box.y1 <= page.y1, (name, artist, box)


@pytest.mark.parametrize("name", FIGURES)
def test_key_and_note_stay_clear_of_the_axes_and_its_labels(name):
    fig, renderer = _drawn(FIGURES[name])
    (ax,) = fig.axes
    axes = ax.get_tightbbox(renderer)
    for artist in _figure_level(fig):
        assert not artist.get_window_extent(renderer).overlaps(axes), (name, artist)


@pytest.mark.parametrize("name", FIGURES)
def test_no_two_texts_overlap(name):
    fig, renderer = _drawn(FIGURES[name])
    level = [t for t in _texts(fig) if t.get_rotation() == 0]  # a turned text's box is loose
    boxes = [(t.get_text(), t.get_window_extent(renderer)) for t in level]
    for i, (text, box) in enumerate(boxes):
        for other, other_box in boxes[i + 1 :]:
            assert not box.overlaps(other_box), (name, text, other)


def test_key_is_laid_out_as_matplotlib_legend_would():
    """_Key replaces Legend for speed; with the same entries it puts each label
    where Legend puts it (Legend's default spacings, columns filled first)."""
    entries = [
        (base._Sample(line={"color": PALETTE_[i % 3], "marker": "o", "lw": 1.8}), label)
        for i, label in enumerate(
            [
                BAND.label,
                *[s.label for s in TEN_SESSIONS],
                "Bruising reported",
                "Twitching or cramping felt",
            ]
        )
    ]
    with base._drawing():
        fig = Figure(figsize=(6.4, 3.2), dpi=72)
        renderer = base._measure(fig)
        key = base._Key(
            fig, renderer, entries, fontsize=9, length=2.4, max_columns=3, room=fig.bbox.width
        )
        key.place(20.0, 200.0)
        legend = fig.legend(
            [Line2D([], [], **sample.line) for sample, _ in entries],
            [t for _, t in entries],
            loc="upper left",
            bbox_to_anchor=(20.0 / 72, 200.0 / 72),
            bbox_transform=fig.dpi_scale_trans,
            borderaxespad=0,
            ncols=3,
            fontsize=9,
            handlelength=2.4,
        )
        fig.draw(renderer)
        ours = [t.get_window_extent(renderer) for t in key.labels]
        theirs = [t.get_window_extent(renderer) for t in legend.get_texts()]
        box = legend.get_window_extent(renderer)
    assert len(key.columns) == 3 and [len(c) for c in key.columns] == [5, 4, 4]
    for mine, reference in zip(ours, theirs):
        assert abs(mine.x0 - reference.x0) < 0.05 and abs(mine.y0 - reference.y0) < 0.05
    assert abs(key.width - box.width) < 0.05 and abs(key.height - box.height) < 0.05


def test_key_drops_columns_that_do_not_fit():
    entries = [(base._Sample(line={"color": "k"}), "A rather long label " * 2)] * 3
    with base._drawing():
        fig = Figure(figsize=(4.2, 2.4), dpi=72)
        key = base._Key(
            fig,
            base._measure(fig),
            entries,
            fontsize=9,
            length=2.4,
            max_columns=3,
            room=fig.bbox.width - 2 * charts.EDGE,
        )
    assert len(key.columns) < 3 and key.width <= fig.bbox.width - 2 * charts.EDGE


def test_the_axes_take_most_of_the_figure():
    """Margins come from what is measured, not a guess: no large empty border."""
    fig, renderer = _drawn(lambda: soreness._soreness_figure([SECOND], None, 6.4, 3.2))
    (ax,) = fig.axes
    labels, page = ax.get_tightbbox(renderer), fig.bbox
    assert labels.x0 - page.x0 <= charts.EDGE + 1
    assert page.y1 - labels.y1 <= charts.EDGE + 1
    assert labels.width >= 0.95 * page.width


def test_text_names_the_font_stack_and_nothing_is_fetched():
    svg = soreness_chart([FIRST, SECOND], band=BAND)
    stack = ", ".join(f"'{name}'" for name in charts.FONT_STACK) + ", sans-serif"
    assert f"font-family: {stack}".encode() in svg
    assert b"Verdana" not in svg
    assert b"@font-face" not in svg and b"@import" not in svg
    refs = [r for r in ET.fromstring(svg).iter() for k, r in r.attrib.items() if k.endswith("href")]
    assert refs and all(ref.startswith("#") for ref in refs)


def test_same_bytes_from_a_fresh_process():
    """Ids and layout do not depend on the process (hash seed, what was drawn before)."""
    code = (
        "import sys; from tracker.charts import Band, Series, soreness_chart; "
        f"sys.stdout.buffer.write(soreness_chart([{FIRST!r}, {SECOND!r}], band={BAND!r}))"
    )
    fresh = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        capture_output=True,
        check=True,
        env={"PYTHONHASHSEED": "12345", "PATH": "/usr/bin:/bin"},
    ).stdout
    assert fresh == soreness_chart([FIRST, SECOND], band=BAND)


@pytest.mark.parametrize("name", FIGURES)
def test_every_text_is_one_line_so_the_svg_aligns_it_in_any_font(name):
    """A multi-line text reaches the SVG as lines placed by DejaVu Sans widths,
    which go ragged when the browser draws another font; one-line texts carry
    text-anchor instead."""
    fig, _ = _drawn(FIGURES[name])
    assert not [t.get_text() for t in fig.findobj(Text) if "\n" in t.get_text()]


def test_rate_labels_are_anchored_at_their_end_beside_the_ticks():
    svg = rates_chart(RATES, REFERENCES)
    anchors = {"".join(t.itertext()): t.get("style") for t in parse(svg).iter(f"{SVG_NS}text")}
    assert "text-anchor: end" in anchors["Bruising"]
    assert "text-anchor: end" in anchors["25.0 % (1 of 4)"]


@pytest.mark.parametrize("limit", [15, 20, 25, 30, 35, 40, 50, 60, 70, 80, 90, 100])
def test_percent_ticks_are_whole_round_steps(limit):
    """Whole-number labels ("%.0f %") must not misprint 2.5 % steps as 2 %, 5 %, 8 %."""
    ticks = clinic._percent_ticks(limit)
    step = ticks[1] - ticks[0]
    assert ticks[0] == 0 and step in (2, 5, 10, 20)
    assert all(t == round(t) and b - a == step for a, b, t in zip(ticks, ticks[1:], ticks))
    assert len(ticks) <= 10 and limit - step < ticks[-1] <= limit


def test_every_word_a_chart_draws_goes_through_translate():
    def translate(text):
        return "~" + text  # marks each word that went through

    drawn = {
        "soreness": soreness_chart(
            [Series("3 Nov", [(0, 5), (24, 3)], marked=[24], twitching=[0])],
            band=Band([0, 24], [3, 2], [4, 3], [5, 4]),
            translate=translate,
        ),
        "no soreness": soreness_chart([], translate=translate),
        "rates": charts.rates_chart(
            [charts.RateBar("Bruising", 20.0, 15.0, 25.0, 20, 100)], translate=translate
        ),
        "groups": charts.soreness_by_group_chart(
            [charts.GroupLine("Soleus", [(0, 4.0), (72, 5.0)], unsettled_only=[72])],
            hidden=2,
            noun="muscles",
            translate=translate,
        ),
        "settled": charts.settled_chart(
            [charts.ShareBar("24 h", 50.0, 5, 10)], translate=translate
        ),
        "completion": charts.completion_chart([], translate=translate),
    }
    words = {
        "soreness": [
            "Hours since the session",
            "Soreness (0–10)",
            "Bruising reported",
            "Twitching or cramping felt",
            "Clinic's typical course",
        ],
        "no soreness": ["No check-ins answered yet"],
        "rates": ["% of sessions", "This clinic", "95 % interval", "20 of 100"],
        "groups": [
            "Median soreness (0–10)",
            "2 more muscles with fewer answers not drawn",
            "72 h: only sessions not settled at 48 h",
        ],
        "settled": ["Settled (% of sessions)", "Check-in", "5 of 10"],
        "completion": [
            "Answered (% of due)",
            "Week starting",
            "No check-in window has closed in this period",
        ],
    }
    for chart, expected in words.items():
        texts = _svg_texts(drawn[chart])
        for word in expected:
            assert "~" + word in texts or f"(~{word})" in texts, (chart, word, texts)
    # The caller's own labels are drawn as given.
    assert "Bruising" in _svg_texts(drawn["rates"]) and "3 Nov" in _svg_texts(drawn["soreness"])


def _svg_texts(svg: bytes) -> str:
    root = ET.fromstring(svg)
    return " | ".join("".join(t.itertext()) for t in root.iter(f"{SVG_NS}text"))


# ---------------------------------------------------------------------------
# Dollar signs are text: matplotlib never reads a name as mathematics

MATHTEXT = [r"Jo $\frac$ Bloggs", "$x^2$", "$$", "Ana $", r"$\sqrt{$", "a$b$c$d"]


def _every_chart_with(word: str) -> dict[str, bytes]:
    """Each chart with ``word`` in every text it is handed (labels, sources, nouns, words)."""
    translate = lambda text: f"{word} {text}"  # noqa: E731  (a translation could hold "$" too)
    return {
        "soreness": soreness_chart(
            [Series(word, [(0, 5), (24, 3)], marked=(24,)), Series(word + "2", [(0, 4)])],
            band=Band([0, 24], [1, 0], [3, 1], [5, 2], label=word),
            title=word,
            translate=translate,
        ),
        "rates": rates_chart(
            [RateBar(word, 25.0, 4.6, 69.9, 1, 4)],
            [ReferenceRate(word, 7.5, word)],
            title=word,
            translate=translate,
        ),
        "groups": soreness_by_group_chart(
            [GroupLine(word, [(0, 5.0), (24, 3.0)])] * 3,
            hidden=2,
            noun=word,
            max_groups=2,
            title=word,
            translate=translate,
        ),
        "settled": settled_chart([ShareBar(word, 17.4, 40, 230)], title=word, translate=translate),
        "completion": completion_chart(
            [ShareBar(word, 50.0, 1, 2)] * 12, title=word, translate=translate
        ),
    }


@pytest.mark.parametrize("word", MATHTEXT)
def test_dollar_signs_in_any_text_are_drawn_as_written(word):
    for name, svg in _every_chart_with(word).items():
        drawn = texts(svg)
        assert word in drawn, (name, drawn)  # a label drawn whole, dollars and all
        assert any(f"{word} " in text for text in drawn), name  # and a translated word

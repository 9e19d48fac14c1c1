"""Tests for tracker.charts: pure SVG rendering, no database or Django needed."""

import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import matplotlib
import pytest

ROOT = Path(__file__).resolve().parent.parent

from tracker.charts.base import EMPTY_MESSAGE
from tracker.charts.soreness import Band, Series, _sorted_points, _x_ticks, soreness_chart

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

from tracker.charts.clinic import NO_CLOSED_MESSAGE, NO_DATA_MESSAGE  # noqa: E402
from tracker.charts import (  # noqa: E402
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


def test_group_chart_marks_points_of_the_unsettled_sessions_alone():
    later = [GroupLine("Upper trapezius", [(0, 5.2), (24, 3.1), (48, 1.4), (72, 3.0)],
                       unsettled_only=[72])]
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
    assert "72 h: only sessions not settled at 48 h" not in texts(soreness_chart([FIRST], band=BAND))


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


# ---------------------------------------------------------------------------
# Layout: the axes are placed by base._fit (one measuring pass) rather than
# by constrained layout, so check here that nothing is cut off or overlaps.

from matplotlib.figure import Figure  # noqa: E402
from matplotlib.lines import Line2D  # noqa: E402
from matplotlib.text import Text  # noqa: E402

from tracker import charts  # noqa: E402
from tracker.charts import base, clinic, soreness  # noqa: E402

LONG = "Original symptoms worse than before the session (self-reported)"
TEN_SESSIONS = [
    Series(f"{day} Nov 2026", [(0, 6), (6, 5), (24, 3), (48, 2), (72, day % 3)],
           marked=[24] if day % 2 else [], twitching=[0] if day % 3 == 0 else [])
    for day in range(3, 13)
]
WIDE_BAND_LEGEND = Series("one", [(0, 5), (24, 3)], marked=[24], twitching=[0])
MANY_GROUPS = [
    GroupLine(f"{name} (left and right sides)", [(0, 5 - i / 3), (24, 3 - i / 4), (72, 1)])
    for i, name in enumerate(["Upper trapezius", "Gluteus medius", "Infraspinatus",
                              "Levator scapulae", "Quadratus lumborum", "Gastrocnemius",
                              "Piriformis", "Vastus lateralis", "Not drawn"])
]
UNSETTLED_72H_GROUPS = [
    GroupLine(group.label, [*group.points, (72, 2.5 + i / 4)], unsettled_only=[72])
    for i, group in enumerate(MANY_GROUPS[:4])
]
UNSETTLED_72H_BAND = Band(hours=BAND.hours, low=BAND.low, median=BAND.median, high=BAND.high,
                          unsettled_only=[72])
PALETTE_ = charts.PALETTE
TWELVE_WEEKS = [ShareBar(f"{d} Oct", 70.0 + d, 30, 40) for d in range(1, 13)]

FIGURES = {
    "ten sessions, band, both markers": lambda: soreness._soreness_figure(
        TEN_SESSIONS, BAND, 6.4, 3.2),
    "small, band and both markers": lambda: soreness._soreness_figure(
        [WIDE_BAND_LEGEND], BAND, 4.2, 2.4),
    "small, one session": lambda: soreness._soreness_figure([FIRST], None, 4.2, 2.4),
    "no soreness yet": lambda: soreness._soreness_figure([], None, 6.4, 3.2),
    "rates, three sources, a long label": lambda: clinic._rates_figure(
        [*RATES, RateBar(LONG, 3.2, 2.0, 5.0, 18, 563)],
        [*REFERENCES, ReferenceRate(LONG, 0.88, "Third source 2024")], 6.4, 3.4),
    "rates, none": lambda: clinic._rates_figure([], (), 6.4, 3.4),
    "groups, long names and a note": lambda: clinic._groups_figure(
        MANY_GROUPS, 3, "muscles", 8, 6.4, 3.4),
    "groups, none": lambda: clinic._groups_figure([], 0, "groups", 8, 6.4, 3.4),
    "groups, 72 h of the unsettled alone": lambda: clinic._groups_figure(
        UNSETTLED_72H_GROUPS, 1, "muscles", 8, 6.4, 3.4),
    "small, band with 72 h of the unsettled alone": lambda: soreness._soreness_figure(
        [WIDE_BAND_LEGEND], UNSETTLED_72H_BAND, 4.2, 2.4),
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
        for other, other_box in boxes[i + 1:]:
            assert not box.overlaps(other_box), (name, text, other)


def test_key_is_laid_out_as_matplotlib_legend_would():
    """_Key replaces Legend for speed; with the same entries it puts each label
    where Legend puts it (Legend's default spacings, columns filled first)."""
    entries = [
        (base._Sample(line={"color": PALETTE_[i % 3], "marker": "o", "lw": 1.8}), label)
        for i, label in enumerate([BAND.label, *[s.label for s in TEN_SESSIONS],
                                   "Bruising reported", "Twitching or cramping felt"])
    ]
    with base._drawing():
        fig = Figure(figsize=(6.4, 3.2), dpi=72)
        renderer = base._measure(fig)
        key = base._Key(fig, renderer, entries, fontsize=9, length=2.4, max_columns=3,
                          room=fig.bbox.width)
        key.place(20.0, 200.0)
        legend = fig.legend(
            [Line2D([], [], **sample.line) for sample, _ in entries], [t for _, t in entries],
            loc="upper left", bbox_to_anchor=(20.0 / 72, 200.0 / 72),
            bbox_transform=fig.dpi_scale_trans, borderaxespad=0, ncols=3, fontsize=9,
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
        key = base._Key(fig, base._measure(fig), entries, fontsize=9, length=2.4,
                          max_columns=3, room=fig.bbox.width - 2 * charts.EDGE)
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
        "import sys; from tests.test_charts import FIRST, SECOND, BAND; "
        "from tracker.charts import soreness_chart; "
        "sys.stdout.buffer.write(soreness_chart([FIRST, SECOND], band=BAND))"
    )
    fresh = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, check=True,
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
    anchors = {
        "".join(t.itertext()): t.get("style") for t in parse(svg).iter(f"{SVG_NS}text")
    }
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
            band=Band([0, 24], [3, 2], [4, 3], [5, 4]), translate=translate,
        ),
        "no soreness": soreness_chart([], translate=translate),
        "rates": charts.rates_chart(
            [charts.RateBar("Bruising", 20.0, 15.0, 25.0, 20, 100)], translate=translate
        ),
        "groups": charts.soreness_by_group_chart(
            [charts.GroupLine("Soleus", [(0, 4.0), (72, 5.0)], unsettled_only=[72])],
            hidden=2, noun="muscles", translate=translate,
        ),
        "settled": charts.settled_chart([charts.ShareBar("24 h", 50.0, 5, 10)],
                                        translate=translate),
        "completion": charts.completion_chart([], translate=translate),
    }
    words = {
        "soreness": ["Hours since the session", "Soreness (0–10)", "Bruising reported",
                     "Twitching or cramping felt", "Clinic's typical course"],
        "no soreness": ["No check-ins answered yet"],
        "rates": ["% of sessions", "This clinic", "95 % interval", "20 of 100"],
        "groups": ["Median soreness (0–10)", "2 more muscles with fewer answers not drawn",
                   "72 h: only sessions not settled at 48 h"],
        "settled": ["Settled (% of sessions)", "Check-in", "5 of 10"],
        "completion": ["Answered (% of due)", "Week starting",
                       "No check-in window has closed in this period"],
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

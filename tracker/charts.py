"""Soreness-after-needling charts as SVG bytes.

Pure rendering: plain data in, bytes out. Nothing from Django is imported so the
module can be tested and reused without settings or a database.

Every word a chart draws is English here, marked with ``gettext_noop`` so that
``makemessages`` collects it; a caller showing another language passes
``translate`` (Django's ``gettext``), which each chart applies to those words.
"""

from __future__ import annotations

import io
import math
import os
import re
import tempfile
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from xml.sax.saxutils import escape

# Without a writable config dir matplotlib rebuilds its font cache in every process.
os.environ.setdefault("MPLCONFIGDIR", os.path.join(tempfile.gettempdir(), "needle-aftercare-mpl"))

import matplotlib  # noqa: E402
from matplotlib.axes import Axes  # noqa: E402
from matplotlib.backends.backend_svg import RendererSVG  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402  (never pyplot: no global state, no GUI)
from matplotlib.lines import Line2D  # noqa: E402
from matplotlib.patches import Rectangle  # noqa: E402
from matplotlib.ticker import PercentFormatter  # noqa: E402
from matplotlib.transforms import offset_copy  # noqa: E402

# Okabe–Ito, reordered so the first series get the strongest contrasts on white;
# yellow is left out because it is unreadable as a thin line on white.
PALETTE = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000")
# Shapes repeat the colour information so the chart survives greyscale printing.
MARKERS = ("o", "s", "^", "D", "v", "P", "X")
TEXT = "#333333"
GRID = "#e6e6e6"


def gettext_noop(text: str) -> str:
    """Marks ``text`` for translation files (the name makemessages looks for)."""
    return text


EMPTY_MESSAGE = gettext_noop("No check-ins answered yet")

# Text stays text in the SVG, so the reader's browser picks the font from this
# stack; nothing is loaded from anywhere. matplotlib measures with the first,
# DejaVu Sans, which ships with matplotlib, so it is always there. The others
# are the page's own system fonts (from Bootstrap's stack), all narrower than
# DejaVu Sans: text drawn in them never outgrows the room measured for it.
# Verdana, early in matplotlib's default stack, is left out: about as wide as
# DejaVu Sans or wider, it could push labels past the figure's edge.
FONT_STACK = ("DejaVu Sans", "Segoe UI", "Roboto", "Helvetica Neue", "Liberation Sans", "Arial")

_RC = {
    "svg.hashsalt": "needle-aftercare",  # stable ids -> byte-identical output
    "svg.fonttype": "none",  # real <text>: searchable, selectable, tiny files
    "font.family": "sans-serif", "font.sans-serif": list(FONT_STACK),
    "font.size": 9,
    "text.color": TEXT, "axes.labelcolor": TEXT, "xtick.color": TEXT, "ytick.color": TEXT,
    "axes.edgecolor": "#8a8a8a", "figure.facecolor": "white", "axes.facecolor": "white",
    # Every chart's axes look alike: set once here rather than restyled after each is made.
    "axes.spines.top": False, "axes.spines.right": False, "axes.axisbelow": True,
    "xtick.major.size": 3, "ytick.major.size": 3,
    "grid.color": GRID, "grid.linewidth": 0.8,
}
# rcParams are process-global, and rc_context is not thread-safe under threaded servers.
_LOCK = threading.Lock()

# ---------------------------------------------------------------------------
# Layout, in points (figures are made at 72 dpi, so a point is a pixel).
EDGE = 4.0  # kept clear along the figure's edges
GAP = 6.0  # between the axes' labels and a legend or a note


_translate: Callable[[str], str] = str


@contextmanager
def _drawing(translate: Callable[[str], str] = str) -> Iterator[None]:
    """The charts' style and words, for one chart at a time (see _LOCK)."""
    global _translate
    with _LOCK, matplotlib.rc_context(_RC):
        _translate = translate
        try:
            yield
        finally:
            _translate = str


def _w(text: str) -> str:
    """``text`` (one of the words marked above) in the language of the chart being drawn."""
    return _translate(text)


def _figure(width_in: float, height_in: float) -> tuple[Figure, Axes]:
    """A figure at 72 dpi (what SVG uses) with one axes, placed later by _fit."""
    fig = Figure(figsize=(width_in, height_in), dpi=72)
    return fig, fig.add_subplot()


def _measure(fig: Figure) -> RendererSVG:
    """A renderer measuring text as the SVG one draws it (same metrics, 72 dpi); writes nowhere."""
    return RendererSVG(fig.bbox.width, fig.bbox.height, io.StringIO())


@dataclass(frozen=True)
class _Sample:
    """How a legend entry's sample looks: Line2D keywords (a marker sits at its
    middle) and/or Rectangle keywords for a box the sample's size behind it."""

    line: dict | None = None
    box: dict | None = None


class _Key:
    """A legend made of plain artists: a sample and a one-line label per entry.

    matplotlib's Legend packs itself through nested offset boxes that measure
    every label again at each level on every draw: it was nearly half of the
    patient chart's time. This one measures each label once and lays out as
    Legend does with its default spacings (in font sizes): columns filled top
    to bottom, the first ones an entry longer when the count does not divide;
    samples ``length`` font sizes long, 0.7 high, resting on the baseline.
    """

    BORDER, ROW_GAP, SAMPLE_HEIGHT, LABEL_PAD, COLUMN_GAP = 0.4, 0.5, 0.7, 0.8, 2.0

    def __init__(self, fig, renderer, entries: Sequence[tuple[_Sample, str]], *,
                 fontsize: float, length: float, max_columns: int = 1, room: float = math.inf):
        self.fig, self.fontsize = fig, fontsize
        self.samples = [sample for sample, _ in entries]
        self.labels = [fig.text(0, 0, label, fontsize=fontsize, va="baseline",
                                transform=fig.dpi_scale_trans) for _, label in entries]
        boxes = [t.get_window_extent(renderer) for t in self.labels]  # baselines at y = 0
        self.label_widths = [b.width for b in boxes]
        self.descent = max(-b.y0 for b in boxes)
        self.ascent = max([b.y1 for b in boxes] + [self.SAMPLE_HEIGHT * fontsize])
        self.sample_length = length * fontsize
        for count in range(min(max_columns, len(entries)), 0, -1):
            self.columns = self._columns(count)
            if count == 1 or self.width <= room:
                break

    def _columns(self, count: int) -> list[list[int]]:
        rows, longer = divmod(len(self.labels), count)
        columns, start = [], 0
        for size in [rows + 1] * longer + [rows] * (count - longer):
            columns.append(list(range(start, start + size)))
            start += size
        return columns

    def _column_widths(self) -> list[float]:
        return [self.sample_length + self.LABEL_PAD * self.fontsize
                + max(self.label_widths[i] for i in column) for column in self.columns]

    @property
    def width(self) -> float:
        widths = self._column_widths()
        return (2 * self.BORDER * self.fontsize + sum(widths)
                + (len(widths) - 1) * self.COLUMN_GAP * self.fontsize)

    @property
    def height(self) -> float:
        rows = len(self.columns[0])
        return (2 * self.BORDER * self.fontsize + rows * (self.ascent + self.descent)
                + (rows - 1) * self.ROW_GAP * self.fontsize)

    def place(self, left: float, top: float) -> None:
        """Put the key's samples and labels with its top-left corner at (left, top), in points."""
        fs, inch = self.fontsize, 72.0
        pitch = self.ascent + self.descent + self.ROW_GAP * fs
        x = left + self.BORDER * fs
        for column, column_width in zip(self.columns, self._column_widths()):
            for row, i in enumerate(column):
                baseline = top - self.BORDER * fs - self.ascent - row * pitch
                self.labels[i].set_position(
                    ((x + self.sample_length + self.LABEL_PAD * fs) / inch, baseline / inch)
                )
                self._draw_sample(self.samples[i], x, baseline)
            x += column_width + self.COLUMN_GAP * fs

    def _draw_sample(self, sample: _Sample, x: float, baseline: float) -> None:
        inch, fig = 72.0, self.fig
        length, height = self.sample_length, self.SAMPLE_HEIGHT * self.fontsize
        if sample.box is not None:
            fig.add_artist(Rectangle((x / inch, baseline / inch), length / inch, height / inch,
                                     transform=fig.dpi_scale_trans, **sample.box))
        if sample.line is not None:
            y = (baseline + height / 2) / inch
            fig.add_artist(Line2D([x / inch, (x + length / 2) / inch, (x + length) / inch],
                                  [y, y, y], markevery=[1], transform=fig.dpi_scale_trans,
                                  **sample.line))


def _fit(fig, ax, renderer, *, key_above: _Key | None = None, key_beside: _Key | None = None,
         note=None) -> None:
    """Place the axes so its tick and axis labels, the key and the note all fit the figure.

    This is constrained layout's job, done in one measuring pass: constrained
    layout draws the whole figure an extra time and solves its layout twice,
    which was more than half of the time a chart took. Everything measured
    here keeps its size when the axes move (ticks are fixed beforehand), so one
    pass is exact. A key above is centred on the figure; a key beside is
    top-aligned with the axes; a note sits in the bottom-left corner.
    """
    width, height = fig.bbox.width, fig.bbox.height
    axes = ax.bbox
    labels = ax.get_tightbbox(renderer, bbox_extra_artists=ax.texts)  # lines are clipped anyway
    left = EDGE + max(axes.x0 - labels.x0, 0)
    right = EDGE + max(labels.x1 - axes.x1, 0)
    bottom = EDGE + max(axes.y0 - labels.y0, 0)
    top = EDGE + max(labels.y1 - axes.y1, 0)
    if key_above is not None:
        top += key_above.height + GAP
        key_above.place((width - key_above.width) / 2, height - EDGE)
    if key_beside is not None:
        right += key_beside.width + GAP
        key_beside.place(width - EDGE - key_beside.width, height - top)
    if note is not None:
        bottom += note.get_window_extent(renderer).height + GAP
    fig.subplots_adjust(left=left / width, right=1 - right / width,
                        bottom=bottom / height, top=1 - top / height)


@dataclass(frozen=True)
class Series:
    """One session's check-ins: (hours since session, NRS 0–10).

    ``marked`` hours (bruising reported) get a ring; ``twitching`` hours
    (twitching or cramping felt) get a small triangle above the point.
    """

    label: str
    points: Sequence[tuple[float, int]]
    marked: Sequence[float] = ()
    twitching: Sequence[float] = ()


@dataclass(frozen=True)
class Band:
    """The clinic's usual soreness course: low/median/high NRS at each hour."""

    hours: Sequence[float]
    low: Sequence[float]
    median: Sequence[float]
    high: Sequence[float]
    label: str = gettext_noop("Clinic's typical course")


def _sorted_points(series: Series) -> list[tuple[float, int]]:
    """Return the series' (hour, soreness) points in drawing order (by hour)."""
    return sorted(((float(h), int(s)) for h, s in series.points), key=lambda p: p[0])


def _x_ticks(hours: list[float]) -> list[float]:
    last = max([72.0, *hours])
    ticks = [float(t) for t in range(0, int(last) + 1, 24)]
    if 6 in hours:  # only show the early follow-up tick when that check-in exists
        ticks.append(6.0)
    return sorted(ticks)


def _soreness_axes(ax, hours: list[float], y_label: str, *, x_from: float) -> None:
    """Hours since the session across (to 72 h at least), soreness 0–10 up."""
    ax.set_xlim(x_from, max([72.0, *hours]) + 4)
    ax.set_xticks(_x_ticks(hours))
    ax.set_ylim(-0.3, 10.3)
    ax.set_yticks(range(0, 11, 2))
    ax.set_xlabel(_w(gettext_noop("Hours since the session")))
    ax.set_ylabel(y_label)
    ax.grid(True, axis="y")


def _with_title(svg: bytes, title: str) -> bytes:
    """Insert <title> as the first child of the root <svg> so screen readers announce it."""
    element = f"<title>{escape(title)}</title>".encode()
    return re.sub(rb"(<svg\b[^>]*>)", lambda m: m.group(1) + b"\n " + element, svg, count=1)


def soreness_chart(
    series: Sequence[Series],
    *,
    band: Band | None = None,
    title: str = "Soreness after needling",
    width_in: float = 6.4,
    height_in: float = 3.2,
    translate: Callable[[str], str] = str,
) -> bytes:
    """Render soreness (NRS 0–10) against hours since the session as SVG bytes.

    One line per series (sorted by hour, distinct colour and marker), an optional
    clinic band drawn behind them, and a centred note when no point exists yet.
    ``title`` becomes the SVG's accessible <title>; it is not drawn in the plot.
    Identical input always yields identical bytes.
    """
    with _drawing(translate):
        return _svg(_soreness_figure(series, band, width_in, height_in), title)


def _soreness_figure(series, band, width_in, height_in) -> Figure:
    drawn = [(i, s, _sorted_points(s)) for i, s in enumerate(series)]
    drawn = [d for d in drawn if d[2]]
    band_hours = [float(h) for h in band.hours] if band is not None else []
    hours = [h for _, _, pts in drawn for h, _ in pts] + band_hours

    fig, ax = _figure(width_in, height_in)
    entries: list[tuple[_Sample, str]] = []
    has_rings = has_ticks = False

    if band_hours:
        rows = sorted(zip(band_hours, band.low, band.median, band.high))
        bh, lo, med, hi = (list(col) for col in zip(*rows))
        shade = {"color": "#9a9a9a", "alpha": 0.22, "lw": 0}
        middle = {"color": "#6f6f6f", "lw": 1.2, "ls": (0, (4, 3))}
        ax.fill_between(bh, lo, hi, zorder=1, **shade)
        ax.plot(bh, med, zorder=2, **middle)
        entries.append((_Sample(line=middle, box=shade), _w(band.label)))

    for i, s, pts in drawn:
        colour, marker = PALETTE[i % len(PALETTE)], MARKERS[i % len(MARKERS)]
        style = {"color": colour, "marker": marker, "ms": 5.5, "lw": 1.8, "mec": "white",
                 "mew": 0.8}
        xs, ys = zip(*pts)
        ax.plot(xs, ys, zorder=3 + i, **style)
        if len(drawn) > 1 or band_hours:  # one line needs no name
            entries.append((_Sample(line=style), s.label))
        marked = {float(m) for m in s.marked}
        rings = [(h, y) for h, y in pts if h in marked]
        if rings:
            rx, ry = zip(*rings)
            ax.plot(rx, ry, ls="none", marker="o", ms=12, mfc="none",
                    mec=colour, mew=1.3, zorder=3 + i)
            has_rings = True
        twitched = {float(t) for t in s.twitching}
        ticks = [(h, y + 0.75) for h, y in pts if h in twitched]
        if ticks:
            tx, ty = zip(*ticks)
            ax.plot(tx, ty, ls="none", marker="v", ms=5, color=colour, zorder=3 + i)
            has_ticks = True

    if has_rings:
        ring = {"ls": "none", "marker": "o", "ms": 9, "mfc": "none", "mec": "#444444"}
        entries.append((_Sample(line=ring), _w(gettext_noop("Bruising reported"))))
    if has_ticks:
        tick = {"ls": "none", "marker": "v", "ms": 5, "color": "#444444"}
        entries.append((_Sample(line=tick), _w(gettext_noop("Twitching or cramping felt"))))

    if not drawn:
        _empty_note(ax, _w(EMPTY_MESSAGE))

    _soreness_axes(ax, hours, _w(gettext_noop("Soreness (0–10)")), x_from=-2)

    renderer = _measure(fig)
    key = None
    if entries:
        key = _Key(fig, renderer, entries, fontsize=9, length=2.4, max_columns=3,
                   room=fig.bbox.width - 2 * EDGE)
    _fit(fig, ax, renderer, key_above=key)
    return fig


# ---------------------------------------------------------------------------
# Clinic analytics charts: rates, soreness by group, settled share, completion.
# Same rules as above: plain numbers in (already rounded as the page shows
# them), deterministic SVG bytes out, every label real text.

NO_DATA_MESSAGE = gettext_noop("No answered check-ins match these filters")
NO_CLOSED_MESSAGE = gettext_noop("No check-in window has closed in this period")
BAR_COLOUR = "#0072B2"
# Published-rate markers: shape and line style tell the sources apart in greyscale.
REFERENCE_STYLES = (
    ("D", "-", "#000000"),
    ("v", (0, (3, 1.5)), "#D55E00"),
    ("s", (0, (1, 1)), "#009E73"),
)
# One more than PALETTE/MARKERS hold: MAX_GROUPS lines must all differ.
GROUP_COLOURS = (*PALETTE, "#7f7f7f")
GROUP_MARKERS = (*MARKERS, "*")


@dataclass(frozen=True)
class RateBar:
    """The clinic's rate of one after-effect, in %, with its 95 % interval."""

    label: str
    percent: float
    low: float
    high: float
    events: int
    n: int


@dataclass(frozen=True)
class ReferenceRate:
    """A published rate (in %) for the bar labelled ``row``, from ``source``."""

    row: str
    percent: float
    source: str


@dataclass(frozen=True)
class GroupLine:
    """One group's (muscle's, therapist's) mean soreness: (hours, mean NRS) points."""

    label: str
    points: Sequence[tuple[float, float]]


@dataclass(frozen=True)
class ShareBar:
    """A share in %: ``part`` of ``n``, labelled e.g. "24 h" or "3 Nov"."""

    label: str
    percent: float
    part: int
    n: int


def _svg(fig: Figure, title: str) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="svg", metadata={"Date": None}, facecolor="white")
    return _with_title(buf.getvalue(), title)


def _empty_note(ax, message: str) -> None:
    ax.text(0.5, 0.5, message, transform=ax.transAxes, ha="center", va="center",
            fontsize=10, color="#666666")


def _percent_axis_limit(values: Sequence[float]) -> float:
    """A round upper limit a little above the largest value, at least 10 %."""
    top = max([10.0, *values]) * 1.08
    step = 5 if top <= 40 else 10
    return min(100.0, math.ceil(top / step) * step)


def _percent_ticks(limit: float) -> list[float]:
    """0, step, … up to ``limit``: the smallest of these steps giving at most nine intervals.

    Fixed ticks, not matplotlib's automatic ones: those depend on the axes'
    length, which _fit changes after measuring their labels; and they may step
    by 2.5, which whole-number percent labels misprint ("2%", "5%", "8%").
    """
    step = next(s for s in (2, 5, 10, 20) if limit / s <= 9)
    return [float(t) for t in range(0, int(limit) + 1, step)]


def rates_chart(
    rows: Sequence[RateBar],
    references: Sequence[ReferenceRate] = (),
    *,
    title: str = "After-effect rates",
    width_in: float = 6.4,
    height_in: float = 3.4,
    translate: Callable[[str], str] = str,
) -> bytes:
    """Horizontal bars of after-effect rates (% of sessions) with 95 % interval whiskers.

    Each published rate is a short vertical line across its row, one line style
    and marker shape per source, named in the legend. The first row is drawn at
    the top; every bar's value and counts are in its axis label.
    """
    with _drawing(translate):
        return _svg(_rates_figure(rows, references, width_in, height_in), title)


def _rates_figure(rows, references, width_in, height_in) -> Figure:
    fig, ax = _figure(width_in, height_in)
    # xgettext:no-python-format
    ax.set_xlabel(_w(gettext_noop("% of sessions")))
    ax.xaxis.set_major_formatter(PercentFormatter(xmax=100, decimals=0))
    renderer = _measure(fig)
    if not rows:
        _empty_note(ax, _w(NO_DATA_MESSAGE))
        ax.set_yticks([])
        ax.set_xlim(0, 100)
        ax.set_xticks(_percent_ticks(100))
        _fit(fig, ax, renderer)
        return fig

    count = len(rows)
    ys = {row.label: count - 1 - i for i, row in enumerate(rows)}
    pct = [float(r.percent) for r in rows]
    ax.barh(list(ys.values()), pct, height=0.5, color=BAR_COLOUR, zorder=2)
    ax.errorbar(
        pct, list(ys.values()),
        xerr=[[p - float(r.low) for p, r in zip(pct, rows)],
              [float(r.high) - p for p, r in zip(pct, rows)]],
        fmt="none", ecolor=TEXT, elinewidth=1.2, capsize=3.5, zorder=3,
    )
    # Each row's label is two lines beside its tick: what, then how often.
    ax.set_yticks(list(ys.values()), [""] * count)
    beside_ticks = offset_copy(
        ax.get_yaxis_transform(), fig=fig, units="points",
        x=-(matplotlib.rcParams["ytick.major.size"] + matplotlib.rcParams["ytick.major.pad"]),
    )
    size = matplotlib.rcParams["font.size"]
    for row, y in zip(rows, ys.values()):
        # Baselines as a two-line tick label had them: the pair centred on the tick.
        counts = _w(gettext_noop("%(part)s of %(whole)s")) % {"part": row.events, "whole": row.n}
        _two_lines(ax, 0, y, row.label, f"{float(row.percent):.1f} % ({counts})",
                   transform=beside_ticks, ha="right", fontsize=size, raise_pt=0.17 * size)
    ax.set_ylim(-0.6, count - 0.4)

    entries = [
        (_Sample(box={"color": BAR_COLOUR}), _w(gettext_noop("This clinic"))),
        (_Sample(line={"color": TEXT, "lw": 1.2, "marker": "|", "ms": 8}),
         # xgettext:no-python-format
         _w(gettext_noop("95 % interval"))),
    ]
    sources = list(dict.fromkeys(ref.source for ref in references if ref.row in ys))
    for ref in references:
        if ref.row not in ys:
            continue
        index = sources.index(ref.source)
        marker, style, colour = REFERENCE_STYLES[index % len(REFERENCE_STYLES)]
        y, x = ys[ref.row], float(ref.percent)
        # Sources side by side within the row, so equal rates never hide each other.
        offset = (index - (len(sources) - 1) / 2) * 0.12
        ax.plot([x, x], [y - 0.36, y + 0.36], color=colour, ls=style, lw=1.6, zorder=4)
        ax.plot([x], [y + 0.36 + offset], ls="none", marker=marker, ms=5.5, color=colour,
                mec="white", mew=0.6, zorder=5)
    for index, source in enumerate(sources):
        marker, style, colour = REFERENCE_STYLES[index % len(REFERENCE_STYLES)]
        line = {"color": colour, "ls": style, "lw": 1.6, "marker": marker, "ms": 5.5}
        entries.append((_Sample(line=line), source))

    limit = _percent_axis_limit(
        [float(r.high) for r in rows] + [float(r.percent) for r in references]
    )
    ax.set_xlim(0, limit)
    ax.set_xticks(_percent_ticks(limit))
    ax.grid(True, axis="x")
    key = _Key(fig, renderer, entries, fontsize=8.5, length=2.2, max_columns=4,
               room=fig.bbox.width - 2 * EDGE)
    _fit(fig, ax, renderer, key_above=key)
    return fig


def soreness_by_group_chart(
    groups: Sequence[GroupLine],
    *,
    hidden: int = 0,
    noun: str = "groups",
    max_groups: int = 8,
    title: str = "Mean soreness after needling",
    width_in: float = 6.4,
    height_in: float = 3.4,
    translate: Callable[[str], str] = str,
) -> bytes:
    """Mean soreness (NRS 0–10) against hours since the session, one line per group.

    At most ``max_groups`` lines are drawn (colour, marker shape and, past the
    palette, line style differ); ``hidden`` more groups left out by the caller
    and any beyond ``max_groups`` are counted in a note under the axes.
    """
    with _drawing(translate):
        return _svg(
            _groups_figure(groups, hidden, noun, max_groups, width_in, height_in), title
        )


def _groups_figure(groups, hidden, noun, max_groups, width_in, height_in) -> Figure:
    drawn = [g for g in groups if g.points][:max_groups]
    left_out = hidden + len([g for g in groups if g.points]) - len(drawn)
    hours = sorted({float(h) for g in drawn for h, _ in g.points})

    fig, ax = _figure(width_in, height_in)
    entries = []
    for i, group in enumerate(drawn):
        xs, ys = zip(*sorted((float(h), float(m)) for h, m in group.points))
        style = {
            "color": GROUP_COLOURS[i % len(GROUP_COLOURS)],
            "marker": GROUP_MARKERS[i % len(GROUP_MARKERS)],
            "ls": "-" if i < len(PALETTE) else "--",
            "ms": 5.5, "lw": 1.6, "mec": "white", "mew": 0.7,
        }
        ax.plot(xs, ys, zorder=3 + i, **style)
        entries.append((_Sample(line=style), group.label))
    if not drawn:
        _empty_note(ax, _w(NO_DATA_MESSAGE))
    _soreness_axes(ax, hours, _w(gettext_noop("Mean soreness (0–10)")), x_from=-3)
    renderer = _measure(fig)
    key = note = None
    if entries:
        key = _Key(fig, renderer, entries, fontsize=8.5, length=2.4)
    if left_out:
        note = fig.text(EDGE / fig.bbox.width, EDGE / fig.bbox.height,
                        _w(gettext_noop("%(count)s more %(noun)s with fewer answers not drawn"))
                        % {"count": left_out, "noun": noun},
                        fontsize=8, color="#555555", ha="left", va="bottom")
    _fit(fig, ax, renderer, key_beside=key, note=note)
    return fig


def _two_lines(ax, x, y, first: str, second: str, *, transform, ha: str, fontsize: float,
               va: str = "baseline", raise_pt: float = 0.0) -> None:
    """Two lines of text at (x, y), ``second`` under ``first``, each its own one-line text.

    matplotlib places each line of a multi-line text by DejaVu Sans widths, so
    in a browser drawing another font right- or centre-aligned lines go
    ragged. A one-line text is aligned by the SVG itself (text-anchor), in any
    font. ``va="bottom"`` rests the second line on y; ``"baseline"`` puts the
    first line's baseline ``raise_pt`` above y.
    """
    fig = ax.get_figure()
    pitch = 1.2 * fontsize  # matplotlib's line spacing
    lower = -pitch + raise_pt if va == "baseline" else 0.0
    for text, dy in ((first, lower + pitch), (second, lower)):
        ax.text(x, y, text, ha=ha, va=va, fontsize=fontsize,
                transform=offset_copy(transform, fig=fig, y=dy, units="points"))


def _share_bars(ax, rows: Sequence[ShareBar], *, counts: bool, fontsize: float) -> None:
    xs = list(range(len(rows)))
    values = [float(r.percent) for r in rows]
    ax.bar(xs, values, width=0.6, color=BAR_COLOUR, zorder=2)
    for x, value, row in zip(xs, values, rows):
        share = f"{value:.1f} %"
        if counts:
            counts = _w(gettext_noop("%(part)s of %(whole)s")) % {"part": row.part, "whole": row.n}
            _two_lines(ax, x, value + 2, share, counts, transform=ax.transData,
                       ha="center", fontsize=fontsize, va="bottom")
        else:
            ax.text(x, value + 2, share, ha="center", va="bottom", fontsize=fontsize)
    ax.set_xticks(xs, [r.label for r in rows])
    ax.set_xlim(-0.6, max(len(rows), 3) - 0.4)
    ax.set_ylim(0, 118)  # room for the labels over a full bar
    ax.spines["left"].set_bounds(0, 100)
    ax.set_yticks(range(0, 101, 20))
    ax.yaxis.set_major_formatter(PercentFormatter(xmax=100, decimals=0))
    ax.grid(True, axis="y")


def _empty_shares(ax, message: str) -> None:
    _empty_note(ax, message)
    ax.set_xticks([])
    ax.set_ylim(0, 100)
    ax.set_yticks(range(0, 101, 20))
    ax.yaxis.set_major_formatter(PercentFormatter(xmax=100, decimals=0))


def settled_chart(
    rows: Sequence[ShareBar],
    *,
    title: str = "Sessions settled (soreness 1 or less)",
    width_in: float = 6.4,
    height_in: float = 3.0,
    translate: Callable[[str], str] = str,
) -> bytes:
    """Bars: % of sessions settled (soreness ≤ 1) at each check-in, with the counts on top."""
    with _drawing(translate):
        return _svg(_settled_figure(rows, width_in, height_in), title)


def _settled_figure(rows, width_in, height_in) -> Figure:
    fig, ax = _figure(width_in, height_in)
    # xgettext:no-python-format
    ax.set_ylabel(_w(gettext_noop("Settled (% of sessions)")))
    ax.set_xlabel(_w(gettext_noop("Check-in")))
    if rows:
        _share_bars(ax, rows, counts=True, fontsize=8.5)
    else:
        _empty_shares(ax, _w(NO_DATA_MESSAGE))
    _fit(fig, ax, _measure(fig))
    return fig


def completion_chart(
    weeks: Sequence[ShareBar],
    *,
    title: str = "Check-ins answered by week",
    width_in: float = 6.4,
    height_in: float = 3.0,
    translate: Callable[[str], str] = str,
) -> bytes:
    """Bars: % of due check-ins answered, per week (label: the week's first day).

    Counts are printed over the bars while they fit (up to 8 weeks); the
    percentage always is.
    """
    with _drawing(translate):
        return _svg(_completion_figure(weeks, width_in, height_in), title)


def _completion_figure(weeks, width_in, height_in) -> Figure:
    fig, ax = _figure(width_in, height_in)
    # xgettext:no-python-format
    ax.set_ylabel(_w(gettext_noop("Answered (% of due)")))
    ax.set_xlabel(_w(gettext_noop("Week starting")))
    if weeks:
        many = len(weeks) > 8
        _share_bars(ax, weeks, counts=not many, fontsize=7 if many else 8.5)
        if len(weeks) > 10:
            # Turned about their end, which the SVG anchors under the tick in any font.
            ax.tick_params(axis="x", labelrotation=45, labelsize=8)
            for label in ax.get_xticklabels():
                label.set(ha="right", rotation_mode="anchor")
    else:
        _empty_shares(ax, _w(NO_CLOSED_MESSAGE))
    _fit(fig, ax, _measure(fig))
    return fig

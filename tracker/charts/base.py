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
    # Every text is drawn as written. Otherwise matplotlib reads a pair of "$"
    # as mathematics: a name such as "Jo $\frac$" fails to parse (a server
    # error) and "$x$" loses its dollars. Names, labels and translations all
    # reach charts, so this is one switch for every text rather than an
    # escape at each place that hands one over.
    "text.parse_math": False,
    "font.family": "sans-serif",
    "font.sans-serif": list(FONT_STACK),
    "font.size": 9,
    "text.color": TEXT,
    "axes.labelcolor": TEXT,
    "xtick.color": TEXT,
    "ytick.color": TEXT,
    "axes.edgecolor": "#8a8a8a",
    "figure.facecolor": "white",
    "axes.facecolor": "white",
    # Every chart's axes look alike: set once here rather than restyled after each is made.
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.axisbelow": True,
    "xtick.major.size": 3,
    "ytick.major.size": 3,
    "grid.color": GRID,
    "grid.linewidth": 0.8,
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

    def __init__(
        self,
        fig,
        renderer,
        entries: Sequence[tuple[_Sample, str]],
        *,
        fontsize: float,
        length: float,
        max_columns: int = 1,
        room: float = math.inf,
    ):
        self.fig, self.fontsize = fig, fontsize
        self.samples = [sample for sample, _ in entries]
        self.labels = [
            fig.text(0, 0, label, fontsize=fontsize, va="baseline", transform=fig.dpi_scale_trans)
            for _, label in entries
        ]
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
        return [
            self.sample_length
            + self.LABEL_PAD * self.fontsize
            + max(self.label_widths[i] for i in column)
            for column in self.columns
        ]

    @property
    def width(self) -> float:
        widths = self._column_widths()
        return (
            2 * self.BORDER * self.fontsize
            + sum(widths)
            + (len(widths) - 1) * self.COLUMN_GAP * self.fontsize
        )

    @property
    def height(self) -> float:
        rows = len(self.columns[0])
        return (
            2 * self.BORDER * self.fontsize
            + rows * (self.ascent + self.descent)
            + (rows - 1) * self.ROW_GAP * self.fontsize
        )

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
            fig.add_artist(
                Rectangle(
                    (x / inch, baseline / inch),
                    length / inch,
                    height / inch,
                    transform=fig.dpi_scale_trans,
                    **sample.box,
                )
            )
        if sample.line is not None:
            y = (baseline + height / 2) / inch
            fig.add_artist(
                Line2D(
                    [x / inch, (x + length / 2) / inch, (x + length) / inch],
                    [y, y, y],
                    markevery=[1],
                    transform=fig.dpi_scale_trans,
                    **sample.line,
                )
            )


def _fit(
    fig, ax, renderer, *, key_above: _Key | None = None, key_beside: _Key | None = None, note=None
) -> None:
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
    fig.subplots_adjust(
        left=left / width, right=1 - right / width, bottom=bottom / height, top=1 - top / height
    )


def _with_title(svg: bytes, title: str) -> bytes:
    """Insert <title> as the first child of the root <svg> so screen readers announce it."""
    element = f"<title>{escape(title)}</title>".encode()
    return re.sub(rb"(<svg\b[^>]*>)", lambda m: m.group(1) + b"\n " + element, svg, count=1)


def _svg(fig: Figure, title: str) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="svg", metadata={"Date": None}, facecolor="white")
    return _with_title(buf.getvalue(), title)


def _empty_note(ax, message: str) -> None:
    ax.text(
        0.5,
        0.5,
        message,
        transform=ax.transAxes,
        ha="center",
        va="center",
        fontsize=10,
        color="#666666",
    )


def _left_out_note(fig: Figure, count: int, noun: str):
    """The note under a chart that some groups were counted but not drawn."""
    return fig.text(
        EDGE / fig.bbox.width,
        EDGE / fig.bbox.height,
        _w(gettext_noop("%(count)s more %(noun)s with fewer answers not drawn"))
        % {"count": count, "noun": noun},
        fontsize=8,
        color="#555555",
        ha="left",
        va="bottom",
    )

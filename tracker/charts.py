"""Soreness-after-needling charts as SVG bytes.

Pure rendering: plain data in, bytes out. Nothing from Django is imported so the
module can be tested and reused without settings or a database.
"""

from __future__ import annotations

import io
import os
import re
import tempfile
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from xml.sax.saxutils import escape

# Without a writable config dir matplotlib rebuilds its font cache in every process.
os.environ.setdefault("MPLCONFIGDIR", os.path.join(tempfile.gettempdir(), "needle-aftercare-mpl"))

import matplotlib  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402  (never pyplot: no global state, no GUI)

# Okabe–Ito, reordered so the first series get the strongest contrasts on white;
# yellow is left out because it is unreadable as a thin line on white.
PALETTE = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000")
# Shapes repeat the colour information so the chart survives greyscale printing.
MARKERS = ("o", "s", "^", "D", "v", "P", "X")
TEXT = "#333333"
EMPTY_MESSAGE = "No check-ins answered yet"

_RC = {
    "svg.hashsalt": "needle-aftercare",  # stable ids -> byte-identical output
    "svg.fonttype": "none",  # real <text>: searchable, selectable, tiny files
    "font.family": "sans-serif", "font.size": 9, "legend.frameon": False,
    "text.color": TEXT, "axes.labelcolor": TEXT, "xtick.color": TEXT, "ytick.color": TEXT,
    "axes.edgecolor": "#8a8a8a", "figure.facecolor": "white", "axes.facecolor": "white",
}
# rcParams are process-global, and rc_context is not thread-safe under threaded servers.
_LOCK = threading.Lock()


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
    label: str = "Clinic's typical course"


def _sorted_points(series: Series) -> list[tuple[float, int]]:
    """Return the series' (hour, soreness) points in drawing order (by hour)."""
    return sorted(((float(h), int(s)) for h, s in series.points), key=lambda p: p[0])


def _x_ticks(hours: list[float]) -> list[float]:
    last = max([72.0, *hours])
    ticks = [float(t) for t in range(0, int(last) + 1, 24)]
    if 6 in hours:  # only show the early follow-up tick when that check-in exists
        ticks.append(6.0)
    return sorted(ticks)


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
) -> bytes:
    """Render soreness (NRS 0–10) against hours since the session as SVG bytes.

    One line per series (sorted by hour, distinct colour and marker), an optional
    clinic band drawn behind them, and a centred note when no point exists yet.
    ``title`` becomes the SVG's accessible <title>; it is not drawn in the plot.
    Identical input always yields identical bytes.
    """
    drawn = [(i, s, _sorted_points(s)) for i, s in enumerate(series)]
    drawn = [d for d in drawn if d[2]]
    band_hours = [float(h) for h in band.hours] if band is not None else []
    hours = [h for _, _, pts in drawn for h, _ in pts] + band_hours

    with _LOCK, matplotlib.rc_context(_RC):
        fig = Figure(figsize=(width_in, height_in), layout="constrained")
        ax = fig.add_subplot()
        handles = []
        has_rings = has_ticks = False

        if band_hours:
            rows = sorted(zip(band_hours, band.low, band.median, band.high))
            bh, lo, med, hi = (list(col) for col in zip(*rows))
            fill = ax.fill_between(bh, lo, hi, color="#9a9a9a", alpha=0.22, lw=0, zorder=1)
            (mid,) = ax.plot(bh, med, color="#6f6f6f", lw=1.2, ls=(0, (4, 3)), zorder=2)
            handles.append(((fill, mid), band.label))

        for i, s, pts in drawn:
            colour, marker = PALETTE[i % len(PALETTE)], MARKERS[i % len(MARKERS)]
            xs, ys = zip(*pts)
            (line,) = ax.plot(
                xs, ys, color=colour, marker=marker, ms=5.5, lw=1.8,
                mec="white", mew=0.8, zorder=3 + i,
            )
            if len(drawn) > 1 or band_hours:  # one line needs no name
                handles.append((line, s.label))
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
            (ring,) = ax.plot([], [], ls="none", marker="o", ms=9, mfc="none", mec="#444444")
            handles.append((ring, "Bruising reported"))
        if has_ticks:
            (tick,) = ax.plot([], [], ls="none", marker="v", ms=5, color="#444444")
            handles.append((tick, "Twitching or cramping felt"))

        if not drawn:
            ax.text(0.5, 0.5, EMPTY_MESSAGE, transform=ax.transAxes, ha="center",
                    va="center", fontsize=10, color="#666666")

        ax.set_xlim(-2, max([72.0, *hours]) + 4)
        ax.set_xticks(_x_ticks(hours))
        ax.set_ylim(-0.3, 10.3)
        ax.set_yticks(range(0, 11, 2))
        ax.set_xlabel("Hours since the session")
        ax.set_ylabel("Soreness (0–10)")
        ax.yaxis.grid(True, color="#e6e6e6", lw=0.8)
        ax.set_axisbelow(True)
        ax.spines[["top", "right"]].set_visible(False)
        ax.tick_params(length=3)

        if handles:
            fig.legend(*zip(*handles), loc="outside upper center",
                       ncols=min(len(handles), 3), handlelength=2.4, fontsize=9)

        buf = io.BytesIO()
        fig.savefig(buf, format="svg", metadata={"Date": None}, facecolor="white")
    return _with_title(buf.getvalue(), title)


# ---------------------------------------------------------------------------
# Clinic analytics charts: rates, soreness by group, settled share, completion.
# Same rules as above: plain numbers in (already rounded as the page shows
# them), deterministic SVG bytes out, every label real text.

import math  # noqa: E402

from matplotlib.lines import Line2D  # noqa: E402
from matplotlib.patches import Patch  # noqa: E402
from matplotlib.ticker import PercentFormatter  # noqa: E402

NO_DATA_MESSAGE = "No answered check-ins match these filters"
NO_CLOSED_MESSAGE = "No check-in window has closed in this period"
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


def _plain_axes(ax) -> None:
    ax.spines[["top", "right"]].set_visible(False)
    ax.tick_params(length=3)
    ax.set_axisbelow(True)


def _percent_axis_limit(values: Sequence[float]) -> float:
    """A round upper limit a little above the largest value, at least 10 %."""
    top = max([10.0, *values]) * 1.08
    step = 5 if top <= 40 else 10
    return min(100.0, math.ceil(top / step) * step)


def rates_chart(
    rows: Sequence[RateBar],
    references: Sequence[ReferenceRate] = (),
    *,
    title: str = "After-effect rates",
    width_in: float = 6.4,
    height_in: float = 3.4,
) -> bytes:
    """Horizontal bars of after-effect rates (% of sessions) with 95 % interval whiskers.

    Each published rate is a short vertical line across its row, one line style
    and marker shape per source, named in the legend. The first row is drawn at
    the top; every bar's value and counts are in its axis label.
    """
    with _LOCK, matplotlib.rc_context(_RC):
        fig = Figure(figsize=(width_in, height_in), layout="constrained")
        ax = fig.add_subplot()
        _plain_axes(ax)
        ax.set_xlabel("% of sessions")
        ax.xaxis.set_major_formatter(PercentFormatter(xmax=100, decimals=0))
        if not rows:
            _empty_note(ax, NO_DATA_MESSAGE)
            ax.set_yticks([])
            ax.set_xlim(0, 100)
            return _svg(fig, title)

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
        ax.set_yticks(
            list(ys.values()),
            [f"{r.label}\n{float(r.percent):.1f} % ({r.events} of {r.n})" for r in rows],
        )
        ax.set_ylim(-0.6, count - 0.4)

        handles = [
            (Patch(color=BAR_COLOUR), "This clinic"),
            (Line2D([], [], color=TEXT, lw=1.2, marker="|", ms=8), "95 % interval"),
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
            handles.append(
                (Line2D([], [], color=colour, ls=style, lw=1.6, marker=marker, ms=5.5), source)
            )

        limit = _percent_axis_limit(
            [float(r.high) for r in rows] + [float(r.percent) for r in references]
        )
        ax.set_xlim(0, limit)
        ax.xaxis.grid(True, color="#e6e6e6", lw=0.8)
        fig.legend(*zip(*handles), loc="outside upper center", ncols=min(len(handles), 4),
                   handlelength=2.2, fontsize=8.5)
        return _svg(fig, title)


def soreness_by_group_chart(
    groups: Sequence[GroupLine],
    *,
    hidden: int = 0,
    noun: str = "groups",
    max_groups: int = 8,
    title: str = "Mean soreness after needling",
    width_in: float = 6.4,
    height_in: float = 3.4,
) -> bytes:
    """Mean soreness (NRS 0–10) against hours since the session, one line per group.

    At most ``max_groups`` lines are drawn (colour, marker shape and, past the
    palette, line style differ); ``hidden`` more groups left out by the caller
    and any beyond ``max_groups`` are counted in a note under the axes.
    """
    drawn = [g for g in groups if g.points][:max_groups]
    left_out = hidden + len([g for g in groups if g.points]) - len(drawn)
    hours = sorted({float(h) for g in drawn for h, _ in g.points})

    with _LOCK, matplotlib.rc_context(_RC):
        fig = Figure(figsize=(width_in, height_in), layout="constrained")
        ax = fig.add_subplot()
        _plain_axes(ax)
        for i, group in enumerate(drawn):
            xs, ys = zip(*sorted((float(h), float(m)) for h, m in group.points))
            ax.plot(
                xs, ys, label=group.label,
                color=GROUP_COLOURS[i % len(GROUP_COLOURS)],
                marker=GROUP_MARKERS[i % len(GROUP_MARKERS)],
                ls="-" if i < len(PALETTE) else "--",
                ms=5.5, lw=1.6, mec="white", mew=0.7, zorder=3 + i,
            )
        if not drawn:
            _empty_note(ax, NO_DATA_MESSAGE)
        ax.set_xlim(-3, max([72.0, *hours]) + 4)
        ax.set_xticks(_x_ticks(hours))
        ax.set_ylim(-0.3, 10.3)
        ax.set_yticks(range(0, 11, 2))
        ax.set_xlabel("Hours since the session")
        ax.set_ylabel("Mean soreness (0–10)")
        ax.yaxis.grid(True, color="#e6e6e6", lw=0.8)
        if drawn:
            fig.legend(loc="outside right upper", fontsize=8.5, handlelength=2.4)
        if left_out:
            fig.text(0.01, 0.01, f"{left_out} more {noun} with fewer answers not drawn",
                     fontsize=8, color="#555555", ha="left", va="bottom")
            fig.get_layout_engine().set(rect=(0, 0.05, 1, 0.95))
        return _svg(fig, title)


def _share_bars(ax, rows: Sequence[ShareBar], *, counts: bool, fontsize: float) -> None:
    xs = list(range(len(rows)))
    values = [float(r.percent) for r in rows]
    ax.bar(xs, values, width=0.6, color=BAR_COLOUR, zorder=2)
    for x, value, row in zip(xs, values, rows):
        text = f"{value:.1f} %" + (f"\n{row.part} of {row.n}" if counts else "")
        ax.text(x, value + 2, text, ha="center", va="bottom", fontsize=fontsize)
    ax.set_xticks(xs, [r.label for r in rows])
    ax.set_xlim(-0.6, max(len(rows), 3) - 0.4)
    ax.set_ylim(0, 118)  # room for the labels over a full bar
    ax.spines["left"].set_bounds(0, 100)
    ax.set_yticks(range(0, 101, 20))
    ax.yaxis.set_major_formatter(PercentFormatter(xmax=100, decimals=0))
    ax.yaxis.grid(True, color="#e6e6e6", lw=0.8)


def settled_chart(
    rows: Sequence[ShareBar],
    *,
    title: str = "Sessions settled (soreness 1 or less)",
    width_in: float = 6.4,
    height_in: float = 3.0,
) -> bytes:
    """Bars: % of sessions settled (soreness ≤ 1) at each check-in, with the counts on top."""
    with _LOCK, matplotlib.rc_context(_RC):
        fig = Figure(figsize=(width_in, height_in), layout="constrained")
        ax = fig.add_subplot()
        _plain_axes(ax)
        ax.set_ylabel("Settled (% of sessions)")
        ax.set_xlabel("Check-in")
        if rows:
            _share_bars(ax, rows, counts=True, fontsize=8.5)
        else:
            _empty_note(ax, NO_DATA_MESSAGE)
            ax.set_xticks([])
            ax.set_ylim(0, 100)
            ax.yaxis.set_major_formatter(PercentFormatter(xmax=100, decimals=0))
        return _svg(fig, title)


def completion_chart(
    weeks: Sequence[ShareBar],
    *,
    title: str = "Check-ins answered by week",
    width_in: float = 6.4,
    height_in: float = 3.0,
) -> bytes:
    """Bars: % of due check-ins answered, per week (label: the week's first day).

    Counts are printed over the bars while they fit (up to 8 weeks); the
    percentage always is.
    """
    with _LOCK, matplotlib.rc_context(_RC):
        fig = Figure(figsize=(width_in, height_in), layout="constrained")
        ax = fig.add_subplot()
        _plain_axes(ax)
        ax.set_ylabel("Answered (% of due)")
        ax.set_xlabel("Week starting")
        if weeks:
            many = len(weeks) > 8
            _share_bars(ax, weeks, counts=not many, fontsize=7 if many else 8.5)
            if len(weeks) > 10:
                ax.tick_params(axis="x", labelrotation=45, labelsize=8)
        else:
            _empty_note(ax, NO_CLOSED_MESSAGE)
            ax.set_xticks([])
            ax.set_ylim(0, 100)
            ax.yaxis.set_major_formatter(PercentFormatter(xmax=100, decimals=0))
        return _svg(fig, title)

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
    """One session's check-ins: (hours since session, NRS 0–10); ``marked`` hours get a ring."""

    label: str
    points: Sequence[tuple[float, int]]
    marked: Sequence[float] = ()


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
            handles.append((line, s.label))
            marked = {float(m) for m in s.marked}
            rings = [(h, y) for h, y in pts if h in marked]
            if rings:
                rx, ry = zip(*rings)
                ax.plot(rx, ry, ls="none", marker="o", ms=12, mfc="none",
                        mec=colour, mew=1.3, zorder=3 + i)

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

        if len(drawn) > 1 or band_hours:
            fig.legend(*zip(*handles), loc="outside upper center",
                       ncols=min(len(handles), 3), handlelength=2.4, fontsize=9)

        buf = io.BytesIO()
        fig.savefig(buf, format="svg", metadata={"Date": None}, facecolor="white")
    return _with_title(buf.getvalue(), title)

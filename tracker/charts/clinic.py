"""The analytics charts: after-effect rates, settled share, completion (soreness by
group is in ``groups``)."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import matplotlib  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402  (never pyplot: no global state, no GUI)
from matplotlib.ticker import PercentFormatter  # noqa: E402
from matplotlib.transforms import offset_copy  # noqa: E402

from tracker.charts.base import (
    EDGE,
    TEXT,
    _drawing,
    _empty_note,
    _figure,
    _fit,
    _Key,
    _measure,
    _Sample,
    _svg,
    _w,
    gettext_noop,
)

# ---------------------------------------------------------------------------
# Clinic analytics charts: rates, settled share, completion.
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
class ShareBar:
    """A share in %: ``part`` of ``n``, labelled e.g. "24 h" or "3 Nov"."""

    label: str
    percent: float
    part: int
    n: int


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
        pct,
        list(ys.values()),
        xerr=[
            [p - float(r.low) for p, r in zip(pct, rows)],
            [float(r.high) - p for p, r in zip(pct, rows)],
        ],
        fmt="none",
        ecolor=TEXT,
        elinewidth=1.2,
        capsize=3.5,
        zorder=3,
    )
    # Each row's label is two lines beside its tick: what, then how often.
    ax.set_yticks(list(ys.values()), [""] * count)
    beside_ticks = offset_copy(
        ax.get_yaxis_transform(),
        fig=fig,
        units="points",
        x=-(matplotlib.rcParams["ytick.major.size"] + matplotlib.rcParams["ytick.major.pad"]),
    )
    size = matplotlib.rcParams["font.size"]
    for row, y in zip(rows, ys.values()):
        # Baselines as a two-line tick label had them: the pair centred on the tick.
        counts = _w(gettext_noop("%(part)s of %(whole)s")) % {"part": row.events, "whole": row.n}
        _two_lines(
            ax,
            0,
            y,
            row.label,
            f"{float(row.percent):.1f} % ({counts})",
            transform=beside_ticks,
            ha="right",
            fontsize=size,
            raise_pt=0.17 * size,
        )
    ax.set_ylim(-0.6, count - 0.4)

    entries = [
        (_Sample(box={"color": BAR_COLOUR}), _w(gettext_noop("This clinic"))),
        (
            _Sample(line={"color": TEXT, "lw": 1.2, "marker": "|", "ms": 8}),
            # xgettext:no-python-format
            _w(gettext_noop("95 % interval")),
        ),
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
        ax.plot(
            [x],
            [y + 0.36 + offset],
            ls="none",
            marker=marker,
            ms=5.5,
            color=colour,
            mec="white",
            mew=0.6,
            zorder=5,
        )
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
    key = _Key(
        fig,
        renderer,
        entries,
        fontsize=8.5,
        length=2.2,
        max_columns=4,
        room=fig.bbox.width - 2 * EDGE,
    )
    _fit(fig, ax, renderer, key_above=key)
    return fig


def _two_lines(
    ax,
    x,
    y,
    first: str,
    second: str,
    *,
    transform,
    ha: str,
    fontsize: float,
    va: str = "baseline",
    raise_pt: float = 0.0,
) -> None:
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
        ax.text(
            x,
            y,
            text,
            ha=ha,
            va=va,
            fontsize=fontsize,
            transform=offset_copy(transform, fig=fig, y=dy, units="points"),
        )


def _share_bars(ax, rows: Sequence[ShareBar], *, counts: bool, fontsize: float) -> None:
    xs = list(range(len(rows)))
    values = [float(r.percent) for r in rows]
    ax.bar(xs, values, width=0.6, color=BAR_COLOUR, zorder=2)
    for x, value, row in zip(xs, values, rows):
        share = f"{value:.1f} %"
        if counts:
            counts = _w(gettext_noop("%(part)s of %(whole)s")) % {"part": row.part, "whole": row.n}
            _two_lines(
                ax,
                x,
                value + 2,
                share,
                counts,
                transform=ax.transData,
                ha="center",
                fontsize=fontsize,
                va="bottom",
            )
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
    title: str = "Sessions settled",
    width_in: float = 6.4,
    height_in: float = 3.0,
    translate: Callable[[str], str] = str,
) -> bytes:
    """Bars: % of sessions settled at each check-in, with the counts on top."""
    with _drawing(translate):
        return _svg(_settled_figure(rows, width_in, height_in), title)


def _settled_figure(rows, width_in, height_in) -> Figure:
    # xgettext:no-python-format
    return _share_figure(
        rows,
        gettext_noop("Settled (% of sessions)"),
        gettext_noop("Check-in"),
        NO_DATA_MESSAGE,
        width_in,
        height_in,
    )


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
    # xgettext:no-python-format
    return _share_figure(
        weeks,
        gettext_noop("Answered (% of due)"),
        gettext_noop("Week starting"),
        NO_CLOSED_MESSAGE,
        width_in,
        height_in,
    )


def _share_figure(rows, y_label, x_label, empty, width_in, height_in) -> Figure:
    """Bars of shares with their counts on top while they fit (up to 8 bars; the
    percentage always), labels turned when more than 10 would crowd the axis."""
    fig, ax = _figure(width_in, height_in)
    ax.set_ylabel(_w(y_label))
    ax.set_xlabel(_w(x_label))
    if rows:
        many = len(rows) > 8
        _share_bars(ax, rows, counts=not many, fontsize=7 if many else 8.5)
        if len(rows) > 10:
            # Turned about their end, which the SVG anchors under the tick in any font.
            ax.tick_params(axis="x", labelrotation=45, labelsize=8)
            for label in ax.get_xticklabels():
                label.set(ha="right", rotation_mode="anchor")
    else:
        _empty_shares(ax, _w(empty))
    _fit(fig, ax, _measure(fig))
    return fig

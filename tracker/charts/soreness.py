"""Soreness over the hours after a session: one line per session, the clinic's typical band behind."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from matplotlib.figure import Figure  # noqa: E402  (never pyplot: no global state, no GUI)

from tracker.charts.base import (
    EDGE,
    EMPTY_MESSAGE,
    MARKERS,
    PALETTE,
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
    """The clinic's usual soreness course: low/median/high NRS at each hour.

    ``unsettled_only`` hours (72 h, unless the clinic always asks then) come
    from the sessions not settled at 48 h alone: drawn fainter, and said so.
    """

    hours: Sequence[float]
    low: Sequence[float]
    median: Sequence[float]
    high: Sequence[float]
    label: str = gettext_noop("Clinic's typical course")
    unsettled_only: Sequence[float] = ()


# A point from the sessions not settled at 48 h alone is joined to the one
# before it by a dotted line and drawn hollow: it is not the same sessions' course.
UNSETTLED_ONLY_LABEL = gettext_noop("%(hours)s h: only sessions not settled at 48 h")
UNSETTLED_ONLY_LINE = (0, (1, 1.6))


def unsettled_only_label(hours: Sequence[float]) -> str:
    """The key's words for points of the unsettled sessions alone, e.g. "72 h: only …"."""
    return _w(UNSETTLED_ONLY_LABEL) % {"hours": ", ".join(f"{h:g}" for h in sorted(hours))}


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


def _draw_band(ax, band: Band) -> list[tuple[_Sample, str]]:
    """The band and its median behind the sessions' lines; returns its key entries.

    Hours of the unsettled sessions alone are joined to the hour before them
    fainter, by a dotted median ending in a hollow marker.
    """
    rows = sorted(zip((float(h) for h in band.hours), band.low, band.median, band.high))
    apart = {float(h) for h in band.unsettled_only}
    shade = {"color": "#9a9a9a", "alpha": 0.22, "lw": 0}
    middle = {"color": "#6f6f6f", "lw": 1.2, "ls": (0, (4, 3))}
    whole = [row for row in rows if row[0] not in apart]
    if whole:
        bh, lo, med, hi = (list(col) for col in zip(*whole))
        ax.fill_between(bh, lo, hi, zorder=1, **shade)
        ax.plot(bh, med, zorder=2, **middle)
    entries = [(_Sample(line=middle, box=shade), _w(band.label))]
    faint = {**shade, "alpha": 0.1}
    dotted = {"color": "#6f6f6f", "lw": 1.2, "ls": UNSETTLED_ONLY_LINE}
    hollow = {"ls": "none", "marker": "o", "ms": 5, "mfc": "white", "mec": "#6f6f6f", "mew": 1.1}
    drawn = []
    for before, row in zip([None, *rows], rows):
        if row[0] not in apart:
            continue
        if before is not None:
            pair = [before, row]
            ax.fill_between(
                [r[0] for r in pair], [r[1] for r in pair], [r[3] for r in pair], zorder=1, **faint
            )
            ax.plot([r[0] for r in pair], [r[2] for r in pair], zorder=2, **dotted)
        ax.plot([row[0]], [row[2]], zorder=2, **hollow)
        drawn.append(row[0])
    if drawn:
        sample = _Sample(
            line={**dotted, **{k: v for k, v in hollow.items() if k != "ls"}}, box=faint
        )
        entries.append((sample, unsettled_only_label(drawn)))
    return entries


# Drawing order: the band (1, 2) behind every line, every line behind every point.
LINE_Z = 3
POINT_Z = 10
# How far apart (in hours) sessions' points at the same check-in are set.
DODGE_HOURS = 1.2


def _dodge(index: int, count: int) -> float:
    """The sideways shift of series ``index`` of ``count``, centred on the true hour."""
    if count < 2:
        return 0.0
    spread = min(DODGE_HOURS, 4.0 / (count - 1))
    return (index - (count - 1) / 2) * spread


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
        entries += _draw_band(ax, band)

    # Every session's line first, then every session's markers above all lines: a
    # line never hides another session's point. Sessions answering at the same
    # hours are set a little apart sideways, so equal answers stay visible too.
    for i, s, pts in drawn:
        colour = PALETTE[i % len(PALETTE)]
        shift = _dodge(i, len(drawn))
        xs, ys = zip(*((h + shift, y) for h, y in pts))
        ax.plot(xs, ys, color=colour, lw=1.8, zorder=LINE_Z)

    for i, s, pts in drawn:
        colour, marker = PALETTE[i % len(PALETTE)], MARKERS[i % len(MARKERS)]
        shift = _dodge(i, len(drawn))
        style = {
            "color": colour,
            "marker": marker,
            "ms": 5.5,
            "lw": 1.8,
            "mec": "white",
            "mew": 0.8,
        }
        xs, ys = zip(*((h + shift, y) for h, y in pts))
        ax.plot(
            xs, ys, ls="none", zorder=POINT_Z + i, **{k: v for k, v in style.items() if k != "lw"}
        )
        if len(drawn) > 1 or band_hours:  # one line needs no name
            entries.append((_Sample(line=style), s.label))
        marked = {float(m) for m in s.marked}
        rings = [(h + shift, y) for h, y in pts if h in marked]
        if rings:
            rx, ry = zip(*rings)
            ax.plot(
                rx,
                ry,
                ls="none",
                marker="o",
                ms=12,
                mfc="none",
                mec=colour,
                mew=1.3,
                zorder=POINT_Z + i,
            )
            has_rings = True
        twitched = {float(t) for t in s.twitching}
        ticks = [(h + shift, y + 0.75) for h, y in pts if h in twitched]
        if ticks:
            tx, ty = zip(*ticks)
            ax.plot(tx, ty, ls="none", marker="v", ms=5, color=colour, zorder=POINT_Z + i)
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
        key = _Key(
            fig,
            renderer,
            entries,
            fontsize=9,
            length=2.4,
            max_columns=3,
            room=fig.bbox.width - 2 * EDGE,
        )
    _fit(fig, ax, renderer, key_above=key)
    return fig

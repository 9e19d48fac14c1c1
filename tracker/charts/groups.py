"""The analytics chart of soreness by group: one line per muscle or therapist."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from matplotlib.figure import Figure

from tracker.charts.base import (
    MARKERS,
    PALETTE,
    _drawing,
    _empty_note,
    _figure,
    _fit,
    _Key,
    _left_out_note,
    _measure,
    _Sample,
    _svg,
    _w,
    gettext_noop,
)
from tracker.charts.clinic import NO_DATA_MESSAGE
from tracker.charts.soreness import UNSETTLED_ONLY_LINE, _soreness_axes, unsettled_only_label

# One more than PALETTE/MARKERS hold: MAX_GROUPS lines must all differ.
GROUP_COLOURS = (*PALETTE, "#7f7f7f")
GROUP_MARKERS = (*MARKERS, "*")


@dataclass(frozen=True)
class GroupLine:
    """One group's (muscle's, therapist's) median soreness: (hours, median NRS) points.

    ``unsettled_only`` hours come from the sessions not settled at 48 h alone:
    joined by a dotted line and drawn hollow, and said so in the key.
    """

    label: str
    points: Sequence[tuple[float, float]]
    unsettled_only: Sequence[float] = ()


def soreness_by_group_chart(
    groups: Sequence[GroupLine],
    *,
    hidden: int = 0,
    noun: str = "groups",
    max_groups: int = 8,
    title: str = "Median soreness after needling",
    width_in: float = 6.4,
    height_in: float = 3.4,
    translate: Callable[[str], str] = str,
) -> bytes:
    """Median soreness (NRS 0–10) against hours since the session, one line per group.

    At most ``max_groups`` lines are drawn (colour, marker shape and, past the
    palette, line style differ); ``hidden`` more groups left out by the caller
    and any beyond ``max_groups`` are counted in a note under the axes. A
    point of the unsettled sessions alone is hollow, joined by a dotted line.
    """
    with _drawing(translate):
        return _svg(_groups_figure(groups, hidden, noun, max_groups, width_in, height_in), title)


def _groups_figure(groups, hidden, noun, max_groups, width_in, height_in) -> Figure:
    drawn = [g for g in groups if g.points][:max_groups]
    left_out = hidden + len([g for g in groups if g.points]) - len(drawn)
    hours = sorted({float(h) for g in drawn for h, _ in g.points})

    fig, ax = _figure(width_in, height_in)
    entries = []
    apart_hours = set()
    for i, group in enumerate(drawn):
        points = sorted((float(h), float(m)) for h, m in group.points)
        apart = {float(h) for h in group.unsettled_only}
        style = {
            "color": GROUP_COLOURS[i % len(GROUP_COLOURS)],
            "marker": GROUP_MARKERS[i % len(GROUP_MARKERS)],
            "ls": "-" if i < len(PALETTE) else "--",
            "ms": 5.5,
            "lw": 1.6,
            "mec": "white",
            "mew": 0.7,
        }
        whole = [p for p in points if p[0] not in apart]
        if whole:
            ax.plot(*zip(*whole), zorder=3 + i, **style)
        for before, point in zip([None, *points], points):
            if point[0] not in apart:
                continue
            if before is not None:
                ax.plot(
                    *zip(before, point),
                    zorder=3 + i,
                    color=style["color"],
                    lw=1.3,
                    ls=UNSETTLED_ONLY_LINE,
                )
            ax.plot(
                [point[0]],
                [point[1]],
                zorder=3 + i,
                ls="none",
                marker=style["marker"],
                ms=style["ms"],
                mfc="white",
                mec=style["color"],
                mew=1.2,
            )
            apart_hours.add(point[0])
        entries.append((_Sample(line=style), group.label))
    if apart_hours:
        sample = {
            "color": "#555555",
            "lw": 1.3,
            "ls": UNSETTLED_ONLY_LINE,
            "marker": "o",
            "ms": 5.5,
            "mfc": "white",
            "mec": "#555555",
            "mew": 1.2,
        }
        entries.append((_Sample(line=sample), unsettled_only_label(apart_hours)))
    if not drawn:
        _empty_note(ax, _w(NO_DATA_MESSAGE))
    _soreness_axes(ax, hours, _w(gettext_noop("Median soreness (0–10)")), x_from=-3)
    renderer = _measure(fig)
    key = note = None
    if entries:
        key = _Key(fig, renderer, entries, fontsize=8.5, length=2.4)
    if left_out:
        note = _left_out_note(fig, left_out, noun)
    _fit(fig, ax, renderer, key_beside=key, note=note)
    return fig

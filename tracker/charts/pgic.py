"""The patients' global impression of change, per muscle or therapist: stacked bars."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from matplotlib.figure import Figure  # noqa: E402  (never pyplot: no global state, no GUI)
from matplotlib.ticker import PercentFormatter  # noqa: E402

from tracker.charts.base import (
    EDGE,
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

# From "very much better" to "very much worse": blues for better, grey for no
# change, oranges for worse (a diverging scale that reads in colour-blindness),
# lightest next to "no change".
PGIC_COLOURS = ("#08519C", "#3182BD", "#9ECAE1", "#BDBDBD", "#FDAE6B", "#E6550D", "#A63603")


@dataclass(frozen=True)
class PgicBar:
    """One group's sessions by answer (``counts[0]``: "very much better")."""

    label: str
    counts: Sequence[int]

    @property
    def n(self) -> int:
        return sum(self.counts)


def pgic_chart(
    bars: Sequence[PgicBar],
    answers: Sequence[str],
    *,
    hidden: int = 0,
    noun: str = "groups",
    title: str = "Global impression of change",
    width_in: float = 6.4,
    height_in: float = 3.4,
    translate: Callable[[str], str] = str,
) -> bytes:
    """Horizontal bars, each a group's answers as shares of its sessions, stacked
    from "very much better" (left) to "very much worse" (right).

    ``answers`` are the seven answers' labels, in that order, for the key;
    each bar's label gives its n. ``hidden`` groups left out are counted in a note.
    """
    with _drawing(translate):
        return _svg(_pgic_figure(bars, answers, hidden, noun, width_in, height_in), title)


def _pgic_figure(bars, answers, hidden, noun, width_in, height_in) -> Figure:
    fig, ax = _figure(width_in, height_in)
    # xgettext:no-python-format
    ax.set_xlabel(_w(gettext_noop("% of sessions that answered")))
    ax.set_xlim(0, 100)
    ax.set_xticks(range(0, 101, 20))
    ax.xaxis.set_major_formatter(PercentFormatter(xmax=100, decimals=0))
    renderer = _measure(fig)
    drawn = [bar for bar in bars if bar.n]
    if not drawn:
        _empty_note(ax, _w(NO_DATA_MESSAGE))
        ax.set_yticks([])
        _fit(fig, ax, renderer)
        return fig
    ys = [len(drawn) - 1 - i for i in range(len(drawn))]  # the first group at the top
    lefts = [0.0] * len(drawn)
    for answer, colour in enumerate(PGIC_COLOURS):
        widths = [100 * bar.counts[answer] / bar.n for bar in drawn]
        ax.barh(ys, widths, left=lefts, height=0.6, color=colour, edgecolor="white", lw=0.5)
        lefts = [left + width for left, width in zip(lefts, widths)]
    ax.set_yticks(ys, [f"{bar.label} (n = {bar.n})" for bar in drawn])
    ax.set_ylim(-0.6, len(drawn) - 0.4)
    ax.grid(False)
    key = _Key(
        fig,
        renderer,
        [(_Sample(box={"color": colour}), label) for colour, label in zip(PGIC_COLOURS, answers)],
        fontsize=8.5,
        length=1.4,
        max_columns=4,
        room=fig.bbox.width - 2 * EDGE,
    )
    note = None
    if hidden:
        note = _left_out_note(fig, hidden, noun)
    _fit(fig, ax, renderer, key_above=key, note=note)
    return fig

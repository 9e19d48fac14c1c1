"""The table beside each analytics chart, and the CSV made from it: the same numbers as the chart."""

from dataclasses import dataclass
from decimal import Decimal

from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from tracker import analytics
from tracker.choices import Pgic, TimePoint
from tracker.exports.csv import safe_cell

# ---------------------------------------------------------------------------
# Tables: what the page shows beside each chart, and what its CSV holds


@dataclass(frozen=True)
class Cell:
    """A number in a table, or a few: a count of a total, a range, a median with
    its quartiles (``iqr``) and n."""

    value: int | Decimal | None
    second: int | Decimal | None = None
    iqr: tuple[Decimal, Decimal] | None = None

    def numbers(self, shape: str) -> list:
        """The cell's numbers in the order the page shows them, one per CSV column."""
        if shape == QUARTILES:
            return [self.value, *(self.iqr or (None, None)), self.second]
        return [self.value, self.second] if shape else [self.value]


# How a column's cells of several numbers read on the page (the CSV gives each number
# its own column): "1 of 4", "4.6–69.9", "3.0 (2.0–4.0; 45)" (median, Q1–Q3, n).
OF, RANGE, QUARTILES = "of", "range", "quartiles"


@dataclass(frozen=True)
class Column:
    heading: str
    # For cells of several numbers: the shape and a CSV heading for each number.
    shape: str = ""
    csv_headings: tuple[str, ...] = ()


@dataclass(frozen=True)
class Table:
    caption: str
    label_heading: str
    columns: tuple[Column, ...]
    rows: tuple[tuple[str, tuple[Cell, ...]], ...]  # (row label, cells)
    notes: tuple[str, ...] = ()  # under the table on the page; the CSV's headings say it too

    def display_rows(self):
        """(label, [(cell, shape), ...]) for the template."""
        return [
            (label, [(cell, column.shape) for column, cell in zip(self.columns, cells)])
            for label, cells in self.rows
        ]

    def csv_header(self) -> list[str]:
        header = [self.label_heading]
        for column in self.columns:
            header += list(column.csv_headings) if column.shape else [column.heading]
        return header

    def csv_rows(self) -> list[list]:
        rows = []
        for label, cells in self.rows:
            row = [safe_cell(label)]
            for column, cell in zip(self.columns, cells):
                row += ["" if number is None else number for number in cell.numbers(column.shape)]
            rows.append(row)
        return rows


def _rates_table(result: analytics.Rates) -> Table:
    columns = (
        Column(_("Sessions"), OF, (_("Sessions with it"), _("Sessions (n)"))),
        Column(_("Rate (%)")),
        Column(_("95 % CI (%)"), RANGE, (_("95 % CI low (%)"), _("95 % CI high (%)"))),
        *(Column(f"{source.short} (%)") for source in analytics.SOURCES),
    )
    rows = tuple(
        (
            row.label,
            (
                Cell(row.events, row.n),
                Cell(row.percent),
                Cell(row.low, row.high),
                *(Cell(analytics.published_rate(row.key, s)) for s in analytics.SOURCES),
            ),
        )
        for row in result.rows
    )
    caption = _(
        "After-effect rates: %(n)s sessions whose check-ins have all closed, with an answer "
        "(of %(all)s sessions; %(open)s still in follow-up are not counted yet)."
    ) % {"n": result.n, "all": result.sessions, "open": result.in_follow_up}
    if result.warned_only:
        caption += " " + warned_only_note(result)
    return Table(caption, _("After-effect"), columns, rows)


def warned_only_note(result: analytics.Rates) -> str:
    """How the sessions heard from only through warning signs count (for a caption or alt)."""
    return ngettext(
        "%(count)s more, heard from only through warning signs, counts in the rate "
        "of each after-effect it reported.",
        "%(count)s more, heard from only through warning signs, count in the rate "
        "of each after-effect they reported.",
        result.warned_only,
    ) % {"count": result.warned_only}


def _grouped_table(result: analytics.GroupedSoreness, noun: str) -> Table:
    columns = []
    for hours in result.hours:
        heading = _("%(h)s h") % {"h": hours}
        if hours == TimePoint.H72 and result.unsettled_at_72h:
            heading = _("%(h)s h (not settled at 48 h)") % {"h": hours}
        columns.append(
            Column(
                heading,
                QUARTILES,
                (
                    f"{heading}: " + _("median"),
                    f"{heading}: Q1",
                    f"{heading}: Q3",
                    f"{heading}: n",
                ),
            )
        )
    rows = tuple(
        (
            group.label,
            tuple(
                Cell(p.median, p.n, (p.q1, p.q3)) if (p := group.at(h)) else Cell(None)
                for h in result.hours
            ),
        )
        for group in result.groups
    )
    caption = _(
        "Median soreness (0–10) at each check-in; in brackets the interquartile range "
        "(Q1–Q3) and n sessions."
    )
    notes = ()
    if result.unsettled_at_72h or result.thin_72h:
        notes = (
            _(
                "72 h: only sessions not settled at 48 h are asked then, so these are the slower "
                "sessions, not all of them. A 72 h median is shown only with at least %(n)s answers."
            )
            % {"n": analytics.MIN_72H_ANSWERS},
        )
    return Table(caption, noun, tuple(columns), rows, notes)


def _settled_table(result) -> Table:
    columns = (Column(_("Settled")), Column(_("Sessions (n)")), Column(_("Settled (%)")))
    rows = tuple(
        (_("%(h)s h") % {"h": r.hours}, (Cell(r.settled), Cell(r.n), Cell(r.percent)))
        for r in result
    )
    caption = _("Sessions whose soreness had settled, of those that answered that check-in.")
    return Table(caption, _("Check-in"), columns, rows)


def _completion_table(result) -> Table:
    columns = (Column(_("Answered")), Column(_("Due (n)")), Column(_("Answered (%)")))
    rows = tuple(
        (w.start.isoformat(), (Cell(w.answered), Cell(w.due), Cell(w.percent))) for w in result
    )
    caption = _("Check-ins answered of those due, by week (Monday), windows closed.")
    return Table(caption, _("Week starting"), columns, rows)


def _pgic_table(result: analytics.PgicDistribution, noun: str, *, by_muscle: bool) -> Table:
    columns = (
        *(Column(str(label)) for label in Pgic.labels),
        Column(_("Sessions (n)")),
        Column(_("Much or very much better (%)")),
    )
    rows = tuple(
        (
            group.label,
            (
                *(Cell(count) for count in group.counts),
                Cell(group.n),
                Cell(group.improved_percent),
            ),
        )
        for group in result.groups
    )
    caption = _(
        "Sessions by the patient's answer at their last check-in: compared with before the "
        "session, how is the problem they came for? One answer per session, the last given."
    )
    notes = [
        _(
            "Much or very much better: the answers that matched a clinically important "
            "improvement in pain (Farrar 2001)."
        )
    ]
    if by_muscle:
        notes.append(_("A session needled at two muscles counts for both."))
    return Table(caption, noun, columns, rows, tuple(notes))

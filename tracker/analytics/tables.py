"""The table beside each analytics chart, and the CSV made from it: the same numbers as the chart."""

from dataclasses import dataclass
from decimal import Decimal

from django.utils.translation import gettext as _

from tracker import analytics
from tracker.exports.csv import safe_cell

# ---------------------------------------------------------------------------
# Tables: what the page shows beside each chart, and what its CSV holds


@dataclass(frozen=True)
class Cell:
    """A number in a table, or two: a value with its n, a count of a total, a range."""

    value: int | Decimal | None
    second: int | Decimal | None = None

# How a column's two-number cells read on the page (the CSV gives each number its own column).
WITH_N, OF, RANGE = "with_n", "of", "range"


@dataclass(frozen=True)
class Column:
    heading: str
    # For two-number cells: the shape (WITH_N, OF or RANGE) and the two CSV headings.
    shape: str = ""
    csv_headings: tuple[str, str] = ("", "")


@dataclass(frozen=True)
class Table:
    caption: str
    label_heading: str
    columns: tuple[Column, ...]
    rows: tuple[tuple[str, tuple[Cell, ...]], ...]  # (row label, cells)

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
                row.append("" if cell.value is None else cell.value)
                if column.shape:
                    row.append("" if cell.second is None else cell.second)
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
                Cell(row.events, row.n), Cell(row.percent), Cell(row.low, row.high),
                *(Cell(analytics.published_rate(row.key, s)) for s in analytics.SOURCES),
            ),
        )
        for row in result.rows
    )
    caption = _(
        "After-effect rates: %(n)s sessions whose check-ins have all closed, with an answer "
        "(of %(all)s sessions; %(open)s still in follow-up are not counted yet)."
    ) % {"n": result.n, "all": result.sessions, "open": result.in_follow_up}
    return Table(caption, _("After-effect"), columns, rows)


def _grouped_table(result: analytics.GroupedSoreness, noun: str) -> Table:
    columns = tuple(
        Column(hours, WITH_N, (f"{hours}: " + _("mean"), f"{hours}: n"))
        for hours in (_("%(h)s h") % {"h": h} for h in result.hours)
    )
    rows = tuple(
        (
            group.label,
            tuple(
                Cell(m.mean, m.n) if (m := group.at(h)) else Cell(None) for h in result.hours
            ),
        )
        for group in result.groups
    )
    caption = _("Mean soreness (0–10) at each check-in; n sessions in brackets.")
    return Table(caption, noun, columns, rows)


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

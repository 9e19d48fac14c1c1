"""Each analytics chart: its data, table, drawing and text alternative, by slug."""

from collections.abc import Callable
from dataclasses import dataclass

from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from tracker import analytics, charts
from tracker.analytics.tables import (
    _completion_table,
    _grouped_table,
    _pgic_table,
    _rates_table,
    _settled_table,
    warned_only_note,
)
from tracker.choices import Pgic, TimePoint

# ---------------------------------------------------------------------------
# Charts: the same results drawn by tracker.charts


def _rates_svg(result: analytics.Rates, title: str) -> bytes:
    labels = {row.key: row.label for row in result.rows}
    return charts.rates_chart(
        [
            charts.RateBar(r.label, float(r.percent), float(r.low), float(r.high), r.events, r.n)
            for r in result.rows
        ],
        [
            charts.ReferenceRate(labels[p.effect], float(p.percent), p.source.short)
            for p in analytics.PUBLISHED_RATES
            if p.effect in labels and p.drawn
        ],
        title=title,
        translate=_,
    )


def _grouped_svg(noun) -> Callable:
    def render(result: analytics.GroupedSoreness, title: str) -> bytes:
        apart = [TimePoint.H72] if result.unsettled_at_72h else []
        lines = [
            charts.GroupLine(
                g.label,
                [(p.hours, float(p.median)) for p in g.points],
                unsettled_only=[h for h in apart if g.at(h)],
            )
            for g in result.groups
        ]
        return charts.soreness_by_group_chart(
            lines,
            hidden=result.hidden,
            noun=str(noun),
            max_groups=analytics.MAX_GROUPS,
            title=title,
            translate=_,
        )

    return render


def _pgic_svg(noun) -> Callable:
    def render(result: analytics.PgicDistribution, title: str) -> bytes:
        return charts.pgic_chart(
            [charts.PgicBar(g.label, g.counts) for g in result.groups],
            [str(label) for label in Pgic.labels],
            hidden=result.hidden,
            noun=str(noun),
            title=title,
            translate=_,
        )

    return render


def _settled_svg(result, title: str) -> bytes:
    return charts.settled_chart(
        [charts.ShareBar(f"{r.hours} h", float(r.percent), r.settled, r.n) for r in result],
        title=title,
        translate=_,
    )


def _completion_svg(result, title: str) -> bytes:
    return charts.completion_chart(
        [
            charts.ShareBar(date_format(w.start, "j M"), float(w.percent), w.answered, w.due)
            for w in result
        ],
        title=title,
        translate=_,
    )


def _rates_alt(result: analytics.Rates) -> str:
    if not result.rows:
        return _("After-effect rates: no answered check-ins match these filters.")
    parts = "; ".join(f"{r.label} {r.percent} %" for r in result.rows)
    alt = _(
        "Bar chart of after-effect rates in %(n)s sessions with 95 %% intervals and published "
        "rates as reference lines: %(parts)s. The table gives every number."
    ) % {"n": result.n, "parts": parts}
    if result.warned_only:
        alt += " " + warned_only_note(result)
    return alt


def _grouped_alt(what: str) -> Callable:
    def alt(result: analytics.GroupedSoreness) -> str:
        if not result.groups:
            return _("Median soreness: no answered check-ins match these filters.")
        text = _(
            "Line chart of median soreness (0 to 10) against hours since the session, one line "
            "per %(what)s (%(count)s drawn). The table gives every median, its interquartile "
            "range and its n."
        ) % {"what": what, "count": len(result.groups)}
        if result.unsettled_at_72h:
            text += " " + _(
                "The 72-hour points, hollow on a dotted line, are only of sessions not settled "
                "at 48 hours."
            )
        return text

    return alt


def _pgic_alt(what: str) -> Callable:
    def alt(result: analytics.PgicDistribution) -> str:
        if not result.groups:
            return _("Global impression of change: no answers match these filters.")
        parts = "; ".join(
            _("%(label)s %(share)s %% much or very much better of %(n)s")
            % {"label": g.label, "share": g.improved_percent, "n": g.n}
            for g in result.groups
        )
        return _(
            "Stacked bar chart of how patients rated the problem they came for, from very much "
            "better to very much worse, one bar per %(what)s: %(parts)s. The table gives every "
            "count."
        ) % {"what": what, "parts": parts}

    return alt


def _settled_alt(result) -> str:
    if not result:
        return _("Settled sessions: no answered check-ins match these filters.")
    parts = "; ".join(f"{r.hours} h {r.percent} % ({r.settled}/{r.n})" for r in result)
    return _("Bar chart of sessions settled at each check-in: %(parts)s.") % {"parts": parts}


def _completion_alt(result) -> str:
    if not result:
        return _("Check-in completion: no check-in window has closed in this period.")
    return _(
        "Bar chart of the share of check-ins answered in each of %(count)s weeks, from "
        "%(low)s %% to %(high)s %%. The table gives every week."
    ) % {
        "count": len(result),
        "low": min(w.percent for w in result),
        "high": max(w.percent for w in result),
    }


@dataclass(frozen=True)
class ChartSpec:
    slug: str
    heading: str
    data: Callable  # Filters -> result
    table: Callable  # result -> Table
    svg: Callable  # (result, title) -> bytes
    alt: Callable  # result -> str
    height: int  # the image's CSS pixels at full size (width 614)
    wide_table: bool = False  # the table under the chart, across the card, not beside it


CHARTS = {
    spec.slug: spec
    for spec in (
        ChartSpec(
            "rates",
            gettext_lazy("After-effects per session against published rates"),
            analytics.rates,
            _rates_table,
            _rates_svg,
            _rates_alt,
            326,
            wide_table=True,
        ),
        ChartSpec(
            "soreness-by-muscle",
            gettext_lazy("Median soreness by muscle"),
            analytics.soreness_by_muscle,
            lambda r: _grouped_table(r, _("Muscle")),
            _grouped_svg(gettext_lazy("muscles")),
            _grouped_alt(gettext_lazy("muscle")),
            326,
            wide_table=True,
        ),
        ChartSpec(
            "soreness-by-therapist",
            gettext_lazy("Median soreness by therapist"),
            analytics.soreness_by_therapist,
            lambda r: _grouped_table(r, _("Therapist")),
            _grouped_svg(gettext_lazy("therapists")),
            _grouped_alt(gettext_lazy("therapist")),
            326,
            wide_table=True,
        ),
        ChartSpec(
            "pgic-by-muscle",
            gettext_lazy("Global impression of change by muscle"),
            analytics.pgic_by_muscle,
            lambda r: _pgic_table(r, _("Muscle"), by_muscle=True),
            _pgic_svg(gettext_lazy("muscles")),
            _pgic_alt(gettext_lazy("muscle")),
            326,
            wide_table=True,
        ),
        ChartSpec(
            "pgic-by-therapist",
            gettext_lazy("Global impression of change by therapist"),
            analytics.pgic_by_therapist,
            lambda r: _pgic_table(r, _("Therapist"), by_muscle=False),
            _pgic_svg(gettext_lazy("therapists")),
            _pgic_alt(gettext_lazy("therapist")),
            326,
            wide_table=True,
        ),
        ChartSpec(
            "settled",
            gettext_lazy("Sessions settled"),
            analytics.settled,
            _settled_table,
            _settled_svg,
            _settled_alt,
            288,
        ),
        ChartSpec(
            "completion",
            gettext_lazy("Check-ins answered by week"),
            analytics.completion_by_week,
            _completion_table,
            _completion_svg,
            _completion_alt,
            288,
        ),
    )
}

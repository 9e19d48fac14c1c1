"""Clinic analytics for staff: the page, its chart images and their CSVs.

Any member of a clinic (therapist or lead) sees that clinic's analytics; any
other clinic is a 404. The numbers come from ``tracker.analytics`` (one query
per chart); each chart's table and CSV are built here from the same result,
so the image, the table beside it and the download hold the same numbers.

Queries per request (pinned in tests/test_analytics.py): the login session,
the user, the clinic (or the user's clinics), the clinic's staff for the
therapist filter, then one per chart: five on the page, one for an image or CSV.
"""

import csv
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse, HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.cache import patch_cache_control
from django.utils.formats import date_format
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from tracker import analytics, charts, clock, plots
from tracker.analytics_forms import AnalyticsFilterForm
from tracker.models import Clinic

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
            row = [_csv_safe(label)]
            for column, cell in zip(self.columns, cells):
                row.append("" if cell.value is None else cell.value)
                if column.shape:
                    row.append("" if cell.second is None else cell.second)
            rows.append(row)
        return rows


def _csv_safe(text: str) -> str:
    """Keep a spreadsheet from running a label (a therapist's name) as a formula."""
    return f"'{text}" if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


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
        "After-effect rates: %(n)s sessions with an answered check-in (of %(all)s sessions)."
    ) % {"n": result.n, "all": result.sessions}
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
    caption = _("Sessions with soreness 1 or less, of those that answered that check-in.")
    return Table(caption, _("Check-in"), columns, rows)


def _completion_table(result) -> Table:
    columns = (Column(_("Answered")), Column(_("Due (n)")), Column(_("Answered (%)")))
    rows = tuple(
        (w.start.isoformat(), (Cell(w.answered), Cell(w.due), Cell(w.percent))) for w in result
    )
    caption = _("Check-ins answered of those due, by week (Monday), windows closed.")
    return Table(caption, _("Week starting"), columns, rows)


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
            if p.effect in labels
        ],
        title=title,
        translate=_,
    )


def _grouped_svg(noun) -> Callable:
    def render(result: analytics.GroupedSoreness, title: str) -> bytes:
        lines = [
            charts.GroupLine(g.label, [(m.hours, float(m.mean)) for m in g.means])
            for g in result.groups
        ]
        return charts.soreness_by_group_chart(
            lines, hidden=result.hidden, noun=str(noun), max_groups=analytics.MAX_GROUPS,
            title=title, translate=_,
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
    return _(
        "Bar chart of after-effect rates in %(n)s sessions with 95 %% intervals and published "
        "rates as reference lines: %(parts)s. The table gives every number."
    ) % {"n": result.n, "parts": parts}


def _grouped_alt(what: str) -> Callable:
    def alt(result: analytics.GroupedSoreness) -> str:
        if not result.groups:
            return _("Mean soreness: no answered check-ins match these filters.")
        return _(
            "Line chart of mean soreness (0 to 10) against hours since the session, one line "
            "per %(what)s (%(count)s drawn). The table gives every mean and its n."
        ) % {"what": what, "count": len(result.groups)}

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


CHARTS = {
    spec.slug: spec
    for spec in (
        ChartSpec(
            "rates", gettext_lazy("After-effects per session against published rates"),
            analytics.rates, _rates_table, _rates_svg, _rates_alt, 326,
        ),
        ChartSpec(
            "soreness-by-muscle", gettext_lazy("Mean soreness by muscle"),
            analytics.soreness_by_muscle, lambda r: _grouped_table(r, _("Muscle")),
            _grouped_svg(gettext_lazy("muscles")), _grouped_alt(gettext_lazy("muscle")), 326,
        ),
        ChartSpec(
            "soreness-by-therapist", gettext_lazy("Mean soreness by therapist"),
            analytics.soreness_by_therapist, lambda r: _grouped_table(r, _("Therapist")),
            _grouped_svg(gettext_lazy("therapists")), _grouped_alt(gettext_lazy("therapist")), 326,
        ),
        ChartSpec(
            "settled", gettext_lazy("Sessions settled (soreness 1 or less)"),
            analytics.settled, _settled_table, _settled_svg, _settled_alt, 288,
        ),
        ChartSpec(
            "completion", gettext_lazy("Check-ins answered by week"),
            analytics.completion_by_week, _completion_table, _completion_svg, _completion_alt,
            288,
        ),
    )
}


# ---------------------------------------------------------------------------
# Views


def _spec_or_404(chart: str) -> ChartSpec:
    try:
        return CHARTS[chart]
    except KeyError:
        raise Http404("No such chart.") from None


def _filter_form(request, clinic) -> AnalyticsFilterForm:
    staff = (
        get_user_model().objects.filter(memberships__clinic=clinic)
        .order_by("first_name", "last_name", "username")
        .values_list("pk", "first_name", "last_name", "username")
    )
    therapists = [
        (pk, f"{first} {last}".strip() or username) for pk, first, last, username in staff
    ]
    today = clock.now().astimezone(clinic.zone).date()
    return AnalyticsFilterForm(request.GET, clinic=clinic, therapists=therapists, today=today)


def _clinic_for(user, clinic_id) -> Clinic:
    return get_object_or_404(Clinic.objects.for_user(user), pk=clinic_id)


@login_required
def analytics_home(request):
    """The analytics of the user's first clinic."""
    clinic = Clinic.objects.for_user(request.user).order_by("name", "pk").first()
    if clinic is None:
        raise Http404("You are not a member of any clinic.")
    return redirect("tracker:analytics", clinic_id=clinic.pk)


@login_required
def analytics_page(request, clinic_id):
    clinics = list(Clinic.objects.for_user(request.user).order_by("name", "pk"))
    clinic = next((c for c in clinics if c.pk == clinic_id), None)
    if clinic is None:
        raise Http404("No such clinic.")
    form = _filter_form(request, clinic)
    panels = []
    if form.is_valid():
        filters, query = form.filters(), form.query_string()
        for spec in CHARTS.values():
            result = analytics.cached(spec.data, filters)
            panels.append({
                "slug": spec.slug,
                "heading": spec.heading,
                "alt": spec.alt(result),
                "height": spec.height,
                "table": spec.table(result),
                "result": result,
                "svg_url": _chart_url("tracker:analytics_chart", clinic, spec, query),
                "csv_url": _chart_url("tracker:analytics_csv", clinic, spec, query),
            })
    return render(request, "tracker/analytics.html", {
        "clinic": clinic,
        "clinics": clinics,
        "form": form,
        "panels": panels,
        "sources": analytics.SOURCES,
        "cache_minutes": analytics.RESULTS_CACHE_SECONDS // 60,
    })


def _chart_url(name, clinic, spec, query) -> str:
    url = reverse(name, kwargs={"clinic_id": clinic.pk, "chart": spec.slug})
    return f"{url}?{query}" if query else url


def _chart_request(request, clinic_id, chart):
    """(spec, form, result) for a chart image or CSV, or an error response."""
    spec = _spec_or_404(chart)
    clinic = _clinic_for(request.user, clinic_id)
    form = _filter_form(request, clinic)
    if not form.is_valid():
        return spec, form, None
    return spec, form, analytics.cached(spec.data, form.filters())


@login_required
def analytics_chart(request, clinic_id, chart):
    spec, form, result = _chart_request(request, clinic_id, chart)
    if result is None:
        return HttpResponseBadRequest(form.errors.as_text(), content_type="text/plain")
    title = str(spec.heading)
    svg = plots.cached_svg(
        f"analytics:{spec.slug}", (title, result), lambda: spec.svg(result, title)
    )
    response = plots.svg_response(svg)
    patch_cache_control(response, private=True)
    return response


@login_required
def analytics_csv(request, clinic_id, chart):
    spec, form, result = _chart_request(request, clinic_id, chart)
    if result is None:
        return HttpResponseBadRequest(form.errors.as_text(), content_type="text/plain")
    table = spec.table(result)
    data = form.cleaned_data
    filename = "{clinic}-{chart}-{start}-to-{end}.csv".format(
        clinic=slugify(form.clinic.name) or f"clinic-{form.clinic.pk}", chart=spec.slug,
        start=data["date_from"].isoformat(), end=data["date_to"].isoformat(),
    )
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    patch_cache_control(response, private=True)
    writer = csv.writer(response)
    writer.writerow(table.csv_header())
    writer.writerows(table.csv_rows())
    return response

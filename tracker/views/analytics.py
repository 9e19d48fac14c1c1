"""Clinic analytics for staff: the page, its chart images and their CSVs.

Any member of a clinic (therapist or lead) sees that clinic's analytics; any
other clinic is a 404. The numbers come from ``tracker.analytics`` (one or two
queries per chart); each chart's table and CSV are built here from the same result,
so the image, the table beside it and the download hold the same numbers.

Queries per request (pinned in tests/test_analytics.py): the login session,
the user, the clinic (or the user's clinics), the clinic's staff for the
therapist filter, then each chart's own (tests/test_analytics.py, ``chart_queries``).
"""

import csv
import hashlib
import pickle

from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.http import Http404, HttpResponse, HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.text import slugify
from django.utils.translation import get_language

from tracker import analytics, clock
from tracker.analytics.figures import CHARTS, ChartSpec
from tracker.charts.cache import cached_svg
from tracker.forms.analytics import AnalyticsFilterForm
from tracker.models import Clinic
from tracker.views.responses import svg_response

# ---------------------------------------------------------------------------
# Views


def _spec_or_404(chart: str) -> ChartSpec:
    try:
        return CHARTS[chart]
    except KeyError:
        raise Http404("No such chart.") from None


def _filter_form(request, clinic) -> AnalyticsFilterForm:
    staff = (
        get_user_model()
        .objects.filter(memberships__clinic=clinic)
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
    """The analytics of the user's first clinic, with the filters asked for."""
    clinic = Clinic.objects.for_user(request.user).order_by("name", "pk").first()
    if clinic is None:
        raise Http404("You are not a member of any clinic.")
    url = reverse("tracker:analytics", kwargs={"clinic_id": clinic.pk})
    return redirect(f"{url}?{request.GET.urlencode()}" if request.GET else url)


@login_required
def analytics_page(request, clinic_id):
    clinics = list(Clinic.objects.for_user(request.user).order_by("name", "pk"))
    clinic = next((c for c in clinics if c.pk == clinic_id), None)
    if clinic is None:
        raise Http404("No such clinic.")
    form = _filter_form(request, clinic)
    panels, panels_html = [], ""
    if form.is_valid():
        filters, query = form.filters(), form.query_string()
        with analytics.one_read():
            results = {spec: analytics.cached(spec.data, filters) for spec in CHARTS.values()}
        panels_html, panels = _panels_html(request, clinic, query, results)
    return render(
        request,
        "tracker/analytics.html",
        {
            "clinic": clinic,
            "clinics": clinics,
            "form": form,
            "panels": panels,
            "panels_html": panels_html,
            "cache_minutes": analytics.RESULTS_CACHE_SECONDS // 60,
        },
    )


def _panels_html(request, clinic, query, results) -> tuple[str, list[dict]]:
    """The charts' panels as HTML, and the panels built for it (empty when it was cached).

    The tables are most of the page's rendering, so the HTML is kept as long
    as the results are, under a digest of everything it shows: the results
    themselves, the language and the filters in the chart links. A panel never
    shows numbers other than the ones its image and CSV are drawn from. The
    panels hold nothing of the user's (no token, no nonce), so clinic members
    share them; after a release that changes ``_panel.html`` the old HTML is
    shown until the results' few minutes are up.
    """
    digest = hashlib.sha256(
        pickle.dumps((get_language(), clinic.pk, query, list(results.values())))
    ).hexdigest()
    key = f"analytics-panels:{digest}"
    html = cache.get(key)
    if html is not None:
        return html, []
    panels = [
        {
            "slug": spec.slug,
            "heading": spec.heading,
            "alt": spec.alt(result),
            "height": spec.height,
            "wide_table": spec.wide_table,
            "table": spec.table(result),
            "result": result,
            "svg_url": _chart_url("tracker:analytics_chart", clinic, spec, query),
            "csv_url": _chart_url("tracker:analytics_csv", clinic, spec, query),
        }
        for spec, result in results.items()
    ]
    html = render_to_string(
        "tracker/analytics/_panels.html",
        {"panels": panels, "sources": analytics.SOURCES},
        request=request,
    )
    cache.set(key, html, analytics.RESULTS_CACHE_SECONDS)
    return html, panels


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
    svg = cached_svg(f"analytics:{spec.slug}", (title, result), lambda: spec.svg(result, title))
    response = svg_response(svg, request)
    return response


@login_required
def analytics_csv(request, clinic_id, chart):
    spec, form, result = _chart_request(request, clinic_id, chart)
    if result is None:
        return HttpResponseBadRequest(form.errors.as_text(), content_type="text/plain")
    table = spec.table(result)
    data = form.cleaned_data
    filename = "{clinic}-{chart}-{start}-to-{end}.csv".format(
        clinic=slugify(form.clinic.name) or f"clinic-{form.clinic.pk}",
        chart=spec.slug,
        start=data["date_from"].isoformat(),
        end=data["date_to"].isoformat(),
    )
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    writer = csv.writer(response)
    writer.writerow(table.csv_header())
    writer.writerows(table.csv_rows())
    return response

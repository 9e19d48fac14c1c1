"""The therapist's home page and the alert inbox."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from tracker import clock, services
from tracker.forms.alerts import AcknowledgeForm, AlertFilterForm, BulkAcknowledgeForm
from tracker.models import Alert, Severity
from tracker.queries import dashboard
from tracker.queries.roles import clinic_roles, user_clinics
from tracker.reminders import watchdog
from tracker.security import audit
from tracker.views.responses import safe_next


@login_required
def home(request):
    mine = request.GET.get("mine") == "1"
    sections = dashboard.for_user(
        request.user, clock.now(), mine=mine, clinics=user_clinics(request)
    )
    return render(
        request,
        "tracker/home.html",
        {
            "sections": sections,
            "mine": mine,
            "now": clock.now(),
            "live_seconds": settings.LIVE_REFRESH_SECONDS,
            "job": watchdog.health(),
        },
    )


@login_required
def alert_list(request):
    form = AlertFilterForm(request.GET or None)
    # By the clinics' ids, not a join through the memberships: with one clinic the
    # page of open alerts is read in order from its index, not sorted from all of them.
    alerts = Alert.objects.in_clinics(list(clinic_roles(request))).urgent_first()
    if form.is_valid():
        alerts = form.filter(alerts)
    else:
        alerts = alerts.open()
    page = Paginator(alerts, 50).get_page(request.GET.get("page"))
    # The page's alerts are read as the cards' values (the count, as alerts alone).
    cards = dashboard.AlertCards(page.object_list.values_list(*dashboard.CARD_ROW))
    has_attention = any(
        card.severity == Severity.ATTENTION and not card.acknowledged_at for card in cards
    )
    return render(
        request,
        "tracker/alert_list.html",
        {
            "form": form,
            "page_obj": page,
            "cards": cards,
            "has_attention": has_attention,
        },
    )


@login_required
@require_POST
def acknowledge_alert(request, pk):
    """Record what was done about one alert: it closes it, or adds an attempt to it."""
    alert = get_object_or_404(
        Alert.objects.for_user(request.user).select_related("session__patient"), pk=pk
    )
    form = AcknowledgeForm(request.POST)
    if form.is_valid():
        try:
            done = services.act_on_alert(
                alert=alert,
                user=request.user,
                outcome=form.cleaned_data["outcome"],
                note=form.cleaned_data["note"],
                request_ip=audit.client_ip(request),
            )
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            if isinstance(done, Alert):
                messages.success(request, _("Alert acknowledged."))
            else:
                messages.success(request, _("Attempt recorded; the alert stays open."))
    else:
        messages.error(
            request, " ".join(str(message) for errors in form.errors.values() for message in errors)
        )
    return _back(request)


@login_required
@require_POST
def acknowledge_alerts(request):
    """Acknowledge the ticked attention alerts with one outcome."""
    ids = [value for value in request.POST.getlist("alerts") if value.isdigit()]
    chosen = list(
        Alert.objects.for_user(request.user)
        .open()
        .filter(pk__in=ids)
        .select_related("session__patient")
    )
    if any(alert.severity == Severity.URGENT for alert in chosen):
        messages.info(request, _("Urgent alerts are acknowledged one at a time."))
        chosen = [alert for alert in chosen if alert.severity != Severity.URGENT]
    form = BulkAcknowledgeForm(request.POST)
    if not chosen:
        messages.error(request, _("Tick at least one attention alert."))
    elif form.is_valid():
        done = services.acknowledge_many(
            alerts=chosen,
            user=request.user,
            outcome=form.cleaned_data["outcome"],
            note=form.cleaned_data["note"],
            request_ip=audit.client_ip(request),
        )
        messages.success(
            request,
            ngettext("%(count)s alert acknowledged.", "%(count)s alerts acknowledged.", done)
            % {"count": done},
        )
    else:
        messages.error(
            request, " ".join(str(message) for errors in form.errors.values() for message in errors)
        )
    return _back(request)


def _back(request):
    if next_url := safe_next(request):
        return HttpResponseRedirect(next_url)
    return redirect("tracker:alert_list")

"""The therapist's home page and the alert inbox."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db import transaction
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from tracker import audit, clock, dashboard, services
from tracker.forms import AcknowledgeForm, AlertFilterForm
from tracker.models import Alert, AuditAction


@login_required
def home(request):
    mine = request.GET.get("mine") == "1"
    sections = dashboard.for_user(request.user, clock.now(), mine=mine)
    return render(request, "tracker/home.html", {"sections": sections, "mine": mine, "now": clock.now()})


@login_required
def alert_list(request):
    form = AlertFilterForm(request.GET or None)
    alerts = (
        Alert.objects.for_user(request.user)
        .select_related("session__patient__clinic", "acknowledged_by")
        .urgent_first()
    )
    if form.is_valid():
        alerts = form.filter(alerts)
    else:
        alerts = alerts.open()
    page = Paginator(alerts, 50).get_page(request.GET.get("page"))
    return render(request, "tracker/alert_list.html", {"form": form, "page_obj": page})


@login_required
@require_POST
def acknowledge_alert(request, pk):
    alert = get_object_or_404(
        Alert.objects.for_user(request.user).select_related("session__patient"), pk=pk
    )
    # Taken now: the service reloads the alert, which drops its cached session.
    patient = alert.session.patient
    form = AcknowledgeForm(request.POST)
    if form.is_valid():
        try:
            with transaction.atomic():
                services.acknowledge_alert(
                    alert=alert, user=request.user, note=form.cleaned_data["note"]
                )
                audit.record(request, action=AuditAction.ACKNOWLEDGE, patient=patient, obj=alert)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(request, _("Alert acknowledged."))
    else:
        messages.error(request, " ".join(form.errors["note"]))
    if _safe_next(request):
        # A plain redirect: ``redirect()`` would read a path like "0" or "a:b" as a view name.
        return HttpResponseRedirect(request.POST["next"])
    return redirect("tracker:alert_list")


def _safe_next(request) -> bool:
    target = request.POST.get("next", "")
    # A path on this site, as the inbox and dashboard forms send it.
    return target.startswith("/") and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    )

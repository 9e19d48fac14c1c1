"""The therapist's home page and the alert inbox."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from tracker import clock, services
from tracker.forms.staff import AcknowledgeForm, AlertFilterForm
from tracker.models import Alert
from tracker.queries import dashboard
from tracker.security import audit
from tracker.views.responses import safe_next


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
            services.acknowledge_alert(
                alert=alert, user=request.user, note=form.cleaned_data["note"],
                request_ip=audit.client_ip(request),
            )
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(request, _("Alert acknowledged."))
    else:
        messages.error(request, " ".join(form.errors["note"]))
    if next_url := safe_next(request):
        return HttpResponseRedirect(next_url)
    return redirect("tracker:alert_list")


"""Therapists' forms about alerts: the inbox filter and acting on one or many."""

from django import forms
from django.utils.translation import gettext_lazy as _

from tracker.models import ATTEMPT_OUTCOMES, Outcome, Severity


class AlertFilterForm(forms.Form):
    STATES = [("open", _("Open")), ("acknowledged", _("Acknowledged")), ("all", _("All"))]

    state = forms.ChoiceField(label=_("State"), choices=STATES, required=False, initial="open")
    severity = forms.ChoiceField(
        label=_("Severity"), choices=[("", _("Any"))] + Severity.choices, required=False
    )

    def filter(self, alerts):
        state = self.cleaned_data.get("state") or "open"
        if state == "open":
            alerts = alerts.open()
        elif state == "acknowledged":
            alerts = alerts.filter(acknowledged_at__isnull=False)
        if self.cleaned_data.get("severity"):
            alerts = alerts.filter(severity=self.cleaned_data["severity"])
        return alerts


class AcknowledgeForm(forms.Form):
    """What was done about one alert: an outcome, and a note (needed for "other")."""

    outcome = forms.ChoiceField(
        label=_("What was done"),
        choices=Outcome.choices,
        error_messages={"required": _("Choose what was done.")},
    )
    note = forms.CharField(
        label=_("Note"),
        max_length=1000,
        strip=True,
        required=False,
        help_text=_("e.g. 'Soreness easing; advised ice.' Needed for 'Other'."),
    )

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("outcome") == Outcome.OTHER and not cleaned.get("note"):
            self.add_error("note", _("Write a short note on what was done."))
        return cleaned


class BulkAcknowledgeForm(AcknowledgeForm):
    """One outcome for several attention alerts (never urgent ones, nor an attempt).

    The ticked alerts are read by the view from what the user may see: an
    id outside that is simply not among them.
    """

    outcome = forms.ChoiceField(
        label=_("What was done"),
        choices=[
            (value, label) for value, label in Outcome.choices if value not in ATTEMPT_OUTCOMES
        ],
        error_messages={"required": _("Choose what was done.")},
    )

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from tracker.models.base import ClinicScopedQuerySet, TrackerModel


class Severity(models.TextChoices):
    URGENT = "urgent", _("Urgent")
    ATTENTION = "attention", _("Attention")


class AlertRule(models.TextChoices):
    """Why an alert was opened. The rules themselves live in ``tracker.alerts``."""

    RED_FLAG = "red_flag", _("Warning sign reported")
    SORENESS_RISING = "soreness_rising", _("Soreness higher at 48 h than at 24 h")
    SORENESS_HIGH_48H = "soreness_high_48h", _("Soreness still high at 48 h")
    SORENESS_AT_72H = "soreness_at_72h", _("Soreness left at 72 h")
    AGGRAVATION = "aggravation", _("Original complaint worse")
    BRUISE = "bruise", _("Large, growing or distant bruise")
    INTERFERENCE = "interference", _("Soreness interferes with usual activities")
    MISSED = "missed", _("Check-in missed")


class AlertQuerySet(ClinicScopedQuerySet):
    def open(self):
        return self.filter(acknowledged_at__isnull=True)

    def urgent_first(self):
        # Descending, "urgent" comes before "attention" (tests pin it): a plain
        # column order, which the indexes below can serve without sorting.
        return self.order_by("-severity", "-opened_at")


class Alert(TrackerModel):
    """Something about a session that a therapist must look at.

    At most one alert per session and rule: a rule that fires again for the
    same session finds the alert already open (or already acknowledged).
    """

    session = models.ForeignKey(
        "tracker.NeedlingSession", on_delete=models.CASCADE, related_name="alerts"
    )
    # The session's clinic, for the inbox and dashboard (see NeedlingSession.clinic).
    # Its indexes are the two below, which begin with it.
    clinic = models.ForeignKey(
        "tracker.Clinic", on_delete=models.PROTECT, related_name="+", editable=False,
        db_index=False,
    )
    report = models.ForeignKey(
        "tracker.SymptomReport", on_delete=models.SET_NULL, null=True, blank=True,
        related_name="alerts",
    )
    rule = models.CharField(max_length=24, choices=AlertRule.choices)
    severity = models.CharField(max_length=12, choices=Severity.choices)
    detail = models.CharField(max_length=300, blank=True)
    opened_at = models.DateTimeField()
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
        related_name="acknowledged_alerts",
    )
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    note = models.TextField(blank=True, max_length=1000)

    objects = AlertQuerySet.as_manager()

    class Meta:
        ordering = ["-opened_at"]
        constraints = [
            models.UniqueConstraint(fields=["session", "rule"], name="alert_unique_session_rule"),
            models.CheckConstraint(
                condition=models.Q(acknowledged_at__isnull=True)
                | models.Q(acknowledged_by__isnull=False),
                name="alert_acknowledged_by_someone",
            ),
        ]
        indexes = [
            # The dashboard's alert list and count, the inbox's default view:
            # a clinic's open alerts, urgent first, newest first.
            models.Index(
                fields=["clinic", "-severity", "-opened_at"],
                condition=models.Q(acknowledged_at__isnull=True),
                name="alert_clinic_open_idx",
            ),
            # The inbox with every alert (acknowledged too), in the same order.
            models.Index(fields=["clinic", "-severity", "-opened_at"], name="alert_clinic_time_idx"),
        ]

    def __str__(self):
        return f"{self.get_rule_display()} (session {self.session_id})"

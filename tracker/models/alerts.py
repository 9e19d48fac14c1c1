from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from tracker.models.base import ClinicScopedQuerySet, TrackerModel


class Severity(models.TextChoices):
    URGENT = "urgent", _("Urgent")
    ATTENTION = "attention", _("Attention")


class AlertRule(models.TextChoices):
    """Why an alert was opened. The rules themselves live in ``tracker.alerts.rules``."""

    RED_FLAG = "red_flag", _("Warning sign reported")
    SORENESS_RISING = "soreness_rising", _("Soreness higher at 48 h than at 24 h")
    SORENESS_HIGH_48H = "soreness_high_48h", _("Soreness still high at 48 h")
    SORENESS_AT_72H = "soreness_at_72h", _("Soreness left at 72 h")
    AGGRAVATION = "aggravation", _("Original complaint worse")
    BRUISE = "bruise", _("Large, growing or distant bruise")
    INTERFERENCE = "interference", _("Soreness interferes with usual activities")
    MISSED = "missed", _("Check-in missed")


class Outcome(models.TextChoices):
    """What the clinic did about an alert. The first two close it; "no answer" and
    "message left" record an attempt to reach the patient and keep it open."""

    EMERGENCY = "emergency", _("Called: sent to emergency care")
    ADVISED = "advised", _("Called: advised, no further action")
    NO_ANSWER = "no_answer", _("Called: no answer")
    MESSAGE_LEFT = "message_left", _("Message left")
    OTHER = "other", _("Other (note required)")


# Outcomes that record an attempt and leave the alert open.
ATTEMPT_OUTCOMES = frozenset({Outcome.NO_ANSWER, Outcome.MESSAGE_LEFT})


class AlertQuerySet(ClinicScopedQuerySet):
    def open(self):
        return self.filter(acknowledged_at__isnull=True)

    def urgent_first(self):
        # Descending, "urgent" comes before "attention" (tests pin it): a plain
        # column order, which the indexes below can serve without sorting.
        return self.order_by("-severity", "-opened_at")


class Alert(TrackerModel):
    """Something about a session that a therapist must look at.

    One alert per event and rule: each report, and each check-in missed,
    that meets a rule opens its own alert, whatever happened to the
    session's earlier alerts (a second warning sign after an acknowledged
    first one is a new alert, and is notified again). ``follow_up`` is the
    check-in whose answer or silence raised it; warning signs reported with
    no check-in open raise theirs through ``warning_report`` instead.

    ``facts`` holds what the rule saw as numbers and codes, never words:
    the words are made when the alert is read (``tracker.alerts.describe``),
    in the reader's language, not the patient's.
    """

    session = models.ForeignKey(
        "tracker.NeedlingSession", on_delete=models.CASCADE, related_name="alerts"
    )
    # The session's clinic, for the inbox and dashboard (see NeedlingSession.clinic).
    # Its indexes are the two below, which begin with it.
    clinic = models.ForeignKey(
        "tracker.Clinic",
        on_delete=models.PROTECT,
        related_name="+",
        editable=False,
        db_index=False,
    )
    follow_up = models.ForeignKey(
        "tracker.FollowUp",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="alerts",
        db_index=False,  # alert_unique_follow_up_rule begins with it
    )
    warning_report = models.OneToOneField(
        "tracker.WarningReport",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="alert",
    )
    report = models.ForeignKey(
        "tracker.SymptomReport",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="alerts",
    )
    rule = models.CharField(max_length=24, choices=AlertRule.choices)
    severity = models.CharField(max_length=12, choices=Severity.choices)
    facts = models.JSONField(default=dict, blank=True)
    opened_at = models.DateTimeField()
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="acknowledged_alerts",
    )
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    outcome = models.CharField(max_length=16, choices=Outcome.choices, blank=True)
    note = models.TextField(blank=True, max_length=1000)

    objects = AlertQuerySet.as_manager()

    class Meta:
        ordering = ["-opened_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["follow_up", "rule"], name="alert_unique_follow_up_rule"
            ),
            # Raised by a check-in or by warning signs sent between check-ins.
            models.CheckConstraint(
                condition=models.Q(follow_up__isnull=False, warning_report__isnull=True)
                | models.Q(follow_up__isnull=True, warning_report__isnull=False),
                name="alert_raised_by_one_event",
            ),
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
            models.Index(
                fields=["clinic", "-severity", "-opened_at"], name="alert_clinic_time_idx"
            ),
            # The escalation job: open urgent alerts, oldest first, across clinics.
            models.Index(
                fields=["opened_at"],
                condition=models.Q(acknowledged_at__isnull=True, severity="urgent"),
                name="alert_open_urgent_idx",
            ),
        ]

    def __str__(self):
        return f"{self.get_rule_display()} (session {self.session_id})"

    @property
    def is_urgent(self) -> bool:
        return self.severity == Severity.URGENT


class ContactAttempt(TrackerModel):
    """A try to reach the patient about an alert that did not close it (no answer,
    a message left): who tried, when, and what happened."""

    alert = models.ForeignKey(Alert, on_delete=models.CASCADE, related_name="attempts")
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField()
    outcome = models.CharField(max_length=16, choices=Outcome.choices)
    note = models.TextField(blank=True, max_length=1000)

    class Meta:
        ordering = ["at", "pk"]

    def __str__(self):
        return f"{self.get_outcome_display()} for alert {self.alert_id}"


class AlertStep(TrackerModel):
    """One round of messages about an urgent alert: step 0 when it opens, then one
    escalation step each time the clinic's escalation delay passes unacknowledged.

    The row is the claim: (alert, step) is unique, so of two runs of the job
    at once exactly one sends each step.
    """

    # Indexed by alertstep_unique_alert_step, which starts with it.
    alert = models.ForeignKey(Alert, on_delete=models.CASCADE, related_name="steps", db_index=False)
    step = models.PositiveSmallIntegerField()
    at = models.DateTimeField()
    # How many staff were sent the step (emails and texts), and how many sends failed.
    sent = models.PositiveSmallIntegerField(default=0)
    failed = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["alert", "step"]
        constraints = [
            models.UniqueConstraint(fields=["alert", "step"], name="alertstep_unique_alert_step"),
        ]

    def __str__(self):
        return f"Step {self.step} of alert {self.alert_id}"

from datetime import timedelta

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from tracker.choices import CHEST_WALL_MUSCLES, Muscle, Side, Technique, TwitchBand
from tracker.models.base import ClinicScopedQuerySet, TrackerModel

NRS_VALIDATORS = [MinValueValidator(0), MaxValueValidator(10)]


class NeedlingSessionQuerySet(ClinicScopedQuerySet):
    """Sessions, scoped to the clinics of the user by ``for_user``."""

    def active(self):
        """Sessions not marked "entered in error": the ones counted, listed and followed up."""
        return self.filter(entered_in_error_at__isnull=True)


class NeedlingSession(TrackerModel):
    """One dry needling treatment, with the risk factors that shape follow-up."""

    # Indexed by session_patient_time_idx, which starts with it.
    patient = models.ForeignKey(
        "tracker.Patient", on_delete=models.PROTECT, related_name="sessions", db_index=False
    )
    # The patient's clinic, kept on the session (and on its follow-ups and
    # alerts) so that a clinic's lists are read from one table through one
    # index, not through every patient of the clinic. Whatever creates one
    # sets it from the patient (a patient never changes clinic).
    clinic = models.ForeignKey(
        "tracker.Clinic",
        on_delete=models.PROTECT,
        related_name="+",
        editable=False,
        db_index=False,  # session_clinic_time_idx begins with it
    )
    therapist = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="needling_sessions"
    )
    performed_at = models.DateTimeField(_("performed at"))
    pre_pain = models.PositiveSmallIntegerField(
        _("pain before the session (0–10)"), validators=NRS_VALIDATORS
    )
    chest_wall_area = models.BooleanField(
        _("needled over the chest wall, neck, shoulder girdle or upper back"),
        default=False,
        help_text=_("Set by itself when a site is in these areas; sharpens the warning signs."),
    )
    anticoagulants = models.BooleanField(
        _("takes anticoagulant or antiplatelet medicine"), default=False
    )
    lung_condition = models.BooleanField(
        _("lung disease or previous thoracic surgery"), default=False
    )
    notes = models.TextField(blank=True, max_length=2000)
    created_at = models.DateTimeField(auto_now_add=True)
    # A session recorded by mistake (wrong patient, a duplicate) is never
    # deleted: it is marked, with who did it and why, and kept visible (struck
    # through) while it leaves the lists, the reminders and the numbers.
    entered_in_error_at = models.DateTimeField(null=True, blank=True, editable=False)
    entered_in_error_reason = models.CharField(
        _("why it was entered in error"), max_length=500, blank=True, editable=False
    )
    entered_in_error_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        editable=False,
        related_name="+",
    )

    objects = NeedlingSessionQuerySet.as_manager()

    class Meta:
        ordering = ["-performed_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(pre_pain__gte=0, pre_pain__lte=10),
                name="session_pre_pain_nrs_0_10",
            ),
            models.CheckConstraint(
                condition=models.Q(entered_in_error_at__isnull=True)
                | (
                    models.Q(entered_in_error_by__isnull=False)
                    & ~models.Q(entered_in_error_reason="")
                ),
                name="session_entered_in_error_by_someone_with_reason",
            ),
        ]
        indexes = [
            # A patient's sessions, newest first (patient page).
            models.Index(fields=["patient", "-performed_at"], name="session_patient_time_idx"),
            # A clinic's sessions in a time range: "today's sessions" on the
            # dashboard, the analytics period. The analytics read the last two
            # columns from the index itself, not from each session's row.
            models.Index(
                fields=["clinic", "performed_at", "entered_in_error_at", "therapist"],
                name="session_clinic_time_idx",
            ),
            # The few sessions entered in error, for the reminder job's exclusion.
            models.Index(
                fields=["id"],
                condition=models.Q(entered_in_error_at__isnull=False),
                name="session_in_error_idx",
            ),
        ]

    def __str__(self):
        return f"Session {self.pk} for {self.patient}"

    @property
    def links_expire_at(self):
        """When the session's patient links stop working: its check-in period is over."""
        return self.performed_at + timedelta(days=settings.ACCESS_LINK_LIFETIME_DAYS)

    @property
    def is_entered_in_error(self) -> bool:
        return self.entered_in_error_at is not None

    def follow_up_over_at(self, moment) -> bool:
        """Whether the session's follow-up has ended at ``moment``: its link period is over.

        Until then its record may be corrected; afterwards it stands as the
        patient answered against it. A session entered in error is over too.
        """
        return self.is_entered_in_error or moment >= self.links_expire_at

    @property
    def lung_risk(self) -> bool:
        """Whether warning signs of a collapsed lung must be asked first and plainly."""
        return self.chest_wall_area or self.lung_condition


class NeedledSite(TrackerModel):
    """One muscle needled in a session."""

    session = models.ForeignKey(
        NeedlingSession,
        on_delete=models.CASCADE,
        related_name="sites",
        db_index=False,  # site_session_muscle_idx begins with it
    )
    muscle = models.CharField(max_length=32, choices=Muscle.choices)
    side = models.CharField(max_length=8, choices=Side.choices)
    insertions = models.PositiveSmallIntegerField(
        validators=[MinValueValidator(1), MaxValueValidator(99)],
        help_text=_("Number of needle insertions at this site."),
    )
    technique = models.CharField(
        max_length=20, choices=Technique.choices, default=Technique.DEEP_PISTONING
    )
    twitch_band = models.CharField(
        _("twitch responses"), max_length=8, choices=TwitchBand.choices, default=TwitchBand.NONE
    )
    notes = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["pk"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(insertions__gte=1, insertions__lte=99),
                name="site_insertions_1_99",
            ),
        ]
        indexes = [
            # A session's sites; the analytics read the muscles and techniques
            # from the index itself, not from each site's row.
            models.Index(fields=["session", "muscle", "technique"], name="site_session_muscle_idx"),
        ]

    def __str__(self):
        return f"{self.get_muscle_display()} ({self.get_side_display()})"

    @property
    def over_chest_wall(self) -> bool:
        return self.muscle in CHEST_WALL_MUSCLES

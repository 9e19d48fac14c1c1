import zoneinfo
from datetime import datetime, time

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _

from tracker import phones
from tracker.choices import Language, Role, TimePoint
from tracker.models.base import ClinicScopedQuerySet, TrackerModel


def validate_time_zone(value):
    if value not in zoneinfo.available_timezones():
        raise ValidationError(_("%(value)s is not a known time zone."), params={"value": value})


class ClinicQuerySet(ClinicScopedQuerySet):
    clinic_path = ""


class Clinic(TrackerModel):
    """A clinic: the unit that owns patients, sees alerts and sets thresholds.

    Every time a patient or therapist sees is shown in the clinic's zone.
    """

    name = models.CharField(max_length=120)
    time_zone = models.CharField(
        max_length=64,
        default="Europe/London",
        validators=[validate_time_zone],
        help_text=_("IANA name, e.g. Europe/Madrid or America/Chicago."),
    )
    phone = models.CharField(
        max_length=40, blank=True, help_text=_("Shown to patients who need to reach the clinic.")
    )
    emergency_number = models.CharField(
        max_length=16,
        default="112",
        help_text=_("The emergency services number patients are told to call (999, 911, 112…)."),
    )
    settled_max = models.PositiveSmallIntegerField(
        _("settled at or below"),
        default=2,
        validators=[MinValueValidator(0), MaxValueValidator(10)],
        help_text=_(
            "Soreness at or below this counts as settled (0–10): it decides the 72-hour "
            "check-in, the settled share in analytics and the alerts. Default 2 (mild)."
        ),
    )
    soreness_threshold = models.PositiveSmallIntegerField(
        _("alert at 48 h from"),
        default=4,
        validators=[MinValueValidator(0), MaxValueValidator(10)],
        help_text=_(
            "Soreness at 48 h at or above this alerts the therapist. "
            "The literature gives no cut-off; 4/10 is the default."
        ),
    )
    soreness_72h_threshold = models.PositiveSmallIntegerField(
        _("alert at 72 h from"),
        default=3,
        validators=[MinValueValidator(0), MaxValueValidator(10)],
        help_text=_(
            "Soreness at 72 h at or above this alerts the therapist; below it, it is recorded."
        ),
    )
    attention_rules_off = models.JSONField(
        _("attention alerts switched off"),
        default=list,
        blank=True,
        help_text=_("Attention rules this clinic does not use. Warning signs always alert."),
    )
    urgent_contacts = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        blank=True,
        related_name="urgent_contact_for",
        help_text=_(
            "Staff told of every urgent alert, with the treating therapist, by email and by "
            "text message where they have a mobile number."
        ),
    )
    escalation_minutes = models.PositiveSmallIntegerField(
        _("escalate after (minutes)"),
        default=15,
        validators=[MinValueValidator(1), MaxValueValidator(240)],
        help_text=_(
            "An urgent alert not acknowledged this long is sent again to the clinic's leads "
            "and urgent contacts, and again each time as long passes."
        ),
    )
    fixed_6h = models.BooleanField(
        _("always ask at 6 hours"),
        default=False,
        help_text=_("Soreness falls most steeply between 6 and 12 hours."),
    )
    fixed_72h = models.BooleanField(
        _("always ask at 72 hours"),
        default=False,
        help_text=_(
            "Otherwise a 72-hour check-in is added only when soreness has not settled at 48 h."
        ),
    )
    window_opens_hours_before = models.PositiveSmallIntegerField(
        _("check-in opens (hours before due)"),
        default=2,
        validators=[MaxValueValidator(12)],
    )
    window_closes_hours_after = models.PositiveSmallIntegerField(
        _("check-in closes (hours after due)"),
        default=12,
        validators=[MinValueValidator(1), MaxValueValidator(24)],
    )
    quiet_hours_start = models.TimeField(
        _("quiet hours from"),
        default=time(21, 0),
        help_text=_(
            "Clinic local time. No check-in reminder goes to a patient from this time until "
            "quiet hours end; one due meanwhile goes when they end, if its check-in is still "
            "open. Urgent alerts to staff are never held. The same time in both fields: none."
        ),
    )
    quiet_hours_end = models.TimeField(
        _("quiet hours until"),
        default=time(8, 0),
        help_text=_("Clinic local time at which held reminders go out."),
    )
    require_2fa_for_leads = models.BooleanField(
        _("leads must use two-step sign-in"),
        default=False,
        help_text=_(
            "A lead of this clinic without an authenticator app set up is asked to set one up "
            "at their next sign-in, before any other page."
        ),
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ClinicQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(soreness_threshold__lte=10),
                name="clinic_soreness_threshold_0_10",
            ),
            models.CheckConstraint(
                condition=models.Q(settled_max__lte=10, soreness_72h_threshold__lte=10),
                name="clinic_settled_and_72h_0_10",
            ),
            models.CheckConstraint(
                condition=models.Q(escalation_minutes__gte=1, escalation_minutes__lte=240),
                name="clinic_escalation_minutes_in_range",
            ),
            models.CheckConstraint(
                condition=models.Q(window_opens_hours_before__lte=12)
                & models.Q(window_closes_hours_after__gte=1, window_closes_hours_after__lte=24),
                name="clinic_window_hours_in_range",
            ),
        ]

    def __str__(self):
        return self.name

    @cached_property
    def zone(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.time_zone)

    @property
    def phone_region(self) -> str | None:
        """The country a phone number without its +code is read in: the time zone's
        (tracker/phones.py), e.g. GB for Europe/London; None for zones of no country."""
        return phones.region_for_zone(self.time_zone)

    def in_quiet_hours(self, moment: datetime) -> bool:
        """Whether ``moment`` falls in this clinic's quiet hours, read on its local clock.

        Quiet hours may run past midnight (21:00–08:00, the default) or not
        (13:00–14:00); the start is inside, the end is not. Equal times mean
        no quiet hours. Local time follows daylight saving: 08:00 is 08:00 on
        the clinic's clocks whether that is 07:00 or 08:00 UTC.
        """
        start, end = self.quiet_hours_start, self.quiet_hours_end
        if start == end:
            return False
        local = moment.astimezone(self.zone).time()
        if start < end:
            return start <= local < end
        return local >= start or local < end

    def is_settled(self, soreness: int) -> bool:
        """Whether ``soreness`` (NRS 0–10) counts as settled in this clinic."""
        return soreness <= self.settled_max

    def uses_rule(self, rule: str) -> bool:
        """Whether this clinic's attention rule ``rule`` is on (warning signs always are)."""
        return rule not in (self.attention_rules_off or ())

    @property
    def fixed_time_points(self) -> list[TimePoint]:
        """The check-ins every session gets; 72 h may still be added when soreness lingers."""
        points = [TimePoint.IN_CLINIC, TimePoint.H24, TimePoint.H48]
        if self.fixed_6h:
            points.append(TimePoint.H6)
        if self.fixed_72h:
            points.append(TimePoint.H72)
        return sorted(points)


class Membership(TrackerModel):
    """A staff user's place in a clinic. A user may work at several clinics."""

    # Indexed by membership_unique_user_clinic, which starts with it.
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="memberships",
        db_index=False,
    )
    clinic = models.ForeignKey(Clinic, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.THERAPIST)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["user", "clinic"], name="membership_unique_user_clinic"
            ),
        ]

    def __str__(self):
        return f"{self.user} at {self.clinic} ({self.get_role_display()})"


class StaffProfile(TrackerModel):
    """What a staff member sets for themselves: the language they read the app
    and its messages in, and a mobile number for urgent alerts by text."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="staff_profile"
    )
    language = models.CharField(
        _("language"),
        max_length=8,
        choices=Language.choices,
        default=Language.ENGLISH,
        help_text=_("Pages, emails and texts to you are in this language."),
    )
    mobile = models.CharField(
        _("mobile number"),
        max_length=32,
        blank=True,
        help_text=_(
            "Urgent alerts are also sent here by text message, in international form (+44…)."
        ),
    )

    def __str__(self):
        return f"Profile of {self.user}"

    @classmethod
    def for_user(cls, user) -> "StaffProfile":
        """The user's profile, or an unsaved default one (nothing is written by reading)."""
        try:
            return user.staff_profile
        except cls.DoesNotExist:
            return cls(user=user)

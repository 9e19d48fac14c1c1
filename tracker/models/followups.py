import functools
import operator
from datetime import timedelta

from django.db import models
from django.utils.translation import gettext_lazy as _

from tracker.choices import (
    CHECK_IN_NAMES,
    AfterEffect,
    BruiseBand,
    Interference,
    Pgic,
    RedFlag,
    TimePoint,
    TwitchingFelt,
)
from tracker.models.base import ClinicScopedQuerySet, TrackerModel
from tracker.models.sessions import NRS_VALIDATORS


class FollowUpState(models.TextChoices):
    UPCOMING = "upcoming", _("Upcoming")
    OPEN = "open", _("Open now")
    LATE = "late", _("Late")
    ANSWERED = "answered", _("Answered")
    MISSED = "missed", _("Missed")
    # The session was recorded after this check-in's window had closed: the
    # patient never had the link while it could be answered. Not missed.
    NOT_ASKED = "not_asked", _("Not asked")
    # Unanswered, and its session was marked "entered in error".
    ENTERED_IN_ERROR = "entered_in_error", _("Entered in error")


ANSWERABLE_STATES = frozenset({FollowUpState.OPEN, FollowUpState.LATE})

# A check-in not answered this long after its due time is late (still answerable).
LATE_AFTER = timedelta(hours=2)


def answerable_q(moment) -> models.Q:
    """Open or late at ``moment``: the patient may still answer."""
    return models.Q(answered_at__isnull=True, opens_at__lte=moment, closes_at__gt=moment)


def open_q(moment) -> models.Q:
    return answerable_q(moment) & models.Q(due_at__gt=moment - LATE_AFTER)


def late_q(moment) -> models.Q:
    return answerable_q(moment) & models.Q(due_at__lte=moment - LATE_AFTER)


def missed_q(moment) -> models.Q:
    """Closed unanswered by ``moment``."""
    return models.Q(answered_at__isnull=True, closes_at__lte=moment)


class FollowUpQuerySet(ClinicScopedQuerySet):
    """Each state's condition is also a Q above, for counting several in one query."""

    def active(self):
        """Check-ins that were asked, of sessions not entered in error: the ones that count."""
        return self.filter(asked=True, session_in_error=False)

    def answerable_at(self, moment):
        return self.active().filter(answerable_q(moment))

    def open_at(self, moment):
        return self.active().filter(open_q(moment))

    def state_counts_by_clinic(self, moment, *, missed_since):
        """How many of these check-ins are open, late, and missed since ``missed_since``,
        at ``moment``: a row (open, late, missed) per clinic, from one pass over the
        unanswered ones opened by ``moment`` that close from ``missed_since`` on, where
        all three lie (followup_clinic_unanswered_idx holds them in that order). Within
        that window each state is only the condition on its own columns that open_q,
        late_q and missed_q add to it: five comparisons to build rather than eleven,
        on a page that counts them every minute.

        Rows are counted by their clinic, a column the index holds, not by their id:
        PostgreSQL's indexes do not hold the id, and counting it would make it read
        each counted row from the table.
        """
        late_from = moment - LATE_AFTER
        return (
            self.filter(answered_at__isnull=True, opens_at__lte=moment, closes_at__gte=missed_since)
            .order_by()
            .values("clinic")
            .annotate(
                open=models.Count(
                    "clinic", filter=models.Q(closes_at__gt=moment, due_at__gt=late_from)
                ),
                late=models.Count(
                    "clinic", filter=models.Q(closes_at__gt=moment, due_at__lte=late_from)
                ),
                missed=models.Count("clinic", filter=models.Q(closes_at__lte=moment)),
            )
            .values_list("open", "late", "missed")
        )

    def state_counts(self, moment, *, missed_since) -> dict[str, int]:
        """The totals of ``state_counts_by_clinic``, by state."""
        rows = self.state_counts_by_clinic(moment, missed_since=missed_since)
        return dict(zip(("open", "late", "missed"), totals(rows, 3), strict=True))

    def late_at(self, moment):
        return self.active().filter(late_q(moment))

    def missed_at(self, moment):
        """Closed unanswered, though asked (not "not asked"), in a session not entered in error."""
        return self.active().filter(missed_q(moment))


def totals(rows, width: int) -> list[int]:
    """The sum of each column of ``rows`` of counts (zeros for no rows)."""
    return [sum(column) for column in zip(*rows, strict=True)] or [0] * width


def window_state(moment, *, opens_at, due_at, closes_at) -> str:
    """Where ``moment`` falls in a check-in's window: upcoming, open, late or missed.

    The state of a check-in that was asked, is unanswered and whose session
    stands (``FollowUp.state_at``): the one part of a state that follows from
    the clock rather than from stored columns.
    """
    if moment < opens_at:
        return FollowUpState.UPCOMING
    if moment >= closes_at:
        return FollowUpState.MISSED
    if moment >= due_at + LATE_AFTER:
        return FollowUpState.LATE
    return FollowUpState.OPEN


class FollowUp(TrackerModel):
    """One planned check-in for a session, at a fixed time point.

    The patient may answer between ``opens_at`` and ``closes_at``. Its state is
    never stored: it follows from those times, ``answered_at`` and the clock,
    in ``state_at`` and ``window_state`` (and, for lists, in the matching
    queryset filters). This is the one place that says what upcoming, open,
    late and missed mean.
    """

    # Indexed by followup_unique_session_time_point, which starts with it.
    session = models.ForeignKey(
        "tracker.NeedlingSession",
        on_delete=models.CASCADE,
        related_name="follow_ups",
        db_index=False,
    )
    # The session's clinic, for the dashboard's lists (see NeedlingSession.clinic).
    clinic = models.ForeignKey(
        "tracker.Clinic", on_delete=models.PROTECT, related_name="+", editable=False
    )
    time_point = models.PositiveSmallIntegerField(choices=TimePoint.choices)
    due_at = models.DateTimeField()
    opens_at = models.DateTimeField()
    closes_at = models.DateTimeField()
    answered_at = models.DateTimeField(null=True, blank=True)
    reminder_sent_at = models.DateTimeField(null=True, blank=True)
    # When the reminder job recorded the closed window (and ran the missed rule).
    marked_missed_at = models.DateTimeField(null=True, blank=True)
    # False when the session was recorded after this check-in's window had
    # closed (a backdated session): the patient was never asked, so it is
    # neither missed, nor reminded, nor counted in completion. A fact of
    # planning, not a state: it never changes afterwards.
    asked = models.BooleanField(default=True, editable=False)
    # A copy of "its session was entered in error", set in the same transaction
    # as the session's mark (``services.mark_entered_in_error``), never undone.
    # The lists of Today then read the counting check-ins from one index alone.
    session_in_error = models.BooleanField(default=False, editable=False)

    objects = FollowUpQuerySet.as_manager()

    class Meta:
        ordering = ["session", "time_point"]
        constraints = [
            models.UniqueConstraint(
                fields=["session", "time_point"], name="followup_unique_session_time_point"
            ),
            models.CheckConstraint(
                condition=models.Q(opens_at__lte=models.F("due_at"))
                & models.Q(due_at__lt=models.F("closes_at")),
                name="followup_window_contains_due_time",
            ),
        ]
        indexes = [
            # The reminder job, across all clinics: unanswered check-ins whose
            # window is open (send_due_reminders) or has closed (mark_missed).
            models.Index(
                fields=["closes_at", "opens_at"],
                condition=models.Q(answered_at__isnull=True),
                name="followup_unanswered_window_idx",
            ),
            # The dashboard's open, late and missed lists and their counts: a
            # clinic's unanswered check-ins that count (``active()``) by closing
            # time, with the other two times and the condition's own columns
            # (the same in every row), so that a count reads the index alone.
            models.Index(
                fields=[
                    "clinic",
                    "closes_at",
                    "opens_at",
                    "due_at",
                    "answered_at",
                    "asked",
                    "session_in_error",
                ],
                condition=models.Q(answered_at__isnull=True, asked=True, session_in_error=False),
                name="followup_clinic_unanswered_idx",
            ),
        ]

    def __str__(self):
        return f"{self.get_time_point_display()} check-in, session {self.session_id}"

    @property
    def check_in_name(self) -> str:
        return CHECK_IN_NAMES[self.time_point]

    def state_at(self, moment) -> str:
        if self.answered_at is not None:
            return FollowUpState.ANSWERED
        if not self.asked:
            return FollowUpState.NOT_ASKED
        # The session is nearly always cached on the row (prefetches, related managers).
        if self.session.entered_in_error_at is not None:
            return FollowUpState.ENTERED_IN_ERROR
        return window_state(
            moment, opens_at=self.opens_at, due_at=self.due_at, closes_at=self.closes_at
        )

    def is_answerable_at(self, moment) -> bool:
        return self.state_at(moment) in ANSWERABLE_STATES


class SymptomReportQuerySet(ClinicScopedQuerySet):
    clinic_path = "follow_up__clinic"


class SymptomReport(TrackerModel):
    """A patient's answer to one follow-up.

    ``idempotency_key`` is made by the form when the page is shown, so a phone
    that resends the same submission finds the report it already stored.
    """

    follow_up = models.OneToOneField(FollowUp, on_delete=models.CASCADE, related_name="report")
    idempotency_key = models.UUIDField(unique=True)
    soreness = models.PositiveSmallIntegerField(_("soreness now (0–10)"), validators=NRS_VALIDATORS)
    twitching = models.CharField(
        _("twitching or cramping"), max_length=8, choices=TwitchingFelt.choices
    )
    bruising = models.CharField(max_length=8, choices=BruiseBand.choices)
    bruise_growing = models.BooleanField(_("bruise getting bigger"), default=False)
    bruise_elsewhere = models.BooleanField(_("bruise away from the needled places"), default=False)
    interference = models.CharField(
        _("interference with usual activities"), max_length=12, choices=Interference.choices
    )

    bleeding = models.BooleanField(AfterEffect.BLEEDING.label, default=False)
    drowsiness = models.BooleanField(AfterEffect.DROWSINESS.label, default=False)
    headache = models.BooleanField(AfterEffect.HEADACHE.label, default=False)
    nausea = models.BooleanField(AfterEffect.NAUSEA.label, default=False)
    dizziness = models.BooleanField(AfterEffect.DIZZINESS.label, default=False)
    aggravation = models.BooleanField(AfterEffect.AGGRAVATION.label, default=False)

    rf_breathing = models.BooleanField(RedFlag.BREATHING.label, default=False)
    rf_cough = models.BooleanField(RedFlag.COUGH.label, default=False)
    rf_infection = models.BooleanField(RedFlag.INFECTION.label, default=False)
    rf_bleeding = models.BooleanField(RedFlag.HEAVY_BLEEDING.label, default=False)
    rf_fainting = models.BooleanField(RedFlag.FAINTING.label, default=False)
    rf_numbness = models.BooleanField(RedFlag.NUMBNESS.label, default=False)

    # Asked at every check-in after the first (PRO-CTCAE's local reaction); empty
    # where it was not asked.
    local_reaction = models.BooleanField(
        _("pain, swelling or redness where the needle went in"), null=True, blank=True
    )
    # Asked at the last planned check-in; empty where it was not asked.
    pgic = models.PositiveSmallIntegerField(
        _("original complaint compared with before the session"),
        choices=Pgic.choices,
        null=True,
        blank=True,
    )
    note = models.TextField(blank=True, max_length=1000)
    submitted_at = models.DateTimeField()

    objects = SymptomReportQuerySet.as_manager()

    class Meta:
        ordering = ["submitted_at"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(soreness__gte=0, soreness__lte=10),
                name="report_soreness_nrs_0_10",
            ),
            models.CheckConstraint(
                condition=models.Q(pgic__isnull=True) | models.Q(pgic__gte=1, pgic__lte=7),
                name="report_pgic_1_7",
            ),
        ]

    def __str__(self):
        return f"Report for {self.follow_up}"

    @property
    def after_effects(self) -> list[str]:
        return [label for value, label in AfterEffect.choices if getattr(self, value)]

    @property
    def red_flags(self) -> list[str]:
        return [label for value, label in RedFlag.choices if getattr(self, value)]

    @property
    def has_red_flag(self) -> bool:
        return any(getattr(self, value) for value in RedFlag.values)


class WarningReportQuerySet(ClinicScopedQuerySet):
    clinic_path = "session__clinic"


class WarningReport(TrackerModel):
    """Warning signs a patient reported through the link with no check-in open:
    between two check-ins, after answering one, or after the last.

    A collapsed lung can show from an hour to two days after needling near
    the chest, and infection days later, so the link takes warning signs at
    any time it is usable. Each report opens its own urgent alert
    (``Alert.warning_report``). ``idempotency_key`` is made from the page's
    key and the signs (``services.report_warning``): a phone that resends the
    same report stores one and opens one alert, while other signs sent from
    the same page are a report of their own.
    """

    session = models.ForeignKey(
        "tracker.NeedlingSession", on_delete=models.CASCADE, related_name="warning_reports"
    )
    idempotency_key = models.UUIDField(unique=True)
    rf_breathing = models.BooleanField(RedFlag.BREATHING.label, default=False)
    rf_cough = models.BooleanField(RedFlag.COUGH.label, default=False)
    rf_infection = models.BooleanField(RedFlag.INFECTION.label, default=False)
    rf_bleeding = models.BooleanField(RedFlag.HEAVY_BLEEDING.label, default=False)
    rf_fainting = models.BooleanField(RedFlag.FAINTING.label, default=False)
    rf_numbness = models.BooleanField(RedFlag.NUMBNESS.label, default=False)
    reported_at = models.DateTimeField()

    objects = WarningReportQuerySet.as_manager()

    class Meta:
        ordering = ["reported_at", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=functools.reduce(
                    operator.or_, (models.Q(**{flag: True}) for flag in RedFlag.values)
                ),
                name="warningreport_has_a_sign",
            ),
        ]

    def __str__(self):
        return f"Warning signs reported for session {self.session_id}"

    @property
    def flags(self) -> list[str]:
        """The RedFlag values reported."""
        return [value for value in RedFlag.values if getattr(self, value)]

    @property
    def red_flags(self) -> list[str]:
        return [label for value, label in RedFlag.choices if getattr(self, value)]

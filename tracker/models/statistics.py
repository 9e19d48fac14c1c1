"""Counts kept for the charts, so that no page has to count a clinic's every report."""

from django.db import models
from django.db.models import Count, Max, Q

from tracker.choices import BruiseBand, RedFlag, TimePoint

# ---------------------------------------------------------------------------
# After-effects, as conditions on one report. A session has the effect when
# any of its reports has it.

MINOR_EFFECTS = ("bleeding", "drowsiness", "headache", "nausea", "dizziness", "aggravation")
BRUISED = ~Q(bruising=BruiseBand.NONE)
# Bleeding that does not stop is a warning sign, and bleeding all the same.
BLED = Q(bleeding=True) | Q(rf_bleeding=True)
WARNING_SIGN = Q(*[(name, True) for name in RedFlag.values], _connector=Q.OR)
AFTER_EFFECTS = {
    "bruising": BRUISED,
    "bleeding": BLED,
    "aggravation": Q(aggravation=True),
    "any_minor": BRUISED | BLED | Q(*[(name, True) for name in MINOR_EFFECTS], _connector=Q.OR),
    "warning_sign": WARNING_SIGN,
}


class SorenessCounts(models.Model):
    """A clinic's soreness answers counted by check-in and score: its typical course.

    ``counts`` maps a check-in's hours to soreness (0–10) to the number of
    answers, over every report of the clinic's sessions not entered in error:
    at most 5 × 11 numbers, and no patient data. The quartiles drawn behind
    each patient's chart are worked out from them when drawn
    (``tracker.analytics.soreness``), with the clinic's settings of that moment.

    Counted by ``manage.py count_typical_courses`` (hourly, from cron), and by
    the first chart that needs them when that has not run for an hour.
    """

    clinic = models.OneToOneField(
        "tracker.Clinic", on_delete=models.CASCADE, primary_key=True, related_name="+"
    )
    counts = models.JSONField()
    counted_at = models.DateTimeField()

    def __str__(self):
        return f"soreness counts of clinic {self.clinic_id} at {self.counted_at:%Y-%m-%d %H:%M}"


def _on_report(cond: Q) -> Q:
    """``cond`` on a report, as seen from its session (through its follow-ups)."""
    return Q(
        *[
            _on_report(child)
            if isinstance(child, Q)
            else (f"follow_ups__report__{child[0]}", child[1])
            for child in cond.children
        ],
        _connector=cond.connector,
        _negated=cond.negated,
    )


class SessionOutcomeManager(models.Manager):
    """Counting outcome rows from the sessions' follow-ups and reports.

    Also the historical model's manager in migrations, which fill the table.
    """

    use_in_migrations = True
    # Sessions counted per query when many are counted (seeding, migrating).
    batch = 2000

    def recount(self, sessions) -> int:
        """Write the outcome row of each of ``sessions`` (a queryset); how many. Two queries.

        One query reduces each session's follow-ups and reports to a row; one
        ``INSERT … ON CONFLICT UPDATE`` stores them, so that two requests
        counting the same session both succeed.
        """
        hours = TimePoint.values
        rows = (
            sessions.order_by()
            .annotate(
                o_last_close=Max("follow_ups__closes_at"),
                o_answers=Count("follow_ups__report"),
                **{
                    f"o_{key}": Count("follow_ups__report", filter=_on_report(cond))
                    for key, cond in AFTER_EFFECTS.items()
                },
                **{
                    f"o_soreness_{h}": Max(
                        "follow_ups__report__soreness", filter=Q(follow_ups__time_point=h)
                    )
                    for h in hours
                },
                **{
                    f"o_pgic_{h}": Max(
                        "follow_ups__report__pgic", filter=Q(follow_ups__time_point=h)
                    )
                    for h in hours
                },
            )
            .values()
        )
        outcomes = []
        for row in rows:
            # The impression that counts is the latest: a 72 h check-in added
            # after the 48 h answer asks it again.
            answered = [row[f"o_pgic_{h}"] for h in hours if row[f"o_pgic_{h}"] is not None]
            outcomes.append(
                self.model(
                    session_id=row["id"],
                    last_close=row["o_last_close"],
                    answers=row["o_answers"],
                    pgic=answered[-1] if answered else None,
                    **{key: row[f"o_{key}"] > 0 for key in AFTER_EFFECTS},
                    **{SessionOutcome.soreness_field(h): row[f"o_soreness_{h}"] for h in hours},
                )
            )
        self.bulk_create(
            outcomes,
            update_conflicts=True,
            unique_fields=["session"],
            update_fields=[f.name for f in self.model._meta.concrete_fields if not f.primary_key],
        )
        return len(outcomes)

    def recount_session(self, session) -> None:
        """``recount`` of one session."""
        self.recount(type(session).objects.filter(pk=session.pk))

    def recount_all(self, sessions) -> int:
        """``recount`` of many sessions, ``batch`` at a time; how many."""
        ids = list(sessions.order_by("pk").values_list("pk", flat=True))
        for start in range(0, len(ids), self.batch):
            self.recount(sessions.model.objects.filter(pk__in=ids[start : start + self.batch]))
        return len(ids)


class SessionOutcome(models.Model):
    """What a session's check-ins have told so far: one row per session, for the analytics.

    The analytics page reads months of a clinic's sessions; reading each
    session's reports through its follow-ups costs every chart a three-table
    join per report. This row holds what the charts count of them instead:
    whether any report had each after-effect, the soreness answered at each
    check-in, and the patient's last impression of change.

    ``SessionOutcome.objects.recount`` writes it from the session's follow-ups
    and reports, in the transaction of whatever changed them: recording the
    session, storing a report, marking a 48 h check-in missed (which may plan
    a 72 h one). Rows are derived, never edited: recounted, they come out the
    same. ``bulk_create`` skips all that: the bulk seeds count their sessions
    themselves.
    """

    session = models.OneToOneField(
        "tracker.NeedlingSession",
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="outcome",
    )
    # When its last planned check-in closes: until then, an after-effect may still come.
    last_close = models.DateTimeField(null=True, blank=True)
    answers = models.PositiveSmallIntegerField(default=0)
    # Whether any of its reports had the after-effect (AFTER_EFFECTS).
    bruising = models.BooleanField(default=False)
    bleeding = models.BooleanField(default=False)
    aggravation = models.BooleanField(default=False)
    any_minor = models.BooleanField(default=False)
    warning_sign = models.BooleanField(default=False)
    # Soreness (0–10) answered at each check-in; empty when it was not answered.
    soreness_0h = models.PositiveSmallIntegerField(null=True, blank=True)
    soreness_6h = models.PositiveSmallIntegerField(null=True, blank=True)
    soreness_24h = models.PositiveSmallIntegerField(null=True, blank=True)
    soreness_48h = models.PositiveSmallIntegerField(null=True, blank=True)
    soreness_72h = models.PositiveSmallIntegerField(null=True, blank=True)
    # The global impression of change at the latest check-in that asked it.
    pgic = models.PositiveSmallIntegerField(null=True, blank=True)

    objects = SessionOutcomeManager()

    @staticmethod
    def soreness_field(hours: int) -> str:
        """The field holding the soreness answered ``hours`` after the session."""
        return f"soreness_{int(hours)}h"

    def __str__(self):
        return f"outcome of session {self.session_id}"

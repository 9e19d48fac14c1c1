"""Counts kept for the charts, so that no page has to count a clinic's every report."""

from django.conf import settings
from django.core.exceptions import FieldDoesNotExist
from django.db import connections, models, router, transaction
from django.utils.functional import cached_property

from tracker.choices import AfterEffect, BruiseBand, RedFlag, TimePoint
from tracker.queries.rows import Statement
from tracker.queries.writes import Update

# ---------------------------------------------------------------------------
# After-effects of one report. A session has an effect when any of its
# reports has it.

AFTER_EFFECTS = ("bruising", "bleeding", "aggravation", "any_minor", "warning_sign")
SITE_SEPARATOR, PAIR_SEPARATOR = " ", ":"  # SessionOutcome.sites
# The outcome's fields its session's check-ins decide.
CHECK_IN_FIELDS = (
    "last_close",
    "asked",
    "answers",
    *AFTER_EFFECTS,
    *(f"soreness_{hours}h" for hours in TimePoint.values),  # SessionOutcome.soreness_field
    "pgic",
)
_MINOR = tuple(AfterEffect.values)  # each a SymptomReport field
_WARNING_SIGNS = tuple(RedFlag.values)
# The report's fields they are read from.
EFFECT_FIELDS = ("bruising", *_MINOR, *_WARNING_SIGNS)


def after_effects(answers: dict) -> dict[str, bool]:
    """Which of AFTER_EFFECTS a report has, from its EFFECT_FIELDS."""
    bruised = answers["bruising"] != BruiseBand.NONE
    # Bleeding that does not stop is a warning sign, and bleeding all the same.
    bled = answers[AfterEffect.BLEEDING.value] or answers[RedFlag.HEAVY_BLEEDING.value]
    return {
        "bruising": bruised,
        "bleeding": bled,
        "aggravation": answers[AfterEffect.AGGRAVATION.value],
        "any_minor": bruised or bled or any(answers[name] for name in _MINOR),
        "warning_sign": any(answers[name] for name in _WARNING_SIGNS),
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


class SessionOutcomeManager(models.Manager):
    """Counting outcome rows from the sessions' follow-ups and reports.

    Also the historical model's manager in migrations, which fill the table.
    """

    use_in_migrations = True
    # Sessions counted per query when many are counted (seeding, migrating).
    batch = 2000

    def recount(self, session_ids: list[int]) -> int:
        """Write the outcome row of each session of ``session_ids``; how many.

        ``batch`` sessions at a time, three queries each: one reads the
        sessions with their follow-ups and reports' answers, reduced here to a
        row per session, one their sites; one ``INSERT … ON CONFLICT UPDATE``
        stores them, so that two requests counting the same session both
        succeed.
        """
        for start in range(0, len(session_ids), self.batch):
            self._recount(session_ids[start : start + self.batch])
        return len(session_ids)

    def _recount(self, session_ids: list[int]) -> None:
        outcomes = self._from_check_ins(session_ids)
        session_model = self.model._meta.get_field("session").related_model
        site_model = session_model._meta.get_field("sites").related_model
        pairs = (
            site_model.objects.filter(session__in=session_ids)
            .order_by("session_id", "muscle", "technique")
            .values_list("session_id", "muscle", "technique")
            .distinct()
        )
        for session_id, muscle, technique in pairs:
            outcome = outcomes[session_id]
            pair = f"{muscle}{PAIR_SEPARATOR}{technique}"
            outcome.sites = f"{outcome.sites}{SITE_SEPARATOR}{pair}" if outcome.sites else pair
        self.bulk_create(
            outcomes.values(),
            update_conflicts=True,
            unique_fields=["session"],
            update_fields=[f.name for f in self.model._meta.concrete_fields if not f.primary_key],
        )

    @cached_property
    def _check_in_rows(self):
        """What ``_from_check_ins`` reads, for any sessions: built once per model
        (each check-in reads it, and building its joins took longer than running it)."""
        session_model = self.model._meta.get_field("session").related_model
        return session_model.objects.order_by("pk", "follow_ups__time_point").values(
            "pk",
            "clinic_id",
            "performed_at",
            "entered_in_error_at",
            "therapist_id",
            "follow_ups__time_point",
            "follow_ups__closes_at",
            "follow_ups__asked",
            "follow_ups__report__id",
            "follow_ups__report__soreness",
            "follow_ups__report__pgic",
            *(f"follow_ups__report__{name}" for name in EFFECT_FIELDS),
        )

    @cached_property
    def _update_check_ins(self):
        """The row's ``CHECK_IN_FIELDS`` updated by ``recount_session``: written once."""
        return Update(self.model, CHECK_IN_FIELDS)

    @cached_property
    def _one_session_rows(self):
        """``_check_in_rows`` of one session, read on every check-in: compiled once."""
        return Statement(lambda session: self._check_in_rows.filter(pk=session))

    def _from_check_ins(self, session_ids: list[int]) -> dict:
        """The sessions' outcome rows (unsaved) from them, their follow-ups and
        reports, all but ``sites``. One query."""
        if len(session_ids) == 1:
            names = self._check_in_rows.query.values_select
            rows = [
                dict(zip(names, row, strict=True))
                for row in self._one_session_rows.rows(session=session_ids[0])
            ]
        else:
            rows = self._check_in_rows.filter(pk__in=session_ids)
        outcomes = {}
        for row in rows:
            outcome = outcomes.get(row["pk"])
            if outcome is None:
                outcome = outcomes[row["pk"]] = self.model(
                    session_id=row["pk"],
                    clinic_id=row["clinic_id"],
                    performed_at=row["performed_at"],
                    entered_in_error=row["entered_in_error_at"] is not None,
                    therapist_id=row["therapist_id"],
                )
            closes_at = row["follow_ups__closes_at"]
            if closes_at is not None and (
                outcome.last_close is None or closes_at > outcome.last_close
            ):
                outcome.last_close = closes_at
            if row["follow_ups__asked"]:
                # Set, not passed to the model: the historical model of
                # migration 0016, which counts with this method, has no field.
                bit = SessionOutcome.asked_bit(row["follow_ups__time_point"])
                outcome.asked = getattr(outcome, "asked", 0) | bit
            if row["follow_ups__report__id"] is None:
                continue
            outcome.answers += 1
            soreness = SessionOutcome.soreness_field(row["follow_ups__time_point"])
            setattr(outcome, soreness, row["follow_ups__report__soreness"])
            if row["follow_ups__report__pgic"] is not None:
                # In time-point order: the latest impression is the one that
                # counts (a 72 h check-in added after the 48 h answer asks again).
                outcome.pgic = row["follow_ups__report__pgic"]
            answers = {name: row[f"follow_ups__report__{name}"] for name in EFFECT_FIELDS}
            for effect, present in after_effects(answers).items():
                if present:
                    setattr(outcome, effect, True)
        self._add_warning_reports(outcomes)
        return outcomes

    def _add_warning_reports(self, outcomes: dict) -> None:
        """The warning signs sent between check-ins are the session's after-effects
        too (a warning sign; bleeding that will not stop is bleeding). One query;
        none for the historical models of the migrations that count, from
        before warning reports."""
        session_model = self.model._meta.get_field("session").related_model
        try:
            warning_model = session_model._meta.get_field("warning_reports").related_model
        except FieldDoesNotExist:
            return
        if not outcomes:
            return
        no_answers = dict.fromkeys(EFFECT_FIELDS, False) | {"bruising": BruiseBand.NONE}
        flagged = warning_model.objects.filter(session__in=list(outcomes)).values_list(
            "session_id", *RedFlag.values
        )
        for session_id, *flags in flagged:
            answers = no_answers | dict(zip(RedFlag.values, flags, strict=True))
            for effect, present in after_effects(answers).items():
                if present:
                    setattr(outcomes[session_id], effect, True)

    def recount_session(self, session, *, check_ins_only: bool = False) -> None:
        """``recount`` of one session.

        ``check_ins_only``: only its check-ins changed (a check-in planned or
        missed; a report stored that planned one, as others are counted by
        ``count_report``), so its sites are not read again and its row is
        updated in place: two queries, not three. A session without a row yet
        is counted in full.
        """
        if check_ins_only:
            outcome = self._from_check_ins([session.pk]).get(session.pk)
            if outcome is not None:
                answers = {name: getattr(outcome, name) for name in CHECK_IN_FIELDS}
                if self._update_check_ins.run(session.pk, **answers):
                    return
        self.recount([session.pk])

    def count_report(self, report) -> bool:
        """Add ``report``, just stored, to its session's row in place: what
        ``recount`` would then write, in one UPDATE with nothing read (the
        read of the session's check-ins saved on every check-in). False when
        the session has no row yet: ``recount`` it.

        The row gains one answer, the report's soreness at its check-in, and
        each after-effect the report has (a session has one when any of its
        reports has). Its impression of change replaces the row's unless a
        later check-in is answered already (its soreness is there): the latest
        in time-point order counts, as in ``recount``. The session's
        check-ins must be as they were: a report that plans one (the 72 h
        check-in) is counted by ``recount_session(check_ins_only=True)``.
        """
        follow_up = report.follow_up
        connection = connections[router.db_for_write(self.model)]
        effects = after_effects({name: getattr(report, name) for name in EFFECT_FIELDS})
        values = [
            (SessionOutcome.soreness_field(follow_up.time_point), report.soreness),
            *((name, effects[name]) for name in AFTER_EFFECTS),
            ("pgic", report.pgic),
            ("session", follow_up.session_id),
        ]
        meta = self.model._meta
        params = [
            meta.get_field(name).get_db_prep_save(value, connection) for name, value in values
        ]
        with (
            transaction.mark_for_rollback_on_error(connection.alias),
            connection.cursor() as cursor,
        ):
            cursor.execute(self._count_report_sql(connection, follow_up.time_point), params)
            return cursor.rowcount == 1

    def _count_report_sql(self, connection, time_point: int) -> str:
        """``count_report``'s UPDATE for a report at ``time_point``: written once per database."""
        key = (connection.alias, int(time_point))
        sql = self._count_report_sqls.get(key)
        if sql is None:
            quote = connection.ops.quote_name
            meta = self.model._meta

            def column(name):
                return quote(meta.get_field(name).column)

            pgic = f"COALESCE(%s, {column('pgic')})"
            later = [
                f"{column(SessionOutcome.soreness_field(hours))} IS NULL"
                for hours in TimePoint.values
                if hours > time_point
            ]
            if later:
                pgic = f"CASE WHEN {' AND '.join(later)} THEN {pgic} ELSE {column('pgic')} END"
            assignments = [
                f"{column('answers')} = {column('answers')} + 1",
                f"{column(SessionOutcome.soreness_field(time_point))} = %s",
                *(f"{column(name)} = {column(name)} OR %s" for name in AFTER_EFFECTS),
                f"{column('pgic')} = {pgic}",
            ]
            sql = self._count_report_sqls[key] = "UPDATE {} SET {} WHERE {} = %s".format(
                quote(meta.db_table), ", ".join(assignments), column("session")
            )
        return sql

    @cached_property
    def _count_report_sqls(self) -> dict:
        return {}

    def recount_all(self, sessions) -> int:
        """``recount`` of the sessions of a queryset; how many."""
        return self.recount(list(sessions.order_by("pk").values_list("pk", flat=True)))


class SessionOutcome(models.Model):
    """What a session's check-ins have told so far: one row per session, for the analytics.

    The analytics page reads months of a clinic's sessions; reading each
    session's reports through its follow-ups costs every chart a three-table
    join per report. This row holds what the charts count of them instead:
    whether any report had each after-effect, the soreness answered at each
    check-in, and the patient's last impression of change. With a copy of
    the session's clinic, time and therapist, and every column in
    ``outcome_clinic_time_idx``, a clinic's period is one read of that index
    in time order: no lookup of a row per session.

    ``SessionOutcome.objects.recount`` writes it from the session's follow-ups
    and reports, in the transaction of whatever changed them: recording the
    session, correcting it, storing a report, marking a 48 h check-in missed
    (which may plan a 72 h one), marking the session entered in error. Rows are derived, never edited: recounted, they come out the
    same. ``bulk_create`` skips all that: the bulk seeds count their sessions
    themselves.
    """

    session = models.OneToOneField(
        "tracker.NeedlingSession",
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="outcome",
    )
    # The session's own (none changes once it is recorded, but for being
    # entered in error, which counts the row again): the analytics select a
    # clinic's period from this table alone.
    clinic = models.ForeignKey(
        "tracker.Clinic",
        on_delete=models.CASCADE,
        related_name="+",
        db_index=False,  # outcome_clinic_time_idx begins with it
    )
    performed_at = models.DateTimeField()
    entered_in_error = models.BooleanField(default=False)
    therapist = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", db_index=False
    )
    # When its last planned check-in closes: until then, an after-effect may still come.
    last_close = models.DateTimeField(null=True, blank=True)
    # Its check-ins that were asked (FollowUp.asked), a bit each (asked_bit()).
    # A check-in asked is answered when its soreness field is filled: once
    # ``last_close`` has passed, the completion chart counts the session's
    # check-ins from this row alone.
    asked = models.PositiveSmallIntegerField(default=0)
    answers = models.PositiveSmallIntegerField(default=0)
    # Whether any of its reports had the after-effect (after_effects()).
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
    # Its sites, each "muscle:technique" pair once, in order, separated by
    # spaces (SITE_SEPARATOR): what the charts by muscle group it by.
    sites = models.TextField(blank=True, default="")

    objects = SessionOutcomeManager()

    class Meta:
        indexes = [
            # Every column: a clinic's period is read from the index alone, in
            # order, instead of one row lookup per session.
            models.Index(
                fields=[
                    "clinic",
                    "performed_at",
                    "entered_in_error",
                    "therapist",
                    "session",
                    "last_close",
                    "asked",
                    "answers",
                    "bruising",
                    "bleeding",
                    "aggravation",
                    "any_minor",
                    "warning_sign",
                    "soreness_0h",
                    "soreness_6h",
                    "soreness_24h",
                    "soreness_48h",
                    "soreness_72h",
                    "pgic",
                    "sites",
                ],
                name="outcome_clinic_time_idx",
            ),
        ]

    @staticmethod
    def asked_bit(hours: int) -> int:
        """The bit of ``asked`` that says the check-in ``hours`` after the session was asked."""
        return 1 << TimePoint.values.index(int(hours))

    @staticmethod
    def soreness_field(hours: int) -> str:
        """The field holding the soreness answered ``hours`` after the session."""
        return f"soreness_{int(hours)}h"

    def __str__(self):
        return f"outcome of session {self.session_id}"

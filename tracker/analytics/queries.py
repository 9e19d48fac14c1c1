"""Clinic analytics: the numbers behind the analytics page, its charts and CSVs.

Every number is counted in the database (``aggregate`` / ``annotate`` with
``Count``, ``Exists``), one query per chart; what is left for Python is
arithmetic on a handful of totals (percentages, Wilson intervals, quartiles
from a histogram of at most 11 values per check-in). The results are small frozen
dataclasses whose numbers are already rounded to what is shown, so that a
chart, its table and its CSV draw exactly the same numbers.

The queries use nothing beyond the ORM (``Case``, ``Exists``,
``Count(filter=...)``), so they run on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from django.core.cache import cache
from django.db.models import (
    Case,
    Count,
    Exists,
    IntegerField,
    Max,
    Min,
    OuterRef,
    Q,
    QuerySet,
    Value,
    When,
)
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from tracker import clock
from tracker.analytics.stats import one_decimal, percent, wilson_interval
from tracker.choices import BruiseBand, RedFlag, TimePoint
from tracker.models import Clinic, FollowUp, NeedledSite, NeedlingSession, SymptomReport

# Each result reads months of a clinic's reports, and a few more reports move it
# little: it is kept this long (in the shared cache) before it is counted again.
RESULTS_CACHE_SECONDS = 5 * 60
# The shape of the results' dataclasses, as a cache version: raised when one
# changes, so that a shared cache (Redis) never hands new code an old shape.
RESULTS_FORMAT = 2
# The typical course comes from counts of all of a clinic's reports, stored by
# the hourly job (SorenessCounts); a chart counts them itself only when the
# stored ones are older than COUNTS_MAX_AGE. They are kept this long in the cache,
# so a band drawn is at most about two hours behind the reports.
TYPICAL_COURSE_CACHE_SECONDS = 60 * 60
COUNTS_MAX_AGE = timedelta(minutes=75)
SETTLED_TIME_POINTS = (TimePoint.H24, TimePoint.H48, TimePoint.H72)
# More lines than this make a line chart unreadable; the rest are counted, not drawn.
MAX_GROUPS = 8
# A quartile of fewer answers than this says little about a clinic's usual course.
TYPICAL_MIN_REPORTS = 5
# A 72 h point of the slower sessions alone (only_unsettled_at_72h) needs this many
# answers before it is drawn (docs/clinical.md, section 9).
MIN_72H_ANSWERS = 10


# ---------------------------------------------------------------------------
# Filters and the base queryset


@dataclass(frozen=True)
class Filters:
    """What the analytics page is asked about.

    Dates are calendar days in the clinic's time zone, both ends included;
    ``therapist`` is a user id. Muscle and technique select sessions with a
    site of that muscle (and technique): given both, the same site must match.
    """

    clinic: Clinic
    date_from: date | None = None
    date_to: date | None = None
    therapist: int | None = None
    muscle: str | None = None
    technique: str | None = None

    def site_q(self) -> Q:
        q = Q()
        if self.muscle:
            q &= Q(muscle=self.muscle)
        if self.technique:
            q &= Q(technique=self.technique)
        return q

    def cache_key(self) -> str:
        return ":".join(
            str(part)
            for part in (
                self.clinic.pk,
                self.date_from,
                self.date_to,
                self.therapist,
                self.muscle,
                self.technique,
            )
        )


def cached(compute, filters: Filters):
    """``compute(filters)``, from the cache when it was counted in the last few minutes.

    The language is part of the key: results hold labels (muscles, therapists'
    rows) in the language they were made in.
    """
    key = f"analytics:{compute.__name__}:{get_language()}:{filters.cache_key()}"
    return cache.get_or_set(
        key, lambda: compute(filters), RESULTS_CACHE_SECONDS, version=RESULTS_FORMAT
    )


def sessions(filters: Filters) -> QuerySet[NeedlingSession]:
    """The clinic's sessions that match ``filters``, without ordering.

    Sessions entered in error are never counted: every number on the page
    starts here (or, for the typical course, leaves them out itself).
    """
    qs = NeedlingSession.objects.filter(clinic=filters.clinic).active()
    start, end = clock.days_between(filters.date_from, filters.date_to, filters.clinic.zone)
    if start:
        qs = qs.filter(performed_at__gte=start)
    if end:
        qs = qs.filter(performed_at__lt=end)
    if filters.therapist is not None:
        qs = qs.filter(therapist_id=filters.therapist)
    site_q = filters.site_q()
    if site_q:
        # Exists, not a join: a session with two matching sites still counts once.
        qs = qs.filter(Exists(NeedledSite.objects.filter(site_q, session=OuterRef("pk"))))
    return qs.order_by()


def _session_ids(filters: Filters) -> QuerySet:
    return sessions(filters).values("pk")


# ---------------------------------------------------------------------------
# After-effect rates per session


MINOR_EFFECTS = ("bleeding", "drowsiness", "headache", "nausea", "dizziness", "aggravation")
BRUISED = ~Q(bruising=BruiseBand.NONE)

# Bleeding that does not stop is a warning sign, and bleeding all the same.
BLED = Q(bleeding=True) | Q(rf_bleeding=True)
WARNING_SIGN = Q(*[(name, True) for name in RedFlag.values], _connector=Q.OR)

# (key, label, condition on one report). A session has the effect when any of
# its reports has it.
EFFECTS = (
    ("bruising", _("Bruising"), BRUISED),
    ("bleeding", _("Bleeding"), BLED),
    ("aggravation", _("Original symptoms worse"), Q(aggravation=True)),
    (
        "any_minor",
        _("Any after-effect"),
        BRUISED | BLED | Q(*[(name, True) for name in MINOR_EFFECTS], _connector=Q.OR),
    ),
    ("warning_sign", _("Any warning sign"), WARNING_SIGN),
)


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


@dataclass(frozen=True)
class Rate:
    key: str
    label: str
    events: int
    n: int
    percent: Decimal
    low: Decimal
    high: Decimal


@dataclass(frozen=True)
class Rates:
    """After-effect rates per session, over finished follow-ups.

    ``n`` (the denominator) is the sessions whose planned check-ins have all
    closed and that have at least one answer: a session still in follow-up
    may yet report an after-effect (counting it would understate every
    rate), and a session nobody reported on can show none. ``in_follow_up``
    counts the sessions left out because a check-in is still to come;
    ``sessions`` is every matching session.
    """

    sessions: int
    n: int
    rows: tuple[Rate, ...]
    in_follow_up: int = 0


def rates(filters: Filters, *, now: datetime | None = None) -> Rates:
    """Share of sessions with each after-effect, with Wilson 95 % intervals. One query.

    The inner query reduces each session to a row of counts (its last check-in's
    closing time, its answers, its answers with each effect) in one pass over a
    join; the outer one counts those rows. Correlated ``EXISTS`` per effect read
    the same reports once per effect and session, which PostgreSQL may plan as
    nested scans over a large clinic.
    """
    now = now or clock.now()
    per_session = sessions(filters).annotate(
        last_close=Max("follow_ups__closes_at"),
        answers=Count("follow_ups__report"),
        **{
            f"with_{key}": Count("follow_ups__report", filter=_on_report(cond))
            for key, _l, cond in EFFECTS
        },
    )
    # Finished: no check-in still open, and at least one answer.
    finished = Q(last_close__lte=now, answers__gt=0)
    totals = per_session.aggregate(
        sessions=Count("pk"),
        in_follow_up=Count("pk", filter=Q(last_close__gt=now)),
        reported=Count("pk", filter=finished),
        **{
            key: Count("pk", filter=finished & Q(**{f"with_{key}__gt": 0}))
            for key, _l, _cond in EFFECTS
        },
    )
    n = totals["reported"]
    rows = []
    if n:
        for key, label, _cond in EFFECTS:
            events = totals[key]
            low, high = wilson_interval(events, n)
            rows.append(
                Rate(
                    key=key,
                    label=str(label),
                    events=events,
                    n=n,
                    percent=percent(events, n),
                    low=one_decimal(100 * low),
                    high=one_decimal(100 * high),
                )
            )
    return Rates(
        sessions=totals["sessions"], n=n, rows=tuple(rows), in_follow_up=totals["in_follow_up"]
    )


# ---------------------------------------------------------------------------
# Settled share


@dataclass(frozen=True)
class Settled:
    hours: int
    settled: int
    n: int
    percent: Decimal


def settled(filters: Filters) -> tuple[Settled, ...]:
    """Share of sessions settled at the 24, 48 and 72 h check-ins. One query.

    Settled is the clinic's one meaning of it (``Clinic.settled_max``, default
    2/10), as for the 72 h check-in and the alerts.

    The denominator at each time point is the sessions with an answered
    check-in at that time point: an unanswered check-in is unknown, not
    settled and not unsettled. Beware the 72 h row: unless the clinic always
    asks at 72 h, that check-in is added only when soreness had not settled
    at 48 h, so its share is of the slower sessions, not of all of them.
    Time points without any answer are left out.
    """
    rows = (
        SymptomReport.objects.filter(
            follow_up__session__in=_session_ids(filters),
            follow_up__time_point__in=SETTLED_TIME_POINTS,
        )
        .values_list("follow_up__time_point")
        .annotate(
            n=Count("pk"), settled=Count("pk", filter=Q(soreness__lte=filters.clinic.settled_max))
        )
        .order_by("follow_up__time_point")
    )
    return tuple(
        Settled(hours=int(hours), settled=ok, n=n, percent=percent(ok, n)) for hours, n, ok in rows
    )


# ---------------------------------------------------------------------------
# Follow-up completion by week


@dataclass(frozen=True)
class Week:
    start: date  # the Monday, in the clinic's time zone
    answered: int
    due: int
    percent: Decimal


def completion_by_week(filters: Filters, *, now: datetime | None = None) -> tuple[Week, ...]:
    """Check-ins answered / due per ISO week of their due time. Two small queries.

    Only check-ins whose window has closed count (``closes_at <= now``): an
    open one may still be answered. Check-ins never asked (a session recorded
    after their window had closed) are neither answered nor due. Weeks start
    on Monday in the clinic's zone.

    The weeks' first instants are worked out here, in the clinic's zone (so a
    week that holds a change of the clocks starts when the clinic's Monday
    does), and the database only compares each due time with them: truncating
    every row's time in the clinic's zone costs SQLite a Python call per row
    (about a second for a clinic's 90 days at 1 M reports).
    """
    now = now or clock.now()
    mondays = _mondays(filters, now)
    if not mondays:
        return ()
    zone = filters.clinic.zone
    later_starts = [clock.day_start(monday, zone) for monday in mondays[1:]]
    week = Case(
        *(When(due_at__lt=start, then=Value(i)) for i, start in enumerate(later_starts)),
        default=Value(len(later_starts)),
        output_field=IntegerField(),
    )
    rows = (
        FollowUp.objects.filter(session__in=_session_ids(filters), closes_at__lte=now, asked=True)
        .annotate(week=week)
        .values_list("week")
        .annotate(due=Count("pk"), answered=Count("pk", filter=Q(answered_at__isnull=False)))
        .order_by("week")
    )
    # With a single week the CASE is a constant, and a query grouped by a constant
    # alone is an aggregate of the whole table: one row, due 0, when nothing counts.
    return tuple(
        Week(start=mondays[i], answered=answered, due=due, percent=percent(answered, due))
        for i, due, answered in rows
        if due
    )


def _mondays(filters: Filters, now: datetime) -> list[date]:
    """Every Monday (clinic's zone) from the week of the first due time that can count
    to the week of the last: from the first matching session (a check-in is due at
    or after its session) to ``now`` (it must have closed by then), or to the last
    check-in of the filters' last day."""
    zone = filters.clinic.zone
    first = sessions(filters).aggregate(first=Min("performed_at"))["first"]
    if first is None:
        return []
    _start, end = clock.days_between(None, filters.date_to, zone)
    last = min(now, end + timedelta(hours=max(TimePoint.values))) if end else now
    first_day, last_day = first.astimezone(zone).date(), last.astimezone(zone).date()
    monday = first_day - timedelta(days=first_day.weekday())
    mondays = []
    while monday <= last_day:
        mondays.append(monday)
        monday += timedelta(days=7)
    return mondays

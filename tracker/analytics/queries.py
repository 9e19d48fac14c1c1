"""Clinic analytics: the numbers behind the analytics page, its charts and CSVs.

One or two queries per chart. A session's reports are read through its
outcome row (``SessionOutcome``: its after-effects, its soreness at each
check-in, its last impression of change), one row per session however many
reports it had, from an index that holds a clinic's rows in time order
(``outcomes``); only the completion chart reads follow-ups, those of the
sessions with a check-in still open. Totals are counted in
the database (``aggregate`` with ``Count``); the soreness histograms are
counted by numpy from one row per session (and muscle), and what is left is
arithmetic (percentages, Wilson intervals, quartiles from a histogram of at
most 11 values per check-in). The results are small frozen dataclasses whose
numbers are already rounded to what is shown, so that a chart, its table and
its CSV draw exactly the same numbers.

The queries use nothing beyond the ORM (``Case``, ``Exists``,
``Count(filter=...)``), so they run on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

from bisect import bisect_left
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.db.models import (
    Case,
    Count,
    Exists,
    F,
    IntegerField,
    Min,
    OuterRef,
    Q,
    QuerySet,
    Value,
    When,
)
from django.db.models.lookups import GreaterThan
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from tracker import clock
from tracker.analytics.stats import one_decimal, percent, wilson_interval
from tracker.choices import TimePoint
from tracker.models import Clinic, FollowUp, NeedledSite, NeedlingSession, SessionOutcome
from tracker.models.statistics import PAIR_SEPARATOR, SITE_SEPARATOR

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
    starts here or at ``outcomes`` (or, for the typical course, leaves them
    out itself).
    """
    return _matching(NeedlingSession.objects.active(), filters, session="pk")


def outcomes(filters: Filters) -> QuerySet[SessionOutcome]:
    """The outcome rows of ``sessions(filters)``, without ordering: read from
    ``outcome_clinic_time_idx`` alone."""
    return _matching(
        SessionOutcome.objects.filter(entered_in_error=False), filters, session="session_id"
    )


def _matching(qs: QuerySet, filters: Filters, *, session: str) -> QuerySet:
    """``qs`` (sessions, or rows with a session's clinic, time and therapist) narrowed
    to ``filters``; ``session``: the lookup to the session's id."""
    qs = qs.filter(clinic=filters.clinic)
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
        qs = qs.filter(Exists(NeedledSite.objects.filter(site_q, session=OuterRef(session))))
    return qs.order_by()


# (key, label): each after-effect counted per session, in the order of the
# rates table (models.statistics.after_effects says which a report has;
# SessionOutcome holds whether any of a session's reports had it).
EFFECTS = (
    ("bruising", _("Bruising")),
    ("bleeding", _("Bleeding")),
    ("aggravation", _("Original symptoms worse")),
    ("any_minor", _("Any after-effect")),
    ("warning_sign", _("Any warning sign")),
)


def muscles_by_sites(filters: Filters):
    """A function from an outcome row's ``sites`` to its muscles that make groups:
    each once (a muscle needled left and right is one), and with a muscle or
    technique filter only the matching sites'. Remembers each ``sites`` it has
    read: many sessions are needled alike."""
    read: dict[str, frozenset[str]] = {}

    def muscles(sites: str) -> frozenset[str]:
        found = read.get(sites)
        if found is None:
            pairs = (pair.split(PAIR_SEPARATOR) for pair in sites.split(SITE_SEPARATOR) if pair)
            found = read[sites] = frozenset(
                muscle
                for muscle, technique in pairs
                if (not filters.muscle or muscle == filters.muscle)
                and (not filters.technique or technique == filters.technique)
            )
        return found

    return muscles


def therapist_names(ids) -> dict[int, str]:
    """Each user's name as the analytics show it. One query."""
    return {
        pk: f"{first} {last}".strip() or username
        for pk, first, last, username in get_user_model()
        .objects.filter(pk__in=ids)
        .values_list("pk", "first_name", "last_name", "username")
    }


def _soreness(hours: int) -> str:
    """The outcome field of the soreness answered at ``hours``."""
    return SessionOutcome.soreness_field(hours)


# The outcome fields of the soreness answered at each check-in, in
# ``TimePoint`` order; filled when the check-in was answered.
SORENESS_FIELDS = tuple(_soreness(hours) for hours in TimePoint.values)


# ---------------------------------------------------------------------------
# The outcome rows, column by column, for the charts that count them in Python


@dataclass(frozen=True)
class OutcomeColumns:
    """The outcome rows of ``outcomes(filters)``, one tuple per column, in the same
    order: who needled, the sites, and the soreness at each check-in
    (``soreness``: one column per check-in, in ``SORENESS_FIELDS`` order, None
    where it was not answered)."""

    therapist: tuple[int, ...]
    sites: tuple[str, ...]
    soreness: tuple[tuple[int | None, ...], ...]


_shared_reads: ContextVar[dict | None] = ContextVar("analytics_shared_reads", default=None)


@contextmanager
def one_read():
    """Within it, the charts counted for the same filters share one read of their
    outcome rows (``outcome_columns``): the analytics page counts all its charts
    at once, and both soreness charts by group read the same rows."""
    token = _shared_reads.set({})
    try:
        yield
    finally:
        _shared_reads.reset(token)


def outcome_columns(filters: Filters) -> OutcomeColumns:
    """The matching sessions' outcome rows as columns. One query, or none when it
    was read for the same filters within ``one_read()``."""
    shared = _shared_reads.get()
    key = filters.cache_key()
    if shared is not None and key in shared:
        return shared[key]
    rows = outcomes(filters).values_list("therapist_id", "sites", *SORENESS_FIELDS)
    therapist, sites, *soreness = list(zip(*rows)) or [()] * (2 + len(SORENESS_FIELDS))
    columns = OutcomeColumns(therapist=therapist, sites=sites, soreness=tuple(soreness))
    if shared is not None:
        shared[key] = columns
    return columns


# ---------------------------------------------------------------------------
# After-effect rates per session


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

    ``warned_only`` counts the finished sessions heard from only through
    warning signs sent between check-ins: each says which of its
    after-effects it had (a warning sign; bleeding that will not stop is
    bleeding) and nothing of the others, so it counts in the rate of each
    effect it showed, events and denominator alike (that row's ``n``).
    Left out, the warning-sign rate would miss the very sessions whose
    patient called for help.
    """

    sessions: int
    n: int
    rows: tuple[Rate, ...]
    in_follow_up: int = 0
    warned_only: int = 0


def rates(filters: Filters, *, now: datetime | None = None) -> Rates:
    """Share of sessions with each after-effect, with Wilson 95 % intervals. One query.

    Each session's outcome row (``SessionOutcome``) says when its last
    check-in closes, how many answers it had and whether any had each
    effect, so the query counts one row per session.
    """
    now = now or clock.now()
    answered = Q(last_close__lte=now, answers__gt=0)
    warned_only = Q(last_close__lte=now, answers=0, warning_sign=True)
    totals = outcomes(filters).aggregate(
        sessions=Count("pk"),
        in_follow_up=Count("pk", filter=Q(last_close__gt=now)),
        reported=Count("pk", filter=answered),
        warned_only=Count("pk", filter=warned_only),
        **{
            f"answered_{key}": Count("pk", filter=answered & Q(**{key: True}))
            for key, _label in EFFECTS
        },
        **{
            f"warned_{key}": Count("pk", filter=warned_only & Q(**{key: True}))
            for key, _label in EFFECTS
        },
    )
    rows = []
    for key, label in EFFECTS:
        events = totals[f"answered_{key}"] + totals[f"warned_{key}"]
        n = totals["reported"] + totals[f"warned_{key}"]
        if not n:  # no answer, and no warning sign that showed this effect
            continue
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
        sessions=totals["sessions"],
        n=totals["reported"],
        rows=tuple(rows),
        in_follow_up=totals["in_follow_up"],
        warned_only=totals["warned_only"],
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
    settled_max = filters.clinic.settled_max
    totals = outcomes(filters).aggregate(
        **{
            f"n{hours}": Count("pk", filter=Q(**{f"{_soreness(hours)}__isnull": False}))
            for hours in SETTLED_TIME_POINTS
        },
        **{
            f"ok{hours}": Count("pk", filter=Q(**{f"{_soreness(hours)}__lte": settled_max}))
            for hours in SETTLED_TIME_POINTS
        },
    )
    rows = [
        (hours, totals[f"n{hours}"], totals[f"ok{hours}"])
        for hours in SETTLED_TIME_POINTS
        if totals[f"n{hours}"]
    ]
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
    """Check-ins answered / due per ISO week of their due time. Three small queries.

    Only check-ins whose window has closed count (``closes_at <= now``): an
    open one may still be answered. Check-ins never asked (a session recorded
    after their window had closed) are neither answered nor due. Weeks start
    on Monday in the clinic's zone.

    A session whose check-ins have all closed is counted from its outcome row,
    read from ``outcome_clinic_time_idx`` like the other charts' rows: each
    check-in it asked (``asked``) was due its hours after the session, and was
    answered when its soreness is filled. The sessions of the last few days,
    with a check-in still open, are counted from their follow-ups, each by its
    own window.

    The weeks' first instants are worked out here, in the clinic's zone (so a
    week that holds a change of the clocks starts when the clinic's Monday
    does), and the database only compares times with them: truncating every
    row's time in the clinic's zone, or converting it to a Python datetime,
    costs SQLite a Python call per row.
    """
    now = now or clock.now()
    mondays = _mondays(filters, now)
    if not mondays:
        return ()
    zone = filters.clinic.zone
    # In UTC, so that "hours before a week's start" is elapsed hours across a
    # change of the clocks, as the check-ins' own times are.
    later_starts = [clock.day_start(monday, zone).astimezone(UTC) for monday in mondays[1:]]
    due, answered = [0] * len(mondays), [0] * len(mondays)
    # The instants at which one of a session's check-ins moves into the next week
    # (a week's start less the check-in's hours): between two of them, each
    # check-in of every session falls in one week. The closed sessions are
    # grouped by those spans, a few rows per week.
    moves = sorted(
        {start - timedelta(hours=hours) for start in later_starts for hours in TimePoint.values}
    )
    closed = (
        outcomes(filters)
        .filter(last_close__lte=now)
        .annotate(span=_position("performed_at", moves))
        .values("span")
        .annotate(
            **{
                f"due_{hours}h": Count(
                    "pk", filter=GreaterThan(F("asked").bitand(SessionOutcome.asked_bit(hours)), 0)
                )
                for hours in TimePoint.values
            },
            **{f"answered_{hours}h": Count(_soreness(hours)) for hours in TimePoint.values},
        )
        .order_by()
    )
    for row in closed:
        # The span's sessions were performed before moves[span] (after the one
        # before it), so a check-in ``hours`` later falls before the same weeks'
        # starts as moves[span] + hours would.
        end = moves[row["span"]] if row["span"] < len(moves) else None
        for hours in TimePoint.values:
            week = (
                bisect_left(later_starts, end + timedelta(hours=hours))
                if end is not None
                else len(later_starts)
            )
            due[week] += row[f"due_{hours}h"]
            answered[week] += row[f"answered_{hours}h"]
    still_open = outcomes(filters).filter(last_close__gt=now).values("session_id")
    check_ins = (
        FollowUp.objects.filter(session__in=still_open, closes_at__lte=now, asked=True)
        .annotate(week=_position("due_at", later_starts))
        .values_list("week")
        .annotate(due=Count("pk"), answered=Count("answered_at"))
        .order_by()
    )
    for week, week_due, week_answered in check_ins:
        due[week] += week_due
        answered[week] += week_answered
    return tuple(
        Week(start=monday, answered=answered[i], due=due[i], percent=percent(answered[i], due[i]))
        for i, monday in enumerate(mondays)
        if due[i]
    )


def _position(field: str, instants: list[datetime], low: int = 0, high: int | None = None) -> Case:
    """How many of ``instants`` (in order) are at or before ``field``.

    A tree of CASEs that halves ``instants[low:high]`` at each level, so the
    database makes about log2(n) comparisons per row rather than n.
    """
    high = len(instants) if high is None else high
    if low == high:
        return Value(low)
    middle = (low + high) // 2
    return Case(
        When(
            **{f"{field}__lt": instants[middle]},
            then=_position(field, instants, low, middle),
        ),
        default=_position(field, instants, middle + 1, high),
        output_field=IntegerField(),
    )


def _mondays(filters: Filters, now: datetime) -> list[date]:
    """Every Monday (clinic's zone) from the week of the first due time that can count
    to the week of the last: from the first matching session (a check-in is due at
    or after its session) to ``now`` (it must have closed by then), or to the last
    check-in of the filters' last day."""
    zone = filters.clinic.zone
    first = outcomes(filters).aggregate(first=Min("performed_at"))["first"]
    if first is None:
        return []
    _start, end = clock.days_between(None, filters.date_to, zone)
    last = min(now, end.astimezone(UTC) + timedelta(hours=max(TimePoint.values))) if end else now
    first_day, last_day = first.astimezone(zone).date(), last.astimezone(zone).date()
    monday = first_day - timedelta(days=first_day.weekday())
    mondays = []
    while monday <= last_day:
        mondays.append(monday)
        monday += timedelta(days=7)
    return mondays

"""Soreness in the clinic's analytics: median and quartiles at each check-in, per
muscle or per therapist, and the clinic's typical course (the band drawn behind
a patient's chart).

Each is a histogram (time point × soreness value → count): the typical course's
counted by the database, the ones per muscle or therapist by numpy from one
outcome row per session. Quartiles come from the histograms.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

import numpy as np
from django.core.cache import cache
from django.db.models import Count

from tracker import charts, clock
from tracker.analytics.queries import (
    COUNTS_MAX_AGE,
    MAX_GROUPS,
    MIN_72H_ANSWERS,
    TYPICAL_COURSE_CACHE_SECONDS,
    TYPICAL_MIN_REPORTS,
    Filters,
    muscles_by_sites,
    outcome_columns,
    therapist_names,
)
from tracker.analytics.stats import one_decimal, quantile_from_histogram
from tracker.choices import Muscle, TimePoint
from tracker.models import Clinic, SorenessCounts, SymptomReport

# Soreness by time point: median and quartiles, per muscle or per therapist


@dataclass(frozen=True)
class Quartiles:
    """Soreness (NRS 0–10) at one check-in: median, quartiles and the answers behind them."""

    hours: int
    median: Decimal
    q1: Decimal
    q3: Decimal
    n: int


@dataclass(frozen=True)
class GroupCourse:
    """One muscle's (or therapist's) median soreness and quartiles at each check-in.

    ``n`` is the sessions at its best-answered check-in; it orders the groups.
    """

    key: str
    label: str
    n: int
    points: tuple[Quartiles, ...]

    def at(self, hours: int) -> Quartiles | None:
        return next((p for p in self.points if p.hours == hours), None)


@dataclass(frozen=True)
class GroupedSoreness:
    """Soreness by group.

    ``unsettled_at_72h``: the 72 h points shown are of the sessions not
    settled at 48 h alone (see ``only_unsettled_at_72h``); ``thin_72h``: groups
    shown whose 72 h answers were too few (MIN_72H_ANSWERS) to show.
    """

    groups: tuple[GroupCourse, ...]  # the MAX_GROUPS largest, largest first
    hidden: int  # groups left out
    hours: tuple[int, ...]  # check-ins with any answer among the groups shown
    unsettled_at_72h: bool = False
    thin_72h: int = 0


def only_unsettled_at_72h(clinic: Clinic) -> bool:
    """Whether the clinic's 72 h answers come only from sessions not settled at 48 h.

    Unless the clinic always asks at 72 h, the 72 h check-in is added only when
    soreness had not settled at 48 h, or 48 h was missed while 24 h had not
    settled (docs/clinical.md, section 1): drawn after the 48 h point of all
    sessions, its median would look like a rise when it is only the slower
    sessions.
    """
    return not clinic.fixed_72h


def enough_answers(clinic: Clinic, hours: int, n: int, least: int) -> bool:
    """Whether ``n`` answers at ``hours`` are enough to show their quartiles.

    ``least`` everywhere, and at least MIN_72H_ANSWERS at a 72 h check-in of
    the slower sessions alone.
    """
    if hours == TimePoint.H72 and only_unsettled_at_72h(clinic):
        least = max(least, MIN_72H_ANSWERS)
    return n >= least


# Every check-in's hours, in the order of ``OutcomeColumns.soreness``.
_HOURS = tuple(TimePoint.values)


def _histograms(groups: Sequence, columns: Sequence[Sequence], picked=None) -> dict:
    """{(group, hours): {soreness: count}} from the outcome rows' soreness columns
    (one per check-in in ``_HOURS`` order, None where it was not answered).

    ``groups`` holds each row's group; or, given ``picked``, a group per entry
    of ``picked``, the index of the row it counts (a session needled at two
    muscles is picked twice). A clinic's period is tens of thousands of rows:
    numpy counts them (``bincount`` over one integer per group and score), so
    no Python code runs per answer.
    """
    keys = list(dict.fromkeys(groups))
    position = {key: i for i, key in enumerate(keys)}
    group_of = np.fromiter(map(position.__getitem__, groups), dtype=np.intp, count=len(groups))
    histograms: dict = {}
    for hours, column in zip(_HOURS, columns):
        scores = np.array(column, dtype=float)  # None is NaN
        if picked is not None:
            scores = scores[picked]
        answered = ~np.isnan(scores)
        if not answered.any():
            continue
        scores = scores[answered].astype(np.intp)
        width = int(scores.max()) + 1
        counts = np.bincount(
            group_of[answered] * width + scores, minlength=len(keys) * width
        ).reshape(len(keys), width)
        for group, score in zip(*counts.nonzero()):
            histograms.setdefault((keys[group], hours), {})[int(score)] = int(counts[group, score])
    return histograms


def _grouped(histograms: dict, labels: dict, limit: int, clinic: Clinic) -> GroupedSoreness:
    """Quartiles per group and check-in from their histograms; keep the ``limit`` largest."""
    by_key: dict = {}
    thin = set()
    for (key, hours), histogram in histograms.items():
        n = sum(histogram.values())
        if not enough_answers(clinic, hours, n, 1):
            thin.add(str(key))
            continue
        by_key.setdefault(key, []).append(
            Quartiles(
                hours=hours,
                median=one_decimal(quantile_from_histogram(histogram, 0.5)),
                q1=one_decimal(quantile_from_histogram(histogram, 0.25)),
                q3=one_decimal(quantile_from_histogram(histogram, 0.75)),
                n=n,
            )
        )
    groups = sorted(
        (
            GroupCourse(
                key=str(key),
                label=labels[key],
                n=max(p.n for p in points),
                points=tuple(sorted(points, key=lambda p: p.hours)),
            )
            for key, points in by_key.items()
        ),
        key=lambda g: (-g.n, g.label),
    )
    shown = tuple(groups[:limit])
    hours = tuple(sorted({p.hours for g in shown for p in g.points}))
    return GroupedSoreness(
        groups=shown,
        hidden=len(groups) - len(shown),
        hours=hours,
        unsettled_at_72h=TimePoint.H72 in hours and only_unsettled_at_72h(clinic),
        thin_72h=sum(1 for g in shown if g.key in thin),
    )


def soreness_by_muscle(filters: Filters, *, limit: int = MAX_GROUPS) -> GroupedSoreness:
    """Median soreness and quartiles at each check-in per needled muscle. One query
    (``outcome_columns``, which the analytics page reads once for two charts).

    One outcome row per matching session, with its soreness at each check-in
    (however many reports it had) and its sites; the histograms are counted
    from those rows and the quartiles from the histograms. A session needled
    at two muscles counts for both; a muscle needled twice in one session
    (left and right) once (``muscles_by_sites``).
    """
    columns = outcome_columns(filters)
    muscles = muscles_by_sites(filters)
    # Each session once per muscle: the index of its row, and the muscle.
    picked, groups = [], []
    for index, session_muscles in enumerate(map(muscles, columns.sites)):
        for muscle in session_muscles:
            picked.append(index)
            groups.append(muscle)
    labels = {key: str(Muscle(key).label) for key in set(groups)}
    histograms = _histograms(groups, columns.soreness, np.array(picked, dtype=np.intp))
    return _grouped(histograms, labels, limit, filters.clinic)


def soreness_by_therapist(filters: Filters, *, limit: int = MAX_GROUPS) -> GroupedSoreness:
    """Median soreness and quartiles at each check-in per therapist (who needled). Two
    queries: one row per session (``outcome_columns``), counted as for
    ``soreness_by_muscle``, then the therapists' names."""
    columns = outcome_columns(filters)
    labels = therapist_names(set(columns.therapist))
    return _grouped(_histograms(columns.therapist, columns.soreness), labels, limit, filters.clinic)


def cached_typical_course(clinic: Clinic) -> charts.Band | None:
    """The clinic's typical course, from its stored counts, kept an hour in the cache.

    Nothing here counts the clinic's reports unless the hourly job has not
    counted them for COUNTS_MAX_AGE; the band is worked out from the counts
    (at most 55 numbers) each time, so a change to the clinic's settings shows
    at once.
    """
    counts = cache.get_or_set(
        _counts_key(clinic), lambda: stored_soreness_counts(clinic), TYPICAL_COURSE_CACHE_SECONDS
    )
    return course_from_counts(clinic, counts)


def _counts_key(clinic: Clinic) -> str:
    return f"soreness-counts:{clinic.pk}"


def stored_soreness_counts(clinic: Clinic) -> dict[int, dict[int, int]]:
    """The counts ``count_soreness`` stored, or counted now if they are older than COUNTS_MAX_AGE."""
    stored = (
        SorenessCounts.objects.filter(clinic=clinic, counted_at__gt=clock.now() - COUNTS_MAX_AGE)
        .values_list("counts", flat=True)
        .first()
    )
    if stored is None:
        return count_soreness(clinic)
    # JSON keys are strings.
    return {
        int(hours): {int(score): count for score, count in histogram.items()}
        for hours, histogram in stored.items()
    }


def count_soreness(clinic: Clinic) -> dict[int, dict[int, int]]:
    """Count the clinic's soreness answers, store the counts and put them in the cache.

    Stored in one INSERT ... ON CONFLICT UPDATE: two workers counting at once
    both succeed, and the later write wins.
    """
    counts = soreness_counts(clinic)
    SorenessCounts.objects.bulk_create(
        [SorenessCounts(clinic=clinic, counts=counts, counted_at=clock.now())],
        update_conflicts=True,
        unique_fields=["clinic"],
        update_fields=["counts", "counted_at"],
    )
    cache.set(_counts_key(clinic), counts, TYPICAL_COURSE_CACHE_SECONDS)
    return counts


def count_typical_courses() -> int:
    """``count_soreness`` for every clinic (the hourly job); how many clinics."""
    clinics = 0
    for clinic in Clinic.objects.order_by("pk").iterator():
        count_soreness(clinic)
        clinics += 1
    return clinics


def soreness_counts(clinic: Clinic) -> dict[int, dict[int, int]]:
    """Time point (hours) → soreness → answers, over every report of the clinic's
    sessions not entered in error: one query, at most 5 × 11 rows however many
    reports there are."""
    histograms: dict[int, dict[int, int]] = {}
    rows = (
        SymptomReport.objects.filter(
            follow_up__clinic=clinic, follow_up__session__entered_in_error_at__isnull=True
        )
        .values_list("follow_up__time_point", "soreness")
        .annotate(count=Count("pk"))
        .order_by()
    )
    for hours, soreness, count in rows:
        histograms.setdefault(int(hours), {})[int(soreness)] = count
    return histograms


def typical_course(clinic: Clinic) -> charts.Band | None:
    """The clinic's median and interquartile range of soreness at each check-in,
    counted from its reports now (``cached_typical_course`` for a page)."""
    return course_from_counts(clinic, soreness_counts(clinic))


def course_from_counts(clinic: Clinic, histograms: dict[int, dict[int, int]]) -> charts.Band | None:
    """The typical course from ``soreness_counts``' histograms.

    Time points with fewer than TYPICAL_MIN_REPORTS answers are left out (a
    72 h point of the slower sessions alone needs MIN_72H_ANSWERS, and is
    marked as theirs), and without that many answers at 0 h there is no
    typical course: None.
    """
    enough = {
        hours: histogram
        for hours, histogram in sorted(histograms.items())
        if enough_answers(clinic, hours, sum(histogram.values()), TYPICAL_MIN_REPORTS)
    }
    if TimePoint.IN_CLINIC not in enough:
        return None
    hours = list(enough)
    return charts.Band(
        hours=hours,
        low=[quantile_from_histogram(enough[h], 0.25) for h in hours],
        median=[quantile_from_histogram(enough[h], 0.5) for h in hours],
        high=[quantile_from_histogram(enough[h], 0.75) for h in hours],
        unsettled_only=[h for h in hours if h == TimePoint.H72 and only_unsettled_at_72h(clinic)],
    )

"""The patients' global impression of change (PGIC) on the analytics page.

Asked at the last planned check-in about the complaint the patient came for
(docs/clinical.md, sections 2 and 9). As in ``queries``, the database counts
sessions by their outcome row and Python adds up what the database cannot
group (a session's muscles).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Count

from tracker.analytics.queries import MAX_GROUPS, Filters, muscles_by_sites, outcomes
from tracker.analytics.stats import percent
from tracker.choices import Muscle, Pgic

# "Much better" or "very much better": the answers Farrar 2001 found to match a
# clinically important improvement (docs/clinical.md, section 9).
PGIC_IMPROVED = (Pgic.VERY_MUCH_BETTER, Pgic.MUCH_BETTER)


@dataclass(frozen=True)
class PgicGroup:
    """One muscle's (or therapist's) sessions by their answer, 1 to 7 (``counts[0]``
    is "very much better"); ``n`` sessions answered, ``improved`` of them much or
    very much better."""

    key: str
    label: str
    counts: tuple[int, ...]
    n: int
    improved: int
    improved_percent: Decimal


@dataclass(frozen=True)
class PgicDistribution:
    groups: tuple[PgicGroup, ...]  # the MAX_GROUPS with the most answers, largest first
    hidden: int  # groups left out


def _pgic_groups(rows, labels: dict, limit: int) -> PgicDistribution:
    """Distributions from (key, pgic, count) rows; keep the ``limit`` most answered."""
    counts: dict = {}
    for key, pgic, count in rows:
        counts.setdefault(key, [0] * len(Pgic))[int(pgic) - 1] += count
    groups = sorted(
        (
            PgicGroup(
                key=str(key),
                label=labels[key],
                counts=tuple(values),
                n=sum(values),
                improved=(improved := sum(values[int(p) - 1] for p in PGIC_IMPROVED)),
                improved_percent=percent(improved, sum(values)),
            )
            for key, values in counts.items()
        ),
        key=lambda g: (-g.n, g.label),
    )
    return PgicDistribution(groups=tuple(groups[:limit]), hidden=max(len(groups) - limit, 0))


def pgic_by_muscle(filters: Filters, *, limit: int = MAX_GROUPS) -> PgicDistribution:
    """Sessions by their global impression of change, per needled muscle. One query.

    A session's answer is its last (``SessionOutcome.pgic``): when the 72 h
    check-in is added after a 48 h answer, the patient is asked again. As for
    ``soreness_by_muscle``: a session needled at two muscles counts for both,
    a muscle needled twice in one session once, and with a muscle or
    technique filter only the matching sites make groups.
    """
    muscles = muscles_by_sites(filters)
    counted: Counter = Counter()
    answers = outcomes(filters).filter(pgic__isnull=False).values_list("sites", "pgic")
    for (sites, pgic), n in Counter(answers).items():
        for muscle in muscles(sites):
            counted[(muscle, pgic)] += n
    rows = [(muscle, pgic, n) for (muscle, pgic), n in counted.items()]
    labels = {key: str(Muscle(key).label) for key, *_rest in rows}
    return _pgic_groups(rows, labels, limit)


def pgic_by_therapist(filters: Filters, *, limit: int = MAX_GROUPS) -> PgicDistribution:
    """Sessions by their global impression of change, per therapist (who needled). One query."""
    rows = list(
        outcomes(filters)
        .filter(pgic__isnull=False)
        .values_list(
            "therapist_id",
            "pgic",
            "therapist__first_name",
            "therapist__last_name",
            "therapist__username",
        )
        .annotate(n=Count("pk"))
        .order_by()
    )
    labels = {
        therapist: f"{first} {last}".strip() or username
        for therapist, _p, first, last, username, _n in rows
    }
    return _pgic_groups(
        [(therapist, pgic, n) for therapist, pgic, _f, _l, _u, n in rows], labels, limit
    )

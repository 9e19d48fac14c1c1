"""The patients' global impression of change (PGIC) on the analytics page.

Asked at the last planned check-in about the complaint the patient came for
(docs/clinical.md, sections 2 and 9). As in ``queries``, the database counts
(one query per distribution) and Python only adds up at most muscles × 7 rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Q, QuerySet

from tracker.analytics.queries import MAX_GROUPS, Filters, sessions
from tracker.analytics.stats import percent
from tracker.choices import Muscle, Pgic
from tracker.models import SymptomReport

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


def _final_answers(rows) -> dict:
    """Each session's last PGIC answer, from (session, time point, answer, group) rows.

    It is asked at the last planned check-in; when the 72 h check-in is added
    after a 48 h answer, a session may have answered it twice, and the later
    answer is the one that counts. Returns {session: (answer, {groups})}.
    """
    last: dict = {}
    for session_id, hours, pgic, group in rows:
        seen = last.get(session_id)
        if seen is None or hours > seen[0]:
            last[session_id] = (hours, pgic, {group})
        elif hours == seen[0]:
            seen[2].add(group)  # the same answer, joined to another of its groups
    return {session_id: (pgic, groups) for session_id, (_h, pgic, groups) in last.items()}


def _counted(final: dict) -> list[tuple]:
    """(group, answer, sessions) rows from ``_final_answers``."""
    counts: dict = {}
    for pgic, groups in final.values():
        for group in groups:
            counts[group, pgic] = counts.get((group, pgic), 0) + 1
    return [(group, pgic, n) for (group, pgic), n in counts.items()]


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


def _answers(filters: Filters) -> QuerySet:
    """The PGIC answers of the matching sessions.

    Read as plain rows (one per answer and group) and reduced in Python, not
    with a correlated "no later answer" subquery: that one the planner may run
    as nested scans when its statistics are stale.
    """
    return SymptomReport.objects.filter(
        follow_up__session__in=sessions(filters).values("pk"), pgic__isnull=False
    ).order_by()


def pgic_by_muscle(filters: Filters, *, limit: int = MAX_GROUPS) -> PgicDistribution:
    """Sessions by their global impression of change, per needled muscle. One query.

    As for ``soreness_by_muscle``: a session needled at two muscles counts for
    both, a muscle needled twice in one session once, and with a muscle or
    technique filter only the matching sites make groups.
    """
    site_q = Q(
        *[
            (f"follow_up__session__sites__{name}", value)
            for name, value in filters.site_q().children
        ]
    )
    rows = (
        _answers(filters)
        .filter(site_q)
        .values_list(
            "follow_up__session_id",
            "follow_up__time_point",
            "pgic",
            "follow_up__session__sites__muscle",
        )
    )
    counted = _counted(_final_answers(rows))
    labels = {key: str(Muscle(key).label) for key, *_rest in counted}
    return _pgic_groups(counted, labels, limit)


def pgic_by_therapist(filters: Filters, *, limit: int = MAX_GROUPS) -> PgicDistribution:
    """Sessions by their global impression of change, per therapist (who needled). One query."""
    rows = list(
        _answers(filters).values_list(
            "follow_up__session_id",
            "follow_up__time_point",
            "pgic",
            "follow_up__session__therapist_id",
            "follow_up__session__therapist__first_name",
            "follow_up__session__therapist__last_name",
            "follow_up__session__therapist__username",
        )
    )
    labels = {
        therapist: f"{first} {last}".strip() or username
        for _s, _h, _p, therapist, first, last, username in rows
    }
    final = _final_answers((s, h, p, therapist) for s, h, p, therapist, *_names in rows)
    return _pgic_groups(_counted(final), labels, limit)

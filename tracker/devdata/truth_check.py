"""What the analytics found on a clinic of known truth (``truth.seed``), figure by
figure, against what was set and how far chance alone could take one from the
other."""

from __future__ import annotations

import math
from dataclasses import dataclass
from statistics import NormalDist

from tracker import analytics
from tracker.choices import Muscle
from tracker.devdata.truth import (
    TRUTH,
    Truth,
    courses,
    mixture,
    quantile,
    settled_shares,
)
from tracker.models import Clinic


@dataclass(frozen=True)
class Check:
    """One figure: what was set, what the analytics measured, and what chance allows.

    ``low``–``high`` is the range around the set value that the measured value
    must fall in. For a rate, ``interval`` is the page's own 95 % interval,
    which should hold the set rate (and, by design, misses it one time in 20).
    """

    name: str
    set_value: float
    measured: float
    low: float
    high: float
    n: int
    interval: tuple[float, float] | None = None

    @property
    def ok(self) -> bool:
        return self.low <= self.measured <= self.high

    @property
    def interval_covers(self) -> bool | None:
        if self.interval is None:
            return None
        return self.interval[0] <= self.set_value <= self.interval[1]

    def line(self) -> str:
        line = (
            f"{'ok  ' if self.ok else 'MISS'} {self.name}: set {_shown(self.set_value)}, "
            f"measured {_shown(self.measured)}, allowed {_shown(self.low)} to "
            f"{_shown(self.high)} (n {self.n:,})"
        )
        if self.interval is not None:
            low, high = self.interval
            line += f"; the page's 95 % interval {_shown(low)} to {_shown(high)} " + (
                "covers it" if self.interval_covers else "MISSES it"
            )
        return line


def _shown(number: float) -> str:
    return f"{int(number):,}" if float(number).is_integer() else f"{number:.4g}"


def recovered(clinic: Clinic, *, truth: Truth = TRUTH) -> list[Check]:
    """Every figure the analytics report on ``clinic``, against what ``truth`` set.

    Every session must be counted (all are finished and answered). The rates,
    the settled shares and the medians and quartiles (by muscle, by therapist
    and of the typical course) are many figures at once, so each may stray
    from what was set as far as chance takes it in all but 5 % of runs of
    them all (Bonferroni: z for 0.05 / the number of figures, two-sided):

    - a rate or a settled share p of n: p ± z·√(p(1−p)/n);
    - a quartile q of n answers: between the set quantiles at q ± z·√(q(1−q)/n)
      (the order statistic a sample quantile is stays that close to q, as a
      share of n: the distribution-free interval for a quantile).

    Each rate also says whether the page's own 95 % interval holds the set rate.
    """
    filters = analytics.Filters(clinic=clinic)
    m = clinic.settled_max
    result = analytics.rates(filters)
    by_muscle = analytics.soreness_by_muscle(filters)
    by_therapist = analytics.soreness_by_therapist(filters)
    band = analytics.typical_course(clinic)
    settled_rows = analytics.settled(filters)
    figures = (
        len(result.rows)
        + len(settled_rows)
        + 3
        * (
            sum(len(g.points) for r in (by_muscle, by_therapist) for g in r.groups)
            + len(band.hours)
        )
    )
    z = NormalDist().inv_cdf(1 - 0.05 / (2 * figures))

    checks = [
        Check(
            "sessions counted, all finished",
            result.sessions,
            result.n,
            result.sessions,
            result.sessions,
            result.sessions,
        )
    ]

    def share(name, p, part, n, interval=None):
        spread = z * math.sqrt(p * (1 - p) / n)
        checks.append(
            Check(
                name, 100 * p, 100 * part / n, 100 * (p - spread), 100 * (p + spread), n, interval
            )
        )

    set_rates = truth.rates()
    for row in result.rows:
        share(
            f"{row.key} (% of sessions)",
            float(set_rates[row.key]),
            row.events,
            row.n,
            (float(row.low), float(row.high)),
        )
    shares = settled_shares(truth, m)
    for row in settled_rows:
        share(f"settled at {row.hours} h (%)", float(shares[row.hours]), row.settled, row.n)

    def quartiles(name, distribution, n, measured):
        for label, q, value in zip(("Q1", "median", "Q3"), (0.25, 0.5, 0.75), measured):
            spread = z * math.sqrt(q * (1 - q) / n)
            checks.append(
                Check(
                    f"{name} {label}",
                    quantile(distribution, q),
                    float(value),
                    quantile(distribution, q - spread),
                    quantile(distribution, q + spread),
                    n,
                )
            )

    set_by_muscle, whole = courses(truth, m), mixture(truth, m)
    for result, course_of, kind in (
        (by_muscle, lambda g: set_by_muscle[Muscle(g.key)], "muscle"),
        (by_therapist, lambda g: whole, "therapist"),
    ):
        for group in result.groups:
            for point in group.points:
                quartiles(
                    f"{kind} {group.label}, {point.hours} h",
                    course_of(group)[point.hours],
                    point.n,
                    (point.q1, point.median, point.q3),
                )
    # Every session is some therapist's: theirs add up to the clinic's answers.
    answers = {h: sum(g.at(h).n for g in by_therapist.groups if g.at(h)) for h in band.hours}
    for i, hours in enumerate(band.hours):
        quartiles(
            f"typical course, {hours} h",
            whole[hours],
            answers[hours],
            (band.low[i], band.median[i], band.high[i]),
        )
    return checks

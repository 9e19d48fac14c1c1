"""Clinic analytics: the numbers (``queries``, ``soreness``, ``pgic``, ``stats``),
the published rates they are read against (``sources``), and what the page
shows of them (``tables``, ``figures``). Views and commands call the names below."""

from tracker.analytics.pgic import (
    PGIC_IMPROVED,
    PgicDistribution,
    PgicGroup,
    pgic_by_muscle,
    pgic_by_therapist,
)
from tracker.analytics.queries import (
    MAX_GROUPS,
    MIN_72H_ANSWERS,
    RESULTS_CACHE_SECONDS,
    Filters,
    Rates,
    cached,
    completion_by_week,
    one_read,
    rates,
    sessions,
    settled,
)
from tracker.analytics.soreness import (
    GroupedSoreness,
    Quartiles,
    cached_typical_course,
    count_typical_courses,
    only_unsettled_at_72h,
    soreness_by_muscle,
    soreness_by_therapist,
    typical_course,
)
from tracker.analytics.sources import (
    BOYCE_2020,
    BRADY_2014,
    PUBLISHED_RATES,
    SOURCES,
    published_rate,
)
from tracker.analytics.stats import percent, quantile_from_histogram, wilson_interval

__all__ = [
    "BOYCE_2020",
    "BRADY_2014",
    "MAX_GROUPS",
    "MIN_72H_ANSWERS",
    "PGIC_IMPROVED",
    "PUBLISHED_RATES",
    "RESULTS_CACHE_SECONDS",
    "SOURCES",
    "Filters",
    "GroupedSoreness",
    "PgicDistribution",
    "PgicGroup",
    "Quartiles",
    "Rates",
    "cached",
    "cached_typical_course",
    "count_typical_courses",
    "completion_by_week",
    "one_read",
    "only_unsettled_at_72h",
    "percent",
    "pgic_by_muscle",
    "pgic_by_therapist",
    "published_rate",
    "quantile_from_histogram",
    "rates",
    "sessions",
    "settled",
    "soreness_by_muscle",
    "soreness_by_therapist",
    "typical_course",
    "wilson_interval",
]

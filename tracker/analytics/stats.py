"""Statistics the analytics use: rounding as shown, percentages, Wilson intervals, quantiles."""

from __future__ import annotations

import math
from decimal import ROUND_HALF_UP, Decimal

# Two-sided 95 %: the 0.975 quantile of the standard normal distribution.
Z_95 = 1.959963984540054

ONE_DECIMAL = Decimal("0.1")


def one_decimal(value: float | Decimal) -> Decimal:
    """``value`` rounded half-up to one decimal, as every computed number is shown."""
    return Decimal(str(value)).quantize(ONE_DECIMAL, rounding=ROUND_HALF_UP)


def percent(part: int, whole: int) -> Decimal | None:
    return one_decimal(100 * part / whole) if whole else None


def wilson_interval(events: int, n: int, z: float = Z_95) -> tuple[float, float]:
    """Wilson score interval for a proportion ``events / n`` (as fractions, 0–1).

    Unlike the normal approximation it stays inside 0–1 and behaves at 0 and
    n events, which small clinics see all the time. Raises ValueError for
    n < 1 or events outside 0..n.
    """
    if n < 1 or not 0 <= events <= n:
        raise ValueError(f"Need 0 <= events <= n and n >= 1, got {events}/{n}.")
    p = events / n
    z2 = z * z
    centre = (p + z2 / (2 * n)) / (1 + z2 / n)
    half = z / (1 + z2 / n) * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n))
    return max(0.0, centre - half), min(1.0, centre + half)


# ---------------------------------------------------------------------------
# The clinic's typical course (the band behind a patient's soreness chart)


def quantile_from_histogram(histogram: dict[int, int], q: float) -> float:
    """The ``q`` quantile (0–1) of the values counted in ``histogram``.

    Linear interpolation between order statistics at position q·(N−1): the
    same as ``statistics.quantiles(method="inclusive")`` and numpy's default.
    """
    total = sum(histogram.values())
    if total < 1:
        raise ValueError("Empty histogram.")
    position = q * (total - 1)
    below = math.floor(position)
    fraction = position - below
    low = _nth_value(histogram, below)
    if fraction == 0:
        return float(low)
    high = _nth_value(histogram, below + 1)
    return low + (high - low) * fraction


def _nth_value(histogram: dict[int, int], index: int) -> int:
    """The value at 0-based ``index`` of the sorted values the histogram counts."""
    seen = 0
    for value in sorted(histogram):
        seen += histogram[value]
        if index < seen:
            return value
    raise IndexError(index)

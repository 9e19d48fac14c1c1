"""Charts as SVG bytes: pure drawing with matplotlib's object API.

Plain data in, bytes out: nothing here imports a model or a request.
``base`` holds the style, words and layout every chart shares; ``soreness``
the soreness-over-hours charts; ``clinic`` and ``groups`` the analytics charts and ``pgic``
the global impression of change; ``cache`` keeps drawn bytes in the shared cache.
"""

from tracker.charts.base import EDGE, FONT_STACK, PALETTE
from tracker.charts.clinic import (
    RateBar,
    ReferenceRate,
    ShareBar,
    completion_chart,
    rates_chart,
    settled_chart,
)
from tracker.charts.groups import GroupLine, soreness_by_group_chart
from tracker.charts.pgic import PgicBar, pgic_chart
from tracker.charts.soreness import Band, Series, soreness_chart

__all__ = [
    "EDGE",
    "FONT_STACK",
    "PALETTE",
    "Band",
    "GroupLine",
    "PgicBar",
    "RateBar",
    "ReferenceRate",
    "Series",
    "ShareBar",
    "completion_chart",
    "pgic_chart",
    "rates_chart",
    "settled_chart",
    "soreness_by_group_chart",
    "soreness_chart",
]

"""When a session's check-ins happen, and when each may be answered.

Each follow-up is due a fixed number of hours after the session and may be
answered from ``WINDOW_BEFORE`` before to ``WINDOW_AFTER`` after that time.
The in-clinic check-in opens at the session itself. Times are computed in
UTC, so "24 hours later" is 24 elapsed hours even across a daylight-saving
change in the clinic's zone.
"""

from datetime import UTC, timedelta

from tracker.choices import DEFAULT_TIME_POINTS, TimePoint
from tracker.models import FollowUp

WINDOW_BEFORE = timedelta(hours=2)
WINDOW_AFTER = timedelta(hours=12)


def plan_follow_up(session, time_point: TimePoint) -> FollowUp:
    """An unsaved follow-up for ``session`` at ``time_point``."""
    # Adding hours to a zone-aware datetime is wall-clock arithmetic in Python:
    # across a daylight-saving change that would be 23 or 25 elapsed hours.
    start = session.performed_at.astimezone(UTC)
    due_at = start + timedelta(hours=int(time_point))
    return FollowUp(
        session=session,
        time_point=time_point,
        due_at=due_at,
        opens_at=max(start, due_at - WINDOW_BEFORE),
        closes_at=due_at + WINDOW_AFTER,
    )


def plan_follow_ups(session, time_points=DEFAULT_TIME_POINTS) -> list[FollowUp]:
    return [plan_follow_up(session, tp) for tp in sorted(time_points)]


def needs_72h_follow_up(*, soreness_24h: int | None, soreness_48h: int, threshold: int) -> bool:
    """Soreness at 48 h has not settled: at or above the clinic's threshold, or rising."""
    if soreness_48h >= threshold:
        return True
    return soreness_24h is not None and soreness_48h > soreness_24h

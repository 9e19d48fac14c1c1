"""When a session's check-ins happen, and when each may be answered.

Each follow-up is due a fixed number of hours after the session and may be
answered from some hours before to some hours after that time (clinic
settings; 2 and 12 by default). The in-clinic check-in opens at the session
itself. Times are computed in
UTC, so "24 hours later" is 24 elapsed hours even across a daylight-saving
change in the clinic's zone.
"""

from datetime import UTC, timedelta

from tracker.choices import TimePoint
from tracker.models import FollowUp, SymptomReport


def plan_follow_up(session, time_point: TimePoint, *, recorded_at=None) -> FollowUp:
    """An unsaved follow-up for ``session`` at ``time_point``.

    A session recorded some hours after it happened still gets a full window
    for its in-clinic check-in, counted from when it was recorded: the patient
    cannot answer before having the link. Any other check-in whose window had
    closed by ``recorded_at`` is planned as not asked (``FollowUp.asked``).
    """
    # Adding hours to a zone-aware datetime is wall-clock arithmetic in Python:
    # across a daylight-saving change that would be 23 or 25 elapsed hours.
    clinic = session.patient.clinic
    start = session.performed_at.astimezone(UTC)
    due_at = start + timedelta(hours=int(time_point))
    window_after = timedelta(hours=clinic.window_closes_hours_after)
    closes_at = (
        max(due_at, recorded_at or due_at) + window_after
        if time_point == TimePoint.IN_CLINIC
        else due_at + window_after
    )
    return FollowUp(
        session=session,
        clinic_id=session.clinic_id,
        time_point=time_point,
        due_at=due_at,
        opens_at=max(start, due_at - timedelta(hours=clinic.window_opens_hours_before)),
        closes_at=closes_at,
        asked=recorded_at is None or closes_at > recorded_at,
    )


def not_asked_time_points(clinic, *, performed_at, recorded_at) -> list[TimePoint]:
    """The clinic's fixed check-ins that a session performed at ``performed_at`` and
    recorded at ``recorded_at`` would never ask: their windows have closed.

    The same arithmetic as ``plan_follow_up``, so the warning on the form
    names exactly the check-ins that will be planned as not asked.
    """
    start = performed_at.astimezone(UTC)
    window_after = timedelta(hours=clinic.window_closes_hours_after)
    return [
        TimePoint(tp)
        for tp in clinic.fixed_time_points
        if tp != TimePoint.IN_CLINIC
        and start + timedelta(hours=int(tp)) + window_after <= recorded_at
    ]


def plan_follow_ups(session, *, recorded_at=None) -> list[FollowUp]:
    """The session's fixed check-ins, by its clinic's settings."""
    return [
        plan_follow_up(session, tp, recorded_at=recorded_at)
        for tp in session.patient.clinic.fixed_time_points
    ]


def needs_72h_follow_up(*, clinic, soreness_24h: int | None, soreness_48h: int | None) -> bool:
    """Whether a session gets a 72 h check-in: soreness at 48 h has not settled, or
    the 48 h check-in was missed (``soreness_48h`` None) while 24 h had not settled.

    One meaning of "settled", the clinic's (``Clinic.is_settled``), here as in
    the alerts and the analytics (docs/clinical.md, section 1).
    """
    if soreness_48h is not None:
        return not clinic.is_settled(soreness_48h)
    return soreness_24h is not None and not clinic.is_settled(soreness_24h)


def add_72h_follow_up_if_unsettled(session, *, soreness_48h: int | None) -> FollowUp | None:
    """Plan the session's 72 h check-in when ``needs_72h_follow_up`` says so.

    Called when the 48 h check-in is answered, and when it is marked missed
    (``soreness_48h`` None). Idempotent: a 72 h check-in planned already stays.
    """
    clinic = session.patient.clinic
    soreness_24h = (
        SymptomReport.objects.filter(
            follow_up__session=session, follow_up__time_point=TimePoint.H24
        )
        .values_list("soreness", flat=True)
        .first()
    )
    if not needs_72h_follow_up(clinic=clinic, soreness_24h=soreness_24h, soreness_48h=soreness_48h):
        return None
    planned = plan_follow_up(session, TimePoint.H72)
    follow_up, _created = FollowUp.objects.get_or_create(
        session=session,
        time_point=TimePoint.H72,
        defaults={
            "clinic_id": planned.clinic_id,
            "due_at": planned.due_at,
            "opens_at": planned.opens_at,
            "closes_at": planned.closes_at,
        },
    )
    return follow_up

"""Charts for pages: fetch the numbers, draw them with ``tracker.charts``, cache the bytes.

The cache key holds a digest of the numbers drawn, so a new report makes a
new key and a cached chart is never stale; several app servers sharing a
cache (Redis) share the charts too.
"""

from datetime import datetime

from django.utils.formats import date_format
from django.utils.translation import gettext

from tracker import charts
from tracker.charts.cache import cached_svg
from tracker.choices import BruiseBand, TwitchingFelt
from tracker.models import FollowUp
from tracker.queries.rows import PatientRows, stored_moment


def session_points(session) -> list[tuple[int, int, str]]:
    """(hours after the session, soreness, bruise band) of each answered check-in."""
    return list(
        FollowUp.objects.filter(session=session, report__isnull=False)
        .order_by("time_point")
        .values_list("time_point", "report__soreness", "report__bruising")
    )


def session_soreness_svg(session, *, label: str, title: str, small: bool = False) -> bytes:
    points = session_points(session)

    def render():
        series = charts.Series(
            label=label,
            points=[(hours, soreness) for hours, soreness, _ in points],
            marked=[hours for hours, _, bruise in points if bruise != BruiseBand.NONE],
        )
        size = {"width_in": 4.2, "height_in": 2.4} if small else {}
        return charts.soreness_chart([series], title=title, translate=gettext, **size)

    return cached_svg(f"session:{session.pk}", (points, label, title, small), render)


# Compiled once: the chart asks for a patient's points on every visit, and
# building this query's joins took longer than running it.
_ANSWERED_POINTS = PatientRows(
    FollowUp.objects.filter(report__isnull=False, session__entered_in_error_at__isnull=True)
    .order_by("session__performed_at", "session_id", "time_point")
    .values_list(
        "session_id",
        "session__performed_at",
        "time_point",
        "report__soreness",
        "report__bruising",
        "report__twitching",
    ),
    "session__patient_id",
)


def patient_points(patient) -> list[tuple[int, datetime, int, int, str, str]]:
    """(session id, performed at, hours, soreness, bruise band, twitching) of every answer,
    the times as stored (``stored_moment``).

    Sessions entered in error are left out of the patient's curves.
    """
    return _ANSWERED_POINTS.of(patient)


def patient_soreness_svg(patient, *, band, title: str) -> bytes:
    """One line per session, the clinic's typical course shaded behind them."""
    rows = patient_points(patient)

    def render():
        sessions: dict[int, list] = {}
        for session_id, performed_at, hours, soreness, bruise, twitching in rows:
            sessions.setdefault(session_id, [performed_at, []])[1].append(
                (hours, soreness, bruise, twitching)
            )
        series = [
            charts.Series(
                label=date_format(
                    stored_moment(performed_at).astimezone(patient.clinic.zone), "j M Y"
                ),
                points=[(hours, soreness) for hours, soreness, _, _ in answers],
                marked=[hours for hours, _, bruise, _ in answers if bruise != BruiseBand.NONE],
                twitching=[
                    hours for hours, _, _, twitch in answers if twitch != TwitchingFelt.NONE
                ],
            )
            for performed_at, answers in sessions.values()
        ]
        return charts.soreness_chart(series, band=band, title=title, translate=gettext)

    return cached_svg(
        f"patient:{patient.pk}", (rows, band, title, patient.clinic.time_zone), render
    )

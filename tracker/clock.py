"""The one place the app reads the time, and turns calendar days into instants.

Scheduling, link expiry and follow-up states all ask ``clock.now()``; tests
move time with time-machine, which moves this clock with every other.
"""

from datetime import UTC, date, datetime, time, timedelta, tzinfo

from django.utils import timezone


def now() -> datetime:
    return timezone.now()


def day_start(day: date, zone: tzinfo) -> datetime:
    """Midnight at the start of ``day`` in ``zone`` (a clinic's or the reader's)."""
    return datetime.combine(day, time.min, tzinfo=zone)


def days_between(first: date | None, last: date | None, zone: tzinfo):
    """``(start, end)`` instants of the calendar days ``first``..``last``, both included.

    ``end`` is the next midnight after ``last``, to be compared with ``<``; an
    open end is None.
    """
    start = day_start(first, zone) if first else None
    end = day_start(last + timedelta(days=1), zone) if last else None
    return start, end


def iso_utc(moment: datetime | None) -> str | None:
    """``moment`` as ISO 8601 in UTC with a ``Z``: the form every export writes."""
    if moment is None:
        return None
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")

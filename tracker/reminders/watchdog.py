"""Is the minute job running? Its heartbeat, and whether it is late.

``send_due_reminders`` (cron, every minute) sends urgent alerts' escalations
as well as reminders. When it stops (a crontab lost in a move, a server
rebuilt), a warning sign still reaches its first people at once (step 0 is
sent when it is reported), but nobody after them: no lead hears of an alert
the therapist off today never opens. So each run leaves its time here, and
Today and ``/healthz/jobs`` say so once it is more than ``JOB_LATE_MINUTES``
old, or there is none.

The time is kept in the database (the truth, which outlives a cache flushed)
and in the shared cache, which Today reads: a page view costs no query while
the job runs. A cache without it (flushed, or the job never ran) is filled
from the database for a minute.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core.cache import cache

from tracker import clock
from tracker.models import JobRun

JOB = "send_due_reminders"
_CACHE_KEY = f"job-finished:{JOB}"
_NEVER = "never"  # kept for a minute in the cache: no run recorded


@dataclass(frozen=True)
class JobHealth:
    finished_at: datetime | None  # the last run's end; None: no run recorded
    late: bool


def record_run(now=None) -> None:
    """The job finished a run at ``now``."""
    now = now or clock.now()
    JobRun.objects.update_or_create(name=JOB, defaults={"finished_at": now})
    cache.set(_CACHE_KEY, now, timeout=None)


def health(now=None) -> JobHealth:
    now = now or clock.now()
    finished_at = cache.get(_CACHE_KEY)
    if finished_at is None:
        finished_at = JobRun.objects.filter(name=JOB).values_list("finished_at", flat=True).first()
        cache.set(_CACHE_KEY, finished_at or _NEVER, timeout=60)
    if finished_at == _NEVER:
        finished_at = None
    late = finished_at is None or now - finished_at > timedelta(minutes=settings.JOB_LATE_MINUTES)
    return JobHealth(finished_at=finished_at, late=late)

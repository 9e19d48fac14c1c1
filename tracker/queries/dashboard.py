"""What a therapist has to act on now: the queries behind the home dashboard.

Each list is capped and each count is one query, so the page costs the same
number of queries whatever the size of the clinic.
"""

from dataclasses import dataclass
from datetime import timedelta

from django.db.models import Prefetch, Q

from tracker import clock
from tracker.models import Alert, Clinic, ContactAttempt, FollowUp, NeedlingSession, Severity

# Each alert card lists the tries to reach the patient, with who made them.
ATTEMPTS = Prefetch("attempts", queryset=ContactAttempt.objects.select_related("by"))

# The page is an overview: its counts give the totals, the inbox every alert.
LIST_LIMIT = 10
# Missed check-ins older than this are history, not work.
MISSED_RECENT = timedelta(days=3)


@dataclass
class Section:
    items: list
    count: int

    @property
    def more(self) -> int:
        return self.count - len(self.items)


def _section(queryset) -> Section:
    return Section(items=list(queryset[:LIST_LIMIT]), count=queryset.count())


def _today(clinics, now) -> Q:
    """Sessions performed today in each clinic's own time zone."""
    condition = Q(pk__in=[])
    for clinic in clinics:
        local = now.astimezone(clinic.zone)
        start = clock.day_start(local.date(), clinic.zone)
        condition |= Q(
            clinic=clinic,
            performed_at__gte=start,
            performed_at__lt=start + timedelta(days=1),
        )
    return condition


def for_user(user, now, *, mine=False) -> dict[str, Section]:
    clinics = list(Clinic.objects.for_user(user))
    # By the clinics' ids, not a join through the memberships: with one clinic,
    # as most users have, each list is read in order from its index.
    ids = [clinic.pk for clinic in clinics]
    # A session entered in error leaves Today: its check-ins (``open_at``,
    # ``late_at``, ``missed_at`` keep to asked ones of active sessions) and its
    # alerts, which were closed when it was marked.
    sessions = NeedlingSession.objects.in_clinics(ids).active()
    # The clinic comes along with each row: times are shown in its own zone.
    follow_ups = FollowUp.objects.in_clinics(ids).select_related("session__patient__clinic")
    alerts = Alert.objects.in_clinics(ids).select_related("session__patient__clinic")
    if mine:
        sessions = sessions.filter(therapist=user)
        follow_ups = follow_ups.filter(session__therapist=user)
        alerts = alerts.filter(session__therapist=user)
    return {
        "today": _section(
            sessions.filter(_today(clinics, now))
            .select_related("patient__clinic", "therapist")
            .order_by("-performed_at")
        ),
        "open": _section(follow_ups.open_at(now).order_by("closes_at")),
        "late": _section(follow_ups.late_at(now).order_by("closes_at")),
        "missed": _section(
            follow_ups.missed_at(now)
            .filter(closes_at__gte=now - MISSED_RECENT)
            .order_by("-closes_at")
        ),
        "alerts": _section(alerts.open().urgent_first().prefetch_related(ATTEMPTS)),
        # For the tab's title: the open urgent alerts, counted.
        "urgent": Section(items=[], count=alerts.open().filter(severity=Severity.URGENT).count()),
    }

"""What a therapist has to act on now: the queries behind the home dashboard.

Each list is capped and its count comes from one of three counting queries
(sessions today; open, late and missed check-ins together; open and urgent
alerts together; each a row per clinic, summed), so the page costs the same
number of queries whatever the size of the clinic. Each query is compiled once
per process and run with the request's values (``tracker.queries.rows``).
"""

import dataclasses
import functools
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Count, Prefetch, Q

from tracker import clock, fragments
from tracker.choices import CHECK_IN_NAMES
from tracker.models import Alert, Clinic, ContactAttempt, FollowUp, NeedlingSession, Severity
from tracker.models.followups import missed_q, totals
from tracker.queries.rows import Statement

# Each alert card lists the tries to reach the patient, with who made them, as
# ``alert.attempt_list``: a plain list (a prefetched manager would build a
# queryset per alert each time its attempts are asked for).
# Of who made each, only the names the card shows (``fragments.STAFF_NAMES``).
ATTEMPTS = Prefetch(
    "attempts",
    queryset=ContactAttempt.objects.select_related("by").only(
        *(field.name for field in ContactAttempt._meta.concrete_fields),
        *(f"by__{name}" for name in fragments.STAFF_NAMES),
    ),
    to_attr="attempt_list",
)

# What an alert card shows (``_alert_items.html``, on Today and in the inbox):
# the alert itself, the patient's name and ways to call them, the clinic's
# zone, and who acknowledged it; with ``select_related(*ALERT_CARD_RELATED)``.
# A column the cards show that is not listed would cost a query per card,
# which the pages' query-count tests catch.
ALERT_CARD_RELATED = ("session__patient__clinic", "acknowledged_by")
ALERT_CARD = (
    *(field.name for field in Alert._meta.concrete_fields),
    "session__patient__display_name",
    "session__patient__erased_at",
    "session__patient__phone",
    "session__patient__phone_refused_at",
    "session__patient__email",
    "session__patient__clinic__time_zone",
    "acknowledged_by__first_name",
    "acknowledged_by__last_name",
    "acknowledged_by__username",
)


# What keys an alert card, read as plain values: ALERT_CARD (the alert's own
# foreign keys as ids), and each contact attempt's columns with its author's names.
CARD_ROW = ALERT_CARD
ATTEMPT_ROW = (
    *(field.attname for field in ContactAttempt._meta.concrete_fields),
    *(f"by__{name}" for name in fragments.STAFF_NAMES),
)
_ID, _SEVERITY, _ACKNOWLEDGED_AT = (
    CARD_ROW.index(name) for name in ("id", "severity", "acknowledged_at")
)
_ATTEMPT_ALERT = ATTEMPT_ROW.index("alert_id")
# Compiled once per number of alerts (up to a page of the inbox).
_ATTEMPT_ROWS = Statement(
    lambda alerts: ContactAttempt.objects.filter(alert_id__in=alerts).values_list(*ATTEMPT_ROW)
)


@dataclass(frozen=True, slots=True)
class AlertCard:
    """An alert in a list of cards (``_alert_items.html``): what the list shows
    of it outside the card (whether it is urgent and open, its form's id),
    the key its card is kept rendered under, and the alert itself as a model,
    read only if the card is drawn."""

    pk: int
    severity: str
    acknowledged_at: datetime | None
    key: str
    cards: "AlertCards" = dataclasses.field(repr=False, compare=False)

    @property
    def alert(self) -> Alert:
        return self.cards.alerts[self.pk]


class AlertCards(list):
    """The cards of the alerts in ``rows`` (of ``values_list(*CARD_ROW)``), in order.

    Each card's key is a digest of every value it is drawn from: the row
    (the alert, its patient's name and ways to call them, the clinic's zone,
    who acknowledged it) and each contact attempt with who made it. The
    cards' markup is kept under it (see tracker.fragments): a new number, an
    attempt or the alert acknowledged is a new key, and the card is drawn
    afresh. A list whose cards are all kept reads no alert as a model; one
    that has a card to draw reads all of its alerts, in two queries.
    """

    def __init__(self, rows):
        rows = list(rows)
        attempts = defaultdict(list)
        if rows:
            for attempt in _ATTEMPT_ROWS.raw(alerts=[row[_ID] for row in rows]):
                attempts[attempt[_ATTEMPT_ALERT]].append(attempt)
        super().__init__(
            AlertCard(
                row[_ID],
                row[_SEVERITY],
                row[_ACKNOWLEDGED_AT],
                key=fragments.digest((row, attempts[row[_ID]])),
                cards=self,
            )
            for row in rows
        )

    @functools.cached_property
    def alerts(self) -> dict[int, Alert]:
        """The cards' alerts as models, by id, with all their cards show."""
        return (
            Alert.objects.select_related(*ALERT_CARD_RELATED)
            .only(*ALERT_CARD)
            .prefetch_related(ATTEMPTS)
            .in_bulk([card.pk for card in self])
        )


@dataclass(frozen=True, slots=True)
class CheckInLine:
    """A check-in's line on Today (``_follow_up_section.html``): which check-in,
    when it closes, in the clinic's zone, and whose it is.

    Today's lines are read as plain values, not models: ten lines of three
    models each (the check-in, its session and patient) took twice as long to
    read, for markup that is kept rendered (``Section.key``) and so is drawn
    from them only when they change.
    """

    session_id: int
    time_point: int
    closes_at: datetime
    patient_name: str
    zone: str

    # What is read for it (``values_list``): its first four fields, then its
    # clinic's id, whose zone the page has read with the user's clinics.
    COLUMNS = (
        "session_id",
        "time_point",
        "closes_at",
        "session__patient__display_name",
        "clinic_id",
    )

    @property
    def check_in_name(self) -> str:
        return CHECK_IN_NAMES[self.time_point]


@dataclass(frozen=True, slots=True)
class SessionLine:
    """A session's line under "Sessions today" (``home.html``)."""

    pk: int
    performed_at: datetime
    patient_name: str
    therapist_name: str
    zone: str

    COLUMNS = (
        "pk",
        "performed_at",
        "patient__display_name",
        "therapist__first_name",
        "therapist__last_name",
        "therapist__username",
        "clinic_id",
    )


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

    @property
    def key(self) -> str:
        """What the section's lines are kept rendered under (``home.html``, see
        tracker.fragments): a digest of every value they show, and of the count."""
        return fragments.digest((self.items, self.count))


def _scoped(queryset, clinics, therapist, therapist_path):
    """``queryset`` in these clinics (by id, not a join through the memberships:
    with one clinic, as most users have, each list is read in order from its
    index); with ``therapist`` (an id), only their sessions'."""
    queryset = queryset.in_clinics(clinics)
    return queryset if therapist is None else queryset.filter(**{therapist_path: therapist})


def _days(clinics, starts, ends) -> Q:
    """Sessions performed in each clinic's day, from its start to its end."""
    condition = Q(pk__in=[])
    for clinic, start, end in zip(clinics, starts, ends, strict=True):
        condition |= Q(clinic=clinic, performed_at__gte=start, performed_at__lt=end)
    return condition


# Today's reads, each compiled once per process (tracker.queries.rows): building
# and compiling them took two thirds of the page's time, and running them a tenth.
# A session entered in error leaves Today: its check-ins (``active``, ``open_at``,
# ``late_at`` keep to asked ones of active sessions) and its alerts, which were
# closed when it was marked.
def _sessions_today(clinics, therapist, starts, ends):
    return _scoped(NeedlingSession.objects.active(), clinics, therapist, "therapist").filter(
        _days(clinics, starts, ends)
    )


_SESSION_LINES = Statement(
    lambda **values: (
        _sessions_today(**values)
        .order_by("-performed_at")
        .values_list(*SessionLine.COLUMNS)[:LIST_LIMIT]
    )
)
_SESSION_COUNT = Statement(
    lambda **values: (
        _sessions_today(**values)
        .order_by()
        .values("clinic")
        .annotate(count=Count("clinic"))
        .values_list("count")
    )
)
_CHECK_INS = FollowUp.objects.active()
_CHECK_IN_LINES = {
    "open": Statement(
        lambda clinics, therapist, now: (
            _scoped(_CHECK_INS.open_at(now), clinics, therapist, "session__therapist")
            .order_by("closes_at")
            .values_list(*CheckInLine.COLUMNS)[:LIST_LIMIT]
        )
    ),
    "late": Statement(
        lambda clinics, therapist, now: (
            _scoped(_CHECK_INS.late_at(now), clinics, therapist, "session__therapist")
            .order_by("closes_at")
            .values_list(*CheckInLine.COLUMNS)[:LIST_LIMIT]
        )
    ),
    "missed": Statement(
        lambda clinics, therapist, now: (
            _scoped(
                _CHECK_INS.filter(missed_q(now), closes_at__gte=now - MISSED_RECENT),
                clinics,
                therapist,
                "session__therapist",
            )
            .order_by("-closes_at")
            .values_list(*CheckInLine.COLUMNS)[:LIST_LIMIT]
        )
    ),
}
# The three lists of check-ins counted in one pass, read from
# followup_clinic_unanswered_idx alone.
_CHECK_IN_COUNTS = Statement(
    lambda clinics, therapist, now: _scoped(
        _CHECK_INS, clinics, therapist, "session__therapist"
    ).state_counts_by_clinic(now, missed_since=now - MISSED_RECENT)
)
_OPEN_ALERTS = Alert.objects.open()
_ALERT_CARDS = Statement(
    lambda clinics, therapist: (
        _scoped(_OPEN_ALERTS, clinics, therapist, "session__therapist")
        .urgent_first()
        .values_list(*CARD_ROW)[:LIST_LIMIT]
    )
)
# The open alerts and the urgent among them, counted in one pass from
# alert_clinic_open_idx, by the clinic column as state_counts_by_clinic does.
_ALERT_COUNTS = Statement(
    lambda clinics, therapist: (
        _scoped(_OPEN_ALERTS, clinics, therapist, "session__therapist")
        .order_by()
        .values("clinic")
        .annotate(all=Count("clinic"), urgent=Count("clinic", filter=Q(severity=Severity.URGENT)))
        .values_list("all", "urgent")
    )
)


def _check_in_lines(rows, count: int, zones) -> Section:
    return Section(items=[CheckInLine(*row[:-1], zone=zones[row[-1]]) for row in rows], count=count)


def _session_lines(rows, count: int, zones) -> Section:
    return Section(
        items=[
            SessionLine(
                pk,
                performed_at,
                patient_name,
                # As User.get_full_name, or the username for a member with no name.
                f"{first_name} {last_name}".strip() or username,
                zone=zones[clinic_id],
            )
            for pk, performed_at, patient_name, first_name, last_name, username, clinic_id in rows
        ],
        count=count,
    )


def for_user(user, now, *, mine=False, clinics=None) -> dict[str, Section]:
    """Today's sections for ``user``; ``clinics``, their clinics if the caller has
    read them already (``queries.roles.user_clinics``)."""
    if clinics is None:
        clinics = list(Clinic.objects.for_user(user))
    scope = {"clinics": [clinic.pk for clinic in clinics], "therapist": user.pk if mine else None}
    # Each clinic's day in its own zone.
    starts = [
        clock.day_start(now.astimezone(clinic.zone).date(), clinic.zone) for clinic in clinics
    ]
    days = {"starts": starts, "ends": [start + timedelta(days=1) for start in starts]}
    # Times are shown in each clinic's own zone.
    zones = {clinic.pk: clinic.time_zone for clinic in clinics}
    (sessions_today,) = totals(_SESSION_COUNT.rows(**scope, **days), 1)
    check_ins = dict(
        zip(("open", "late", "missed"), totals(_CHECK_IN_COUNTS.rows(**scope, now=now), 3))
    )
    open_alerts, urgent = totals(_ALERT_COUNTS.rows(**scope), 2)
    return {
        "today": _session_lines(_SESSION_LINES.rows(**scope, **days), sessions_today, zones),
        **{
            state: _check_in_lines(lines.rows(**scope, now=now), check_ins[state], zones)
            for state, lines in _CHECK_IN_LINES.items()
        },
        "alerts": Section(items=AlertCards(_ALERT_CARDS.rows(**scope)), count=open_alerts),
        # For the tab's title: the open urgent alerts, counted.
        "urgent": Section(items=[], count=urgent),
    }

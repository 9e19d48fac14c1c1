"""The patient list's read: search, filters, order, and what each row shows, in one query.

Search ignores accents, case and word order: each word typed must start a
word of the patient's stored ``search_key`` (name and reference, made plain
by ``tracker.names``), a ``LIKE`` that runs the same on SQLite and
PostgreSQL. Filters and columns are subqueries of the same statement, so a
page costs one query (and the paginator's count) however many rows it holds.
"""

from django.db.models import Count, Exists, F, Max, OuterRef, Prefetch, Q

from tracker import fragments, names
from tracker.models import Alert, FollowUp, NeedledSite, NeedlingSession, Patient, SymptomReport
from tracker.models.followups import window_state
from tracker.queries.dashboard import MISSED_RECENT
from tracker.queries.rows import PatientRows, stored_moment

# More words than this in a search are ignored (a name and a reference fit).
MAX_SEARCH_WORDS = 8
ACTIVE_SESSION = Q(sessions__entered_in_error_at__isnull=True)


def patient_list(user, now, *, query="", therapist="", status="", sort="name"):
    """The user's patients as the list shows them.

    ``therapist`` is "me", a user id, or "" (anyone): patients with a session
    by that therapist. ``status`` is "alert" (an open alert), "open" (a
    check-in that can be answered now), "missed" (a check-in missed in the
    last three days, as on Today) or "". ``sort`` is "name" or
    "last_session" (newest first, patients without a session last). Each row
    has ``session_count``, ``last_session_at`` and ``shares_name`` (another
    patient of the clinic has the same name, so the list shows the reference
    or year of birth beside it).
    """
    patients = (
        Patient.objects.for_user(user)
        .select_related("clinic")
        .annotate(
            # Sessions entered in error are not counted (they stay on the patient's page).
            session_count=Count("sessions", filter=ACTIVE_SESSION),
            last_session_at=Max("sessions__performed_at", filter=ACTIVE_SESSION),
            shares_name=Exists(
                Patient.objects.filter(
                    clinic_id=OuterRef("clinic_id"), name_key=OuterRef("name_key")
                ).exclude(pk=OuterRef("pk"))
            ),
        )
    )
    searched = names.words(query)[:MAX_SEARCH_WORDS]
    if query.strip() and not searched:
        return patients.none()  # only punctuation: nothing to find ("%" is no wildcard)
    for word in searched:
        patients = patients.filter(search_key__contains=f" {word}")
    if therapist:
        therapist_id = user.pk if therapist == "me" else int(therapist)
        patients = patients.filter(
            Exists(
                NeedlingSession.objects.filter(patient=OuterRef("pk"), therapist_id=therapist_id)
            )
        )
    if status == "alert":
        patients = patients.filter(
            Exists(Alert.objects.open().filter(session__patient=OuterRef("pk")))
        )
    elif status == "open":
        patients = patients.filter(
            Exists(FollowUp.objects.answerable_at(now).filter(session__patient=OuterRef("pk")))
        )
    elif status == "missed":
        patients = patients.filter(
            Exists(
                FollowUp.objects.missed_at(now).filter(
                    session__patient=OuterRef("pk"), closes_at__gte=now - MISSED_RECENT
                )
            )
        )
    if sort == "last_session":
        return patients.order_by(F("last_session_at").desc(nulls_last=True), "display_name", "pk")
    return patients.order_by("display_name", "pk")


def sessions_shown():
    """A patient's sessions as their blocks show them (the patient page, the visit
    summary): with the therapist, sites, check-ins and their reports, and alerts
    with who acknowledged each, for ``prefetch_related("sessions")``."""
    return NeedlingSession.objects.select_related("therapist").prefetch_related(
        "sites",
        Prefetch("follow_ups", queryset=FollowUp.objects.select_related("report")),
        Prefetch(
            "alerts",
            queryset=Alert.objects.select_related("acknowledged_by").order_by("opened_at", "pk"),
        ),
    )


# Everything a session's block on the patient page is drawn from, to key the
# kept blocks: the page's sessions are read as models (above) only for the
# blocks not kept. Each row's first column is its session's id.
_SESSION_ROWS = PatientRows(
    NeedlingSession.objects.order_by("-performed_at", "-pk").values_list(
        *fragments.attnames(NeedlingSession),
        *(f"therapist__{name}" for name in fragments.STAFF_NAMES),
    ),
    "patient_id",
)
_SITE_ROWS = PatientRows(
    NeedledSite.objects.order_by("session_id", "pk").values_list(
        "session_id", *fragments.attnames(NeedledSite)
    ),
    "session__patient_id",
)
_ALERT_ROWS = PatientRows(
    Alert.objects.order_by("session_id", "opened_at", "pk").values_list(
        "session_id",
        *fragments.attnames(Alert),
        *(f"acknowledged_by__{name}" for name in fragments.STAFF_NAMES),
    ),
    "session__patient_id",
)
# With the times that place the clock in its window first (see session_block_keys).
_CHECK_IN_ROWS = PatientRows(
    FollowUp.objects.order_by("session_id", "time_point").values_list(
        "session_id",
        "answered_at",
        "opens_at",
        "due_at",
        "closes_at",
        *fragments.attnames(FollowUp),
        *(f"report__{name}" for name in fragments.attnames(SymptomReport)),
    ),
    "session__patient_id",
)


def session_block_keys(patient, now) -> dict[int, str]:
    """Each of ``patient``'s sessions (by id, in the page's order) with a digest of
    everything its block is drawn from at ``now``.

    The columns of the session, its therapist's names, its sites, alerts (with
    who acknowledged each), check-ins and their reports, and where ``now``
    falls in each check-in's window: the one part of a check-in's state not
    stored (``window_state``). The page keeps each block rendered under it
    (``PatientDetailView``, see tracker.fragments).
    """
    sessions = _SESSION_ROWS.of(patient)
    related = {session[0]: ([], [], []) for session in sessions}
    for index, rows in enumerate((_SITE_ROWS, _ALERT_ROWS, _CHECK_IN_ROWS)):
        for row in rows.of(patient):
            related[row[0]][index].append(row)
    keys = {}
    for session in sessions:
        sites, alerts, check_ins = related[session[0]]
        windows = [
            window_state(
                now,
                opens_at=stored_moment(opens_at),
                due_at=stored_moment(due_at),
                closes_at=stored_moment(closes_at),
            )
            for _, answered_at, opens_at, due_at, closes_at, *_ in check_ins
            if answered_at is None
        ]
        keys[session[0]] = fragments.digest((session, sites, alerts, check_ins, windows))
    return keys

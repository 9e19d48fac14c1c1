"""The patient list's read: search, filters, order, and what each row shows, in one query.

Search ignores accents, case and word order: each word typed must start a
word of the patient's stored ``search_key`` (name and reference, made plain
by ``tracker.names``), a ``LIKE`` that runs the same on SQLite and
PostgreSQL. Filters and columns are subqueries of the same statement, so a
page costs one query (and the paginator's count) however many rows it holds.
"""

from django.db.models import Count, Exists, F, Max, OuterRef, Q

from tracker import fragments, names
from tracker.models import Alert, FollowUp, NeedlingSession, Patient
from tracker.queries.dashboard import MISSED_RECENT

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


def session_block_key(session, now) -> str:
    """A digest of everything a session's block on the patient page is drawn from.

    The columns read of the session, its therapist, sites, alerts (with who
    acknowledged each), check-ins and their reports, and each check-in's state
    at ``now`` (open, late, missed...). The page keeps each block rendered
    under it (``patient_detail.html``, see tracker.fragments).
    """
    follow_ups = list(session.follow_ups.all())
    reports = [follow_up.report if follow_up.answered_at else None for follow_up in follow_ups]
    alerts = list(session.alerts.all())
    return fragments.rows_digest(
        session,
        *session.sites.all(),
        *alerts,
        *follow_ups,
        *reports,
        also=(
            fragments.name_of(session.therapist),
            [fragments.name_of(alert.acknowledged_by) for alert in alerts],
            [follow_up.state_at(now) for follow_up in follow_ups],
        ),
    )

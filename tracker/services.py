"""Writes that touch several rows: recording a session, taking a report.

Each service is atomic and validates every row before saving it, so a bad
value leaves nothing behind. Callers pass keyword arguments only.
"""

from datetime import timedelta
from uuid import UUID

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from tracker import alerts, clock, scheduling, tokens
from tracker.choices import CHEST_WALL_MUSCLES, AfterEffect, RedFlag, TimePoint
from tracker.models import (
    AccessLink,
    Alert,
    FollowUp,
    NeedledSite,
    NeedlingSession,
    SymptomReport,
)


class FollowUpNotOpen(Exception):
    """The follow-up cannot take a report now: not yet open, closed or answered."""

    def __init__(self, follow_up, state):
        super().__init__(f"Follow-up {follow_up.pk} is {state}")
        self.follow_up = follow_up
        self.state = state


@transaction.atomic
def record_session(
    *,
    patient,
    therapist,
    performed_at,
    pre_pain,
    sites,
    chest_wall_area=False,
    anticoagulants=False,
    lung_condition=False,
    notes="",
    recorded_at=None,
) -> NeedlingSession:
    """Record a session with its needled sites, plan its follow-ups and issue its link.

    ``sites`` is a list of dicts with the NeedledSite fields; ``recorded_at``
    (default: now) is when the therapist saved it. A session over
    the chest wall, neck, shoulder girdle or upper back is marked as such
    whether or not the therapist ticked it, because it changes what the
    patient is asked first.
    """
    if not patient.clinic.memberships.filter(user=therapist).exists():
        raise ValidationError(_("Only a member of the patient's clinic can record a session."))
    if not sites:
        raise ValidationError(_("Add at least one needled site."))

    session = NeedlingSession(
        patient=patient,
        therapist=therapist,
        performed_at=performed_at,
        pre_pain=pre_pain,
        chest_wall_area=chest_wall_area
        or any(site["muscle"] in CHEST_WALL_MUSCLES for site in sites),
        anticoagulants=anticoagulants,
        lung_condition=lung_condition,
        notes=notes,
    )
    session.full_clean()
    session.save()

    site_rows = [NeedledSite(session=session, **site) for site in sites]
    for row in site_rows:
        row.full_clean()
    NeedledSite.objects.bulk_create(site_rows)

    FollowUp.objects.bulk_create(
        scheduling.plan_follow_ups(session, recorded_at=recorded_at or clock.now())
    )
    issue_access_link(session=session)
    return session


def issue_access_link(*, session) -> AccessLink:
    """A new link for the session's check-ins, valid until some days after it."""
    nonce = tokens.new_nonce()
    return AccessLink.objects.create(
        session=session,
        nonce=nonce,
        token_hash=tokens.hash_token(tokens.token_for(nonce)),
        created_at=clock.now(),
        expires_at=session.performed_at + timedelta(days=settings.ACCESS_LINK_LIFETIME_DAYS),
    )


def lookup_access_link(token: str) -> AccessLink | None:
    """The link for ``token`` whether or not it still works, or None if unknown."""
    return (
        AccessLink.objects.select_related("session__patient__clinic")
        .filter(token_hash=tokens.hash_token(token))
        .first()
    )


def find_access_link(token: str) -> AccessLink | None:
    """The usable link for ``token``, or None if it is unknown, expired or revoked."""
    link = lookup_access_link(token)
    return link if link is not None and link.is_usable_at(clock.now()) else None


def submit_report(*, follow_up, idempotency_key: UUID, answers: dict, now=None):
    """Store the patient's answers to ``follow_up``; return ``(report, created)``.

    ``answers`` holds ``soreness``, ``twitching``, ``bruising``,
    ``interference``, optionally ``bruise_growing``, ``bruise_elsewhere`` and
    ``note``, and the lists ``after_effects`` and ``red_flags`` (choice
    values). A resend with the same idempotency key returns the report
    already stored. The report's alerts are opened in the same transaction,
    and a report at 48 h that has not settled adds a 72 h follow-up.
    """
    now = now or clock.now()
    existing = SymptomReport.objects.filter(idempotency_key=idempotency_key).first()
    if existing is not None:
        return existing, False

    try:
        with transaction.atomic():
            # Lock the follow-up so that two copies of the same submission
            # arriving at once are taken one after the other.
            locked = FollowUp.objects.select_for_update().select_related(
                "session__patient__clinic"
            ).get(pk=follow_up.pk)
            existing = SymptomReport.objects.filter(idempotency_key=idempotency_key).first()
            if existing is not None:
                return existing, False
            if not locked.is_answerable_at(now):
                raise FollowUpNotOpen(locked, locked.state_at(now))

            report = SymptomReport(
                follow_up=locked,
                idempotency_key=idempotency_key,
                soreness=answers["soreness"],
                twitching=answers["twitching"],
                bruising=answers["bruising"],
                bruise_growing=answers.get("bruise_growing", False),
                bruise_elsewhere=answers.get("bruise_elsewhere", False),
                interference=answers["interference"],
                note=answers.get("note", ""),
                submitted_at=now,
                **{value: value in answers.get("after_effects", ()) for value in AfterEffect.values},
                **{value: value in answers.get("red_flags", ()) for value in RedFlag.values},
            )
            report.full_clean()
            report.save()
            locked.answered_at = now
            locked.save(update_fields=["answered_at"])

            alerts.evaluate_report(report)
            if locked.time_point == TimePoint.H48:
                _add_72h_if_unsettled(locked, report)
    except IntegrityError:
        # The same key stored by a concurrent request between our two reads.
        existing = SymptomReport.objects.filter(idempotency_key=idempotency_key).first()
        if existing is None:
            raise
        return existing, False
    return report, True


def _add_72h_if_unsettled(follow_up_48h, report_48h):
    session = follow_up_48h.session
    soreness_24h = (
        SymptomReport.objects.filter(
            follow_up__session=session, follow_up__time_point=TimePoint.H24
        )
        .values_list("soreness", flat=True)
        .first()
    )
    if scheduling.needs_72h_follow_up(
        soreness_24h=soreness_24h,
        soreness_48h=report_48h.soreness,
        threshold=session.patient.clinic.soreness_threshold,
    ):
        planned = scheduling.plan_follow_up(session, TimePoint.H72)
        FollowUp.objects.get_or_create(
            session=session,
            time_point=TimePoint.H72,
            defaults={
                "due_at": planned.due_at,
                "opens_at": planned.opens_at,
                "closes_at": planned.closes_at,
            },
        )


def acknowledge_alert(*, alert, user, note: str):
    """Record who acknowledged the alert, when, and what they did.

    A conditional update, so two people acknowledging at once leave the
    first one's name and note.
    """
    if not note.strip():
        raise ValidationError(_("Write a short note on what was done."))
    updated = Alert.objects.filter(pk=alert.pk, acknowledged_at__isnull=True).update(
        acknowledged_by=user, acknowledged_at=clock.now(), note=note.strip()
    )
    if not updated:
        raise ValidationError(_("This alert was already acknowledged."))
    alert.refresh_from_db()
    return alert

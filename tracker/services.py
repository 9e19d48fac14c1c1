"""Writes that touch several rows: recording a session, taking a report, erasing a patient.

Each service is atomic and validates every row before saving it, so a bad
value leaves nothing behind. Callers pass keyword arguments only.
"""

import secrets
from dataclasses import dataclass
from datetime import timedelta
from uuid import UUID

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.crypto import constant_time_compare
from django.utils.translation import gettext as _

from tracker import alerts, audit, clock, scheduling, tokens
from tracker.choices import CHEST_WALL_MUSCLES, AfterEffect, RedFlag, ReminderChannel, TimePoint
from tracker.models import (
    AccessLink,
    Alert,
    AuditAction,
    FollowUp,
    NeedledSite,
    NeedlingSession,
    Patient,
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
    if patient.is_erased:
        raise ValidationError(_("This patient's details were erased; no session can be added."))
    if not sites:
        raise ValidationError(_("Add at least one needled site."))

    session = NeedlingSession(
        patient=patient,
        clinic=patient.clinic,
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


# Stands in for a link's nonce when a token matches no link, so that an unknown
# token costs the same work as a known one (see lookup_access_link).
_NO_LINK_NONCE = "0" * 32


def lookup_access_link(token: str) -> AccessLink | None:
    """The link for ``token`` whether or not it still works, or None if unknown.

    The row is found by the SHA-256 of the presented token, never by the token
    itself; the row's own token is then derived again from its nonce under the
    server key, and its hash compared with the presented one in constant time,
    so a row written into the database without the key opens nothing. An
    unknown token goes through the same steps with a stand-in nonce: both
    paths hash twice, derive one HMAC, run one query and one constant-time
    comparison, and a wrong token takes as long to refuse as a right one takes
    to find.
    """
    presented = tokens.hash_token(token)
    link = (
        AccessLink.objects.select_related("session__patient__clinic")
        .filter(token_hash=presented)
        .first()
    )
    expected = tokens.hash_token(tokens.token_for(link.nonce if link is not None else _NO_LINK_NONCE))
    matches = constant_time_compare(expected, presented)
    return link if link is not None and matches else None


@dataclass(frozen=True)
class LinkReplacement:
    """What ``replace_access_link`` did: the new link, and the links it revoked."""

    issued: AccessLink
    revoked: list[AccessLink]


@transaction.atomic
def replace_access_link(*, session, user) -> LinkReplacement:
    """Revoke the session's working link and issue a new one (a lost or shared phone).

    Only a member of the patient's clinic may; not for an erased patient, nor
    once the session's check-in period is over (a new link would already be
    expired). The old token then opens the "this link has been replaced" page.
    The caller records the audit events, in the same transaction.
    """
    now = clock.now()
    patient = session.patient
    if not patient.clinic.memberships.filter(user=user).exists():
        raise ValidationError(_("Only a member of the patient's clinic can replace the link."))
    if patient.is_erased:
        raise ValidationError(_("This patient's details were erased; no new link can be issued."))
    if session.performed_at + timedelta(days=settings.ACCESS_LINK_LIFETIME_DAYS) <= now:
        raise ValidationError(_("This session's check-ins are over; a new link would not open."))
    # The session row is locked, so that two clicks at once run one after the
    # other: the second revokes the first's new link and one link stays usable.
    NeedlingSession.objects.select_for_update().filter(pk=session.pk).first()
    revoked = list(AccessLink.objects.filter(session=session).usable_at(now))
    AccessLink.objects.filter(pk__in=[link.pk for link in revoked]).update(revoked_at=now)
    for link in revoked:
        link.revoked_at = now
    return LinkReplacement(issued=issue_access_link(session=session), revoked=revoked)


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
    try:
        with transaction.atomic():
            # Lock the follow-up so that two copies of the same submission
            # arriving at once are taken one after the other.
            locked = FollowUp.objects.select_for_update().select_related(
                "session__patient__clinic"
            ).get(pk=follow_up.pk)
            if locked.answered_at is not None:
                # Answered already: by this very submission, sent again?
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
            # The fields' own checks. Not the follow-up (locked above), nor
            # uniqueness or constraints: the database enforces those on the
            # insert, and a key stored meanwhile lands in the except below.
            report.full_clean(exclude=["follow_up"], validate_unique=False,
                              validate_constraints=False)
            report.save()
            locked.answered_at = now
            locked.save(update_fields=["answered_at"])

            alerts.evaluate_report(report)
            if locked.time_point == TimePoint.H48:
                _add_72h_if_unsettled(locked, report)
    except IntegrityError:
        # The same key stored already (for another of the session's check-ins,
        # or by a concurrent request).
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
                "clinic_id": planned.clinic_id,
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


@transaction.atomic
def erase_patient(*, patient, user, request_ip) -> Patient:
    """Erase a patient's personal details at their request, and record that it was done.

    The name becomes "Erased patient" and a short random tag (so that rows
    stay distinguishable in lists); reference, email, phone and year of birth
    are cleared; reminders are turned off; every free-text note on their
    sessions, sites, reports and alerts is cleared, because free text can
    hold identifying detail; their links are revoked. The clinical numbers
    (sessions, sites, check-ins, soreness, after-effects, alerts) stay, no
    longer tied to a person, for the clinic's statistics. The patient row
    itself stays, so the audit trail keeps pointing at it.

    Only a lead of the patient's clinic may erase; ``request_ip`` is the
    address recorded in the audit event (see ``audit.client_ip``).
    """
    # Locked, so that two erasures at once do not both pass the "already erased" check.
    patient = Patient.objects.select_for_update().get(pk=patient.pk)
    if not Patient.objects.led_by(user).filter(pk=patient.pk).exists():
        raise ValidationError(_("Only a lead of the patient's clinic can erase a patient."))
    if patient.is_erased:
        raise ValidationError(_("This patient's details were already erased."))

    now = clock.now()
    # Stored data, so not translated: the same words whoever's language erased it.
    patient.display_name = f"Erased patient {secrets.token_hex(3)}"
    patient.reference = ""
    patient.email = ""
    patient.phone = ""
    patient.year_of_birth = None
    patient.reminders_consent = False
    patient.reminder_channel = ReminderChannel.NONE
    patient.consent_changed_at = now
    patient.erased_at = now
    patient.full_clean()
    patient.save()

    NeedlingSession.objects.filter(patient=patient).update(notes="")
    NeedledSite.objects.filter(session__patient=patient).update(notes="")
    SymptomReport.objects.filter(follow_up__session__patient=patient).update(note="")
    Alert.objects.filter(session__patient=patient).update(note="")
    revoked = AccessLink.objects.filter(
        session__patient=patient, revoked_at__isnull=True
    ).update(revoked_at=now)

    audit.record_event(
        user=user, ip=request_ip, action=AuditAction.ERASE, patient=patient, obj=patient,
        detail=f"{revoked} links revoked",
    )
    return patient

"""Writes that touch a session and its rows: recording it, correcting it, marking it in error.

Each service is atomic and validates every row before saving it, so a bad
value leaves nothing behind. Callers pass keyword arguments only.
"""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from tracker import clock
from tracker.choices import CHEST_WALL_MUSCLES
from tracker.models import (
    AccessLink,
    Alert,
    AuditAction,
    FollowUp,
    NeedledSite,
    NeedlingSession,
    Outcome,
    SessionOutcome,
)
from tracker.security import audit
from tracker.services import scheduling
from tracker.services.links import issue_access_link


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
    request_ip=None,
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
    SessionOutcome.objects.recount_session(session)
    issue_access_link(session=session)
    audit.record_event(
        user=therapist, ip=request_ip, action=AuditAction.CREATE, patient=patient, obj=session
    )
    return session


# What a correction may change: the record of what was done, never when it
# was done (that planned the check-ins) nor the patient's answers.
CORRECTABLE_SESSION_FIELDS = ("chest_wall_area", "anticoagulants", "lung_condition", "notes")
CORRECTABLE_SITE_FIELDS = ("muscle", "side", "insertions", "technique", "twitch_band", "notes")
# Free text written about a patient stays out of the audit trail, which outlives
# erasure: a changed note is recorded as changed, with its lengths.
_FREE_TEXT = frozenset({"notes"})


class FollowUpOver(ValidationError):
    """The session's follow-up has ended (or it was entered in error): it can no longer change."""


def _change(field, before, after) -> dict:
    if field in _FREE_TEXT:
        return {"changed": True, "before_length": len(before), "after_length": len(after)}
    return {"before": before, "after": after}


def _locked(session):
    """The session again, its row locked, so that two corrections never interleave."""
    return NeedlingSession.objects.select_for_update().select_related("patient").get(pk=session.pk)


@transaction.atomic
def correct_session(*, session, user, fields, sites, request_ip=None) -> dict:
    """Correct a session's record while its follow-up runs; return what changed.

    ``fields`` holds the session's correctable fields; ``sites`` one dict per
    site, with ``id`` for a site already recorded (changed in place: a site is
    never removed) and without it for a site added. Each change goes into one
    audit event, before and after, in its ``data``. Nothing is saved unless
    every row is valid; nothing is recorded when nothing changed.
    """
    session = _locked(session)
    if not session.patient.clinic.memberships.filter(user=user).exists():
        raise ValidationError(_("Only a member of the patient's clinic can correct a session."))
    if session.follow_up_over_at(clock.now()):
        raise FollowUpOver(
            _("This session's follow-up has ended: its record can no longer be corrected.")
        )
    changes = {}
    existing = {site.pk: site for site in session.sites.all()}
    changed_sites, new_sites = [], []
    for row in sites:
        row = dict(row)
        site_id = row.pop("id", None)
        if site_id is None:
            new_sites.append(NeedledSite(session=session, **row))
            continue
        site = existing.get(site_id)
        if site is None:
            raise ValidationError(_("A needled site of another session cannot be changed here."))
        site_changed = False
        for name in CORRECTABLE_SITE_FIELDS:
            if name in row and row[name] != getattr(site, name):
                changes[f"sites.{site.pk}.{name}"] = _change(name, getattr(site, name), row[name])
                setattr(site, name, row[name])
                site_changed = True
        if site_changed:
            changed_sites.append(site)
    for index, site in enumerate(new_sites):
        changes[f"sites.new{index + 1}"] = {
            "before": None,
            "after": {
                name: getattr(site, name)
                for name in CORRECTABLE_SITE_FIELDS
                if name not in _FREE_TEXT
            },
        }
    fields = dict(fields)
    all_muscles = [site.muscle for site in existing.values()] + [s.muscle for s in new_sites]
    # As when recording: a site in the lung-risk areas sets the box, whatever was ticked.
    if any(muscle in CHEST_WALL_MUSCLES for muscle in all_muscles):
        fields["chest_wall_area"] = True
    for name in CORRECTABLE_SESSION_FIELDS:
        if name in fields and fields[name] != getattr(session, name):
            changes[name] = _change(name, getattr(session, name), fields[name])
            setattr(session, name, fields[name])
    if not changes:
        return {}
    session.full_clean()
    for site in changed_sites + new_sites:
        site.full_clean()
    session.save(update_fields=[name for name in CORRECTABLE_SESSION_FIELDS])
    if changed_sites:
        NeedledSite.objects.bulk_update(changed_sites, list(CORRECTABLE_SITE_FIELDS))
    NeedledSite.objects.bulk_create(new_sites)
    SessionOutcome.objects.recount_session(session)
    audit.record_event(
        user=user,
        ip=request_ip,
        action=AuditAction.UPDATE,
        patient=session.patient,
        obj=session,
        detail="session corrected",
        data=changes,
    )
    return changes


@transaction.atomic
def mark_entered_in_error(*, session, user, reason: str, request_ip=None) -> NeedlingSession:
    """Mark a session "entered in error" with ``reason``: it is kept, never deleted.

    In one transaction: the session is marked (who, when, why); its usable
    links are revoked, so the patient's link shows a page saying the clinic
    closed this follow-up and no reminder can go out; its open alerts are
    closed with the reason. Each step is audited. From then on it leaves
    Today, the inbox's open alerts and the analytics (``active()``), and stays
    on the patient's and session's pages and in exports, struck through.
    """
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("Say why this session was entered in error.")})
    session = _locked(session)
    patient = session.patient
    if not patient.clinic.memberships.filter(user=user).exists():
        raise ValidationError(_("Only a member of the patient's clinic can change a session."))
    if session.is_entered_in_error:
        raise ValidationError(_("This session is already marked as entered in error."))
    now = clock.now()
    session.entered_in_error_at = now
    session.entered_in_error_reason = reason
    session.entered_in_error_by = user
    session.full_clean()
    session.save(
        update_fields=["entered_in_error_at", "entered_in_error_reason", "entered_in_error_by"]
    )
    session.follow_ups.update(session_in_error=True)
    SessionOutcome.objects.recount_session(session)
    audit.record_event(
        user=user,
        ip=request_ip,
        action=AuditAction.ENTERED_IN_ERROR,
        patient=patient,
        obj=session,
        detail="session entered in error",
    )
    links = list(session.access_links.usable_at(now))
    AccessLink.objects.filter(pk__in=[link.pk for link in links]).update(revoked_at=now)
    for link in links:
        audit.record_event(
            user=user, ip=request_ip, action=AuditAction.REVOKE_LINK, patient=patient, obj=link
        )
    note = _("Session entered in error: %(reason)s") % {"reason": reason}
    for alert in list(session.alerts.open()):
        updated = Alert.objects.filter(pk=alert.pk, acknowledged_at__isnull=True).update(
            acknowledged_by=user, acknowledged_at=now, outcome=Outcome.OTHER, note=note[:1000]
        )
        if updated:
            audit.record_event(
                user=user,
                ip=request_ip,
                action=AuditAction.ACKNOWLEDGE,
                patient=patient,
                obj=alert,
                detail="session entered in error",
            )
    return session

"""Writes that touch several rows: recording a session, taking a report, erasing a patient.

Each service is atomic and validates every row before saving it, so a bad
value leaves nothing behind. Callers pass keyword arguments only.
"""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from tracker import clock
from tracker.choices import CHEST_WALL_MUSCLES
from tracker.models import (
    AuditAction,
    FollowUp,
    NeedledSite,
    NeedlingSession,
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
    issue_access_link(session=session)
    audit.record_event(
        user=therapist, ip=request_ip, action=AuditAction.CREATE, patient=patient, obj=session
    )
    return session

"""Changes to staff members' own records."""

from django.db import transaction

from tracker.models import AuditAction, StaffProfile
from tracker.security import audit


@transaction.atomic
def save_staff_settings(*, profile: StaffProfile, request_ip=None) -> StaffProfile:
    """Save a staff member's own settings (language, mobile) and record the change."""
    profile.full_clean()
    profile.save()
    for membership in profile.user.memberships.select_related("clinic"):
        audit.record_event(
            user=profile.user,
            ip=request_ip,
            action=AuditAction.UPDATE,
            clinic=membership.clinic,
            obj=profile,
            detail="own settings",
        )
    return profile

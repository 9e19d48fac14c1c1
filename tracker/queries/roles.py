"""The signed-in user's clinics and roles, read once per request.

The layout asks (lead-only links, the "Audit" menu item) and so do views that
scope by clinic id (the alert inbox) or need the clinics themselves (Today):
one query serves them all.
"""

from tracker.choices import Role
from tracker.models import Clinic, Membership


def user_clinics(request) -> list[Clinic]:
    """The signed-in user's clinics, with their roles (``clinic_roles``) read in the same query."""
    if not hasattr(request, "_clinics"):
        memberships = (
            Membership.objects.filter(user=request.user).select_related("clinic").order_by("clinic")
            if request.user.is_authenticated
            else []
        )
        request._clinics = [membership.clinic for membership in memberships]
        request._clinic_roles = {
            membership.clinic_id: membership.role for membership in memberships
        }
    return request._clinics


def clinic_roles(request) -> dict[int, str]:
    """The signed-in user's clinics, id → role; one query, kept for the request."""
    if not hasattr(request, "_clinic_roles"):
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            request._clinic_roles = {}
        else:
            request._clinic_roles = dict(
                Membership.objects.filter(user=user).values_list("clinic_id", "role")
            )
    return request._clinic_roles


def led_clinic_ids(request) -> frozenset[int]:
    """The ids of the clinics the signed-in user leads."""
    return frozenset(pk for pk, role in clinic_roles(request).items() if role == Role.LEAD)

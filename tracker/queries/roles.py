"""The signed-in user's clinics and roles, read once per request.

The layout asks (lead-only links, the "Audit" menu item) and so do views that
scope by clinic id (the alert inbox): one query serves both.
"""

from tracker.choices import Role
from tracker.models import Membership


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

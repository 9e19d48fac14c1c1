"""What every staff page's layout needs to know about the signed-in user."""

from django.utils.functional import SimpleLazyObject

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


def staff_roles(request):
    """``user_is_lead`` (the "Audit" menu item) and ``led_clinic_ids`` (lead-only buttons).

    Lazy: pages that never ask (patient pages, anonymous pages) cost nothing;
    a page that asks costs one query however often it asks, shared with any
    view that asked for the user's clinics the same way (``clinic_roles``).
    """
    return {
        "led_clinic_ids": SimpleLazyObject(lambda: led_clinic_ids(request)),
        "user_is_lead": SimpleLazyObject(lambda: bool(led_clinic_ids(request))),
    }

"""What every staff page's layout needs to know about the signed-in user."""

from django.utils.functional import SimpleLazyObject

from tracker.models import Clinic


def led_clinic_ids(request) -> frozenset[int]:
    """The ids of the clinics the signed-in user leads; one query, kept for the request."""
    if not hasattr(request, "_led_clinic_ids"):
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            request._led_clinic_ids = frozenset()
        else:
            request._led_clinic_ids = frozenset(
                Clinic.objects.led_by(user).values_list("pk", flat=True)
            )
    return request._led_clinic_ids


def staff_roles(request):
    """``user_is_lead`` (the "Audit" menu item) and ``led_clinic_ids`` (lead-only buttons).

    Lazy: pages that never ask (patient pages, anonymous pages) cost nothing;
    a page that asks costs one query however often it asks.
    """
    return {
        "led_clinic_ids": SimpleLazyObject(lambda: led_clinic_ids(request)),
        "user_is_lead": SimpleLazyObject(lambda: bool(led_clinic_ids(request))),
    }

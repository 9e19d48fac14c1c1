"""What every staff page's layout needs to know about the signed-in user."""

from django.utils.functional import SimpleLazyObject

from tracker.queries.roles import led_clinic_ids


def staff_roles(request):
    """``user_is_lead`` (the "Audit" menu item) and ``led_clinic_ids`` (lead-only buttons).

    Lazy: pages that never ask (patient pages, anonymous pages) cost nothing;
    a page that asks costs one query however often it asks, shared with any
    view that asked for the user's clinics (``queries.roles.clinic_roles``).
    """
    return {
        "led_clinic_ids": SimpleLazyObject(lambda: led_clinic_ids(request)),
        "user_is_lead": SimpleLazyObject(lambda: bool(led_clinic_ids(request))),
    }

"""Staff responses are never stored: ``Cache-Control: no-store, private``.

Every staff page shows patient data or leads straight to it: names on the
Today page and the lists, records, the session page with its live link and
QR code, charts, exports, the audit trail, the erase page, and the admin.
A shared front-desk browser must keep none of it after sign-out (the back
button, the disk cache), and no proxy may keep it at all. One rule for the
whole staff side, by URL namespace, so that a new staff page is covered
without anyone remembering to ask; ``tests/test_authorization_matrix.py``
walks the URL resolver to check it. Patient pages get the same from ``patient_link``
(``never_cache``).
"""

from django.utils.cache import patch_cache_control

STAFF_NAMESPACES = frozenset({"tracker", "admin"})
# Staff-side URLs that show no patient data and are meant to be cached: the
# check-in's published FHIR Questionnaire (the same for everyone).
PUBLIC_URL_NAMES = frozenset({"fhir_questionnaire"})


class StaffNoStoreMiddleware:
    """Add ``no-store, private`` to every response of a staff URL (namespaces above)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        match = getattr(request, "resolver_match", None)
        if (
            match is not None
            and STAFF_NAMESPACES.intersection(match.namespaces)
            and match.url_name not in PUBLIC_URL_NAMES
        ):
            patch_cache_control(response, no_store=True, private=True)
        return response

"""The address the app's links point at: patient links, QR codes, reminders, staff emails.

One function, so that a page, a reminder and an alert email agree on it.
"""

from django.conf import settings

# Where ``manage.py runserver`` listens unless told otherwise: what a message
# sent without a request (a reminder, an alert email) points at in
# development when SITE_URL is not set.
DEVELOPMENT_ADDRESS = "http://127.0.0.1:8000"


def absolute_url(path: str, request=None) -> str:
    """``path`` (from ``reverse``) on the app's public address.

    SITE_URL when it is set, as it always is in production: a page then shows
    the address the reminders send, whatever host name the staff member typed.
    In development without it, a page uses the address its browser asked for
    (checked against ALLOWED_HOSTS), so ``runserver`` on any host and port
    shows links that open; a message sent without a request uses runserver's
    default address.
    """
    if settings.SITE_URL:
        return settings.SITE_URL + path
    if request is not None:
        return request.build_absolute_uri(path)
    return DEVELOPMENT_ADDRESS + path

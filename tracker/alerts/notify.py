"""Telling the clinic about an urgent alert.

Messages name no patient and no symptom: only a link to a page that needs a staff sign-in."""

from django.core.mail import send_mail
from django.urls import reverse
from django.utils.translation import gettext as _

from tracker import site
from tracker.alerts.rules import logger
from tracker.models import Alert


def notify_urgent(alert: Alert) -> None:
    """Email the session's therapist that an urgent alert is open.

    The message names no patient and no symptom: only a link to the session
    page, which needs a staff sign-in.
    """
    therapist = alert.session.therapist
    if not therapist.email:
        return
    url = site.absolute_url(reverse("tracker:session_detail", args=[alert.session_id]))
    try:
        send_mail(
            subject=_("Urgent: a patient reported a warning sign"),
            message=_(
                "A patient you treated reported a warning sign after dry needling and was told "
                "to call emergency services.\n\nOpen the session (staff sign-in needed):\n%(url)s\n"
            ) % {"url": url},
            from_email=None,
            recipient_list=[therapist.email],
        )
    except OSError:
        # The alert is in the inbox whatever the mail server does.
        logger.exception("Could not email urgent alert %s", alert.pk)

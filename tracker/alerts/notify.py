"""Telling the clinic about an urgent alert, and telling it again until someone acts.

Step 0 goes when the alert opens (on commit of the report that raised it):
to the treating therapist and the clinic's urgent contacts. Each time the
clinic's escalation delay passes with the alert still open, the next step
goes to the clinic's leads and urgent contacts, saying how long it has
waited. A step none of whose people can be reached goes to every member of
the clinic who can be (``recipients``). Every step goes by email, and by
text message to staff with a mobile number, in each reader's own language,
at any hour: quiet hours and send limits are for patient reminders, never
for these.

Messages name no patient and no symptom: only a link to the session page,
which needs a staff sign-in, and which guidance the patient was shown.

Each step is claimed by inserting its ``AlertStep`` row, unique per alert
and step, so two runs of the job at once send it once. A step that reached
nobody (every send failed) gives its claim back and the next run retries.
"""

import logging
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core import mail
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from tracker import clock, site
from tracker.choices import Role
from tracker.models import (
    Alert,
    AlertRule,
    AlertStep,
    Clinic,
    Membership,
    Severity,
    StaffProfile,
)
from tracker.reminders import sms

logger = logging.getLogger(__name__)

# Escalation stops after this many steps: by then the clinic's leads have been
# told several times, and the alert stays at the top of every staff page.
MAX_STEPS = 8
# Older open alerts are history for the job (their steps are all sent by then).
HORIZON = timedelta(days=7)


@dataclass(frozen=True)
class StepResult:
    sent: int = 0
    failed: int = 0


def notify_urgent(alert: Alert) -> None:
    """Send step 0 of a newly opened urgent alert (called on commit)."""
    send_step(alert, 0, now=clock.now())


def escalate(*, now=None) -> int:
    """Send every step now due, once; return how many steps were sent.

    Also sends a step 0 that never went (the server stopped between the
    report and the email, or nobody could be reached then).
    """
    now = now or clock.now()
    sent = 0
    open_urgent = (
        Alert.objects.open()
        .filter(severity=Severity.URGENT, opened_at__gte=now - HORIZON)
        .select_related("clinic", "session__therapist")
        .prefetch_related("steps")
        .order_by("opened_at")
    )
    for alert in open_urgent:
        done = {step.step for step in alert.steps.all()}
        delay = timedelta(minutes=alert.clinic.escalation_minutes)
        due = min(int((now - alert.opened_at) / delay), MAX_STEPS)
        for step in {0, due} - done:
            if send_step(alert, step, now=now) is not None:
                sent += 1
    return sent


def send_step(alert: Alert, step: int, *, now) -> StepResult | None:
    """Claim and send ``step`` of ``alert``; None if another run has it already."""
    try:
        with transaction.atomic():
            claim = AlertStep.objects.create(alert=alert, step=step, at=now)
    except IntegrityError:
        return None
    result = _send(alert, step, now)
    if result.sent == 0 and result.failed:
        claim.delete()
        logger.warning(
            "Urgent alert %s step %s reached nobody; the next run retries.", alert.pk, step
        )
    else:
        AlertStep.objects.filter(pk=claim.pk).update(sent=result.sent, failed=result.failed)
        if result.sent == 0:
            logger.warning(
                "Urgent alert %s step %s: no staff email or mobile to send to.", alert.pk, step
            )
    return result


def recipients(alert: Alert, step: int) -> list:
    """Who step ``step`` goes to, each once: active members of the alert's
    clinic with an email address or a mobile number.

    Step 0 goes to the treating therapist and the clinic's urgent contacts,
    later steps to its leads and urgent contacts. When none of them can be
    reached (the therapist has left and no urgent contact is set, no lead
    has an address), the step goes to every member of the clinic who can
    be: an urgent alert never reaches nobody while someone there could act.
    A member is someone who can open the session page the message links to.
    """
    reachable = reachable_staff(alert.clinic_id).select_related("staff_profile").order_by("pk")
    if step == 0:
        first = Q(pk=alert.session.therapist_id)
    else:
        leads = Membership.objects.filter(clinic=alert.clinic_id, role=Role.LEAD)
        first = Q(pk__in=leads.values("user"))
    chosen = list(reachable.filter(first | Q(pk__in=_contacts(alert.clinic_id))))
    if chosen:
        return chosen
    everyone = list(reachable)
    if everyone:
        logger.warning(
            "Urgent alert %s step %s: nobody it goes to can be reached; "
            "sent to every member of the clinic who can.",
            alert.pk,
            step,
        )
    return everyone


def reachable_staff(clinic_id):
    """The clinic's members an urgent alert can reach: active, with an email or a mobile."""
    members = Membership.objects.filter(clinic=clinic_id).values("user")
    return (
        get_user_model()
        .objects.filter(is_active=True, pk__in=members)
        .filter(Q(email__gt="") | Q(staff_profile__mobile__gt=""))
    )


def urgent_contact_reachable(clinic_id) -> bool:
    """Whether an urgent contact of the clinic can be reached: without one, the
    first message of an urgent alert goes to the treating therapist alone."""
    return reachable_staff(clinic_id).filter(pk__in=_contacts(clinic_id)).exists()


def _contacts(clinic_id):
    return Clinic.urgent_contacts.through.objects.filter(clinic=clinic_id).values("user")


def _send(alert: Alert, step: int, now) -> StepResult:
    sent = failed = 0
    url = site.absolute_url(reverse("tracker:session_detail", args=[alert.session_id]))
    waited = max(1, int((now - alert.opened_at).total_seconds() // 60))
    sms_backend = None
    for user in recipients(alert, step):
        profile = StaffProfile.for_user(user)
        with translation.override(profile.language or settings.LANGUAGE_CODE):
            subject, body, text = _message(alert, step, url, waited)
        if user.email:
            try:
                mail.EmailMessage(
                    subject=subject,
                    body=body,
                    to=[user.email],
                    headers={"Auto-Submitted": "auto-generated", "Importance": "high"},
                ).send()
                sent += 1
            except Exception as error:  # noqa: BLE001 - every recipient gets their try
                failed += 1
                logger.warning(
                    "Urgent alert %s: email to staff %s failed (%s).",
                    alert.pk,
                    user.pk,
                    type(error).__name__,
                )
        if profile.mobile:
            try:
                sms_backend = sms_backend or sms.get_backend()
                sms_backend.send(to=profile.mobile, body=text)
                sent += 1
            except Exception as error:  # noqa: BLE001
                failed += 1
                logger.warning(
                    "Urgent alert %s: text to staff %s failed (%s).",
                    alert.pk,
                    user.pk,
                    type(error).__name__,
                )
    return StepResult(sent=sent, failed=failed)


def _message(alert: Alert, step: int, url: str, waited: int) -> tuple[str, str, str]:
    """(subject, email body, text message) in the active language."""
    if alert.rule == AlertRule.RED_FLAG:
        if alert.facts.get("guidance") == "doctor":
            shown = _("The patient was told to see a doctor or call the clinic today.")
        else:
            shown = _("The patient was told to call the emergency number now.")
        what = _("A patient reported a warning sign after dry needling.")
    else:
        shown = ""
        what = _("A patient's check-in needs an urgent call from the clinic.")
    if step == 0:
        subject = _("Urgent: a patient needs a call")
        lead = what
    else:
        subject = _("Still open: an urgent alert waiting %(minutes)s min") % {"minutes": waited}
        lead = (
            ngettext(
                "An urgent alert has waited %(minutes)s minute without being acknowledged.",
                "An urgent alert has waited %(minutes)s minutes without being acknowledged.",
                waited,
            )
            % {"minutes": waited}
            + " "
            + what
        )
    body = (
        "\n\n".join(
            part
            for part in (
                lead,
                shown,
                _(
                    "Call the patient, then acknowledge the alert. Open the session (staff sign-in "
                    "needed):\n%(url)s"
                )
                % {"url": url},
            )
            if part
        )
        + "\n"
    )
    text = " ".join(part for part in (subject + ".", shown, url) if part)
    return subject, body, text

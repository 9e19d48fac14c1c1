"""Acting on an alert: a call that closes it, or an attempt that keeps it open.

Every action is recorded in the audit trail by the function that takes it.
"""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from tracker import clock
from tracker.models import ATTEMPT_OUTCOMES, Alert, AuditAction, ContactAttempt, Outcome, Severity
from tracker.security import audit


class AlreadyAcknowledged(ValidationError):
    """Someone else acknowledged the alert first; nothing was changed."""


def _check(outcome: str, note: str) -> str:
    if outcome not in Outcome.values:
        raise ValidationError({"outcome": _("Choose what was done.")})
    note = note.strip()
    if outcome == Outcome.OTHER and not note:
        raise ValidationError({"note": _("Write a short note on what was done.")})
    return note


@transaction.atomic
def act_on_alert(*, alert, user, outcome: str, note: str = "", request_ip=None):
    """Record what ``user`` did about ``alert``; return the attempt or the alert.

    "No answer" and "message left" record a contact attempt (who, when) and
    keep the alert open. Every other outcome acknowledges it, by a
    conditional update, so that of two people at once the first is kept and
    the second is told (``AlreadyAcknowledged``); nothing is overwritten.
    """
    note = _check(outcome, note)
    now = clock.now()
    if not Alert.objects.filter(pk=alert.pk, acknowledged_at__isnull=True).exists():
        raise AlreadyAcknowledged(_("This alert was already acknowledged by someone else."))
    patient = alert.session.patient
    if outcome in ATTEMPT_OUTCOMES:
        attempt = ContactAttempt.objects.create(
            alert=alert, by=user, at=now, outcome=outcome, note=note
        )
        audit.record_event(
            user=user,
            ip=request_ip,
            action=AuditAction.UPDATE,
            patient=patient,
            obj=alert,
            detail="contact attempt",
        )
        return attempt
    updated = Alert.objects.filter(pk=alert.pk, acknowledged_at__isnull=True).update(
        acknowledged_by=user, acknowledged_at=now, outcome=outcome, note=note
    )
    if not updated:
        raise AlreadyAcknowledged(_("This alert was already acknowledged by someone else."))
    alert.refresh_from_db()
    audit.record_event(
        user=user,
        ip=request_ip,
        action=AuditAction.ACKNOWLEDGE,
        patient=patient,
        obj=alert,
    )
    return alert


def acknowledge_alert(*, alert, user, note: str, outcome: str = Outcome.OTHER, request_ip=None):
    """Acknowledge ``alert`` with ``outcome`` (a note alone is "other")."""
    if outcome in ATTEMPT_OUTCOMES:
        raise ValidationError({"outcome": _("This outcome keeps the alert open.")})
    return act_on_alert(alert=alert, user=user, outcome=outcome, note=note, request_ip=request_ip)


@transaction.atomic
def acknowledge_many(*, alerts, user, outcome: str, note: str = "", request_ip=None) -> int:
    """Acknowledge several attention alerts with one outcome; return how many.

    Urgent alerts are never acknowledged in bulk: each needs its own call.
    Alerts someone else acknowledged meanwhile are left as they are.
    """
    note = _check(outcome, note)
    if outcome in ATTEMPT_OUTCOMES:
        raise ValidationError({"outcome": _("This outcome keeps the alert open.")})
    alerts = list(alerts)
    if any(alert.severity == Severity.URGENT for alert in alerts):
        raise ValidationError(_("Urgent alerts are acknowledged one at a time."))
    now = clock.now()
    done = 0
    for alert in alerts:
        updated = Alert.objects.filter(pk=alert.pk, acknowledged_at__isnull=True).update(
            acknowledged_by=user, acknowledged_at=now, outcome=outcome, note=note
        )
        if updated:
            done += 1
            audit.record_event(
                user=user,
                ip=request_ip,
                action=AuditAction.ACKNOWLEDGE,
                patient=alert.session.patient,
                obj=alert,
            )
    return done

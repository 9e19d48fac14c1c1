"""Acting on an alert: who acknowledged it, when, and what was done."""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from tracker import clock
from tracker.models import Alert, AuditAction
from tracker.security import audit


@transaction.atomic
def acknowledge_alert(*, alert, user, note: str, request_ip=None):
    """Record who acknowledged the alert, when, and what they did, in the audit trail too.

    A conditional update, so two people acknowledging at once leave the
    first one's name and note.
    """
    if not note.strip():
        raise ValidationError(_("Write a short note on what was done."))
    updated = Alert.objects.filter(pk=alert.pk, acknowledged_at__isnull=True).update(
        acknowledged_by=user, acknowledged_at=clock.now(), note=note.strip()
    )
    if not updated:
        raise ValidationError(_("This alert was already acknowledged."))
    alert.refresh_from_db()
    audit.record_event(
        user=user, ip=request_ip, action=AuditAction.ACKNOWLEDGE,
        patient=alert.session.patient, obj=alert,
    )
    return alert

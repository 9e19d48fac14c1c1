"""The audit trail: who read or changed which patient's data, when, from where.

Events are written by ``tracker.security.audit`` and never changed afterwards. The
trail is append-only through every ordinary path of the ORM and the admin:
``QuerySet.update()``/``delete()`` raise, saving an event that is already
stored raises, and deleting one raises. On PostgreSQL a trigger refuses
UPDATE and DELETE of the table to any SQL (migration
``0010_audit_append_only_trigger``); a database role without UPDATE/DELETE
on it closes the rest (the table's owner can drop the trigger).
"""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from tracker.models.base import ClinicScopedQuerySet, TrackerModel


class AuditAction(models.TextChoices):
    VIEW = "view", _("Viewed")
    CREATE = "create", _("Created")
    UPDATE = "update", _("Changed")
    ACKNOWLEDGE = "acknowledge", _("Acknowledged")
    EXPORT = "export", _("Exported")
    ERASE = "erase", _("Erased")
    ISSUE_LINK = "issue_link", _("Issued a patient link")
    REVOKE_LINK = "revoke_link", _("Revoked a patient link")
    ENTERED_IN_ERROR = "entered_in_error", _("Marked entered in error")
    SEND_LINK = "send_link", _("Sent the patient their link")


class AuditActor(models.TextChoices):
    """Who acted: a member of staff (``user``), the patient through their link, or the system."""

    STAFF = "staff", _("Staff")
    PATIENT = "patient", _("Patient")
    SYSTEM = "system", _("System")


class AuditTrailIsAppendOnly(Exception):
    """Raised by any attempt to change or delete an audit event."""


class AuditEventQuerySet(ClinicScopedQuerySet):
    def for_user(self, user):
        """Events of the clinics the user leads; therapists see none."""
        return self.led_by(user)

    def update(self, **kwargs):
        raise AuditTrailIsAppendOnly("Audit events are never changed.")

    update.alters_data = True

    def delete(self):
        raise AuditTrailIsAppendOnly("Audit events are never deleted.")

    delete.alters_data = True
    delete.queryset_only = True


class AuditEvent(TrackerModel):
    """One read or change of a patient's data by a member of staff, the patient, or the system.

    ``detail`` is a short, non-clinical word or two (the page seen, what was
    done): never a patient's name, never free text a patient or therapist
    wrote, since the trail outlives a patient's erasure. ``patient`` is kept
    when the patient is erased (their row stays, anonymous), and a patient
    with events cannot be deleted at all; it is empty only for events about a
    whole clinic (a download of its trail).
    """

    # Indexed by audit_clinic_at_idx, which starts with it.
    clinic = models.ForeignKey(
        "tracker.Clinic", on_delete=models.PROTECT, related_name="audit_events", db_index=False
    )
    # Who acted; a member of staff is ``user``. The patient acts through their
    # link (stopping reminders, choosing a language), the system in its own
    # jobs (reminders, the missed check-in rule): neither has a user.
    actor = models.CharField(max_length=8, choices=AuditActor.choices)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="audit_events",
    )
    action = models.CharField(max_length=16, choices=AuditAction.choices)
    # PROTECT: a patient with a trail cannot be deleted (erasure keeps the row,
    # anonymous); the trail must never lose whose record was read.
    patient = models.ForeignKey(
        "tracker.Patient",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="audit_events",
    )
    # The row concerned, as model name and primary key ("needlingsession", 12).
    object_type = models.CharField(max_length=32, blank=True)
    object_id = models.PositiveBigIntegerField(null=True, blank=True)
    at = models.DateTimeField()
    ip = models.GenericIPAddressField(_("address"), null=True, blank=True)
    detail = models.CharField(max_length=100, blank=True)
    # For a correction, what changed as {"field": {"before": …, "after": …}}
    # (sites as "sites.<id>.<field>"): codes and numbers, never free text; a
    # changed note is recorded as changed, with its lengths.
    data = models.JSONField(default=dict, blank=True)

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        ordering = ["-at", "-pk"]
        indexes = [
            # The lead's audit page and CSV: a clinic's events, newest first.
            models.Index(fields=["clinic", "-at"], name="audit_clinic_at_idx"),
        ]
        constraints = [
            # A member of staff is named; the patient and the system are not users.
            models.CheckConstraint(
                condition=(
                    models.Q(actor="staff", user__isnull=False)
                    | models.Q(actor__in=["patient", "system"], user__isnull=True)
                ),
                name="audit_actor_matches_user",
            ),
        ]

    def __str__(self):
        return f"{self.get_action_display()} {self.object_type} {self.object_id or ''} at {self.at}"

    # The one model that overrides save() and delete(): not to add a side
    # effect (docs/architecture.md: no side effects in save()) but to refuse. An event, once written, is
    # evidence; changing or removing it through the ORM is always a bug.

    def save(self, *, force_insert=False, force_update=False, using=None, update_fields=None):
        if not self._state.adding or force_update or update_fields is not None:
            raise AuditTrailIsAppendOnly("Audit events are never changed.")
        # An insert even if a primary key was set by hand: never an UPDATE of another event.
        super().save(force_insert=True, using=using)

    save.alters_data = True

    def delete(self, using=None, keep_parents=False):
        raise AuditTrailIsAppendOnly("Audit events are never deleted.")

    delete.alters_data = True

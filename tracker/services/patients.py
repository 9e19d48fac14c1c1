"""Changes to a patient's record: adding, editing, erasure at their request, a number the SMS provider refused, and their own choices
(reminders, language) made through their link."""

import secrets

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from tracker import clock, names
from tracker.choices import ReminderChannel
from tracker.models import (
    AccessLink,
    Alert,
    AuditAction,
    AuditActor,
    NeedledSite,
    NeedlingSession,
    Patient,
    SymptomReport,
)
from tracker.security import audit


@transaction.atomic
def add_patient(*, patient: Patient, user, request_ip=None) -> Patient:
    """Save a new patient (built and validated by the form) and record who added them."""
    patient.full_clean()
    patient.save()
    audit.record_event(
        user=user, ip=request_ip, action=AuditAction.CREATE, patient=patient, obj=patient
    )
    return patient


# What an edit may change; the audit event names the ones that did (never their values).
EDITABLE_FIELDS = (
    "display_name",
    "reference",
    "year_of_birth",
    "email",
    "phone",
    "language",
    "reminder_channel",
    "reminders_consent",
)


@transaction.atomic
def update_patient(*, patient: Patient, changes: dict, user, request_ip=None) -> list[str]:
    """Change a patient's details as staff edited them; return the names of the fields changed.

    The row is locked and must belong to a clinic the user is a member of
    and not be erased. A new phone number clears the provider's refusal of
    the old one; a change of consent moves ``consent_changed_at``. One
    ``update`` audit event lists the changed fields by name. Nothing
    changed, nothing written.
    """
    locked = Patient.objects.select_for_update().get(pk=patient.pk)
    if not Patient.objects.for_user(user).filter(pk=patient.pk).exists():
        raise ValidationError(_("Only the staff of the patient's clinic can change their details."))
    if locked.is_erased:
        raise ValidationError(_("This patient's details were erased; they cannot be changed."))
    changed = [
        name
        for name in EDITABLE_FIELDS
        if name in changes and getattr(locked, name) != changes[name]
    ]
    if not changed:
        return []
    for name in changed:
        setattr(locked, name, changes[name])
    update_fields = [*changed]
    if "phone" in changed and locked.phone_refused_at is not None:
        locked.phone_refused_at = None
        update_fields.append("phone_refused_at")
    if "reminders_consent" in changed:
        locked.consent_changed_at = clock.now()
        update_fields.append("consent_changed_at")
    locked.full_clean()
    locked.save(update_fields=update_fields)
    audit.record_event(
        user=user,
        ip=request_ip,
        action=AuditAction.UPDATE,
        patient=locked,
        obj=locked,
        detail="changed " + ", ".join(changed),
    )
    # The caller's copy shows what was saved.
    for name in (*update_fields, "name_key", "search_key"):
        setattr(patient, name, getattr(locked, name))
    return changed


def possible_duplicates(*, clinic_id: int, display_name: str, year_of_birth, exclude_pk=None):
    """Patients of the clinic with the same name (ignoring accents, case and word order)
    and the same year of birth: shown before saving, which staff may still do."""
    if year_of_birth is None:
        return Patient.objects.none()
    duplicates = Patient.objects.filter(
        clinic_id=clinic_id,
        name_key=names.name_key(display_name)[:255],
        year_of_birth=year_of_birth,
        erased_at__isnull=True,
    )
    if exclude_pk is not None:
        duplicates = duplicates.exclude(pk=exclude_pk)
    return duplicates.order_by("display_name", "pk")


def record_phone_refused(*, patient_id: int, phone: str) -> bool:
    """Record that the SMS provider refused ``phone`` for good (an invalid or
    unreachable number, or one that has opted out); return whether it was recorded.

    Only while the patient still has that number: a number corrected
    meanwhile is not marked. Audited as the system, without the number.
    """
    now = clock.now()
    marked = Patient.objects.filter(
        pk=patient_id, phone=phone, phone_refused_at__isnull=True
    ).update(phone_refused_at=now)
    if marked:
        patient = Patient.objects.only("pk", "clinic_id").get(pk=patient_id)
        audit.record_event(
            user=None,
            ip=None,
            action=AuditAction.UPDATE,
            patient=patient,
            obj=patient,
            detail="phone refused by SMS provider",
        )
    return bool(marked)


@transaction.atomic
def erase_patient(*, patient, user, request_ip) -> Patient:
    """Erase a patient's personal details at their request, and record that it was done.

    The name becomes "Erased patient" and a short random tag (so that rows
    stay distinguishable in lists); reference, email, phone and year of birth
    are cleared; reminders are turned off; every free-text note on their
    sessions, sites, reports and alerts is cleared, because free text can
    hold identifying detail; their links are revoked. The clinical numbers
    (sessions, sites, check-ins, soreness, after-effects, alerts) stay, no
    longer tied to a person, for the clinic's statistics. The patient row
    itself stays, so the audit trail keeps pointing at it.

    Only a lead of the patient's clinic may erase; ``request_ip`` is the
    address recorded in the audit event (see ``audit.client_ip``).
    """
    # Locked, so that two erasures at once do not both pass the "already erased" check.
    patient = Patient.objects.select_for_update().get(pk=patient.pk)
    if not Patient.objects.led_by(user).filter(pk=patient.pk).exists():
        raise ValidationError(_("Only a lead of the patient's clinic can erase a patient."))
    if patient.is_erased:
        raise ValidationError(_("This patient's details were already erased."))

    now = clock.now()
    # Stored data, so not translated: the same words whoever's language erased it.
    patient.display_name = f"Erased patient {secrets.token_hex(3)}"
    patient.reference = ""
    patient.email = ""
    patient.phone = ""
    patient.phone_refused_at = None
    patient.year_of_birth = None
    patient.reminders_consent = False
    patient.reminder_channel = ReminderChannel.NONE
    patient.consent_changed_at = now
    patient.erased_at = now
    patient.full_clean()
    patient.save()

    NeedlingSession.objects.filter(patient=patient).update(notes="")
    # A session entered in error keeps that it was (a reason is required), not why.
    NeedlingSession.objects.filter(patient=patient).exclude(entered_in_error_reason="").update(
        entered_in_error_reason="(erased)"
    )
    NeedledSite.objects.filter(session__patient=patient).update(notes="")
    SymptomReport.objects.filter(follow_up__session__patient=patient).update(note="")
    Alert.objects.filter(session__patient=patient).update(note="")
    revoked = AccessLink.objects.filter(session__patient=patient, revoked_at__isnull=True).update(
        revoked_at=now
    )

    audit.record_event(
        user=user,
        ip=request_ip,
        action=AuditAction.ERASE,
        patient=patient,
        obj=patient,
        detail=f"{revoked} links revoked",
    )
    return patient


def has_reminder_address(patient: Patient) -> bool:
    """Whether the patient has a channel and an address for it (the rule in ``due_reminders``)."""
    if patient.reminder_channel == ReminderChannel.EMAIL:
        return bool(patient.email)
    if patient.reminder_channel == ReminderChannel.SMS:
        return bool(patient.phone) and patient.phone_refused_at is None
    return False


@transaction.atomic
def set_reminders_consent(*, patient: Patient, consent: bool) -> bool:
    """Record the patient's own yes or no to reminders (through their link); return whether it changed.

    ``consent_changed_at`` moves only on a change, so a repeated tap keeps
    the time the patient actually decided; each change is audited with the
    patient as the actor. No address is kept: the patient is known by their
    link, and the trail outlives an erasure.
    """
    now = clock.now()
    changed = (
        Patient.objects.filter(pk=patient.pk)
        .exclude(reminders_consent=consent)
        .update(reminders_consent=consent, consent_changed_at=now)
    )
    if changed:
        patient.reminders_consent = consent
        patient.consent_changed_at = now
        audit.record_event(
            user=None,
            ip=None,
            actor=AuditActor.PATIENT,
            action=AuditAction.UPDATE,
            patient=patient,
            obj=patient,
            detail="reminders on" if consent else "reminders off",
        )
    return bool(changed)


@transaction.atomic
def set_language(*, patient: Patient, language: str) -> bool:
    """Store the language the patient chose on their pages (and their reminders); return whether it changed.

    Audited with the patient as the actor, as ``set_reminders_consent`` is.
    """
    if language not in dict(settings.LANGUAGES):
        raise ValidationError(_("This language is not available."))
    changed = (
        Patient.objects.filter(pk=patient.pk).exclude(language=language).update(language=language)
    )
    if changed:
        patient.language = language
        audit.record_event(
            user=None,
            ip=None,
            actor=AuditActor.PATIENT,
            action=AuditAction.UPDATE,
            patient=patient,
            obj=patient,
            detail=f"language {language}",
        )
    return bool(changed)

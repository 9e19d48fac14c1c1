"""A clinic lead's changes to their clinic: its settings and its staff.

Each change is made by a lead of the clinic (checked again here, under a lock
on the clinic's row, so that two leads acting at once cannot both pass the
"last lead" check) and recorded in the audit trail with the clinic and the
row changed. The invitation email holds the clinic's name, the role, the
username and the set-password link: nothing about any patient.
"""

import logging

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.translation import gettext as _

from tracker import site
from tracker.choices import Role
from tracker.models import AuditAction, Clinic, Membership
from tracker.security import audit, invitations

# Failures name the account by id only.
log = logging.getLogger(__name__)


def _locked_clinic(clinic, user) -> Clinic:
    """The clinic's row, locked, if ``user`` leads it; else a ValidationError."""
    locked = Clinic.objects.select_for_update().filter(pk=clinic.pk).first()
    if locked is None or not Clinic.objects.led_by(user).filter(pk=clinic.pk).exists():
        raise ValidationError(_("Only a lead of the clinic can change this."))
    return locked


def _record(*, user, ip, clinic, obj, detail, action=AuditAction.UPDATE):
    audit.record_event(user=user, ip=ip, action=action, clinic=clinic, obj=obj, detail=detail)


@transaction.atomic
def save_clinic_settings(*, clinic, urgent_contacts, user, request_ip=None) -> Clinic:
    """Save the clinic's settings (from ``ClinicSettingsForm``) and its urgent contacts."""
    _locked_clinic(clinic, user)
    clinic.full_clean()
    clinic.save()
    clinic.urgent_contacts.set(urgent_contacts)
    _record(user=user, ip=request_ip, clinic=clinic, obj=clinic, detail="clinic settings")
    return clinic


def send_invitation(*, membership, request=None) -> None:
    """Email the set-password link (after the transaction that made the account commits)."""
    user, clinic = membership.user, membership.clinic
    uidb64, token = invitations.link_parts(user)
    path = reverse("tracker:invitation", args=[uidb64, token])
    context = {
        "clinic": clinic.name,
        "role": membership.get_role_display(),
        "username": user.get_username(),
        "url": site.absolute_url(path, request),
        "days": settings.INVITATION_LINK_DAYS,
    }
    subject = render_to_string("registration/invitation_subject.txt", context).strip()
    body = render_to_string("registration/invitation_email.txt", context)
    try:
        send_mail(subject, body, None, [user.email])
    except Exception as error:  # noqa: BLE001 (the account stays; "Send again" retries)
        log.warning("Invitation mail to user %s failed: %s", user.pk, type(error).__name__)


@transaction.atomic
def invite_staff(*, clinic, first_name, last_name, email, role, user, request=None) -> Membership:
    """A new account (no password yet) and its membership; the invitation goes on commit."""
    _locked_clinic(clinic, user)
    model = get_user_model()
    new = model(username=email, email=email, first_name=first_name, last_name=last_name)
    new.set_unusable_password()
    new.full_clean()
    new.save()
    membership = Membership(user=new, clinic=clinic, role=role)
    membership.full_clean()
    membership.save()
    _record(
        user=user,
        ip=audit.client_ip(request) if request else None,
        clinic=clinic,
        obj=membership,
        detail="staff invited",
        action=AuditAction.CREATE,
    )
    transaction.on_commit(lambda: send_invitation(membership=membership, request=request))
    return membership


@transaction.atomic
def resend_invitation(*, membership, user, request=None) -> None:
    """A new link for someone who has not set a password yet (the old one still works until it expires)."""
    _locked_clinic(membership.clinic, user)
    if membership.user.has_usable_password() or not membership.user.is_active:
        raise ValidationError(_("This person has already set a password."))
    _record(
        user=user,
        ip=audit.client_ip(request) if request else None,
        clinic=membership.clinic,
        obj=membership,
        detail="invitation sent again",
    )
    transaction.on_commit(lambda: send_invitation(membership=membership, request=request))


def _active_leads(clinic):
    return Membership.objects.filter(clinic=clinic, role=Role.LEAD, user__is_active=True)


@transaction.atomic
def change_role(*, membership, role, user, request_ip=None) -> Membership:
    """Make a member of staff a therapist or a lead; the clinic always keeps an active lead."""
    _locked_clinic(membership.clinic, user)
    membership = Membership.objects.select_related("user", "clinic").get(pk=membership.pk)
    if membership.role == role:
        return membership
    if (
        membership.role == Role.LEAD
        and not _active_leads(membership.clinic).exclude(pk=membership.pk).exists()
    ):
        raise ValidationError(_("This is the clinic's last lead. Make someone else a lead first."))
    membership.role = role
    membership.full_clean()
    membership.save(update_fields=["role"])
    _record(
        user=user,
        ip=request_ip,
        clinic=membership.clinic,
        obj=membership,
        detail=f"role {role}",
    )
    return membership


@transaction.atomic
def set_active(*, membership, active: bool, user, request_ip=None) -> Membership:
    """Deactivate an account (it can no longer sign in; what it recorded stays), or reactivate it.

    The account is the person's, and may belong to other clinics too: only a
    lead of every clinic it belongs to may switch it off or on here.
    """
    clinic = _locked_clinic(membership.clinic, user)
    membership = Membership.objects.select_related("user").get(pk=membership.pk)
    member = membership.user
    if member.is_active == active:
        return membership
    if member.pk == user.pk:
        raise ValidationError(_("You cannot deactivate your own account."))
    elsewhere = member.memberships.exclude(clinic=clinic).exclude(
        clinic__in=Clinic.objects.led_by(user)
    )
    if elsewhere.exists():
        raise ValidationError(
            _("This account also works at another clinic. Ask your administrator to change it.")
        )
    if (
        not active
        and membership.role == Role.LEAD
        and not _active_leads(clinic).exclude(pk=membership.pk).exists()
    ):
        raise ValidationError(_("This is the clinic's last lead. Make someone else a lead first."))
    member.is_active = active
    member.save(update_fields=["is_active"])
    _record(
        user=user,
        ip=request_ip,
        clinic=clinic,
        obj=membership,
        detail="reactivated" if active else "deactivated",
    )
    return membership


@transaction.atomic
def accept_invitation(*, form, request_ip=None):
    """Save the password the invited person chose (``InvitationPasswordForm``), and record it."""
    member = form.save()
    for membership in member.memberships.select_related("clinic"):
        _record(
            user=member,
            ip=request_ip,
            clinic=membership.clinic,
            obj=membership,
            detail="password set",
        )
    return member

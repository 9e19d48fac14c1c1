"""The clinic lead's pages for running the clinic: its settings and its staff.

Every page starts from ``Clinic.objects.led_by``: a therapist, or a lead of
another clinic, gets a 404, as for the other lead pages. Changes go through
``tracker.services.clinic``, which checks the lead again and audits them.
The invitation page is for the invited person, who has no password yet: its
signed link is the key.
"""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.encoding import force_str
from django.utils.http import urlsafe_base64_decode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from tracker import services
from tracker.alerts import notify
from tracker.forms.clinic import ClinicSettingsForm, InvitationPasswordForm, InviteForm, RoleForm
from tracker.models import Clinic, Membership
from tracker.security import audit
from tracker.security.invitations import invitation_tokens


def _led_clinic(request, clinic_id) -> Clinic:
    return get_object_or_404(Clinic.objects.led_by(request.user), pk=clinic_id)


@login_required
def clinic_home(request):
    """The "Clinic" menu item: the settings of the first clinic the user leads."""
    clinic = Clinic.objects.led_by(request.user).order_by("name", "pk").first()
    if clinic is None:
        raise Http404("No clinic to manage.")
    return redirect("tracker:clinic_settings", clinic_id=clinic.pk)


@login_required
def clinic_settings(request, clinic_id):
    clinic = _led_clinic(request, clinic_id)
    form = ClinicSettingsForm(request.POST if request.method == "POST" else None, instance=clinic)
    if request.method == "POST" and form.is_valid():
        try:
            services.save_clinic_settings(
                clinic=form.save(commit=False),
                urgent_contacts=form.cleaned_data["urgent_contacts"],
                user=request.user,
                request_ip=audit.client_ip(request),
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _("The clinic's settings were saved."))
            return redirect("tracker:clinic_settings", clinic_id=clinic.pk)
    if form.errors:
        # The page header names the clinic as stored, not as half-typed.
        clinic.refresh_from_db()
    context = {
        "clinic": clinic,
        "form": form,
        "tab": "settings",
        "urgent_contact_reachable": notify.urgent_contact_reachable(clinic.pk),
    }
    return render(request, "tracker/clinic_settings.html", context)


def _members(clinic):
    return (
        Membership.objects.filter(clinic=clinic)
        .select_related("user")
        .order_by("-user__is_active", "user__first_name", "user__last_name", "user__username")
    )


@login_required
def clinic_staff(request, clinic_id):
    """The clinic's staff, and the form to invite someone."""
    clinic = _led_clinic(request, clinic_id)
    form = InviteForm(request.POST if request.method == "POST" else None, clinic=clinic)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.invite_staff(
                clinic=clinic,
                first_name=data["first_name"],
                last_name=data["last_name"],
                email=data["email"],
                role=data["role"],
                user=request.user,
                request=request,
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(
                request,
                _("Invitation sent to %(email)s.") % {"email": data["email"]},
            )
            return redirect("tracker:clinic_staff", clinic_id=clinic.pk)
    members = list(_members(clinic))
    for membership in members:
        membership.role_form = RoleForm(
            initial={"role": membership.role}, prefix=f"m{membership.pk}"
        )
    return render(
        request,
        "tracker/clinic_staff.html",
        {
            "clinic": clinic,
            "members": members,
            "form": form,
            "tab": "staff",
            "link_days": settings.INVITATION_LINK_DAYS,
        },
    )


@login_required
@require_POST
def staff_member(request, clinic_id, membership_id):
    """One change to one member of staff: role, deactivate, reactivate, invitation again."""
    clinic = _led_clinic(request, clinic_id)
    membership = get_object_or_404(
        Membership.objects.filter(clinic=clinic).select_related("user", "clinic"),
        pk=membership_id,
    )
    action = request.POST.get("action")
    ip = audit.client_ip(request)
    name = membership.user.get_full_name() or membership.user.get_username()
    try:
        if action == "role":
            form = RoleForm(request.POST, prefix=f"m{membership.pk}")
            if not form.is_valid():
                raise ValidationError(_("Choose a role."))
            services.change_role(
                membership=membership,
                role=form.cleaned_data["role"],
                user=request.user,
                request_ip=ip,
            )
            done = _("%(name)s's role was saved.")
        elif action in ("deactivate", "reactivate"):
            services.set_active(
                membership=membership,
                active=action == "reactivate",
                user=request.user,
                request_ip=ip,
            )
            done = (
                _("%(name)s can sign in again.")
                if action == "reactivate"
                else _("%(name)s can no longer sign in. What they recorded stays.")
            )
        elif action == "resend":
            services.resend_invitation(membership=membership, user=request.user, request=request)
            done = _("The invitation was sent to %(name)s again.")
        else:
            raise ValidationError(_("Nothing was changed."))
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, done % {"name": name})
        if action == "deactivate" and _was_the_urgent_contact(clinic, membership.user):
            messages.warning(
                request,
                _(
                    "%(name)s was the clinic's urgent contact: no urgent contact can be reached "
                    "now, so an urgent alert first reaches the treating therapist alone. Choose "
                    "another in the clinic settings."
                )
                % {"name": name},
            )
        if not Clinic.objects.led_by(request.user).filter(pk=clinic.pk).exists():
            # A lead who made themselves a therapist no longer sees this page.
            return redirect("tracker:home")
    return redirect("tracker:clinic_staff", clinic_id=clinic.pk)


def _was_the_urgent_contact(clinic, user) -> bool:
    return clinic.urgent_contacts.filter(pk=user.pk).exists() and not (
        notify.urgent_contact_reachable(clinic.pk)
    )


def invitation(request, uidb64, token):
    """The invited person chooses their password: once, before the link expires."""
    try:
        pk = int(force_str(urlsafe_base64_decode(uidb64)))
        member = get_user_model().objects.get(pk=pk, is_active=True)
    except (ValueError, OverflowError, get_user_model().DoesNotExist):
        member = None
    valid = member is not None and invitation_tokens.check_token(member, token)
    form = None
    if valid:
        form = InvitationPasswordForm(member, request.POST if request.method == "POST" else None)
        if form.is_bound and form.is_valid():
            services.accept_invitation(form=form, request_ip=audit.client_ip(request))
            messages.success(
                request,
                _("Your password is set. Sign in with your username, %(username)s.")
                % {"username": member.get_username()},
            )
            return redirect("login")
    return render(
        request,
        "registration/invitation.html",
        {"validlink": valid, "form": form, "member": member if valid else None},
    )

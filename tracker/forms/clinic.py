"""Forms of the clinic lead's own pages: the clinic's settings and its staff."""

import zoneinfo

from crispy_forms.helper import FormHelper
from django import forms
from django.contrib.auth import get_user_model
from django.contrib.auth.forms import SetPasswordForm
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from tracker.choices import Role
from tracker.models import Clinic


class StaffMemberField(forms.ModelMultipleChoiceField):
    # Ids a database integer can hold: a larger one is no one's, and the database
    # would refuse the lookup instead of finding nothing.
    ID_RANGE = range(-(2**63), 2**63)

    def label_from_instance(self, user):
        return user.get_full_name() or user.get_username()

    def _check_values(self, value):
        for pk in value:
            try:
                out_of_range = int(pk) not in self.ID_RANGE
            except (TypeError, ValueError):
                continue  # not a number at all: the parent says so
            if out_of_range:
                raise ValidationError(
                    self.error_messages["invalid_pk_value"],
                    code="invalid_pk_value",
                    params={"pk": pk},
                )
        return super()._check_values(value)


class ClinicSettingsForm(forms.ModelForm):
    """What a lead sets for their clinic. Checked by ``Clinic.full_clean`` too, in the service."""

    time_zone = forms.ChoiceField(label=_("Time zone"))
    urgent_contacts = StaffMemberField(
        label=_("Urgent contacts"),
        queryset=get_user_model().objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=Clinic._meta.get_field("urgent_contacts").help_text,
    )

    class Meta:
        model = Clinic
        fields = [
            "time_zone",
            "phone",
            "emergency_number",
            "settled_max",
            "soreness_threshold",
            "soreness_72h_threshold",
            "urgent_contacts",
            "escalation_minutes",
            # Patient reminders only: never alerts or escalations to staff.
            "quiet_hours_start",
            "quiet_hours_end",
            "require_2fa_for_leads",
        ]
        widgets = {
            "quiet_hours_start": forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
            "quiet_hours_end": forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
        }
        labels = {
            "phone": _("Clinic phone number"),
            "emergency_number": _("Emergency number"),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["time_zone"].choices = [
            (zone, zone.replace("_", " ")) for zone in sorted(zoneinfo.available_timezones())
        ]
        # The clinic's own active staff, not everyone who has an account.
        self.fields["urgent_contacts"].queryset = (
            get_user_model()
            .objects.filter(memberships__clinic=self.instance, is_active=True)
            .order_by("first_name", "last_name", "username")
        )
        self.helper = FormHelper()
        self.helper.form_tag = False

    def clean(self):
        cleaned = super().clean()
        settled = cleaned.get("settled_max")
        # An alert at or below "settled" would alert on soreness the clinic calls settled.
        for name in ("soreness_threshold", "soreness_72h_threshold"):
            value = cleaned.get(name)
            if settled is not None and value is not None and value <= settled:
                self.add_error(
                    name,
                    _(
                        "Alert only above the settled limit (%(settled)s/10): soreness at "
                        "or below it counts as settled."
                    )
                    % {"settled": settled},
                )
        return cleaned


class InviteForm(forms.Form):
    """A new member of staff: name, email (their username) and role."""

    first_name = forms.CharField(label=_("First name"), max_length=150)
    last_name = forms.CharField(label=_("Last name"), max_length=150)
    email = forms.EmailField(
        label=_("Email address"),
        max_length=150,
        help_text=_("The invitation goes here; it is also their username."),
    )
    role = forms.ChoiceField(label=_("Role"), choices=Role.choices, initial=Role.THERAPIST)

    def __init__(self, *args, clinic, **kwargs):
        super().__init__(*args, **kwargs)
        self.clinic = clinic
        self.helper = FormHelper()
        self.helper.form_tag = False

    def clean_email(self):
        email = self.cleaned_data["email"].strip().lower()
        users = get_user_model().objects.filter(
            email__iexact=email
        ) | get_user_model().objects.filter(username__iexact=email)
        if users.filter(memberships__clinic=self.clinic).exists():
            raise forms.ValidationError(_("Someone with this email is already on the staff."))
        if users.exists():
            raise forms.ValidationError(
                _(
                    "An account with this email already exists at another clinic. "
                    "Ask your administrator to add it to this clinic."
                )
            )
        return email


class RoleForm(forms.Form):
    role = forms.ChoiceField(label=_("Role"), choices=Role.choices)


class InvitationPasswordForm(SetPasswordForm):
    """Django's set-password form (the password validators), for an invitation."""

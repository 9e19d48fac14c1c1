"""Therapists' forms about a patient: adding, editing, the patient list's filters."""

from crispy_forms.helper import FormHelper
from crispy_forms.layout import Column, Div, Layout, Row
from django import forms
from django.utils.translation import gettext_lazy as _

from tracker import phones
from tracker.choices import (
    ReminderChannel,
)
from tracker.models import Clinic, Patient


class PatientForm(forms.ModelForm):
    """A new patient. ``PatientEditForm`` changes one; both check reminders and the phone alike.

    The phone is read in the clinic's country (``Clinic.phone_region``, from
    its time zone) and kept in E.164. SMS or email reminders need the
    patient's consent and the number or address: without them the field
    says so, rather than the patient silently getting no reminders.
    """

    class Meta:
        model = Patient
        fields = [
            "clinic",
            "display_name",
            "reference",
            "year_of_birth",
            "email",
            "phone",
            "language",
            "reminder_channel",
            "reminders_consent",
        ]
        widgets = {
            "phone": forms.TextInput(attrs={"type": "tel", "autocomplete": "off"}),
            "year_of_birth": forms.NumberInput(attrs={"inputmode": "numeric"}),
        }

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        if "clinic" in self.fields:
            clinics = Clinic.objects.for_user(user)
            self.fields["clinic"].queryset = clinics
            self.fields["clinic"].empty_label = None
            if len(clinics) == 1:
                self.fields["clinic"].widget = forms.HiddenInput()
                self.fields["clinic"].initial = clinics[0].pk
        self.fields["year_of_birth"].label = _("Year of birth")
        self.fields["phone"].label = _("Mobile number")
        self.fields["phone"].help_text = _(
            "A mobile number, as the patient gives it. Staff call it if the patient reports a "
            "warning sign; text reminders go to it."
        )
        self.fields["reminder_channel"].label = _("Reminders by")
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.layout = Layout(
            *(["clinic"] if "clinic" in self.fields else []),
            Row(
                Column("display_name", css_class="col-md-6"),
                Column("reference", css_class="col-md-3"),
                Column("year_of_birth", css_class="col-md-3"),
            ),
            Row(Column("email", css_class="col-md-6"), Column("phone", css_class="col-md-6")),
            Row(
                Column("language", css_class="col-md-4"),
                Column("reminder_channel", css_class="col-md-4"),
                Column(Div("reminders_consent", css_class="mt-md-4 pt-md-2"), css_class="col-md-4"),
            ),
        )

    def patients_clinic(self):
        """The clinic the patient belongs to: its country reads a number without +code,
        and a reference is unique within it."""
        return self.cleaned_data.get("clinic")

    def clean_phone(self):
        value = self.cleaned_data["phone"].strip()
        if not value:
            return ""
        if self.instance.pk is not None and value in (
            self.instance.phone,
            phones.readable(self.instance.phone),
        ):
            # Kept as stored: a number from before numbers were checked (left as it
            # was where it did not parse) does not stop other details being saved.
            return self.instance.phone
        clinic = self.patients_clinic()
        region = clinic.phone_region if clinic is not None else None
        number = phones.to_e164(value, region)
        if number is None:
            if region is None and not value.startswith("+"):
                raise forms.ValidationError(
                    _("Write the number with its country code, beginning with + (+44 for the UK)."),
                    code="phone_needs_country",
                )
            raise forms.ValidationError(
                _("This is not a valid phone number. Check it with the patient."),
                code="phone_invalid",
            )
        return number

    def clean(self):
        cleaned = super().clean()
        clinic, reference = self.patients_clinic(), cleaned.get("reference")
        if clinic is not None and reference:
            taken = Patient.objects.filter(clinic=clinic, reference=reference)
            if self.instance.pk is not None:
                taken = taken.exclude(pk=self.instance.pk)
            if taken.exists():
                self.add_error("reference", _("Another patient of this clinic has this reference."))
        channel = cleaned.get("reminder_channel")
        if channel in (ReminderChannel.EMAIL, ReminderChannel.SMS):
            if channel == ReminderChannel.EMAIL and not cleaned.get("email"):
                if "email" not in self.errors:
                    self.add_error("email", _("Add an email address to send reminders by email."))
            if channel == ReminderChannel.SMS and not cleaned.get("phone"):
                if "phone" not in self.errors:
                    self.add_error(
                        "phone", _("Add a mobile number to send reminders by text message.")
                    )
            if not cleaned.get("reminders_consent"):
                self.add_error(
                    "reminders_consent",
                    _(
                        "Reminders are sent only with the patient's agreement: tick this once "
                        "they agree, or choose “No reminders”."
                    ),
                )
        return cleaned


class PatientEditForm(PatientForm):
    """A patient's details as staff correct them. The clinic does not change."""

    class Meta(PatientForm.Meta):
        fields = [name for name in PatientForm.Meta.fields if name != "clinic"]

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, user=user, **kwargs)
        if self.instance.phone:
            # Shown as people write it (+44 7911 123456); saved again in E.164.
            self.initial["phone"] = phones.readable(self.instance.phone)

    def patients_clinic(self):
        return self.instance.clinic


class PatientFilterForm(forms.Form):
    """The patient list's search, filters and order (GET; an unknown value is ignored)."""

    SORTS = [("name", _("Name")), ("last_session", _("Last session, newest first"))]
    STATUSES = [
        ("", _("Any")),
        ("alert", _("Open alert")),
        ("open", _("Check-in open now")),
        # Three days: Today's "missed" list (queries/dashboard.py MISSED_RECENT).
        ("missed", _("Missed a check-in (last 3 days)")),
    ]

    q = forms.CharField(label=_("Name or reference"), required=False)
    therapist = forms.ChoiceField(label=_("Therapist"), required=False)
    status = forms.ChoiceField(label=_("Status"), choices=STATUSES, required=False)
    sort = forms.ChoiceField(label=_("Sort by"), choices=SORTS, required=False)

    def __init__(self, *args, therapists, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["therapist"].choices = [
            ("", _("Anyone")),
            ("me", _("My patients")),
            *[(str(user.pk), user.get_full_name() or user.username) for user in therapists],
        ]

    def clean_q(self):
        # No NUL: PostgreSQL refuses it in any text, even a search term.
        return self.cleaned_data["q"].replace("\x00", "").strip()[:100]

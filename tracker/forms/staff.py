"""Forms for therapists: patients, sessions, alerts (crispy, Bootstrap 5)."""

from crispy_forms.helper import FormHelper
from crispy_forms.layout import HTML, Column, Div, Layout, Row
from django import forms
from django.utils.text import get_text_list
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from tracker import clock, phones
from tracker.choices import (
    CHECK_IN_NAMES,
    CHEST_WALL_MUSCLES,
    Muscle,
    ReminderChannel,
    Side,
    Technique,
    TwitchBand,
)
from tracker.forms.fields import validate_in_range
from tracker.forms.patient import NRS_CHOICES
from tracker.models import ATTEMPT_OUTCOMES, Clinic, Outcome, Patient, Severity
from tracker.services import scheduling


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


class SessionForm(forms.Form):
    performed_at = forms.DateTimeField(
        label=_("Date and time"),
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"],
        validators=[validate_in_range],
    )
    pre_pain = forms.TypedChoiceField(
        label=_("Pain before the session (0–10)"),
        choices=[("", "—"), *NRS_CHOICES],
        coerce=int,
        error_messages={"required": _("Ask the patient and choose 0 to 10.")},
    )
    chest_wall_area = forms.BooleanField(
        label=_("Needled over the chest wall, neck, shoulder girdle or upper back"),
        required=False,
        help_text=_("Ticked for you when you choose a muscle in these areas below."),
        widget=forms.CheckboxInput(
            attrs={"data-chest-wall-muscles": " ".join(sorted(CHEST_WALL_MUSCLES))}
        ),
    )
    anticoagulants = forms.BooleanField(
        label=_("Takes anticoagulant or antiplatelet medicine"), required=False
    )
    lung_condition = forms.BooleanField(
        label=_("Lung disease or previous thoracic surgery"), required=False
    )
    notes = forms.CharField(
        label=_("Notes"), required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2})
    )

    # Shown (with the warning beside the time) when some check-ins would not be
    # asked; the hidden ``not_asked_warned`` carries which ones the therapist
    # was warned of, so that a confirmation never covers a list it did not see.
    confirm_not_asked = forms.BooleanField(
        label=_("Record it anyway: a check-in whose time has passed shows as “Not asked”"),
        required=False,
    )
    not_asked_warned = forms.CharField(required=False, widget=forms.HiddenInput, max_length=40)

    # Not fields of the session: what the form asks to decide before saving.
    CONFIRMATION_FIELDS = ("confirm_not_asked", "not_asked_warned")

    def __init__(self, *args, clinic, **kwargs):
        super().__init__(*args, **kwargs)
        self.clinic = clinic
        # The check-ins that the time entered would leave unasked (after ``clean``).
        self.not_asked = []
        self.fields["performed_at"].initial = clock.now().replace(second=0, microsecond=0)
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.layout = Layout(
            Row(
                Column("performed_at", css_class="col-md-4"),
                Column("pre_pain", css_class="col-md-4"),
            ),
            HTML(
                "{% if form.not_asked %}{% include 'tracker/_not_asked_confirm.html' %}{% endif %}"
            ),
            Div("chest_wall_area", "anticoagulants", "lung_condition", css_class="mb-3"),
            "notes",
        )

    def clean_performed_at(self):
        value = self.cleaned_data["performed_at"]
        if value > clock.now() + _FUTURE_TOLERANCE:
            raise forms.ValidationError(_("A session cannot be recorded in the future."))
        return value

    def clean(self):
        cleaned = super().clean()
        performed_at = cleaned.get("performed_at")
        if performed_at is None:
            return cleaned
        self.not_asked = scheduling.not_asked_time_points(
            self.clinic, performed_at=performed_at, recorded_at=clock.now()
        )
        key = ",".join(str(int(tp)) for tp in self.not_asked)
        if self.not_asked and not (
            cleaned.get("confirm_not_asked") and cleaned.get("not_asked_warned") == key
        ):
            names = [str(CHECK_IN_NAMES[tp]) for tp in self.not_asked]
            self.add_error(
                "performed_at",
                forms.ValidationError(
                    ngettext(
                        "The time of the %(check_ins)s has passed: it will not be asked, and "
                        "shows as “Not asked”. Check the time, or tick “Record it anyway”.",
                        "The times of the %(check_ins)s have passed: they will not be asked, "
                        "and show as “Not asked”. Check the time, or tick “Record it anyway”.",
                        len(names),
                    ),
                    code="not_asked",
                    params={"check_ins": get_text_list(names, _("and"))},
                ),
            )
            # The hidden field carries the list just warned of.
            self.data = self.data.copy()
            self.data[self.add_prefix("not_asked_warned")] = key
            self.data[self.add_prefix("confirm_not_asked")] = ""
        return cleaned

    @property
    def session_fields(self) -> dict:
        """The cleaned values that ``services.record_session`` takes."""
        return {
            name: value
            for name, value in self.cleaned_data.items()
            if name not in self.CONFIRMATION_FIELDS
        }


_FUTURE_TOLERANCE = __import__("datetime").timedelta(minutes=5)


class SiteForm(forms.Form):
    muscle = forms.ChoiceField(label=_("Muscle"), choices=[("", "—")] + Muscle.choices)
    side = forms.ChoiceField(label=_("Side"), choices=Side.choices, initial=Side.RIGHT)
    insertions = forms.IntegerField(
        label=_("Insertions"),
        min_value=1,
        max_value=99,
        initial=1,
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
    )
    technique = forms.ChoiceField(
        label=_("Technique"), choices=Technique.choices, initial=Technique.DEEP_PISTONING
    )
    twitch_band = forms.ChoiceField(
        label=_("Twitch responses"), choices=TwitchBand.choices, initial=TwitchBand.NONE
    )
    notes = forms.CharField(label=_("Site notes"), required=False, max_length=200)


class BaseSiteFormSet(forms.BaseFormSet):
    def clean(self):
        super().clean()
        if any(self.errors):
            return
        filled = [f for f in self.forms if f.cleaned_data and not self._should_delete_form(f)]
        if not filled:
            raise forms.ValidationError(_("Add at least one needled site."))

    @property
    def site_rows(self) -> list[dict]:
        return [form.cleaned_data for form in self.forms if form.cleaned_data]


SiteFormSet = forms.formset_factory(
    SiteForm,
    formset=BaseSiteFormSet,
    extra=3,
    max_num=20,
    validate_max=True,
    # Django's default (max_num + 1000) lets one post with a large TOTAL_FORMS
    # make the server build and render a thousand rows.
    absolute_max=20,
)


class SessionCorrectionForm(forms.Form):
    """What may be corrected in a session while its follow-up runs: risk factors and notes.

    Not its time (that planned the check-ins) nor the pain before it.
    """

    chest_wall_area = SessionForm.base_fields["chest_wall_area"]
    anticoagulants = SessionForm.base_fields["anticoagulants"]
    lung_condition = SessionForm.base_fields["lung_condition"]
    notes = SessionForm.base_fields["notes"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.layout = Layout(
            Div("chest_wall_area", "anticoagulants", "lung_condition", css_class="mb-3"),
            "notes",
        )


class CorrectionSiteForm(SiteForm):
    """A site in a correction: ``id`` names a site already recorded (empty for a new one)."""

    id = forms.IntegerField(required=False, widget=forms.HiddenInput, min_value=1)


class BaseCorrectionSiteFormSet(BaseSiteFormSet):
    """The session's sites, changed in place, and new rows; a recorded site is never removed."""

    def clean(self):
        super().clean()
        if any(self.errors):
            return
        for form in self.forms[: self.initial_form_count()]:
            if not form.cleaned_data:
                form.add_error(
                    "muscle",
                    _(
                        "A recorded site cannot be removed; correct it, or mark the session in error."
                    ),
                )


def correction_site_formset(session, data=None):
    """The correction's site rows: one per recorded site, and one blank row to add another."""
    formset = forms.formset_factory(
        CorrectionSiteForm,
        formset=BaseCorrectionSiteFormSet,
        extra=1,
        max_num=20,
        validate_max=True,
        absolute_max=20,
    )
    initial = [
        {name: getattr(site, name) for name in ["id", *SiteForm.base_fields]}
        for site in session.sites.all()
    ]
    return formset(data, initial=initial, prefix="sites")


class EnteredInErrorForm(forms.Form):
    reason = forms.CharField(
        label=_("Why was this session entered in error?"),
        max_length=500,
        strip=True,
        help_text=_("e.g. 'Recorded for the wrong patient' or 'A duplicate of the 10:30 session'."),
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={"required": _("Say why this session was entered in error.")},
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.form_tag = False


class AlertFilterForm(forms.Form):
    STATES = [("open", _("Open")), ("acknowledged", _("Acknowledged")), ("all", _("All"))]

    state = forms.ChoiceField(label=_("State"), choices=STATES, required=False, initial="open")
    severity = forms.ChoiceField(
        label=_("Severity"), choices=[("", _("Any"))] + Severity.choices, required=False
    )

    def filter(self, alerts):
        state = self.cleaned_data.get("state") or "open"
        if state == "open":
            alerts = alerts.open()
        elif state == "acknowledged":
            alerts = alerts.filter(acknowledged_at__isnull=False)
        if self.cleaned_data.get("severity"):
            alerts = alerts.filter(severity=self.cleaned_data["severity"])
        return alerts


class AcknowledgeForm(forms.Form):
    """What was done about one alert: an outcome, and a note (needed for "other")."""

    outcome = forms.ChoiceField(
        label=_("What was done"),
        choices=Outcome.choices,
        error_messages={"required": _("Choose what was done.")},
    )
    note = forms.CharField(
        label=_("Note"),
        max_length=1000,
        strip=True,
        required=False,
        help_text=_("e.g. 'Soreness easing; advised ice.' Needed for 'Other'."),
    )

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("outcome") == Outcome.OTHER and not cleaned.get("note"):
            self.add_error("note", _("Write a short note on what was done."))
        return cleaned


class BulkAcknowledgeForm(AcknowledgeForm):
    """One outcome for several attention alerts (never urgent ones, nor an attempt).

    The ticked alerts are read by the view from what the user may see: an
    id outside that is simply not among them.
    """

    outcome = forms.ChoiceField(
        label=_("What was done"),
        choices=[
            (value, label) for value, label in Outcome.choices if value not in ATTEMPT_OUTCOMES
        ],
        error_messages={"required": _("Choose what was done.")},
    )

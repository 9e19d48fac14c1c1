"""Therapists' forms about a session: recording it, its sites, correcting it, entered in error."""

from datetime import timedelta

from crispy_forms.helper import FormHelper
from crispy_forms.layout import HTML, Column, Div, Layout, Row
from django import forms
from django.utils.text import get_text_list
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from tracker import clock
from tracker.choices import (
    CHECK_IN_NAMES,
    CHEST_WALL_MUSCLES,
    Muscle,
    Side,
    Technique,
    TwitchBand,
)
from tracker.forms.fields import validate_in_range
from tracker.forms.patient import NRS_CHOICES
from tracker.services import scheduling


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


_FUTURE_TOLERANCE = timedelta(minutes=5)


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

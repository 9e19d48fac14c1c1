"""Forms of the clinic lead's pages: the audit trail's filters and the erasure confirmation."""

from crispy_forms.helper import FormHelper
from crispy_forms.layout import HTML, Column, Layout, Row
from django import forms
from django.contrib.auth import get_user_model
from django.db.models import Q
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from tracker import clock
from tracker.forms.fields import DayField
from tracker.models import AuditAction

# Ids are PostgreSQL bigints: a longer number names no patient, and the
# database would refuse it in a query rather than find nothing.
LARGEST_ID = 2**63 - 1


class StaffChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, user):
        return user.get_full_name() or user.get_username()


class AuditFilterForm(forms.Form):
    """Date range (in the current time zone), who, what, and which patient (by name,
    reference or number)."""

    date_from = DayField(
        label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = DayField(
        label=_("To"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    user = StaffChoiceField(
        label=_("Who"),
        queryset=get_user_model().objects.none(),
        required=False,
        empty_label=_("Anyone"),
    )
    action = forms.ChoiceField(
        label=_("Action"), choices=[("", _("Any"))] + AuditAction.choices, required=False
    )
    patient = forms.CharField(
        label=_("Patient"),
        required=False,
        max_length=120,
        help_text=_("Part of the name, the clinic's reference, or # and the number (#12)."),
    )

    def __init__(self, *args, clinics, **kwargs):
        super().__init__(*args, **kwargs)
        # The staff of the clinics whose trail this is (not everyone who has an account).
        self.fields["user"].queryset = (
            get_user_model()
            .objects.filter(memberships__clinic__in=clinics)
            .distinct()
            .order_by("first_name", "last_name", "username")
        )
        self.helper = FormHelper()
        # The page writes the GET <form> tag: a CSRF token would only end up in the address.
        self.helper.form_tag = False
        self.helper.disable_csrf = True
        self.helper.label_class = "small mb-1"
        self.helper.layout = Layout(
            Row(
                *(Column(name, css_class="col-sm-6 col-lg") for name in self.fields),
                Column(
                    HTML(
                        format_html(
                            '<div class="mb-3"><div class="form-label small mb-1 invisible" '
                            'aria-hidden="true">&nbsp;</div><button class="btn btn-secondary" '
                            'type="submit">{}</button></div>',
                            gettext("Show"),
                        )
                    ),
                    css_class="col-sm-6 col-lg-auto",
                ),
                css_class="gx-2 align-items-start",
            )
        )

    def clean_patient(self):
        value = " ".join(self.cleaned_data["patient"].split())
        if value.startswith("#"):
            number = value[1:]
            # isascii(): "²" and "٣" are digits to isdigit() but no id.
            if not (number.isascii() and number.isdigit()):
                raise forms.ValidationError(_("After # write the patient's number, e.g. #12."))
            if int(number) > LARGEST_ID:
                raise forms.ValidationError(_("No patient has this number."))
        return value

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("date_from"), cleaned.get("date_to")
        if start and end and start > end:
            self.add_error("date_to", _("The end date is before the start date."))
        return cleaned

    def filter(self, events):
        """``events`` narrowed to the valid filters (call after ``is_valid()``)."""
        data = self.cleaned_data
        start, end = clock.days_between(
            data.get("date_from"), data.get("date_to"), timezone.get_current_timezone()
        )
        if start:
            events = events.filter(at__gte=start)
        if end:
            events = events.filter(at__lt=end)
        if data.get("user"):
            events = events.filter(user=data["user"])
        if data.get("action"):
            events = events.filter(action=data["action"])
        if patient := data.get("patient"):
            if patient.startswith("#"):
                events = events.filter(patient_id=int(patient[1:]))
            else:
                events = events.filter(
                    Q(patient__display_name__icontains=patient)
                    | Q(patient__reference__iexact=patient)
                )
        return events


class EraseConfirmForm(forms.Form):
    """The lead types the patient's reference (or name) to show they mean this patient."""

    confirm = forms.CharField(
        label=_("Type the patient's reference, or their name if they have none"),
        max_length=120,
    )

    def __init__(self, *args, patient, **kwargs):
        super().__init__(*args, **kwargs)
        self.patient = patient
        # The page writes the <form> tag and its Erase and Cancel buttons.
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.layout = Layout("confirm")

    def clean_confirm(self):
        typed = " ".join(self.cleaned_data["confirm"].split()).casefold()
        expected = {
            " ".join(value.split()).casefold()
            for value in (self.patient.reference, self.patient.display_name)
            if value.strip()
        }
        if typed not in expected:
            raise forms.ValidationError(
                _("This is not the patient's reference or name. Nothing was erased.")
            )
        return typed

"""The analytics page's filters: a GET form that turns a query string into ``Filters``."""

from datetime import date, timedelta
from urllib.parse import urlencode

from crispy_forms.helper import FormHelper
from crispy_forms.layout import HTML, Column, Layout, Row
from django import forms
from django.urls import reverse
from django.utils.functional import cached_property
from django.utils.html import format_html
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from tracker import fragments
from tracker.analytics import Filters
from tracker.choices import Muscle, Technique
from tracker.forms.fields import DayField

DEFAULT_DAYS = 90
DATE_WIDGET = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
# Each filter's column: two a row on a phone, three on a tablet, all in one row on a desktop.
FILTER_COLUMN = "col-sm-6 col-md-4 col-lg"


class AnalyticsFilterForm(forms.Form):
    """Date range (clinic's days, both included), therapist, muscle and technique.

    Missing dates mean the last 90 days up to ``today``. The therapist must be
    a member of the clinic: an id from elsewhere is an error, never a filter
    that shows someone else's sessions.
    """

    date_from = DayField(label=_("From"), required=False, widget=DATE_WIDGET)
    date_to = DayField(label=_("To"), required=False, widget=DATE_WIDGET)
    therapist = forms.TypedChoiceField(
        label=_("Therapist"),
        required=False,
        coerce=int,
        empty_value=None,
        error_messages={"invalid_choice": _("Choose a therapist of this clinic.")},
    )
    muscle = forms.ChoiceField(
        label=_("Muscle"),
        required=False,
        choices=[("", _("All muscles")), *Muscle.choices],
    )
    technique = forms.ChoiceField(
        label=_("Technique"),
        required=False,
        choices=[("", _("All techniques")), *Technique.choices],
    )

    def __init__(self, query, *, clinic, therapists, today: date):
        """``query``: request.GET; ``therapists``: (user id, name) of the clinic's staff."""
        self.clinic = clinic
        data = query.copy()
        defaults = {
            "date_from": (today - timedelta(days=DEFAULT_DAYS)).isoformat(),
            "date_to": today.isoformat(),
        }
        for name, value in defaults.items():
            if not data.get(name):
                data[name] = value
        super().__init__(data)
        self.fields["therapist"].choices = [("", _("All therapists")), *therapists]
        self.helper = self._helper()

    def _helper(self) -> FormHelper:
        """Crispy's layout: the filters in one row, then Apply and Reset.

        The page writes the GET <form> tag; Reset is the page without a query.
        """
        helper = FormHelper()
        helper.form_tag = False
        # A GET form: a CSRF token would only end up in the address and the logs.
        helper.disable_csrf = True
        helper.label_class = "small mb-1"
        buttons = format_html(
            '<div class="mb-3"><div class="form-label small mb-1 invisible" aria-hidden="true">'
            '&nbsp;</div><div class="d-flex gap-2"><button class="btn btn-primary" '
            'type="submit">{}</button><a class="btn btn-outline-secondary" href="{}">{}</a>'
            "</div></div>",
            gettext("Apply"),
            reverse("tracker:analytics", args=[self.clinic.pk]),
            gettext("Reset"),
        )
        helper.layout = Layout(
            Row(
                *(Column(name, css_class=FILTER_COLUMN) for name in self.fields),
                Column(HTML(buttons), css_class="col-sm-6 col-md-4 col-lg-auto"),
                css_class="gx-2 align-items-start",
            )
        )
        return helper

    @cached_property
    def markup_digest(self) -> str:
        """A digest of all that the filters show, in the active language: each
        field's name, label, choices and value, and the clinic (Reset's address).

        The page keeps the filters rendered under it while they have no errors
        (``templates/tracker/analytics.html``): two forms with the same digest
        show the same markup, and another value, therapist or wording is
        another digest.
        """
        shown = [
            (
                name,
                str(field.label),
                [(value, str(label)) for value, label in getattr(field, "choices", ())],
                self[name].value(),
            )
            for name, field in self.fields.items()
        ]
        return fragments.digest((self.clinic.pk, shown))

    def full_clean(self):
        super().full_clean()
        # Tie the fields in error to their message beside them (crispy's id), for screen readers.
        for name in self.errors:
            if name in self.fields:
                self.fields[name].widget.attrs["aria-describedby"] = f"{self[name].auto_id}_error"

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("date_from"), cleaned.get("date_to")
        if start and end and start > end:
            self.add_error("date_to", _("The end date is before the start date."))
        return cleaned

    def filters(self) -> Filters:
        data = self.cleaned_data
        return Filters(
            clinic=self.clinic,
            date_from=data["date_from"],
            date_to=data["date_to"],
            therapist=data["therapist"],
            muscle=data["muscle"] or None,
            technique=data["technique"] or None,
        )

    def query_string(self) -> str:
        """The cleaned filters as a query string, for chart and CSV links."""
        data = self.cleaned_data
        pairs = {
            "date_from": data["date_from"].isoformat(),
            "date_to": data["date_to"].isoformat(),
            "therapist": data["therapist"] or "",
            "muscle": data["muscle"],
            "technique": data["technique"],
        }
        return urlencode({key: value for key, value in pairs.items() if value})

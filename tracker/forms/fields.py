"""What several forms share: the range of dates the app accepts."""

from datetime import date, datetime

from django import forms
from django.utils.translation import gettext_lazy as _

# Far-off dates overflow the time-zone arithmetic (year 1 at midnight in
# Tokyo is in year 0 in UTC, a day after 31 December 9999 is no date at all),
# and no clinic has sessions there anyway.
EARLIEST, LATEST = date(2000, 1, 1), date(2999, 12, 31)


def validate_in_range(value: date | datetime) -> None:
    """A date, or the (local) date of a date and time, between EARLIEST and LATEST."""
    day = value.date() if isinstance(value, datetime) else value
    if not EARLIEST <= day <= LATEST:
        raise forms.ValidationError(
            _("Choose a date between %(start)s and %(end)s."),
            code="out_of_range",
            params={"start": EARLIEST.isoformat(), "end": LATEST.isoformat()},
        )


class DayField(forms.DateField):
    """A calendar day in the range the app's time arithmetic handles."""

    default_validators = [validate_in_range]

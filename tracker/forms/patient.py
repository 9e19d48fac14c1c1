"""The patient's check-in form: the questions of each check-in, in the patient's language."""

import copy
import uuid

from django import forms
from django.utils import translation
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _

from tracker import fragments
from tracker.choices import (
    AfterEffect,
    BruiseBand,
    Interference,
    Pgic,
    RedFlag,
    TimePoint,
    TwitchingFelt,
)

NRS_CHOICES = [(n, str(n)) for n in range(11)]
NONE_OF_THESE = "none"
YES_NO = [("yes", _("Yes")), ("no", _("No"))]


# CheckInForm.questions_digest, by language, time point and "last planned".
_QUESTIONS_DIGESTS = {}


class _SharedChoices:
    """A choice field whose copies share its list of choices.

    Each form copies its class's fields; Django's copy of a choice field also
    copies its choices and normalizes them again, which took a fifth of the
    check-in page's time. A field's choices are only ever replaced (as
    CheckInForm does for the in-clinic check-in), never changed in place, so
    a copy can share them.
    """

    def __deepcopy__(self, memo):
        result = copy.copy(self)
        memo[id(self)] = result
        result.widget = copy.copy(self.widget)
        result.widget.attrs = self.widget.attrs.copy()
        result.error_messages = self.error_messages.copy()
        result.validators = self.validators[:]
        return result


class ChoiceField(_SharedChoices, forms.ChoiceField):
    pass


class TypedChoiceField(_SharedChoices, forms.TypedChoiceField):
    pass


class MultipleChoiceField(_SharedChoices, forms.MultipleChoiceField):
    pass


class CheckInForm(forms.Form):
    """The patient's check-in. Every question is asked; none is pre-filled.

    What is asked depends on the check-in (``time_point``): the in-clinic
    one asks about now and since the needling (the patient has not left);
    every later one also asks about pain, swelling or redness where the
    needle went in; the last planned one (``last_planned``) also asks how
    the original complaint is compared with before the session.
    """

    key = forms.UUIDField(widget=forms.HiddenInput)
    soreness = TypedChoiceField(
        label=_("How sore is the needled area right now?"),
        help_text=_("0 means no soreness, 10 the worst soreness you can imagine."),
        choices=NRS_CHOICES,
        coerce=int,
        widget=forms.RadioSelect,
        error_messages={"required": _("Choose a number from 0 to 10.")},
    )
    twitching = ChoiceField(
        label=_("Twitching or cramping in the muscle since your last check-in"),
        choices=TwitchingFelt.choices,
        widget=forms.RadioSelect,
        error_messages={"required": _("Choose none, mild or strong.")},
    )
    bruising = ChoiceField(
        label=_("Bruising where the needle went in"),
        choices=BruiseBand.choices,
        widget=forms.RadioSelect,
        error_messages={"required": _("Choose the size closest to your bruise, or no bruise.")},
    )
    bruise_growing = forms.BooleanField(label=_("The bruise is getting bigger"), required=False)
    bruise_elsewhere = forms.BooleanField(
        label=_("There is a bruise away from where the needles went in"), required=False
    )
    interference = ChoiceField(
        label=_("How much did soreness get in the way of your usual activities?"),
        choices=Interference.choices,
        widget=forms.RadioSelect,
        error_messages={"required": _("Choose how much, or “Not at all”.")},
    )
    after_effects = MultipleChoiceField(
        label=_("Anything else since the session?"),
        help_text=_("Tick all that apply, or “None of these”."),
        choices=[*AfterEffect.choices, (NONE_OF_THESE, _("None of these"))],
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": _("Tick what you have had, or “None of these”.")},
    )
    red_flags = MultipleChoiceField(
        label=_("Do you have any of these warning signs now?"),
        help_text=_("Tick any you have, or “None of these”."),
        choices=[*RedFlag.choices, (NONE_OF_THESE, _("None of these"))],
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": _("Tick any warning sign you have, or “None of these”.")},
    )
    local_reaction = TypedChoiceField(
        label=_(
            "Since your last check-in, have you had pain, swelling or redness where the "
            "needle went in?"
        ),
        choices=YES_NO,
        coerce=lambda value: value == "yes",
        widget=forms.RadioSelect,
        error_messages={"required": _("Choose yes or no.")},
    )
    pgic = TypedChoiceField(
        label=_(
            "Compared with before this session, how is the problem you came to the clinic for?"
        ),
        help_text=_("Your original complaint, not the soreness from the needles."),
        choices=Pgic.choices,
        coerce=int,
        # Not asked ("I feel fine"): no answer, stored as NULL, not "".
        empty_value=None,
        widget=forms.RadioSelect,
        error_messages={"required": _("Choose how your original complaint is now.")},
    )
    # Set by the "I feel fine" button, which cannot answer for the original complaint.
    feeling_fine = forms.BooleanField(required=False, widget=forms.HiddenInput)
    note = forms.CharField(
        label=_("Anything you want your therapist to know (optional)"),
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def __init__(self, *args, time_point=TimePoint.H24, last_planned=False, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["key"].initial = uuid.uuid4()
        self.time_point = time_point
        self.last_planned = last_planned
        if time_point == TimePoint.IN_CLINIC:
            # The patient is still at the clinic: now, and since the needling.
            self.fields["twitching"].label = _(
                "Twitching or cramping in the muscle since the needling"
            )
            self.fields["red_flags"].choices = [
                (
                    value,
                    _("Fainting or feeling faint since the needling")
                    if value == RedFlag.FAINTING
                    else label,
                )
                for value, label in self.fields["red_flags"].choices
            ]
            del self.fields["local_reaction"]
        if not last_planned:
            del self.fields["pgic"]
        elif self.data.get("feeling_fine"):
            self.fields["pgic"].required = False

    @cached_property
    def questions_digest(self) -> str:
        """A digest of all that the questions show before any answer: each field's
        name, label, help and choices, in the active language.

        The check-in page keeps the unanswered questions rendered under it
        (``templates/patient/check_in.html``): two forms with the same digest
        show the same markup, and any change to a wording or a choice is a new
        digest (``questions_digest`` below gives it without a form).
        """
        return questions_digest(self.time_point, self.last_planned)

    def _questions_digest(self) -> str:
        shown = [
            (
                name,
                str(field.label),
                str(field.help_text),
                [(value, str(label)) for value, label in getattr(field, "choices", ())],
            )
            for name, field in self.fields.items()
        ]
        return fragments.digest(shown)

    def _clean_explicit_list(self, name):
        values = self.cleaned_data[name]
        if NONE_OF_THESE in values and len(values) > 1:
            raise forms.ValidationError(
                _("You ticked “None of these” and something else: untick one of them.")
            )
        return [value for value in values if value != NONE_OF_THESE]

    def clean_after_effects(self):
        return self._clean_explicit_list("after_effects")

    def clean_red_flags(self):
        return self._clean_explicit_list("red_flags")

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("bruising") == BruiseBand.NONE:
            # Questions about a bruise the patient does not have mean nothing.
            cleaned["bruise_growing"] = cleaned["bruise_elsewhere"] = False
        return cleaned

    @property
    def warning_signs(self) -> list[str]:
        """The warning signs ticked (RedFlag values, in their order), whatever
        else the form holds: other answers missing, or "None of these" ticked
        as well. A sign ticked is never ignored."""
        if not self.is_bound:
            return []
        field = self.fields["red_flags"]
        ticked = field.widget.value_from_datadict(
            self.data, self.files, self.add_prefix("red_flags")
        )
        return [value for value in RedFlag.values if value in (ticked or ())]

    @property
    def answers(self) -> dict:
        return {
            name: value
            for name, value in self.cleaned_data.items()
            if name not in ("key", "feeling_fine")
        }


# The answers of "I feel fine": an explicit answer to every question.
FEELING_FINE = {
    "soreness": "0",
    "twitching": TwitchingFelt.NONE,
    "bruising": BruiseBand.NONE,
    "interference": Interference.NOT_AT_ALL,
    "after_effects": NONE_OF_THESE,
    "red_flags": NONE_OF_THESE,
    "local_reaction": "no",
    "feeling_fine": "1",
}


def questions_digest(time_point, last_planned) -> str:
    """``CheckInForm(time_point=..., last_planned=...).questions_digest``.

    The questions follow from the language and the form's arguments alone,
    so each process works out each digest once, and the check-in page needs
    no form to find its kept questions.
    """
    shape = (translation.get_language(), time_point, last_planned)
    if shape not in _QUESTIONS_DIGESTS:
        form = CheckInForm(time_point=time_point, last_planned=last_planned)
        _QUESTIONS_DIGESTS[shape] = form._questions_digest()
    return _QUESTIONS_DIGESTS[shape]


class WarningForm(forms.Form):
    """Warning signs reported with no check-in open (between check-ins, or after
    the last): at least one sign, and nothing else to answer."""

    key = forms.UUIDField(widget=forms.HiddenInput)
    red_flags = MultipleChoiceField(
        label=_("Do you have any of these warning signs now?"),
        help_text=_("Tick each one you have. Your clinic is told as soon as you send this."),
        choices=RedFlag.choices,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": _("Tick the warning signs you have.")},
    )

"""Staff account forms: own settings, password confirmation and two-step sign-in codes."""

import re

from crispy_forms.helper import FormHelper
from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.core import validators
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from tracker.models import StaffProfile


def _password_field():
    return forms.CharField(
        label=gettext_lazy("Your password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
        error_messages={"required": gettext_lazy("Type your password to confirm.")},
    )


def _check_password(user, password: str) -> str:
    """The user's own password again, before a change to how they sign in: a session
    left open on a shared computer must not be enough to turn two-step sign-in off,
    or to move it to someone else's phone."""
    if not user.check_password(password):
        raise forms.ValidationError(_("That is not your password."))
    return password


class PasswordForm(forms.Form):
    password = _password_field()

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user

    def clean_password(self):
        return _check_password(self.user, self.cleaned_data["password"])


class CodeForm(forms.Form):
    code = forms.CharField(
        label=gettext_lazy("Code from your authenticator app"),
        max_length=12,
        strip=True,
        widget=forms.TextInput(
            attrs={
                "inputmode": "numeric",
                "autocomplete": "one-time-code",
                "autofocus": True,
                "class": "form-control form-control-lg",
            }
        ),
        error_messages={"required": gettext_lazy("Type the 6-digit code your app shows.")},
    )

    def clean_code(self):
        code = self.cleaned_data["code"].replace(" ", "")
        if len(code) != 6 or not code.isascii() or not code.isdigit():
            raise forms.ValidationError(_("Type the 6-digit code your app shows."))
        return code


class NewAppForm(CodeForm):
    """The first code of the app being set up; and, when it replaces an app, the password."""

    def __init__(self, *args, user, replacing: bool, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        if replacing:
            self.fields["password"] = _password_field()

    def clean_password(self):
        return _check_password(self.user, self.cleaned_data["password"])


class StaffSettingsForm(forms.ModelForm):
    """A staff member's own settings: the language they read, a mobile for urgent alerts."""

    class Meta:
        model = StaffProfile
        fields = ["language", "mobile"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.form_tag = False

    def clean_mobile(self):
        mobile = "".join(self.cleaned_data["mobile"].split())
        if mobile and not re.fullmatch(r"\+[1-9]\d{7,14}", mobile):
            raise forms.ValidationError(
                gettext_lazy(
                    "Give the number in international form: + then country code, "
                    "e.g. +447700900123."
                )
            )
        return mobile


class SignInForm(AuthenticationForm):
    """Django's sign-in form, refusing a username longer than any account's.

    Django sets the field's ``max_length`` only after building the field, so
    its length check never runs: a username of thousands of characters would
    reach the sign-in attempt log (django-axes) and fail there, on PostgreSQL
    with a server error.
    """

    def __init__(self, request=None, *args, **kwargs):
        super().__init__(request, *args, **kwargs)
        field = self.fields["username"]
        field.validators.append(validators.MaxLengthValidator(field.max_length))

"""The project's replacement for Django's <select> template writes the same markup."""

import re

import pytest
from django import forms
from django.forms.renderers import DjangoTemplates, TemplatesSetting

CHOICES = [
    ("", "All muscles"),
    ("Neck", [("upper-trapezius", "Upper trapezius"), ("levator", "Levator <scapulae> & co")]),
    ("gluteus-medius", "Gluteus medius"),
]


def _same_markup(html: str) -> str:
    """Django's option template ends in a newline its include leaves in; ours does not."""
    return re.sub(r"\n\s*\n", "\n", html)


@pytest.mark.parametrize(
    ("widget", "value"),
    [
        (
            forms.Select(choices=CHOICES, attrs={"class": "form-select", "required": True}),
            "levator",
        ),
        (forms.Select(choices=CHOICES), ""),
        (forms.SelectMultiple(choices=CHOICES), ["levator", "gluteus-medius"]),
        (forms.NullBooleanSelect(), True),
    ],
)
def test_select_renders_as_djangos_own(widget, value):
    ours = widget.render("muscle", value, renderer=TemplatesSetting())
    djangos = widget.render("muscle", value, renderer=DjangoTemplates())
    assert ours == _same_markup(djangos)
    assert "selected" in ours


def test_option_attributes_are_kept():
    class WithDisabled(forms.Select):
        def create_option(self, *args, **kwargs):
            option = super().create_option(*args, **kwargs)
            if option["value"] == "gluteus-medius":
                option["attrs"]["disabled"] = True
                option["attrs"]["data-region"] = "hip"
            return option

    html = WithDisabled(choices=CHOICES).render("muscle", "", renderer=TemplatesSetting())
    assert (
        '<option value="gluteus-medius" disabled data-region="hip">Gluteus medius</option>' in html
    )
    assert "Levator &lt;scapulae&gt; &amp; co" in html

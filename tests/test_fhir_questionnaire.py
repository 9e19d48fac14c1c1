"""The check-in as a FHIR Questionnaire: made from the form, published, versioned, valid.

Nothing here lists the questions: every expectation is read from the form
(``CheckInForm.base_fields``) and its choices, so a question added to the form
needs no change here, and one that the Questionnaire missed fails.
"""

import pytest
from django import forms
from django.db import models
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from tests.fhir_checks import assert_questionnaire_is_valid
from tracker.fhir import common, questionnaire
from tracker.forms.patient import CheckInForm

TRANSLATION = "http://hl7.org/fhir/StructureDefinition/translation"


def _in(language, text) -> str:
    with translation.override(language):
        return str(text)


def _spanish(element) -> str:
    [extension] = element["extension"]
    assert extension["url"] == TRANSLATION
    parts = {part["url"]: part for part in extension["extension"]}
    assert parts["lang"]["valueCode"] == "es"
    return parts["content"]["valueString"]


def _visible_fields(form_class=CheckInForm):
    return {name: f for name, f in form_class.base_fields.items() if not f.widget.is_hidden}


@pytest.fixture
def published(client):
    response = client.get(reverse("tracker:fhir_questionnaire"))
    assert response.status_code == 200
    return response


def test_published_at_its_canonical_url_to_anyone(published):
    assert published["Content-Type"] == "application/fhir+json; charset=utf-8"
    resource = published.json()
    assert resource["url"] == "http://testserver/fhir/Questionnaire/check-in"
    assert resource["url"] == common.base() + "/Questionnaire/check-in"
    assert published.request["PATH_INFO"] == "/fhir/Questionnaire/check-in"
    assert resource["status"] == "active" and resource["version"] == questionnaire.version(
        questionnaire.questions()
    )
    assert "public" in published["Cache-Control"]


def test_valid_r4_questionnaire(published):
    items = assert_questionnaire_is_valid(published.json())
    assert set(_visible_fields()) <= set(items)


def test_every_visible_field_is_an_item_with_its_wording_in_both_languages(published):
    items = {item["linkId"]: item for item in published.json()["item"]}
    fields = _visible_fields()
    assert list(items) == list(fields)  # the form's order, the key field left out
    for name, field in fields.items():
        item = items[name]
        assert item["text"] == _in("en", field.label)
        assert _spanish(item["_text"]) == _in("es", field.label)
        assert item["required"] is field.required
        assert item.get("repeats", False) is isinstance(field, forms.MultipleChoiceField)
        if field.help_text:
            [help_item] = item["item"]
            assert help_item["type"] == "display"
            assert (help_item["text"], _spanish(help_item["_text"])) == (
                _in("en", field.help_text),
                _in("es", field.help_text),
            )


def test_every_choice_is_an_answer_option_with_its_code(published):
    items = {item["linkId"]: item for item in published.json()["item"]}
    for name, field in _visible_fields().items():
        if not isinstance(field, forms.ChoiceField) or items[name]["type"] == "boolean":
            continue
        options = items[name]["answerOption"]
        assert len(options) == len(field.choices), name
        for option, (value, label) in zip(options, field.choices, strict=True):
            if items[name]["type"] == "integer":
                assert option == {"valueInteger": value}
                continue
            coding = option["valueCoding"]
            assert coding["system"] == f"http://testserver/fhir/CodeSystem/{name}"
            assert (coding["code"], coding["display"]) == (str(value), _in("en", label))
            assert _spanish(coding["_display"]) == _in("es", label)


def test_the_soreness_item_carries_loinc_72514_3(published):
    [soreness] = [item for item in published.json()["item"] if item["linkId"] == "soreness"]
    assert soreness["type"] == "integer"
    assert soreness["code"] == [
        {
            "system": "http://loinc.org",
            "code": "72514-3",
            "display": "Pain severity - 0-10 verbal numeric rating [Score] - Reported",
        }
    ]
    assert [o["valueInteger"] for o in soreness["answerOption"]] == list(range(11))


def test_the_spanish_is_a_translation_not_a_copy(published):
    # The catalogue is compiled: at least the questions read differently in Spanish.
    items = published.json()["item"]
    assert all(_spanish(item["_text"]) != item["text"] for item in items)


# ---------------------------------------------------------------------------
# New questions: picked up from the form, and a new version


class Change(models.IntegerChoices):
    """A 7-point change scale, shaped like a PGIC."""

    MUCH_BETTER = 1, _("Much better")
    NO_CHANGE = 4, _("No change")
    MUCH_WORSE = 7, _("Much worse")


class LongerForm(CheckInForm):
    local_reaction = forms.TypedChoiceField(
        label=_("Pain, swelling or redness where the needle went in"),
        choices=[(True, _("Yes")), (False, _("No"))],
        coerce=lambda v: v == "True",
        widget=forms.RadioSelect,
    )
    change = forms.TypedChoiceField(
        label=_("Compared with before the session, how is your original problem?"),
        choices=Change.choices,
        coerce=int,
        required=False,
        widget=forms.RadioSelect,
    )


def test_a_question_added_to_the_form_is_in_the_questionnaire_with_a_new_version():
    before = questionnaire.questionnaire()
    after = questionnaire.questionnaire(LongerForm)
    assert after["version"] != before["version"]
    items = assert_questionnaire_is_valid(after)
    assert items["local_reaction"]["type"] == "boolean"
    assert "answerOption" not in items["local_reaction"]
    change = items["change"]
    assert (change["type"], change["required"]) == ("choice", False)
    assert [o["valueCoding"]["code"] for o in change["answerOption"]] == ["1", "4", "7"]
    assert change["answerOption"][0]["valueCoding"]["display"] == "Much better"


def test_the_version_follows_the_questions_not_the_moment():
    assert questionnaire.questionnaire() == questionnaire.questionnaire()

    class Reworded(CheckInForm):
        pass

    Reworded.base_fields = dict(CheckInForm.base_fields)
    Reworded.base_fields["note"] = forms.CharField(label="Anything else?", required=False)
    assert (
        questionnaire.questionnaire(Reworded)["version"] != questionnaire.questionnaire()["version"]
    )


def test_a_field_of_an_unknown_kind_fails_loudly():
    class Odd(CheckInForm):
        when = forms.DateField(label="When?")

    with pytest.raises(TypeError, match="when"):
        questionnaire.questions(Odd)

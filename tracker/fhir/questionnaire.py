"""The check-in as a FHIR R4 Questionnaire, made from the check-in form itself.

``questions()`` walks the fields of ``CheckInForm`` (every field but the
hidden ones): its name is the item's ``linkId``, its label the item's text,
its ``required`` the item's, its choices the answer options. Nothing here
lists the questions, so a question added to the form is in the Questionnaire
and in every QuestionnaireResponse from then on, and its ``version`` changes.

How a form field becomes an item:

- a check box (``BooleanField``), or a choice between True and False: ``boolean``;
- a choice whose labels are its numbers (the 0–10 scale): ``integer``, with
  the numbers as answer options;
- any other choice: ``choice``, each option a Coding in a code system of the
  app named after the question (``<base>/CodeSystem/<linkId>``); a multiple
  choice ``repeats``;
- free text: ``text`` (a text area) or ``string``.

English is the Questionnaire's language; each other language the app speaks
is given through FHIR's translation extension on ``text`` and ``display``.
The version is a digest of what the questions are (names, types, English
wording, options): a change of any of them is a new version, a corrected
translation is not.
"""

import hashlib
import json
from dataclasses import dataclass, field

from django import forms
from django.conf import settings
from django.utils import translation

from tracker.exports.record import PAIN_NRS
from tracker.fhir import common
from tracker.forms.patient import NONE_OF_THESE, CheckInForm

ID = "check-in"
TITLE = "After-needling check-in"
PATH = f"{common.BASE_PATH}/Questionnaire/{ID}"
SOURCE_LANGUAGE = "en"
# The LOINC code of each question that has one (docs/clinical.md, section 10).
ITEM_CODES = {"soreness": PAIN_NRS}
ITEM_CONTROL = "http://hl7.org/fhir/StructureDefinition/questionnaire-itemControl"


@dataclass(frozen=True)
class Question:
    """One visible field of the check-in form, as the Questionnaire sees it."""

    link_id: str
    type: str
    required: bool
    repeats: bool
    label: object  # a lazy translation
    help: object = None
    options: tuple = field(default=())  # (value, label) pairs
    max_length: int | None = None


def _item_type(name: str, form_field) -> tuple[str, bool]:
    """The FHIR item type of ``form_field``, and whether it takes several answers."""
    if isinstance(form_field, forms.BooleanField):
        return "boolean", False
    if isinstance(form_field, forms.MultipleChoiceField):
        return "choice", True
    if isinstance(form_field, forms.ChoiceField):
        pairs = _options(form_field)
        if pairs and all(isinstance(value, bool) for value, _ in pairs):
            return "boolean", False
        if pairs and all(
            isinstance(value, int) and str(label) == str(value) for value, label in pairs
        ):
            return "integer", False
        return "choice", False
    if isinstance(form_field, forms.IntegerField):
        return "integer", False
    if isinstance(form_field, forms.CharField):
        return ("text" if isinstance(form_field.widget, forms.Textarea) else "string"), False
    # Loudly: a new kind of question needs a decision, not a guess.
    raise TypeError(
        f"No FHIR item type for the check-in field {name!r} ({type(form_field).__name__})"
    )


def _options(form_field) -> tuple:
    # A blank choice ("---------") is no answer.
    return tuple((value, label) for value, label in form_field.choices if value != "")


def questions(form_class=CheckInForm) -> list[Question]:
    """The questions of ``form_class``, in the form's order."""
    found = []
    for name, form_field in form_class.base_fields.items():
        if form_field.widget.is_hidden:
            continue
        item_type, repeats = _item_type(name, form_field)
        has_options = item_type in ("choice", "integer") and isinstance(
            form_field, forms.ChoiceField
        )
        found.append(
            Question(
                link_id=name,
                type=item_type,
                required=form_field.required,
                repeats=repeats,
                label=form_field.label or name,
                help=form_field.help_text or None,
                options=_options(form_field) if has_options else (),
                max_length=getattr(form_field, "max_length", None),
            )
        )
    return found


def version(found: list[Question]) -> str:
    """A digest of the questions: changes when a question, its type, wording or options do."""
    with translation.override(SOURCE_LANGUAGE):
        definition = [
            [
                q.link_id,
                q.type,
                q.required,
                q.repeats,
                str(q.label),
                str(q.help or ""),
                [[str(value), str(label)] for value, label in q.options],
                q.max_length,
            ]
            for q in found
        ]
    text = json.dumps(definition, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def canonical_url() -> str:
    return common.base() + PATH.removeprefix(common.BASE_PATH)


def canonical_reference(found: list[Question]) -> str:
    """What a QuestionnaireResponse names in ``questionnaire``: the URL and the version."""
    return f"{canonical_url()}|{version(found)}"


def _translated(text) -> dict:
    """The ``_text``/``_display`` element carrying ``text`` in the app's other languages."""
    extensions = []
    for code, _name in settings.LANGUAGES:
        if code == SOURCE_LANGUAGE:
            continue
        with translation.override(code):
            content = str(text)
        extensions.append(
            {
                "url": common.TRANSLATION,
                "extension": [
                    {"url": "lang", "valueCode": code},
                    {"url": "content", "valueString": content},
                ],
            }
        )
    return {"extension": extensions}


def _english(text) -> str:
    with translation.override(SOURCE_LANGUAGE):
        return str(text)


def coding(question: Question, value) -> dict:
    """The Coding of one option of a ``choice`` question (in English)."""
    labels = dict(question.options)
    result = {"system": common.code_system(question.link_id), "code": str(value)}
    if value in labels:
        result["display"] = _english(labels[value])
    return result


def _option(question: Question, value, label) -> dict:
    if question.type == "integer":
        return {"valueInteger": value}
    return {"valueCoding": {**coding(question, value), "_display": _translated(label)}}


def _item(question: Question) -> dict:
    item = {
        "linkId": question.link_id,
        "text": _english(question.label),
        "_text": _translated(question.label),
        "type": question.type,
        "required": question.required,
    }
    if question.link_id in ITEM_CODES:
        item["code"] = [ITEM_CODES[question.link_id]]
    if question.repeats:
        item["repeats"] = True
    if question.max_length and question.type in ("string", "text"):
        item["maxLength"] = question.max_length
    if question.options:
        item["answerOption"] = [_option(question, v, label) for v, label in question.options]
    if question.help:
        # Help text as a display item the renderer shows as help (the itemControl "help").
        item["item"] = [
            {
                "linkId": f"{question.link_id}-help",
                "text": _english(question.help),
                "_text": _translated(question.help),
                "type": "display",
                "extension": [
                    {
                        "url": ITEM_CONTROL,
                        "valueCodeableConcept": {
                            "coding": [
                                {
                                    "system": "http://hl7.org/fhir/questionnaire-item-control",
                                    "code": "help",
                                }
                            ]
                        },
                    }
                ],
            }
        ]
    return item


def questionnaire(form_class=CheckInForm) -> dict:
    """The check-in as a FHIR R4 Questionnaire resource (JSON-ready)."""
    found = questions(form_class)
    return {
        "resourceType": "Questionnaire",
        "id": ID,
        "language": SOURCE_LANGUAGE,
        "url": canonical_url(),
        "version": version(found),
        "name": "CheckIn",
        "title": TITLE,
        "status": "active",
        "subjectType": ["Patient"],
        "publisher": "Needle Aftercare",
        "description": (
            "What a patient answers from their phone after dry needling: right after the "
            "session and at fixed times in the following days."
        ),
        "item": [_item(question) for question in found],
    }


# ---------------------------------------------------------------------------
# A stored report as the answers to these questions


def stored_values(report, question: Question) -> list:
    """The values ``report`` holds for ``question``: one, several, or none."""
    if question.repeats:
        # A multiple choice is stored one yes/no field per option (AfterEffect,
        # RedFlag); an empty list was the explicit "None of these".
        chosen = [
            value
            for value, _ in question.options
            if value != NONE_OF_THESE and getattr(report, str(value), False) is True
        ]
        if not chosen and NONE_OF_THESE in dict(question.options):
            chosen = [NONE_OF_THESE]
        return chosen
    value = getattr(report, question.link_id, None)
    return [] if value is None or value == "" else [value]


@dataclass(frozen=True)
class Answering:
    """What writing QuestionnaireResponses needs, worked out once for a whole export:
    the questions, the Questionnaire's canonical|version, each option's Coding."""

    questions: tuple
    reference: str
    codings: dict  # (linkId, value) -> Coding


def answering(form_class=CheckInForm) -> Answering:
    found = questions(form_class)
    return Answering(
        questions=tuple(found),
        reference=canonical_reference(found),
        codings={
            (question.link_id, value): coding(question, value)
            for question in found
            if question.type == "choice"
            for value, _label in question.options
        },
    )


def _answer(question: Question, value, context: Answering) -> dict:
    if question.type == "boolean":
        return {"valueBoolean": bool(value)}
    if question.type == "integer":
        return {"valueInteger": int(value)}
    if question.type == "choice":
        known = context.codings.get((question.link_id, value))
        return {"valueCoding": dict(known) if known else coding(question, value)}
    return {"valueString": str(value)}


def response_items(report, context: Answering) -> list[dict]:
    """The ``item`` list of ``report``'s QuestionnaireResponse: one per question answered."""
    items = []
    for question in context.questions:
        values = stored_values(report, question)
        if values:
            items.append(
                {
                    "linkId": question.link_id,
                    "answer": [_answer(question, value, context) for value in values],
                }
            )
    return items

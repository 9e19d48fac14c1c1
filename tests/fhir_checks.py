"""Checks for the FHIR the app writes: parsed by a FHIR model library, references resolved.

fhir.resources 8 ships R5 (its default), R4B (4.3.0) and STU3, no longer R4
(4.0.1); its R4B models stand for R4 here, since the resources the app
writes (Questionnaire, QuestionnaireResponse, Patient, Practitioner,
Procedure, Observation, Bundle) have the same elements in both. Parsing
checks element names (an unknown one is refused), primitive formats (ids,
dates, instants), required elements and one-of choices (``value[x]``). It
does not evaluate the resources' FHIRPath invariants: the ones that matter
here (que-1, que-2, que-5, que-6 and answers that fit their questions) are
checked below by hand.
"""

from fhir.resources.R4B import get_fhir_model_class


def parse(resource: dict):
    """The resource as a fhir.resources model; raises if it is not valid FHIR."""
    return get_fhir_model_class(resource["resourceType"]).model_validate(resource)


def references(value) -> list[str]:
    """Every ``reference`` of every Reference anywhere inside ``value``."""
    found = []
    if isinstance(value, dict):
        if isinstance(value.get("reference"), str):
            found.append(value["reference"])
        for item in value.values():
            found += references(item)
    elif isinstance(value, list):
        for item in value:
            found += references(item)
    return found


def assert_bundle_is_valid(bundle: dict) -> dict:
    """Parse the Bundle and each resource; every reference names an entry's fullUrl.

    Returns the resources by fullUrl.
    """
    parse(bundle)
    by_url = {}
    for entry in bundle["entry"]:
        parse(entry["resource"])
        assert entry["fullUrl"] not in by_url, entry["fullUrl"]
        by_url[entry["fullUrl"]] = entry["resource"]
    for entry in bundle["entry"]:
        for reference in references(entry["resource"]):
            assert reference in by_url, (entry["fullUrl"], reference)
    return by_url


def assert_files_are_valid(files: dict[str, list[dict]]) -> dict:
    """Bulk files (type -> resources): each of its type, parsed; references resolve across them.

    Returns the resources by ``Type/id``.
    """
    by_reference = {}
    for kind, resources in files.items():
        for resource in resources:
            assert resource["resourceType"] == kind
            parse(resource)
            by_reference[f"{kind}/{resource['id']}"] = resource
    for resources in files.values():
        for resource in resources:
            for reference in references(resource):
                assert reference in by_reference, (resource["id"], reference)
    return by_reference


ANSWER_KEYS = {
    "boolean": "valueBoolean",
    "integer": "valueInteger",
    "choice": "valueCoding",
    "string": "valueString",
    "text": "valueString",
}


def assert_questionnaire_is_valid(questionnaire: dict) -> dict:
    """Parse it and check its item invariants; returns the items by linkId."""
    parse(questionnaire)
    items = {}

    def walk(item_list):
        for item in item_list:
            assert item["linkId"] not in items, item["linkId"]  # que-2
            items[item["linkId"]] = item
            if item["type"] == "display":
                assert "item" not in item  # que-1
                assert "required" not in item and "repeats" not in item  # que-6
            if "answerOption" in item:  # que-5 (R4: these types may list options)
                assert item["type"] in ("choice", "open-choice", "integer", "string"), item[
                    "linkId"
                ]
            walk(item.get("item", []))

    walk(questionnaire["item"])
    return items


def assert_response_fits(response: dict, items: dict) -> None:
    """Each answer is to a question of the Questionnaire, of its type, among its options."""
    for item in response["item"]:
        question = items[item["linkId"]]
        assert question["type"] != "display"
        assert len(item["answer"]) == 1 or question.get("repeats"), item["linkId"]
        key = ANSWER_KEYS[question["type"]]
        for answer in item["answer"]:
            assert list(answer) == [key], (item["linkId"], answer)
            if "answerOption" in question:
                options = [next(iter(option.values())) for option in question["answerOption"]]
                if key == "valueCoding":
                    options = [(o["system"], o["code"]) for o in options]
                    assert (answer[key]["system"], answer[key]["code"]) in options, answer
                else:
                    assert answer[key] in options, answer

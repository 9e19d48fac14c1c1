"""The app's rows as FHIR R4 resources: plain dicts, ready for JSON.

One function per resource, each handed the row (and what it needs of its
relations, already loaded) and a ``Refs`` that says how to point at other
resources (``tracker.fhir.common``). They read no database themselves, so
the Bundle and the bulk export decide how the rows are fetched.

- **Patient**: the clinic's reference (MRN) as an identifier, name, year of
  birth, email and phone, preferred language. An erased patient has none of
  these left; only the id.
- **Practitioner**: a therapist who needled the patient.
- **Procedure**: one per needling session. Each needled muscle is a
  ``bodySite`` with its side as a SNOMED CT laterality qualifier (the
  laterality extension of the R4 mCODE guide, which is made for
  ``Procedure.bodySite``); the session's risk factors are extensions with
  codes of the app, repeated in words in ``note``, with each site's
  insertions, technique and twitch responses.
- **QuestionnaireResponse**: one per check-in answered (``questionnaire``).
- **Observation**: one per soreness score, LOINC 72514-3 as an integer,
  ``derivedFrom`` its QuestionnaireResponse and ``partOf`` the session's
  Procedure; and one for the pain before the session, recorded by the
  therapist, with the same code (docs/clinical.md, section 10).

Words are English, the language of the resources; the patient's own
language is in ``Patient.communication``.
"""

from functools import cache

from django.utils import translation

from tracker.choices import Muscle, RedFlag, Side, Technique, TwitchBand
from tracker.clock import iso_utc
from tracker.exports.record import PAIN_NRS
from tracker.fhir import common, questionnaire
from tracker.models import NeedlingSession

# SNOMED CT laterality qualifiers (the mCODE laterality value set).
LATERALITY_EXTENSION = "http://hl7.org/fhir/us/mcode/StructureDefinition/mcode-laterality-qualifier"
LATERALITY = {
    Side.LEFT: ("7771000", "Left"),
    Side.RIGHT: ("24028007", "Right"),
    Side.BOTH: ("51440002", "Right and left"),
    Side.MIDLINE: ("399488007", "Midline"),
}
RISK_FACTORS = ("chest_wall_area", "anticoagulants", "lung_condition")
SURVEY = {
    "coding": [
        {
            "system": "http://terminology.hl7.org/CodeSystem/observation-category",
            "code": "survey",
            "display": "Survey",
        }
    ],
}
ENGLISH = "en"


@cache
def _english(choices) -> dict:
    """A choice list's labels in English, made once: an export writes millions of them."""
    with translation.override(ENGLISH):
        return {value: str(label) for value, label in choices.choices}


@cache
def _risk_label(name: str) -> str:
    with translation.override(ENGLISH):
        return str(NeedlingSession._meta.get_field(name).verbose_name)


def patient(row, refs) -> dict:
    resource = {"resourceType": "Patient", "id": refs.id("Patient", row.pk)}
    if row.is_erased:
        return resource
    if row.reference:
        resource["identifier"] = [
            {
                "use": "usual",
                "type": {
                    "coding": [
                        {
                            "system": "http://terminology.hl7.org/CodeSystem/v2-0203",
                            "code": "MR",
                        }
                    ]
                },
                "system": f"{refs.base}/sid/clinic-{row.clinic_id}-reference",
                "value": row.reference,
            }
        ]
    resource["name"] = [{"text": row.display_name}]
    telecom = []
    if row.phone:
        telecom.append({"system": "phone", "value": row.phone})
    if row.email:
        telecom.append({"system": "email", "value": row.email})
    if telecom:
        resource["telecom"] = telecom
    if row.year_of_birth:
        resource["birthDate"] = str(row.year_of_birth)  # a FHIR date may be a year alone
    resource["communication"] = [
        {
            "language": {"coding": [{"system": "urn:ietf:bcp:47", "code": row.language}]},
            "preferred": True,
        }
    ]
    return resource


def practitioner(user, refs) -> dict:
    name = {"text": user.get_full_name() or user.get_username()}
    if user.last_name:
        name["family"] = user.last_name
    if user.first_name:
        name["given"] = [user.first_name]
    return {
        "resourceType": "Practitioner",
        "id": refs.id("Practitioner", user.pk),
        "name": [name],
    }


def _status(session) -> str:
    # A session entered in error keeps its record but says so.
    return "entered-in-error" if session.entered_in_error_at else "completed"


def _body_site(site, refs) -> dict:
    code, display = LATERALITY[site.side]
    muscle = _english(Muscle).get(site.muscle, site.muscle)
    return {
        "extension": [
            {
                "url": LATERALITY_EXTENSION,
                "valueCodeableConcept": {
                    "coding": [{"system": common.SNOMED, "code": code, "display": display}]
                },
            }
        ],
        "coding": [{"system": refs.system("muscle"), "code": site.muscle, "display": muscle}],
        "text": f"{muscle} ({display.lower()})",
    }


def procedure(session, sites, refs) -> dict:
    """The needling session ``session`` with its needled ``sites``."""
    factors = [name for name in RISK_FACTORS if getattr(session, name)]
    notes = [{"text": f"Risk factor: {_risk_label(name)}."} for name in factors]
    for site in sites:
        notes.append(
            {
                "text": (
                    f"{_english(Muscle).get(site.muscle, site.muscle)} "
                    f"({_english(Side).get(site.side, site.side).lower()}): {site.insertions} insertions, "
                    f"{_english(Technique).get(site.technique, site.technique).lower()}, "
                    f"twitch responses {_english(TwitchBand).get(site.twitch_band, site.twitch_band).lower()}."
                )
            }
        )
    if session.notes:
        notes.append({"text": session.notes})
    resource = {"resourceType": "Procedure", "id": refs.id("Procedure", session.pk)}
    if factors:
        resource["extension"] = [
            {
                "url": f"{refs.base}/StructureDefinition/risk-factor",
                "valueCoding": {
                    "system": refs.system("risk-factor"),
                    "code": name,
                    "display": _risk_label(name),
                },
            }
            for name in factors
        ]
    resource.update(
        {
            "status": _status(session),
            "code": {
                "coding": [
                    {
                        "system": refs.system("procedure"),
                        "code": "dry-needling",
                        "display": "Dry needling",
                    }
                ],
                "text": "Dry needling",
            },
            "subject": refs("Patient", session.patient_id),
            "performedDateTime": iso_utc(session.performed_at),
            "performer": [{"actor": refs("Practitioner", session.therapist_id)}],
            "bodySite": [_body_site(site, refs) for site in sites],
        }
    )
    if notes:
        resource["note"] = notes
    return resource


def questionnaire_response(report, *, patient_id, session_id, answering, refs) -> dict:
    """The answers of ``report`` to the check-in Questionnaire (``questionnaire.answering()``)."""
    return {
        "resourceType": "QuestionnaireResponse",
        "id": refs.id("QuestionnaireResponse", report.pk),
        # The key the phone made for this submission: the same answers, whoever sends them.
        "identifier": {
            "system": "urn:ietf:rfc:3986",
            "value": f"urn:uuid:{report.idempotency_key}",
        },
        "questionnaire": answering.reference,
        "status": "completed",
        "subject": refs("Patient", patient_id),
        "partOf": [refs("Procedure", session_id)],
        "authored": iso_utc(report.submitted_at),
        "source": refs("Patient", patient_id),
        "item": questionnaire.response_items(report, answering),
    }


def soreness_key(report_id) -> str:
    return f"soreness-{report_id}"


def soreness_observation(
    *, report_id, soreness, submitted_at, patient_id, session_id, refs
) -> dict:
    """One soreness score as a LOINC 72514-3 Observation, from the check-in that reported it."""
    return {
        "resourceType": "Observation",
        "id": refs.id("Observation", soreness_key(report_id)),
        "partOf": [refs("Procedure", session_id)],
        "status": "final",
        "category": [SURVEY],
        "code": {"coding": [PAIN_NRS], "text": "Soreness of the needled area (0-10)"},
        "subject": refs("Patient", patient_id),
        "effectiveDateTime": iso_utc(submitted_at),
        "issued": iso_utc(submitted_at),
        "performer": [refs("Patient", patient_id)],
        "valueInteger": int(soreness),
        "derivedFrom": [refs("QuestionnaireResponse", report_id)],
    }


def warning_observation(*, warning, patient_id, session_id, refs) -> dict:
    """Warning signs the patient sent between check-ins (a ``WarningReport``): one
    component per sign, coded as the check-in Questionnaire's answers to its
    warning-sign question are."""
    return {
        "resourceType": "Observation",
        "id": refs.id("Observation", f"warning-{warning.pk}"),
        # The key the report was stored under: the same report, whoever sends it.
        "identifier": [
            {"system": "urn:ietf:rfc:3986", "value": f"urn:uuid:{warning.idempotency_key}"}
        ],
        "partOf": [refs("Procedure", session_id)],
        "status": "final",
        "category": [SURVEY],
        "code": {"text": "Warning signs reported between check-ins"},
        "subject": refs("Patient", patient_id),
        "effectiveDateTime": iso_utc(warning.reported_at),
        "issued": iso_utc(warning.reported_at),
        "performer": [refs("Patient", patient_id)],
        "component": [
            {
                "code": {
                    "coding": [
                        {
                            "system": refs.system("red_flags"),
                            "code": flag,
                            "display": _english(RedFlag)[flag],
                        }
                    ]
                },
                "valueBoolean": True,
            }
            for flag in warning.flags
        ],
    }


def pain_before_observation(session, refs) -> dict:
    """The pain the patient gave before the session (0-10), as the therapist recorded it."""
    return {
        "resourceType": "Observation",
        "id": refs.id("Observation", f"pain-before-{session.pk}"),
        "partOf": [refs("Procedure", session.pk)],
        "status": "final",
        "category": [SURVEY],
        "code": {"coding": [PAIN_NRS], "text": "Pain before the session (0-10)"},
        "subject": refs("Patient", session.patient_id),
        "effectiveDateTime": iso_utc(session.performed_at),
        "performer": [refs("Practitioner", session.therapist_id)],
        "valueInteger": int(session.pre_pain),
    }

"""The app in FHIR R4 (4.0.1): the check-in Questionnaire, resources, a patient's Bundle,
a clinic's bulk export, and the record a patient can read (docs/architecture.md)."""

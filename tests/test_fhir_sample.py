"""docs/fhir-sample-bundle.json: a made-up patient's Bundle, written by the app's own code.

The test builds the Bundle of a made-up patient (rows never saved) and
compares it with the committed file, so the sample in the README stays what
the app writes. After a change to what is exported (or to the check-in's
questions, which changes the Questionnaire's version), write it again:

    FHIR_SAMPLE_WRITE=1 .venv/bin/python -m pytest tests/test_fhir_sample.py
"""

import json
import os
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

from django.contrib.auth import get_user_model

from tests.fhir_checks import assert_bundle_is_valid
from tracker.choices import Muscle, Side, Technique, TwitchBand
from tracker.fhir.bundle import assemble
from tracker.models import Clinic, NeedledSite, NeedlingSession, Patient, SymptomReport

SAMPLE = Path(__file__).resolve().parent.parent / "docs" / "fhir-sample-bundle.json"
SITE = "https://aftercare.example.org"
SESSION_AT = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)


def _made_up_bundle() -> dict:
    clinic = Clinic(pk=1, name="Harbourside Physiotherapy", time_zone="Europe/London")
    patient = Patient(
        pk=42,
        clinic=clinic,
        display_name="Alex Example",
        reference="HP-0042",
        year_of_birth=1984,
        email="alex@example.org",
        phone="+44 7700 900123",
        language="es",
    )
    therapist = get_user_model()(pk=3, username="ana", first_name="Ana", last_name="Ruiz")
    session = NeedlingSession(
        pk=7,
        patient=patient,
        clinic=clinic,
        therapist=therapist,
        performed_at=SESSION_AT,
        pre_pain=6,
        chest_wall_area=True,
    )
    sites = [
        NeedledSite(
            pk=11,
            session=session,
            muscle=Muscle.UPPER_TRAPEZIUS,
            side=Side.RIGHT,
            insertions=4,
            technique=Technique.DEEP_PISTONING,
            twitch_band=TwitchBand.FEW,
        ),
        NeedledSite(
            pk=12,
            session=session,
            muscle=Muscle.LEVATOR_SCAPULAE,
            side=Side.BOTH,
            insertions=2,
            technique=Technique.DEEP_STATIC,
            twitch_band=TwitchBand.NONE,
        ),
    ]
    reports = [
        SymptomReport(
            pk=101,
            idempotency_key=uuid.UUID(int=101),
            soreness=5,
            twitching="mild",
            bruising="none",
            interference="a_little",
            headache=True,
            submitted_at=SESSION_AT + timedelta(minutes=10),
        ),
        SymptomReport(
            pk=102,
            idempotency_key=uuid.UUID(int=102),
            soreness=2,
            twitching="none",
            bruising="lt2.5",
            interference="not_at_all",
            note="A little stiff in the morning.",
            submitted_at=SESSION_AT + timedelta(hours=24, minutes=35),
        ),
    ]
    return assemble(patient, [(session, sites, reports, [])], now=SESSION_AT + timedelta(days=3))


def _text(bundle) -> str:
    return json.dumps(bundle, ensure_ascii=False, indent=2) + "\n"


def test_the_sample_bundle_is_what_the_app_writes(settings):
    settings.SITE_URL = SITE
    bundle = _made_up_bundle()
    assert_bundle_is_valid(bundle)
    if os.environ.get("FHIR_SAMPLE_WRITE"):
        SAMPLE.write_text(_text(bundle), encoding="utf-8")
    assert SAMPLE.read_text(encoding="utf-8") == _text(bundle), (
        "docs/fhir-sample-bundle.json is out of date: see this module's docstring"
    )

"""Small factories: each makes one valid row and the rows it needs."""

import uuid
from datetime import time, timedelta

import factory
from django.contrib.auth import get_user_model
from django.utils import timezone

from tracker import services
from tracker.choices import Muscle, Role, Side, Technique, TwitchBand
from tracker.models import Clinic, Membership, Patient


class ClinicFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Clinic

    name = factory.Sequence(lambda n: f"Clinic {n}")
    time_zone = "Europe/London"
    phone = "020 7946 0000"
    emergency_number = "999"
    # No quiet hours, so that a test's reminders do not depend on the hour it runs at;
    # tests/test_quiet_hours.py sets them.
    quiet_hours_start = time(0)
    quiet_hours_end = time(0)


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()

    username = factory.Sequence(lambda n: f"user{n}")
    first_name = "Test"
    last_name = factory.Sequence(lambda n: f"User {n}")
    password = factory.django.Password("correct-horse-battery")


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    user = factory.SubFactory(UserFactory)
    clinic = factory.SubFactory(ClinicFactory)
    role = Role.THERAPIST


class PatientFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Patient

    clinic = factory.SubFactory(ClinicFactory)
    display_name = factory.Sequence(lambda n: f"Patient {n}")


def site(**overrides):
    return {
        "muscle": Muscle.GLUTEUS_MEDIUS,
        "side": Side.LEFT,
        "insertions": 4,
        "technique": Technique.DEEP_PISTONING,
        "twitch_band": TwitchBand.FEW,
        "notes": "",
        **overrides,
    }


def make_session(*, patient=None, therapist=None, performed_at=None, sites=None, **kwargs):
    """A session recorded through the service, so it has follow-ups and a link."""
    patient = patient or PatientFactory()
    if therapist is None:
        therapist = MembershipFactory(clinic=patient.clinic).user
    performed_at = performed_at or timezone.now() - timedelta(minutes=5)
    return services.record_session(
        patient=patient,
        therapist=therapist,
        performed_at=performed_at,
        recorded_at=kwargs.pop("recorded_at", performed_at),
        pre_pain=kwargs.pop("pre_pain", 5),
        sites=sites or [site()],
        **kwargs,
    )


def answers(**overrides):
    return {
        "soreness": 3,
        "twitching": "none",
        "bruising": "none",
        "interference": "not_at_all",
        "after_effects": [],
        "red_flags": [],
        "note": "",
        **overrides,
    }


def answer(session, time_point, **overrides):
    """Store the session's report at ``time_point`` through the service, at its due time."""
    follow_up = session.follow_ups.get(time_point=time_point)
    report, created = services.submit_report(
        follow_up=follow_up,
        idempotency_key=uuid.uuid4(),
        answers=answers(**overrides),
        now=follow_up.due_at,
    )
    assert created
    return report

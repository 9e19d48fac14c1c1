"""Made-up patients and sessions placed around the current time.

Used by ``manage.py seed_demo`` so that the demo always shows sessions from
this morning, yesterday and the two days before, with check-ins answered,
open now and missed; about half the patients also have an earlier, settled
session 8 to 20 days ago. Everything goes through the same services as the
real pages. The same seed gives the same people, sessions and answers.
"""

import random
import uuid
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.db.models import Count, Q

from tracker import clock, services
from tracker.choices import (
    AfterEffect,
    BruiseBand,
    Language,
    Muscle,
    RedFlag,
    ReminderChannel,
    Role,
    Side,
    Technique,
    TimePoint,
    TwitchBand,
    TwitchingFelt,
)
from tracker.models import (
    Alert,
    Clinic,
    FollowUp,
    NeedlingSession,
    Patient,
    Severity,
    SymptomReport,
)

FIRST_NAMES = [
    "Maya",
    "Jonas",
    "Priya",
    "Tom",
    "Lucía",
    "Omar",
    "Grace",
    "Mateo",
    "Hannah",
    "Kwame",
    "Sofia",
    "Daniel",
    "Aisha",
    "Leo",
    "Elena",
    "Sam",
    "Ines",
    "Noah",
    "Chloe",
    "Arjun",
]
LAST_NAMES = [
    "Bennett",
    "Castillo",
    "Doyle",
    "Eriksen",
    "Fofana",
    "García",
    "Hughes",
    "Ito",
    "Kowalski",
    "Lindqvist",
    "Moreno",
    "Nakamura",
    "O'Brien",
    "Patel",
    "Quinn",
    "Rossi",
    "Silva",
    "Turner",
]
MUSCLE_POOL = [
    Muscle.UPPER_TRAPEZIUS,
    Muscle.LEVATOR_SCAPULAE,
    Muscle.INFRASPINATUS,
    Muscle.GLUTEUS_MEDIUS,
    Muscle.LUMBAR_MULTIFIDUS,
    Muscle.QUADRATUS_LUMBORUM,
    Muscle.GASTROCNEMIUS,
    Muscle.PIRIFORMIS,
    Muscle.FOREARM_EXTENSORS,
    Muscle.QUADRICEPS,
    Muscle.MASSETER,
    Muscle.HAMSTRINGS,
]
# Days before today of each patient's latest session, in turn: so every demo
# shows sessions from this morning, yesterday and two and three days ago.
DAYS_AGO_CYCLE = [0, 1, 2, 3, 1, 0, 2, 3]


def seed(*, patients: int, seed: int, clinic: Clinic | None = None) -> list[Patient]:
    rng = random.Random(seed)
    clinic = clinic or Clinic.objects.order_by("pk").first()
    if clinic is None:
        raise ValueError("Load the demo clinic first: manage.py loaddata demo")
    therapists = list(
        get_user_model()
        .objects.filter(memberships__clinic=clinic, memberships__role=Role.THERAPIST)
        .order_by("pk")
    )
    now = clock.now()
    created = []
    for index in range(patients):
        patient = Patient.objects.create(
            clinic=clinic,
            display_name=f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}",
            reference=f"DEMO-{seed:02d}{index:04d}",
            year_of_birth=rng.randint(1950, 2004),
            language=Language.SPANISH if rng.random() < 0.2 else Language.ENGLISH,
            reminder_channel=ReminderChannel.EMAIL,
            reminders_consent=True,
            consent_changed_at=now - timedelta(days=30),
            email=f"patient{index}@example.com",
            # From the range set aside for fiction (07700 900000–900999): rings no one.
            phone=f"+447700900{index % 1000:03d}",
        )
        created.append(patient)
        days_ago = DAYS_AGO_CYCLE[index % len(DAYS_AGO_CYCLE)]
        if rng.random() < 0.5:
            # An earlier course of treatment, long settled.
            _seed_session(rng, patient, therapists, now - timedelta(days=rng.randint(8, 20)), now)
        performed_at = now - timedelta(days=days_ago, hours=rng.uniform(0.5, 3.5))
        red_flag = index == 2
        _seed_session(rng, patient, therapists, performed_at, now, red_flag=red_flag)
    return created


def _seed_session(rng, patient, therapists, performed_at, now, *, red_flag=False):
    muscles = rng.sample(MUSCLE_POOL, k=rng.randint(1, 3))
    if red_flag:
        muscles = [Muscle.UPPER_TRAPEZIUS, Muscle.RHOMBOIDS]
    sites = [
        {
            "muscle": muscle,
            "side": rng.choice([Side.LEFT, Side.RIGHT, Side.BOTH]),
            "insertions": rng.randint(2, 12),
            "technique": rng.choice(Technique.values),
            "twitch_band": rng.choice(TwitchBand.values),
            "notes": "",
        }
        for muscle in muscles
    ]
    session = services.record_session(
        patient=patient,
        therapist=rng.choice(therapists),
        performed_at=performed_at.replace(second=0, microsecond=0),
        pre_pain=rng.randint(3, 8),
        sites=sites,
        anticoagulants=rng.random() < 0.1,
        recorded_at=performed_at,
    )
    start = rng.randint(3, 7)
    unsettled = rng.random() < 0.2
    soreness_by_time = {
        TimePoint.IN_CLINIC: start,
        TimePoint.H24: max(0, start - rng.randint(1, 3)),
        TimePoint.H48: (start - 1) if unsettled else max(0, start - rng.randint(3, 5)),
        TimePoint.H72: max(0, start - rng.randint(3, 6)),
    }
    for time_point in (TimePoint.IN_CLINIC, TimePoint.H24, TimePoint.H48, TimePoint.H72):
        follow_up = FollowUp.objects.filter(session=session, time_point=time_point).first()
        if follow_up is None:
            continue
        answer_at = follow_up.due_at + timedelta(minutes=rng.randint(5, 180))
        if time_point == TimePoint.IN_CLINIC:
            answer_at = follow_up.due_at + timedelta(minutes=rng.randint(2, 15))
        skipped = rng.random() < 0.12
        if skipped or answer_at >= now or not follow_up.is_answerable_at(answer_at):
            continue  # left open now, or missed once its window has closed
        services.submit_report(
            follow_up=follow_up,
            idempotency_key=uuid.UUID(int=rng.getrandbits(128)),
            now=answer_at,
            answers=_answers(
                rng, soreness_by_time[time_point], red_flag=red_flag and time_point == TimePoint.H24
            ),
        )
    return session


def _answers(rng, soreness, *, red_flag=False):
    bruising = BruiseBand.NONE
    if rng.random() < 0.15:
        bruising = rng.choice(
            [BruiseBand.UNDER_2_5, BruiseBand.FROM_2_5_TO_5, BruiseBand.FROM_5_TO_10]
        )
    effects = [effect for effect in AfterEffect.values if rng.random() < 0.04]
    return {
        "soreness": soreness,
        "twitching": rng.choice(
            [TwitchingFelt.NONE, TwitchingFelt.NONE, TwitchingFelt.MILD, TwitchingFelt.STRONG]
        ),
        "bruising": bruising,
        "interference": rng.choice(["not_at_all", "not_at_all", "a_little", "somewhat"]),
        "after_effects": effects,
        "red_flags": [RedFlag.BREATHING] if red_flag else [],
        "note": "Sharp pain when I breathe in since this morning." if red_flag else "",
    }


def counts(patients: list[Patient]) -> dict[str, int]:
    """What ``seed`` made for ``patients``: sessions, answered check-ins, alerts, urgent alerts."""
    sessions = NeedlingSession.objects.filter(patient__in=patients)
    alerts = Alert.objects.filter(session__in=sessions).aggregate(
        alerts=Count("pk"), urgent=Count("pk", filter=Q(severity=Severity.URGENT))
    )
    return {
        "sessions": sessions.count(),
        "check_ins": SymptomReport.objects.filter(follow_up__session__in=sessions).count(),
        **alerts,
    }

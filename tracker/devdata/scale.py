"""A large made-up network of clinics, for measuring the app at scale.

``manage.py seed_scale --patients 20000`` builds several clinics, 50
therapists, about ten sessions per patient over two years, and their
follow-ups and reports, with after-effects at the per-treatment rates in
docs/clinical.md. Rows go in with ``bulk_create`` in chunks of patients, so
memory stays flat and 20,000 patients take minutes, not hours. The same
seed gives the same network (placed relative to now).
"""

import random
import uuid
from dataclasses import dataclass
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.db import transaction

from tracker import clock
from tracker.choices import (
    BruiseBand,
    Interference,
    Muscle,
    Role,
    Side,
    Technique,
    TimePoint,
    TwitchBand,
    TwitchingFelt,
)
from tracker.devdata import refresh_statistics
from tracker.models import (
    AccessLink,
    Alert,
    AlertRule,
    Clinic,
    FollowUp,
    Membership,
    NeedledSite,
    NeedlingSession,
    Patient,
    SessionOutcome,
    Severity,
    SymptomReport,
)
from tracker.security import tokens
from tracker.services import scheduling

# Per-treatment rates (Brady 2014) used to draw after-effects.
BRUISING_RATE = 0.0755
BLEEDING_RATE = 0.0465
AGGRAVATION_RATE = 0.0088
DROWSINESS_RATE = 0.0026
HEADACHE_RATE = 0.0014
NAUSEA_RATE = 0.0013
RED_FLAG_RATE = 0.0004
ANSWER_RATE = 0.85
CHUNK = 500  # patients per transaction

ZONES = ["Europe/London", "Europe/Madrid", "America/Chicago", "America/New_York", "Europe/Dublin"]
MUSCLES = Muscle.values[:-1]  # not "other"


@dataclass
class Progress:
    total: int
    write: object  # a callable taking a line

    def update(self, done: int) -> None:
        width = 30
        filled = width * done // max(self.total, 1)
        self.write(f"\r[{'#' * filled}{'.' * (width - filled)}] {done}/{self.total} patients")


def seed(
    *,
    patients: int,
    sessions_per_patient: int = 10,
    therapists: int = 50,
    seed: int = 1,
    password: str = "needle-demo-2026",
    progress=None,
) -> dict:
    """Build the network and return the row counts."""
    rng = random.Random(seed)
    now = clock.now()
    n_clinics = max(1, min(len(ZONES), patients // 4000 or 1))
    clinics = Clinic.objects.bulk_create(
        Clinic(
            name=f"Scale Clinic {i + 1}",
            time_zone=ZONES[i],
            phone="020 7946 0999",
            emergency_number="112",
        )
        for i in range(n_clinics)
    )
    password_hash = make_password(password)
    users = get_user_model().objects.bulk_create(
        get_user_model()(
            username=f"scale-{seed}-{i + 1}",
            password=password_hash,
            first_name="Scale",
            last_name=f"Therapist {i + 1}",
        )
        for i in range(therapists + n_clinics)
    )
    staff = {clinic.pk: [] for clinic in clinics}
    memberships = []
    for i, user in enumerate(users):
        clinic = clinics[i % n_clinics]
        is_lead = i >= therapists
        memberships.append(
            Membership(user=user, clinic=clinic, role=Role.LEAD if is_lead else Role.THERAPIST)
        )
        if not is_lead:
            staff[clinic.pk].append(user)
    Membership.objects.bulk_create(memberships)

    counts = {"patients": 0, "sessions": 0, "follow_ups": 0, "reports": 0}
    bar = Progress(patients, progress) if progress else None
    for start in range(0, patients, CHUNK):
        size = min(CHUNK, patients - start)
        with transaction.atomic():
            _chunk(rng, clinics, staff, start, size, sessions_per_patient, now, seed, counts)
        if bar:
            bar.update(start + size)
    if progress:
        progress("\n")
    refresh_statistics()
    return counts


def _chunk(rng, clinics, staff, start, size, sessions_per_patient, now, seed, counts):
    # bulk_create skips save(): the search keys are set here (Patient.refresh_keys).
    patients = Patient.objects.bulk_create(
        _keyed(
            Patient(
                clinic=clinics[(start + i) % len(clinics)],
                display_name=f"Scale Patient {start + i}",
                reference=f"S{seed}-{start + i:07d}",
            )
        )
        for i in range(size)
    )
    sessions = []
    for patient in patients:
        count = max(1, int(rng.gauss(sessions_per_patient, 2)))
        therapist = rng.choice(staff[patient.clinic_id])
        for _ in range(count):
            # Mostly spread over two years; one in twenty in the last four days.
            days = rng.uniform(0, 4) if rng.random() < 0.05 else rng.uniform(4, 730)
            session = NeedlingSession(
                patient=patient,
                clinic_id=patient.clinic_id,
                therapist=therapist,
                performed_at=now - timedelta(days=days),
                pre_pain=rng.randint(2, 8),
                anticoagulants=rng.random() < 0.05,
            )
            session.patient = patient
            sessions.append(session)
    NeedlingSession.objects.bulk_create(sessions, batch_size=2000)

    sites, follow_ups, plans, links = [], [], [], []
    for session in sessions:
        for muscle in rng.sample(MUSCLES, k=rng.randint(1, 3)):
            sites.append(
                NeedledSite(
                    session=session,
                    muscle=muscle,
                    side=rng.choice(Side.values),
                    insertions=rng.randint(1, 12),
                    technique=rng.choice(Technique.values),
                    twitch_band=rng.choice(TwitchBand.values),
                )
            )
        plan = _plan(rng)
        for time_point in plan["time_points"]:
            follow_up = scheduling.plan_follow_up(session, time_point)
            # Decide the answer now, so follow-ups are written once, answered or not.
            answer_at = follow_up.due_at + timedelta(minutes=rng.randint(1, 240))
            if answer_at < now and rng.random() < ANSWER_RATE:
                follow_up.answered_at = answer_at
            follow_ups.append(follow_up)
        plans.append(plan)
        if now - session.performed_at < timedelta(days=7):
            nonce = tokens.new_nonce()
            links.append(
                AccessLink(
                    session=session,
                    nonce=nonce,
                    token_hash=tokens.hash_token(tokens.token_for(nonce)),
                    created_at=session.performed_at,
                    expires_at=session.performed_at + timedelta(days=7),
                )
            )
    NeedledSite.objects.bulk_create(sites, batch_size=5000)
    FollowUp.objects.bulk_create(follow_ups, batch_size=5000)
    AccessLink.objects.bulk_create(links, batch_size=2000)

    reports, alerts = [], []
    by_session = {}
    for follow_up in follow_ups:
        by_session.setdefault(follow_up.session_id, []).append(follow_up)
    for session, plan in zip(sessions, plans):
        for follow_up in by_session[session.pk]:
            answer_at = follow_up.answered_at
            if answer_at is None:
                continue
            first = follow_up.time_point == TimePoint.IN_CLINIC
            soreness = plan["soreness"][follow_up.time_point]
            reports.append(
                SymptomReport(
                    follow_up=follow_up,
                    idempotency_key=uuid.UUID(int=rng.getrandbits(128)),
                    soreness=soreness,
                    submitted_at=answer_at,
                    twitching=rng.choice(
                        [TwitchingFelt.NONE] * 3 + [TwitchingFelt.MILD, TwitchingFelt.STRONG]
                    ),
                    bruising=plan["bruise"] if first else BruiseBand.NONE,
                    interference=Interference.A_LITTLE
                    if soreness >= 4
                    else Interference.NOT_AT_ALL,
                    bleeding=first and plan["bleeding"],
                    aggravation=plan["aggravation"] and not first,
                    drowsiness=first and plan["drowsiness"],
                    headache=first and plan["headache"],
                    nausea=first and plan["nausea"],
                    rf_breathing=first and plan["red_flag"],
                )
            )
            if first and plan["red_flag"]:
                alerts.append(
                    Alert(
                        session=session,
                        clinic_id=session.clinic_id,
                        follow_up=follow_up,
                        rule=AlertRule.RED_FLAG,
                        severity=Severity.URGENT,
                        opened_at=answer_at,
                        facts={
                            "flags": ["rf_breathing"],
                            "lung_risk": False,
                            "guidance": "emergency",
                            "hours": 0,
                        },
                    )
                )
            if follow_up.time_point == TimePoint.H48 and soreness >= 4:
                alerts.append(
                    Alert(
                        session=session,
                        clinic_id=session.clinic_id,
                        follow_up=follow_up,
                        rule=AlertRule.SORENESS_HIGH_48H,
                        severity=Severity.ATTENTION,
                        opened_at=answer_at,
                        facts={"at48": soreness, "threshold": 4},
                    )
                )
    SymptomReport.objects.bulk_create(reports, batch_size=5000)
    Alert.objects.bulk_create(alerts, batch_size=2000)
    # bulk_create skips the services: each session's outcome row is counted here.
    SessionOutcome.objects.recount([session.pk for session in sessions])
    counts["patients"] += len(patients)
    counts["sessions"] += len(sessions)
    counts["follow_ups"] += len(follow_ups)
    counts["reports"] += len(reports)


def _plan(rng) -> dict:
    start = rng.randint(2, 7)
    unsettled = rng.random() < 0.12
    soreness = {
        TimePoint.IN_CLINIC: start,
        TimePoint.H24: max(0, start - rng.randint(1, 3)),
        TimePoint.H48: max(0, start - 1) if unsettled else max(0, start - rng.randint(3, 6)),
        TimePoint.H72: max(0, start - rng.randint(2, 5)) if unsettled else 0,
    }
    time_points = [TimePoint.IN_CLINIC, TimePoint.H24, TimePoint.H48]
    if unsettled:
        time_points.append(TimePoint.H72)
    bruised = rng.random() < BRUISING_RATE
    return {
        "time_points": time_points,
        "soreness": soreness,
        "bruise": rng.choice(
            [BruiseBand.UNDER_2_5, BruiseBand.FROM_2_5_TO_5, BruiseBand.FROM_5_TO_10]
        )
        if bruised
        else BruiseBand.NONE,
        "bleeding": rng.random() < BLEEDING_RATE,
        "aggravation": rng.random() < AGGRAVATION_RATE,
        "drowsiness": rng.random() < DROWSINESS_RATE,
        "headache": rng.random() < HEADACHE_RATE,
        "nausea": rng.random() < NAUSEA_RATE,
        "red_flag": rng.random() < RED_FLAG_RATE,
    }


def _keyed(patient: Patient) -> Patient:
    patient.refresh_keys()
    return patient

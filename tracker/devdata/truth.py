"""A made-up clinic whose after-effect rates and soreness courses are set beforehand.

``manage.py seed_known_truth --sessions 10000 --seed 1`` builds one clinic in
which every session is drawn from the numbers in ``TRUTH``: each after-effect
happens with a set probability, and soreness at 0 h is drawn from a set
distribution per muscle, then eases by set steps to 24, 48 and (for the
sessions not settled at 48 h, as the app plans it) 72 h. Every check-in is
answered and closed. What the analytics should then report follows from
those numbers exactly (``Truth.rates``, ``courses``, ``mixture``,
``settled_shares``); ``truth_check.recovered`` runs the analytics and says,
for every figure, what was set, what was measured and how far chance alone
could take one from the other.

Rows go in with ``bulk_create``, a chunk of sessions per transaction, as in
``scale``. No alerts are written: the analytics do not read them. The same
seed gives the same clinic (placed relative to now).
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from fractions import Fraction

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.db import transaction

from tracker import clock
from tracker.choices import (
    BruiseBand,
    Interference,
    Muscle,
    RedFlag,
    Role,
    Side,
    Technique,
    TimePoint,
    TwitchingFelt,
)
from tracker.devdata import refresh_statistics
from tracker.models import (
    Clinic,
    FollowUp,
    Membership,
    NeedledSite,
    NeedlingSession,
    Patient,
    SessionOutcome,
    SymptomReport,
)
from tracker.services import scheduling

CHUNK = 2000  # sessions per transaction
PASSWORD = "needle-demo-2026"  # as seed_demo and seed_scale give their users
THERAPISTS = 4
SESSIONS_PER_PATIENT = 5
# Sessions fall in the analytics page's default range (the last 90 days), every
# check-in window closed.
DAYS_AGO = (10, 80)
OTHER_MINOR = ("drowsiness", "headache", "nausea", "dizziness")


def _distribution(weights: dict[int, int]) -> dict[int, Fraction]:
    total = sum(weights.values())
    return {value: Fraction(weight, total) for value, weight in sorted(weights.items())}


@dataclass(frozen=True)
class Truth:
    """The clinic's set numbers: probabilities per session, soreness distributions.

    After-effects are independent of each other and of soreness. A warning
    sign is one of the six, chosen evenly; one of them, bleeding that does not
    stop, also counts as bleeding and as an after-effect. A bruise is reported
    at 24 h, and again at 48 h in half the bruised sessions (a session counts
    once). Soreness at 0 h is drawn per muscle; each later check-in is the one
    before less a drawn step, never below 0.
    """

    bruising: Fraction = Fraction(12, 100)
    bleeding: Fraction = Fraction(9, 100)  # bleeding that stops; see heavy_bleeding
    aggravation: Fraction = Fraction(4, 100)
    other_minor: Fraction = Fraction(6, 100)  # drowsiness, headache, nausea or dizziness
    warning_sign: Fraction = Fraction(8, 1000)
    # muscle: (share of sessions, soreness at 0 h). These distributions and the steps
    # below keep almost every quartile of 10,000 sessions well inside one value, so
    # that most quartile checks in ``recovered`` allow that value alone.
    muscles: dict = field(
        default_factory=lambda: {
            Muscle.UPPER_TRAPEZIUS: (
                Fraction(1, 2),
                _distribution({3: 10, 4: 25, 5: 30, 6: 25, 7: 10}),
            ),
            Muscle.GLUTEUS_MEDIUS: (
                Fraction(3, 10),
                _distribution({4: 10, 5: 25, 6: 30, 7: 25, 8: 10}),
            ),
            Muscle.GASTROCNEMIUS: (Fraction(1, 5), _distribution({3: 20, 4: 40, 5: 30, 6: 10})),
        }
    )
    # How much soreness eases to each check-in from the one before.
    steps: dict = field(
        default_factory=lambda: {
            TimePoint.H24: _distribution({1: 20, 2: 40, 3: 30, 4: 10}),
            TimePoint.H48: _distribution({1: 45, 2: 35, 3: 20}),
            TimePoint.H72: _distribution({1: 20, 2: 50, 3: 30}),
        }
    )

    @property
    def heavy_bleeding(self) -> Fraction:
        """Bleeding that does not stop: one warning sign in six."""
        return self.warning_sign / len(RedFlag.values)

    def rates(self) -> dict[str, Fraction]:
        """The share of sessions with each after-effect the analytics count, by their key."""

        def either(*ps):
            none = Fraction(1)
            for p in ps:
                none *= 1 - p
            return 1 - none

        return {
            "bruising": self.bruising,
            "bleeding": either(self.bleeding, self.heavy_bleeding),
            "aggravation": self.aggravation,
            "any_minor": either(
                self.bruising,
                self.bleeding,
                self.heavy_bleeding,
                self.aggravation,
                self.other_minor,
            ),
            "warning_sign": self.warning_sign,
        }


TRUTH = Truth()


# ---------------------------------------------------------------------------
# What the analytics should find, exactly


def _paths(truth: Truth, start: dict) -> dict[tuple[int, int, int], Fraction]:
    """Every course (soreness at 0, 24 and 48 h) from ``start``, with its probability."""
    paths: dict[tuple[int, int, int], Fraction] = {}
    for s0, p0 in start.items():
        for d24, p24 in truth.steps[TimePoint.H24].items():
            for d48, p48 in truth.steps[TimePoint.H48].items():
                s24 = max(0, s0 - d24)
                key = (s0, s24, max(0, s24 - d48))
                paths[key] = paths.get(key, 0) + p0 * p24 * p48
    return paths


def courses(truth: Truth, settled_max: int) -> dict:
    """{muscle: {hours: {soreness: probability}}} of the answers at each check-in.

    At 72 h the distribution is of the sessions asked then: those not settled
    at 48 h, as the app plans it (every session here answers at 48 h).
    """
    out = {}
    for muscle, (_share, start) in truth.muscles.items():
        at = {hours: {} for hours in (0, 24, 48, 72)}
        for (s0, s24, s48), p in _paths(truth, start).items():
            for hours, value in ((0, s0), (24, s24), (48, s48)):
                at[hours][value] = at[hours].get(value, 0) + p
            if s48 > settled_max:
                for d72, p72 in truth.steps[TimePoint.H72].items():
                    s72 = max(0, s48 - d72)
                    at[72][s72] = at[72].get(s72, 0) + p * p72
        asked = sum(at[72].values())
        at[72] = {value: p / asked for value, p in at[72].items()}
        out[muscle] = {hours: dict(sorted(d.items())) for hours, d in at.items()}
    return out


def _asked_at_72h(truth: Truth, settled_max: int) -> dict:
    """{muscle: share of its sessions asked at 72 h}."""
    return {
        muscle: sum(
            (p for (_s0, _s24, s48), p in _paths(truth, start).items() if s48 > settled_max),
            Fraction(0),
        )
        for muscle, (_share, start) in truth.muscles.items()
    }


def mixture(truth: Truth, settled_max: int) -> dict:
    """{hours: {soreness: probability}} over all the clinic's sessions, whoever needled.

    Therapists are drawn evenly whatever the muscle, so each one's answers
    follow this mixture too. At 72 h each muscle weighs by its sessions asked.
    """
    by_muscle, asked = courses(truth, settled_max), _asked_at_72h(truth, settled_max)
    out = {}
    for hours in (0, 24, 48, 72):
        weights = {
            muscle: share * (asked[muscle] if hours == 72 else 1)
            for muscle, (share, _start) in truth.muscles.items()
        }
        total = sum(weights.values())
        d: dict[int, Fraction] = {}
        for muscle, w in weights.items():
            for value, p in by_muscle[muscle][hours].items():
                d[value] = d.get(value, 0) + p * w / total
        out[hours] = dict(sorted(d.items()))
    return out


def settled_shares(truth: Truth, settled_max: int) -> dict[int, Fraction]:
    """{hours: share of the answers at that check-in that are settled}, 24 to 72 h."""
    whole = mixture(truth, settled_max)
    return {
        hours: sum((p for value, p in whole[hours].items() if value <= settled_max), Fraction(0))
        for hours in (24, 48, 72)
    }


def quantile(distribution: dict[int, Fraction], q: float) -> int:
    """The smallest value whose cumulative probability reaches ``q`` (clamped to 0–1)."""
    cumulative = Fraction(0)
    for value, p in distribution.items():
        cumulative += p
        if cumulative >= q:
            return value
    return max(distribution)


# ---------------------------------------------------------------------------
# Building the clinic


def draw_session(rng: random.Random, truth: Truth, clinic: Clinic) -> dict:
    """One session's muscle, soreness at each check-in and after-effects, as drawn.

    The 72 h check-in is asked as the app plans it (``needs_72h_follow_up``).
    Needs no database: ``clinic`` may be unsaved.
    """
    muscle = _pick(rng, {m: share for m, (share, _start) in truth.muscles.items()})
    soreness = {0: _pick(rng, truth.muscles[muscle][1])}
    for hours, before in ((24, 0), (48, 24), (72, 48)):
        if hours == 72 and not scheduling.needs_72h_follow_up(
            clinic=clinic, soreness_24h=soreness[24], soreness_48h=soreness[48]
        ):
            break
        soreness[hours] = max(0, soreness[before] - _pick(rng, truth.steps[TimePoint(hours)]))
    warning = rng.random() < truth.warning_sign
    return {
        "muscle": muscle,
        "soreness": soreness,
        "bruise": rng.random() < truth.bruising,
        "bruise_twice": rng.random() < 0.5,
        "bleeding": rng.random() < truth.bleeding,
        "aggravation": rng.random() < truth.aggravation,
        "other": rng.choice(OTHER_MINOR) if rng.random() < truth.other_minor else None,
        "warning": rng.choice(RedFlag.values) if warning else None,
    }


def _pick(rng: random.Random, distribution: dict) -> object:
    point, cumulative = rng.random(), 0.0
    for value, p in distribution.items():
        cumulative += float(p)
        if point < cumulative:
            return value
    return value


def seed(
    *,
    sessions: int,
    seed: int = 1,
    truth: Truth = TRUTH,
    progress: Callable[[str], None] | None = None,
) -> Clinic:
    """Build the clinic of ``sessions`` sessions drawn from ``truth``; return it."""
    rng = random.Random(seed)
    now = clock.now()
    clinic = Clinic.objects.create(
        name=f"Known Truth Clinic (seed {seed})", time_zone="Europe/London", phone="020 7946 0999"
    )
    password = make_password(PASSWORD)
    staff = get_user_model().objects.bulk_create(
        get_user_model()(
            username=f"truth-{clinic.pk}-{i + 1}",
            password=password,
            first_name="Truth",
            last_name=f"Therapist {i + 1}",
        )
        for i in range(THERAPISTS)
    )
    Membership.objects.bulk_create(
        Membership(user=user, clinic=clinic, role=Role.LEAD if i == 0 else Role.THERAPIST)
        for i, user in enumerate(staff)
    )
    for start in range(0, sessions, CHUNK):
        size = min(CHUNK, sessions - start)
        with transaction.atomic():
            _chunk(rng, truth, clinic, staff, start, size, now)
        if progress:
            progress(f"\r{start + size:,}/{sessions:,} sessions")
    if progress:
        progress("\n")
    refresh_statistics()
    return clinic


def _chunk(rng, truth, clinic, staff, start, size, now):
    # bulk_create skips save(): the search keys are set here (Patient.refresh_keys).
    patients = Patient.objects.bulk_create(
        _keyed(
            Patient(
                clinic=clinic,
                display_name=f"Truth Patient {start + i}",
                reference=f"T{clinic.pk}-{start + i:07d}",
            )
        )
        for i in range(0, size, SESSIONS_PER_PATIENT)
    )
    drawn, made = [], []
    for i in range(size):
        patient = patients[i // SESSIONS_PER_PATIENT]
        session = NeedlingSession(
            patient=patient,
            clinic=clinic,
            therapist=rng.choice(staff),
            performed_at=now - timedelta(days=rng.uniform(*DAYS_AGO)),
            pre_pain=rng.randint(3, 8),
        )
        drawn.append(draw_session(rng, truth, clinic))
        made.append(session)
    NeedlingSession.objects.bulk_create(made)

    sites, follow_ups = [], []
    for session, plan in zip(made, drawn):
        sites.append(
            NeedledSite(
                session=session,
                muscle=plan["muscle"],
                side=Side.LEFT,
                insertions=rng.randint(1, 8),
                technique=Technique.DEEP_PISTONING,
            )
        )
        for hours in plan["soreness"]:
            follow_up = scheduling.plan_follow_up(session, TimePoint(hours))
            follow_up.answered_at = follow_up.due_at + timedelta(minutes=rng.randint(1, 300))
            follow_ups.append(follow_up)
    NeedledSite.objects.bulk_create(sites)
    FollowUp.objects.bulk_create(follow_ups)

    plans = {session.pk: plan for session, plan in zip(made, drawn)}
    SymptomReport.objects.bulk_create(
        _report(rng, follow_up, plans[follow_up.session_id]) for follow_up in follow_ups
    )
    # bulk_create skips the services: each session's outcome row is counted here.
    SessionOutcome.objects.recount([session.pk for session in made])


def _report(rng, follow_up: FollowUp, plan: dict) -> SymptomReport:
    hours = int(follow_up.time_point)
    soreness = plan["soreness"][hours]
    bruised = plan["bruise"] and (hours == 24 or (hours == 48 and plan["bruise_twice"]))
    return SymptomReport(
        follow_up=follow_up,
        idempotency_key=uuid.UUID(int=rng.getrandbits(128)),
        soreness=soreness,
        submitted_at=follow_up.answered_at,
        twitching=TwitchingFelt.NONE,
        bruising=BruiseBand.UNDER_2_5 if bruised else BruiseBand.NONE,
        interference=Interference.A_LITTLE if soreness >= 4 else Interference.NOT_AT_ALL,
        bleeding=hours == 0 and plan["bleeding"],
        aggravation=hours == 24 and plan["aggravation"],
        **{name: hours == 0 and plan["other"] == name for name in OTHER_MINOR},
        **{name: hours == 24 and plan["warning"] == name for name in RedFlag.values},
    )


def _keyed(patient: Patient) -> Patient:
    patient.refresh_keys()
    return patient

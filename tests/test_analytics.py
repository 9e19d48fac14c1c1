"""Clinic analytics: numbers checked by hand, filters, scoping, CSVs and query counts."""

import csv
import dataclasses
import io
import math
import random
import re
import statistics
import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from html.parser import HTMLParser

import pytest
from django.core.cache import cache, caches
from django.core.cache.utils import make_template_fragment_key
from django.core.management import call_command
from django.urls import reverse

from tests.factories import (
    ClinicFactory,
    MembershipFactory,
    PatientFactory,
    answer,
    make_session,
    site,
)
from tracker import analytics, charts, clock, services
from tracker.analytics import Filters
from tracker.analytics import soreness as typical
from tracker.analytics.figures import CHARTS
from tracker.analytics.stats import one_decimal
from tracker.choices import BruiseBand, Muscle, Role, Technique, TimePoint
from tracker.devdata import refresh_statistics
from tracker.models import (
    FollowUp,
    NeedledSite,
    NeedlingSession,
    Patient,
    SessionOutcome,
    SorenessCounts,
    SymptomReport,
)

pytestmark = pytest.mark.django_db

# A Monday; London is on GMT (= UTC) until 29 March 2026.
MONDAY = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
SECOND = timedelta(seconds=1)


def wilson_by_hand(events, n, z=1.96):
    """The Wilson score interval written out from its textbook formula."""
    p = events / n
    denominator = 1 + z**2 / n
    centre = p + z**2 / (2 * n)
    spread = z * math.sqrt(p * (1 - p) / n + z**2 / (4 * n**2))
    return (centre - spread) / denominator, (centre + spread) / denominator


@pytest.fixture
def clinic(clinic_a):
    return clinic_a


@pytest.fixture
def lead(clinic):
    return MembershipFactory(clinic=clinic, role=Role.LEAD).user


@pytest.fixture
def four_sessions(clinic, therapist_a):
    """Four answered sessions (1 with bruising, 2 with bleeding, 1 quiet) and one never answered."""
    patient = PatientFactory(clinic=clinic, display_name="Zebediah Quill")
    made = [
        make_session(
            patient=patient, therapist=therapist_a.user, performed_at=MONDAY + timedelta(hours=i)
        )
        for i in range(5)
    ]
    bruised, bled, bled_twice, quiet, _never = made
    answer(bruised, 0)
    answer(bruised, 24, bruising=BruiseBand.UNDER_2_5, pgic=2)
    answer(bled, 0, after_effects=["bleeding"])
    answer(bled_twice, 0, after_effects=["bleeding", "drowsiness"])
    answer(bled_twice, 24, after_effects=["bleeding"], pgic=4)
    answer(quiet, 0)
    return made


# ---------------------------------------------------------------------------
# Wilson interval


def test_wilson_matches_the_formula_worked_by_hand():
    # 1 of 4: p = 0.25, z² = 3.8416; centre (0.25 + 0.4802) / 1.9604 = 0.3725;
    # half-width 1.96 · sqrt(0.046875 + 0.060025) / 1.9604 = 0.3268.
    low, high = analytics.wilson_interval(1, 4)
    assert low == pytest.approx(0.0456, abs=5e-4)
    assert high == pytest.approx(0.6994, abs=5e-4)
    for events, n in [(0, 4), (1, 4), (2, 4), (4, 4), (3, 17), (88, 319)]:
        assert analytics.wilson_interval(events, n) == pytest.approx(
            wilson_by_hand(events, n), abs=1e-4
        )


def test_wilson_stays_inside_zero_and_one():
    assert analytics.wilson_interval(0, 5)[0] == 0.0
    assert analytics.wilson_interval(5, 5)[1] == 1.0
    assert analytics.wilson_interval(2, 4) == pytest.approx((0.1500, 0.8500), abs=5e-4)


@pytest.mark.parametrize(("events", "n"), [(0, 0), (5, 4), (-1, 4)])
def test_wilson_refuses_impossible_counts(events, n):
    with pytest.raises(ValueError):
        analytics.wilson_interval(events, n)


# ---------------------------------------------------------------------------
# Rates


def test_rates_per_session_by_hand(clinic, four_sessions):
    result = analytics.rates(Filters(clinic=clinic))
    assert (result.sessions, result.n) == (5, 4)  # the unanswered session is not in n
    by_key = {row.key: row for row in result.rows}
    assert [row.key for row in result.rows] == [
        "bruising",
        "bleeding",
        "aggravation",
        "any_minor",
        "warning_sign",
    ]
    # Bruising 1/4, bleeding 2/4 (twice in one session counts once), nothing worse,
    # any minor after-effect 3/4.
    assert (by_key["bruising"].events, by_key["bruising"].percent) == (1, Decimal("25.0"))
    assert (by_key["bleeding"].events, by_key["bleeding"].percent) == (2, Decimal("50.0"))
    assert by_key["aggravation"].events == 0
    assert (by_key["any_minor"].events, by_key["any_minor"].percent) == (3, Decimal("75.0"))
    for row in result.rows:
        low, high = wilson_by_hand(row.events, 4)
        assert float(row.low) == pytest.approx(100 * low, abs=0.051)
        assert float(row.high) == pytest.approx(100 * high, abs=0.051)
    assert (by_key["bruising"].low, by_key["bruising"].high) == (Decimal("4.6"), Decimal("69.9"))


def test_rates_count_finished_follow_ups_only_and_bleeding_that_does_not_stop(
    clinic, therapist_a, patient_a
):
    finished = make_session(patient=patient_a, therapist=therapist_a.user, performed_at=MONDAY)
    answer(finished, 0, red_flags=["rf_bleeding"])
    in_follow_up = make_session(
        patient=patient_a, therapist=therapist_a.user, performed_at=MONDAY + timedelta(days=20)
    )
    answer(in_follow_up, 0, bruising=BruiseBand.FROM_5_TO_10)
    now = MONDAY + timedelta(days=20, hours=5)  # the second session's 24 h is still to come
    result = analytics.rates(Filters(clinic=clinic), now=now)
    assert (result.sessions, result.n, result.in_follow_up) == (2, 1, 1)
    by_key = {row.key: row.events for row in result.rows}
    assert by_key == {
        "bruising": 0,
        "bleeding": 1,
        "aggravation": 0,
        "any_minor": 1,
        "warning_sign": 1,
    }
    later = analytics.rates(Filters(clinic=clinic), now=now + timedelta(days=4))
    assert (later.n, later.in_follow_up) == (2, 0)
    assert {row.key: row.events for row in later.rows}["bruising"] == 1


def test_rates_of_no_answered_session_have_no_rows(clinic, therapist_a, patient_a):
    make_session(patient=patient_a, therapist=therapist_a.user, performed_at=MONDAY)
    result = analytics.rates(Filters(clinic=clinic))
    assert (result.sessions, result.n, result.rows) == (1, 0, ())


def warned_only(patient, therapist, flag, *, hours):
    """A session whose patient answered no check-in but sent ``flag`` ``hours`` after."""
    session = make_session(patient=patient, therapist=therapist.user, performed_at=MONDAY)
    services.report_warning(
        session=session,
        idempotency_key=uuid.uuid4(),
        flags=[flag],
        now=MONDAY + timedelta(hours=hours),
    )
    return session


def test_a_session_heard_from_only_through_warning_signs_counts_in_what_it_showed(
    clinic, therapist_a, patient_a
):
    quiet = make_session(patient=patient_a, therapist=therapist_a.user, performed_at=MONDAY)
    answer(quiet, 0)
    warned_only(patient_a, therapist_a, "rf_bleeding", hours=30)  # bleeding that will not stop
    make_session(patient=patient_a, therapist=therapist_a.user, performed_at=MONDAY)  # silent

    result = analytics.rates(Filters(clinic=clinic))

    assert (result.sessions, result.n, result.warned_only) == (3, 1, 1)
    by_key = {row.key: (row.events, row.n) for row in result.rows}
    assert by_key == {
        "bruising": (0, 1),  # unknown for the warned session: not counted
        "bleeding": (1, 2),
        "aggravation": (0, 1),
        "any_minor": (1, 2),
        "warning_sign": (1, 2),
    }
    warning = next(row for row in result.rows if row.key == "warning_sign")
    assert warning.percent == Decimal("50.0")
    assert (float(warning.low), float(warning.high)) == pytest.approx(
        [100 * bound for bound in wilson_by_hand(1, 2)], abs=0.051
    )


def test_warned_only_sessions_alone_give_the_rates_of_what_they_showed(
    clinic, therapist_a, patient_a
):
    warned_only(patient_a, therapist_a, "rf_breathing", hours=14)
    result = analytics.rates(Filters(clinic=clinic))
    assert (result.n, result.warned_only) == (0, 1)
    assert [(row.key, row.events, row.n) for row in result.rows] == [("warning_sign", 1, 1)]


def test_published_rates_cite_their_sources_and_never_pain_after_treatment():
    values = {(r.source.short, r.effect): r.percent for r in analytics.PUBLISHED_RATES}
    assert values == {
        ("Brady et al. 2014", "bruising"): Decimal("7.55"),
        ("Brady et al. 2014", "bleeding"): Decimal("4.65"),
        ("Brady et al. 2014", "aggravation"): Decimal("0.88"),
        ("Brady et al. 2014", "any_minor"): Decimal("19.18"),
        ("Brady et al. 2014", "warning_sign"): Decimal("0.04"),
        ("Boyce et al. 2020", "bruising"): Decimal("7.7"),
        ("Boyce et al. 2020", "bleeding"): Decimal("16"),
        ("Boyce et al. 2020", "any_minor"): Decimal("36.7"),
        ("Boyce et al. 2020", "warning_sign"): Decimal("0.1"),
    }
    # Only rates that count what the clinic counts are drawn beside its own.
    drawn = {(r.source.short, r.effect) for r in analytics.PUBLISHED_RATES if r.drawn}
    assert {effect for _source, effect in drawn} == {"bruising", "bleeding", "aggravation"}
    assert Decimal("2.19") not in values.values()
    assert "J Man Manip Ther 2014;22(3):134–140" in analytics.BRADY_2014.citation
    assert "Int J Sports Phys Ther 2020;15(1):103–113" in analytics.BOYCE_2020.citation


# ---------------------------------------------------------------------------
# Filters


def test_therapist_filter(clinic, therapist_a, four_sessions):
    colleague = MembershipFactory(clinic=clinic).user
    other = make_session(patient=four_sessions[0].patient, therapist=colleague, performed_at=MONDAY)
    answer(other, 0, bruising=BruiseBand.FROM_5_TO_10)
    assert analytics.sessions(Filters(clinic=clinic, therapist=colleague.pk)).get() == other
    assert analytics.sessions(Filters(clinic=clinic, therapist=therapist_a.user.pk)).count() == 5
    rates = analytics.rates(Filters(clinic=clinic, therapist=colleague.pk))
    assert (rates.n, rates.rows[0].events) == (1, 1)


def test_date_range_is_in_the_clinics_time_zone(therapist_a):
    chicago = ClinicFactory(time_zone="America/Chicago")
    MembershipFactory(clinic=chicago, user=therapist_a.user)
    patient = PatientFactory(clinic=chicago)
    # 03:00 UTC on 3 March is still 2 March in Chicago (21:00 CST).
    late = make_session(
        patient=patient,
        therapist=therapist_a.user,
        performed_at=datetime(2026, 3, 3, 3, 0, tzinfo=UTC),
    )
    early = make_session(
        patient=patient,
        therapist=therapist_a.user,
        performed_at=datetime(2026, 3, 1, 15, 0, tzinfo=UTC),
    )

    def found(**dates):
        return set(analytics.sessions(Filters(clinic=chicago, **dates)))

    assert found(date_from=date(2026, 3, 2), date_to=date(2026, 3, 2)) == {late}
    assert found(date_from=date(2026, 3, 3)) == set()
    assert found(date_to=date(2026, 3, 1)) == {early}
    assert found() == {late, early}


def test_muscle_and_technique_filters_need_the_same_site(clinic, therapist_a, patient_a):
    def make(*sites):
        return make_session(
            patient=patient_a, therapist=therapist_a.user, performed_at=MONDAY, sites=list(sites)
        )

    trap_electric = make(site(muscle=Muscle.UPPER_TRAPEZIUS, technique=Technique.ELECTRICAL))
    trap_and_glute = make(
        site(muscle=Muscle.UPPER_TRAPEZIUS, technique=Technique.DEEP_PISTONING),
        site(muscle=Muscle.GLUTEUS_MEDIUS, technique=Technique.ELECTRICAL),
    )
    glute = make(site(muscle=Muscle.GLUTEUS_MEDIUS))

    def found(**kwargs):
        return set(analytics.sessions(Filters(clinic=clinic, **kwargs)))

    assert found(muscle=Muscle.UPPER_TRAPEZIUS) == {trap_electric, trap_and_glute}
    assert found(technique=Technique.ELECTRICAL) == {trap_electric, trap_and_glute}
    assert found(muscle=Muscle.UPPER_TRAPEZIUS, technique=Technique.ELECTRICAL) == {trap_electric}
    assert found(muscle=Muscle.GLUTEUS_MEDIUS) == {trap_and_glute, glute}
    # A session matching through two sites is still one session.
    deep = Filters(clinic=clinic, technique=Technique.DEEP_PISTONING)
    assert analytics.sessions(deep).count() == 2


def test_another_clinics_sessions_never_count(clinic, four_sessions, therapist_b):
    elsewhere = make_session(
        patient=PatientFactory(clinic=therapist_b.clinic),
        therapist=therapist_b.user,
        performed_at=MONDAY,
    )
    answer(elsewhere, 0, bruising=BruiseBand.OVER_10)
    assert analytics.rates(Filters(clinic=clinic)).n == 4
    assert analytics.rates(Filters(clinic=therapist_b.clinic)).n == 1


# ---------------------------------------------------------------------------
# Median soreness by muscle and by therapist


def quartiles(group):
    """(hours, median, Q1, Q3, n) of each of a group's check-ins."""
    return [(p.hours, p.median, p.q1, p.q3, p.n) for p in group.points]


def answered_at_0h(patient, therapist, muscle, soreness=3):
    """A session on MONDAY needled at ``muscle``, its in-clinic check-in answered."""
    session = make_session(
        patient=patient, therapist=therapist.user, performed_at=MONDAY, sites=[site(muscle=muscle)]
    )
    answer(session, 0, soreness=soreness)
    return session


def test_soreness_by_muscle_counts_a_session_for_each_muscle_once(clinic, therapist_a, patient_a):
    both_sides = make_session(
        patient=patient_a,
        therapist=therapist_a.user,
        performed_at=MONDAY,
        sites=[
            site(muscle=Muscle.UPPER_TRAPEZIUS, side="left"),
            site(muscle=Muscle.UPPER_TRAPEZIUS, side="right"),
            site(muscle=Muscle.GLUTEUS_MEDIUS),
        ],
    )
    glute = make_session(
        patient=patient_a,
        therapist=therapist_a.user,
        performed_at=MONDAY,
        sites=[site(muscle=Muscle.GLUTEUS_MEDIUS)],
    )
    answer(both_sides, 0, soreness=6)
    answer(both_sides, 24, soreness=2)
    answer(glute, 0, soreness=3)

    result = analytics.soreness_by_muscle(Filters(clinic=clinic))
    groups = {g.key: g for g in result.groups}
    # Gluteus medius at 0 h: 3 and 6 from 2 sessions; median 4.5, Q1 at position
    # 0.25 -> 3.75, Q3 at 0.75 -> 5.25 (both shown half up); 2 at 24 h from 1.
    assert quartiles(groups["gluteus_medius"]) == [
        (0, Decimal("4.5"), Decimal("3.8"), Decimal("5.3"), 2),
        (24, Decimal("2.0"), Decimal("2.0"), Decimal("2.0"), 1),
    ]
    # Upper trapezius, needled left and right in one session: that session once.
    assert quartiles(groups["upper_trapezius"]) == [
        (0, Decimal("6.0"), Decimal("6.0"), Decimal("6.0"), 1),
        (24, Decimal("2.0"), Decimal("2.0"), Decimal("2.0"), 1),
    ]
    assert [g.key for g in result.groups] == ["gluteus_medius", "upper_trapezius"]  # larger first
    assert (result.hidden, result.hours) == (0, (0, 24))

    only_trap = analytics.soreness_by_muscle(Filters(clinic=clinic, muscle=Muscle.UPPER_TRAPEZIUS))
    assert [g.key for g in only_trap.groups] == ["upper_trapezius"]


def test_soreness_by_muscle_keeps_the_largest_groups(clinic, therapist_a, patient_a):
    muscles = [Muscle.MASSETER, Muscle.SOLEUS, Muscle.DELTOID]
    for count, muscle in enumerate(muscles, start=1):
        for _ in range(count):
            answered_at_0h(patient_a, therapist_a, muscle)
    result = analytics.soreness_by_muscle(Filters(clinic=clinic), limit=2)
    assert [g.key for g in result.groups] == ["deltoid", "soleus"]
    assert result.hidden == 1


@pytest.mark.parametrize("seed", range(5))
def test_soreness_histograms_agree_with_counting_each_answer(seed):
    """The histograms by group, counted in bulk, against a count of answer after
    answer: groups of either kind, unanswered check-ins, rows picked twice or never."""
    rng = random.Random(seed)
    rows = rng.randrange(0, 60)
    columns = [
        tuple(rng.choice([None, None, *range(11)]) for _ in range(rows)) for _ in TimePoint.values
    ]
    picked = [index for index in range(rows) for _ in range(rng.choice([0, 1, 1, 2]))]
    groups = [rng.choice(["soleus", "deltoid", 7, 12]) for _ in picked]

    expected = {}
    for group, index in zip(groups, picked, strict=True):
        for hours, column in zip(TimePoint.values, columns, strict=True):
            if column[index] is not None:
                histogram = expected.setdefault((group, hours), {})
                histogram[column[index]] = histogram.get(column[index], 0) + 1
    assert typical._histograms(groups, columns, picked) == expected
    # One group per row, none picked.
    own = [rng.choice(["a", "b"]) for _ in range(rows)]
    expected = {}
    for index, group in enumerate(own):
        for hours, column in zip(TimePoint.values, columns, strict=True):
            if column[index] is not None:
                histogram = expected.setdefault((group, hours), {})
                histogram[column[index]] = histogram.get(column[index], 0) + 1
    assert typical._histograms(own, columns) == expected


def test_soreness_by_therapist_by_hand(clinic, therapist_a, patient_a):
    colleague = MembershipFactory(
        clinic=clinic, user__first_name="Mo", user__last_name="Reyes"
    ).user
    for therapist, values in [(therapist_a.user, [4, 6, 8]), (colleague, [1])]:
        for value in values:
            session = make_session(patient=patient_a, therapist=therapist, performed_at=MONDAY)
            answer(session, 0, soreness=value)
    result = analytics.soreness_by_therapist(Filters(clinic=clinic))
    summary = [(g.label, quartiles(g)) for g in result.groups]
    # 4, 6, 8: median 6, Q1 at position 0.5 -> 5, Q3 at 1.5 -> 7.
    assert summary == [
        (
            therapist_a.user.get_full_name(),
            [(0, Decimal("6.0"), Decimal("5.0"), Decimal("7.0"), 3)],
        ),
        ("Mo Reyes", [(0, Decimal("1.0"), Decimal("1.0"), Decimal("1.0"), 1)]),
    ]


def test_grouped_quartiles_match_statistics(clinic, therapist_a, patient_a):
    """Medians and quartiles from the database's histograms, against Python's own."""
    rng = random.Random(12)
    values = {
        Muscle.SOLEUS: [rng.randint(0, 10) for _ in range(13)],
        Muscle.DELTOID: [rng.randint(0, 10) for _ in range(8)],
    }
    for muscle, answers_given in values.items():
        for value in answers_given:
            answered_at_0h(patient_a, therapist_a, muscle, value)
    result = analytics.soreness_by_muscle(Filters(clinic=clinic))
    for group in result.groups:
        given = values[group.key]
        q1, median, q3 = statistics.quantiles(given, n=4, method="inclusive")
        point = group.at(0)
        assert point.n == len(given)
        assert point.median == one_decimal(median)
        assert (point.q1, point.q3) == (one_decimal(q1), one_decimal(q3))


def test_grouped_soreness_reads_one_row_per_session(
    clinic, four_sessions, django_assert_num_queries
):
    with django_assert_num_queries(1):  # the sessions' outcomes, with their sites
        analytics.soreness_by_muscle(Filters(clinic=clinic))
    with django_assert_num_queries(2):  # the sessions' outcomes, then the therapists' names
        analytics.soreness_by_therapist(Filters(clinic=clinic))


def sessions_sore_at_72h(*, patient, therapist, count, soreness_at_72h=4):
    """``count`` sessions not settled at 48 h (soreness 4), so each gets a 72 h check-in."""
    for _ in range(count):
        session = make_session(patient=patient, therapist=therapist, performed_at=MONDAY)
        answer(session, 0, soreness=6)
        answer(session, 24, soreness=5)
        answer(session, 48, soreness=4)
        answer(session, 72, soreness=soreness_at_72h)


def test_a_72h_point_of_the_slower_sessions_needs_ten_answers(clinic, therapist_a, patient_a):
    for _ in range(12):  # settled by 48 h: never asked at 72 h
        session = make_session(patient=patient_a, therapist=therapist_a.user, performed_at=MONDAY)
        answer(session, 48, soreness=1)
    sessions_sore_at_72h(
        patient=patient_a, therapist=therapist_a.user, count=analytics.MIN_72H_ANSWERS - 1
    )
    filters = Filters(clinic=clinic)
    few = analytics.soreness_by_therapist(filters)
    # Nine answers at 72 h, all of sore sessions: no point that would look like a rise.
    assert few.hours == (0, 24, 48)
    assert (few.unsettled_at_72h, few.thin_72h) == (False, 1)

    sessions_sore_at_72h(patient=patient_a, therapist=therapist_a.user, count=1)
    enough = analytics.soreness_by_therapist(filters)
    assert enough.hours == (0, 24, 48, 72)
    assert (enough.unsettled_at_72h, enough.thin_72h) == (True, 0)
    at_72 = enough.groups[0].at(72)
    assert (at_72.median, at_72.n) == (Decimal("4.0"), 10)
    # 48 h: twelve sessions at 1 and ten at 4 -> median 1; at 72 h only the ten.
    assert enough.groups[0].at(48).median == Decimal("1.0")


def test_a_clinic_asking_everyone_at_72h_draws_it_like_any_other(clinic, therapist_a, patient_a):
    clinic.fixed_72h = True
    clinic.save()
    session = make_session(patient=patient_a, therapist=therapist_a.user, performed_at=MONDAY)
    answer(session, 72, soreness=0)
    result = analytics.soreness_by_muscle(Filters(clinic=clinic))
    assert (result.hours, result.unsettled_at_72h, result.thin_72h) == ((72,), False, 0)


def test_grouped_table_gives_quartiles_and_marks_72h(clinic, therapist_a, patient_a):
    sessions_sore_at_72h(
        patient=patient_a, therapist=therapist_a.user, count=analytics.MIN_72H_ANSWERS
    )
    table = CHARTS["soreness-by-therapist"].table(
        analytics.soreness_by_therapist(Filters(clinic=clinic))
    )
    header = table.csv_header()
    assert header[1:5] == ["0 h: median", "0 h: Q1", "0 h: Q3", "0 h: n"]
    assert header[-4:] == [
        "72 h (not settled at 48 h): median",
        "72 h (not settled at 48 h): Q1",
        "72 h (not settled at 48 h): Q3",
        "72 h (not settled at 48 h): n",
    ]
    assert table.csv_rows()[0][1:5] == [Decimal("6.0"), Decimal("6.0"), Decimal("6.0"), 10]
    assert len(table.notes) == 1 and "only sessions not settled at 48 h" in table.notes[0]
    svg = CHARTS["soreness-by-therapist"].svg(
        analytics.soreness_by_therapist(Filters(clinic=clinic)), "Median soreness by therapist"
    )
    assert b"72 h: only sessions not settled at 48 h" in svg


# ---------------------------------------------------------------------------
# Settled share


def test_settled_share_by_hand(clinic, therapist_a, patient_a):
    def session_with(**by_hour):
        session = make_session(patient=patient_a, therapist=therapist_a.user, performed_at=MONDAY)
        for hours, soreness in sorted(by_hour.items(), key=lambda item: int(item[0][1:])):
            answer(session, int(hours[1:]), soreness=soreness)
        return session

    session_with(h24=0, h48=0)
    session_with(h24=1, h48=0)
    session_with(h24=2, h48=3, h72=1)  # not settled at 48 h: a 72 h check-in is added
    session_with(h24=5)  # 48 h never answered: not in the 48 h denominator
    session_with(h0=4)  # no answer at 24 h or later

    result = analytics.settled(Filters(clinic=clinic))
    # Settled is 2/10 or less (the clinic's default).
    # 24 h: 0, 1, 2 settled of 0, 1, 2, 5 -> 3/4; 48 h: 0, 0 of 0, 0, 3 -> 2/3; 72 h: 1/1.
    assert [(r.hours, r.settled, r.n, r.percent) for r in result] == [
        (24, 3, 4, Decimal("75.0")),
        (48, 2, 3, Decimal("66.7")),
        (72, 1, 1, Decimal("100.0")),
    ]
    clinic.settled_max = 0
    clinic.save()
    result = analytics.settled(Filters(clinic=clinic))
    assert [(r.hours, r.settled) for r in result] == [(24, 1), (48, 2), (72, 0)]


# ---------------------------------------------------------------------------
# Completion by week


def test_completion_by_week_by_hand(clinic, therapist_a, patient_a):
    first = make_session(patient=patient_a, therapist=therapist_a.user, performed_at=MONDAY)
    # Sunday 8 March 22:00: its in-clinic check-in falls in the first week, the rest in the next.
    second = make_session(
        patient=patient_a,
        therapist=therapist_a.user,
        performed_at=datetime(2026, 3, 8, 22, 0, tzinfo=UTC),
    )
    answer(first, 0)
    answer(first, 24)
    answer(second, 0)
    later = datetime(2026, 4, 1, tzinfo=UTC)

    weeks = analytics.completion_by_week(Filters(clinic=clinic), now=later)
    assert [(w.start, w.answered, w.due, w.percent) for w in weeks] == [
        (date(2026, 3, 2), 3, 4, Decimal("75.0")),
        (date(2026, 3, 9), 0, 2, Decimal("0.0")),
    ]
    # Before the 48 h window of the second session has closed, it does not count yet.
    closes = second.follow_ups.get(time_point=48).closes_at
    weeks = analytics.completion_by_week(Filters(clinic=clinic), now=closes - timedelta(minutes=1))
    assert [(w.start, w.due) for w in weeks] == [(date(2026, 3, 2), 4), (date(2026, 3, 9), 1)]


def test_completion_weeks_start_on_monday_in_the_clinics_zone(therapist_a):
    chicago = ClinicFactory(time_zone="America/Chicago")
    MembershipFactory(clinic=chicago, user=therapist_a.user)
    # Sunday 8 March 2026, 23:30 in Chicago (the night clocks went forward) is Monday in UTC.
    make_session(
        patient=PatientFactory(clinic=chicago),
        therapist=therapist_a.user,
        performed_at=datetime(2026, 3, 9, 4, 30, tzinfo=UTC),
    )
    weeks = analytics.completion_by_week(
        Filters(clinic=chicago), now=datetime(2026, 4, 1, tzinfo=UTC)
    )
    # In-clinic check-in: Sunday local -> the week of 2 March; 24 h and 48 h: week of 9 March.
    assert [(w.start, w.due) for w in weeks] == [(date(2026, 3, 2), 1), (date(2026, 3, 9), 2)]


def test_no_completion_week_before_a_check_in_window_has_closed(clinic, therapist_a, patient_a):
    session = make_session(patient=patient_a, therapist=therapist_a.user, performed_at=MONDAY)
    answer(session, 0)
    in_clinic = session.follow_ups.get(time_point=TimePoint.IN_CLINIC)

    # One week in view (so the weeks need no boundary at all), nothing closed yet.
    weeks = analytics.completion_by_week(Filters(clinic=clinic), now=in_clinic.closes_at - SECOND)
    assert weeks == ()
    weeks = analytics.completion_by_week(Filters(clinic=clinic), now=in_clinic.closes_at)
    assert [(w.start, w.answered, w.due) for w in weeks] == [(date(2026, 3, 2), 1, 1)]


@pytest.mark.parametrize(
    "zone, now",
    [
        ("Europe/London", datetime(2026, 4, 20, tzinfo=UTC)),
        ("America/Chicago", datetime(2026, 4, 20, tzinfo=UTC)),
        ("Australia/Sydney", datetime(2026, 4, 20, tzinfo=UTC)),
        # Sessions of the last days still have check-ins open: those are counted
        # from their follow-ups, the others from their outcome rows.
        ("Europe/London", datetime(2026, 4, 10, 15, 0, tzinfo=UTC)),
    ],
)
def test_completion_weeks_agree_with_each_check_in_counted_by_hand(therapist_a, zone, now):
    """Sessions at random times over ten weeks around the clocks' changes, some filtered
    out by the dates, some recorded too late for a check-in to be asked: each week's
    counts are those of its check-ins, one by one."""
    clinic = ClinicFactory(time_zone=zone)
    MembershipFactory(clinic=clinic, user=therapist_a.user)
    patient = PatientFactory(clinic=clinic)
    rng = random.Random(zone)
    start = datetime(2026, 2, 20, tzinfo=UTC)
    for _ in range(25):
        performed_at = start + timedelta(minutes=rng.randrange(70 * 24 * 60))
        session = make_session(
            patient=patient,
            therapist=therapist_a.user,
            performed_at=performed_at,
            recorded_at=performed_at + timedelta(hours=rng.choice([0, 0, 0, 40])),
        )
        for follow_up in session.follow_ups.filter(asked=True):
            if rng.random() < 0.6:
                answer(session, follow_up.time_point)
    # And sessions at the instants where one of their check-ins moves into the next
    # week (a Monday's start less the check-in's hours), and a second either side.
    monday = clock.day_start(date(2026, 3, 30), clinic.zone)
    for hours in TimePoint.values:
        for offset in (-SECOND, timedelta(0), SECOND):
            session = make_session(
                patient=patient,
                therapist=therapist_a.user,
                performed_at=monday - timedelta(hours=hours) + offset,
            )
            for follow_up in session.follow_ups.all():
                answer(session, follow_up.time_point)
    filters = Filters(clinic=clinic, date_from=date(2026, 3, 1), date_to=date(2026, 4, 12))

    counted = {}
    for follow_up in FollowUp.objects.filter(session__in=analytics.sessions(filters)):
        if follow_up.asked and follow_up.closes_at <= now:
            day = follow_up.due_at.astimezone(clinic.zone).date()
            week = counted.setdefault(day - timedelta(days=day.weekday()), [0, 0])
            week[0] += follow_up.answered_at is not None
            week[1] += 1
    assert FollowUp.objects.filter(asked=False).exists()
    weeks = analytics.completion_by_week(filters, now=now)
    assert {w.start: [w.answered, w.due] for w in weeks} == counted
    assert [w.start for w in weeks] == sorted(counted)


# ---------------------------------------------------------------------------
# Typical course (for the patient page's band)


def test_quantiles_from_a_histogram_match_statistics():
    rng = random.Random(7)
    for _ in range(50):
        values = [rng.randint(0, 10) for _ in range(rng.randint(1, 40))]
        histogram = {}
        for value in values:
            histogram[value] = histogram.get(value, 0) + 1
        if len(values) > 1:
            q1, _median, q3 = statistics.quantiles(values, n=4, method="inclusive")
        else:
            q1 = q3 = values[0]
        assert analytics.quantile_from_histogram(histogram, 0.25) == pytest.approx(q1)
        assert analytics.quantile_from_histogram(histogram, 0.5) == pytest.approx(
            statistics.median(values)
        )
        assert analytics.quantile_from_histogram(histogram, 0.75) == pytest.approx(q3)


def test_typical_course_from_a_small_known_set(clinic, therapist_a, patient_a):
    at_0 = [2, 4, 4, 5, 7, 8]
    at_24 = [1, 2, 3, 3, 6]
    at_48 = [0, 1, 2]  # too few to say what is typical
    for i, value in enumerate(at_0):
        session = make_session(patient=patient_a, therapist=therapist_a.user, performed_at=MONDAY)
        answer(session, 0, soreness=value)
        if i < len(at_24):
            answer(session, 24, soreness=at_24[i])
        if i < len(at_48):
            answer(session, 48, soreness=at_48[i])

    band = analytics.typical_course(clinic)
    assert isinstance(band, charts.Band)
    assert list(band.hours) == [0, 24]
    # 0 h sorted 2 4 4 5 7 8: Q1 at position 1.25 -> 4, median at 2.5 -> 4.5, Q3 at 3.75 -> 6.5.
    # 24 h sorted 1 2 3 3 6: Q1 at position 1 -> 2, median 3, Q3 at 3 -> 3.
    assert list(band.low) == [4.0, 2.0]
    assert list(band.median) == [4.5, 3.0]
    assert list(band.high) == [6.5, 3.0]


def test_typical_course_needs_five_answers_at_0h(clinic, therapist_a, patient_a, therapist_b):
    for value in [1, 2, 3, 4]:
        session = make_session(patient=patient_a, therapist=therapist_a.user, performed_at=MONDAY)
        answer(session, 0, soreness=value)
    assert analytics.typical_course(clinic) is None
    # Another clinic's answers are not this clinic's course.
    for value in [5, 5]:
        session = make_session(
            patient=PatientFactory(clinic=therapist_b.clinic),
            therapist=therapist_b.user,
            performed_at=MONDAY,
        )
        answer(session, 0, soreness=value)
    assert analytics.typical_course(clinic) is None


def test_typical_course_draws_72h_from_ten_answers_and_marks_it(clinic, therapist_a, patient_a):
    sessions_sore_at_72h(
        patient=patient_a,
        therapist=therapist_a.user,
        count=analytics.MIN_72H_ANSWERS - 1,
        soreness_at_72h=3,
    )
    band = analytics.typical_course(clinic)
    assert (list(band.hours), list(band.unsettled_only)) == ([0, 24, 48], [])
    sessions_sore_at_72h(patient=patient_a, therapist=therapist_a.user, count=1, soreness_at_72h=3)
    band = analytics.typical_course(clinic)
    assert (list(band.hours), list(band.unsettled_only)) == ([0, 24, 48, 72], [72])
    assert band.median[-1] == 3.0

    clinic.fixed_72h = True  # everyone is asked at 72 h: an ordinary point
    band = analytics.typical_course(clinic)
    assert (list(band.hours), list(band.unsettled_only)) == ([0, 24, 48, 72], [])


def test_typical_course_is_one_query(clinic, django_assert_num_queries):
    with django_assert_num_queries(1):
        analytics.typical_course(clinic)


def _six_answers_at_0h(patient, therapist, soreness=4):
    for _ in range(6):
        answer(
            make_session(patient=patient, therapist=therapist, performed_at=MONDAY),
            0,
            soreness=soreness,
        )


def test_a_chart_draws_the_stored_counts_without_counting_the_reports(
    clinic, therapist_a, patient_a, frozen_now, django_assert_num_queries
):
    frozen_now(MONDAY + timedelta(days=1))
    _six_answers_at_0h(patient_a, therapist_a.user, soreness=4)
    typical.count_soreness(clinic)  # the hourly job
    _six_answers_at_0h(patient_a, therapist_a.user, soreness=9)
    cache.clear()  # as when the hour in the cache is up

    with django_assert_num_queries(1):  # the stored counts, not the reports
        band = analytics.cached_typical_course(clinic)
    assert list(band.median) == [4.0]  # the six answers of 9 are not counted yet
    typical.count_soreness(clinic)  # the job's next run
    cache.clear()
    assert list(analytics.cached_typical_course(clinic).median) == [6.5]


def test_counts_missing_or_over_an_hour_old_are_counted_by_the_chart_and_stored(
    clinic, therapist_a, patient_a, frozen_now
):
    frozen_now(MONDAY + timedelta(days=1))
    _six_answers_at_0h(patient_a, therapist_a.user, soreness=4)
    assert not SorenessCounts.objects.exists()
    assert list(analytics.cached_typical_course(clinic).median) == [4.0]
    stored = SorenessCounts.objects.get(clinic=clinic)
    assert stored.counts == {"0": {"4": 6}}
    assert stored.counted_at == clock.now()

    _six_answers_at_0h(patient_a, therapist_a.user, soreness=9)
    frozen_now(MONDAY + timedelta(days=1) + typical.COUNTS_MAX_AGE - SECOND)
    cache.clear()
    assert list(analytics.cached_typical_course(clinic).median) == [4.0]  # still fresh
    frozen_now(MONDAY + timedelta(days=1) + typical.COUNTS_MAX_AGE + SECOND)
    cache.clear()
    assert list(analytics.cached_typical_course(clinic).median) == [6.5]  # the job has not run
    assert SorenessCounts.objects.get(clinic=clinic).counts == {"0": {"4": 6, "9": 6}}


def test_the_stored_counts_are_read_with_the_clinics_settings_of_the_moment(
    clinic, therapist_a, patient_a
):
    sessions_sore_at_72h(
        patient=patient_a, therapist=therapist_a.user, count=analytics.MIN_72H_ANSWERS
    )
    assert list(analytics.cached_typical_course(clinic).unsettled_only) == [72]
    clinic.fixed_72h = True  # everyone is now asked at 72 h: an ordinary point, at once
    assert list(analytics.cached_typical_course(clinic).unsettled_only) == []


def test_count_typical_courses_counts_every_clinic(
    clinic, therapist_a, therapist_b, patient_a, frozen_now
):
    frozen_now(MONDAY + timedelta(days=1))
    _six_answers_at_0h(patient_a, therapist_a.user, soreness=3)
    _six_answers_at_0h(PatientFactory(clinic=therapist_b.clinic), therapist_b.user, soreness=7)
    out = io.StringIO()
    call_command("count_typical_courses", stdout=out)
    assert re.fullmatch(r"Counted the typical course of 2 clinics in \d+\.\d s\.\n", out.getvalue())
    assert {row.clinic_id: row.counts for row in SorenessCounts.objects.all()} == {
        clinic.pk: {"0": {"3": 6}},
        therapist_b.clinic.pk: {"0": {"7": 6}},
    }
    assert list(analytics.cached_typical_course(therapist_b.clinic).median) == [7.0]


# ---------------------------------------------------------------------------
# Views: scoping


def _panel(html: str, slug: str) -> str:
    """One chart's <section> of the analytics page."""
    panel = html[html.index(f'id="{slug}"') :]
    return panel[: panel.index("</section>")]


def _urls(clinic, query=""):
    page = reverse("tracker:analytics", args=[clinic.pk])
    urls = [page + query]
    for slug in CHARTS:
        urls.append(reverse("tracker:analytics_chart", args=[clinic.pk, slug]) + query)
        urls.append(reverse("tracker:analytics_csv", args=[clinic.pk, slug]) + query)
    return urls


def test_anonymous_users_are_sent_to_login(client, clinic):
    for url in [reverse("tracker:analytics_home"), *_urls(clinic)]:
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith("/accounts/login/")


def test_members_of_the_clinic_see_everything(client, clinic, therapist_a, lead, four_sessions):
    for user in (therapist_a.user, lead):
        client.force_login(user)
        for url in _urls(clinic):
            assert client.get(url).status_code == 200, url


def test_another_clinics_therapist_gets_404_everywhere(client, clinic, therapist_b, four_sessions):
    client.force_login(therapist_b.user)
    for url in _urls(clinic):
        assert client.get(url).status_code == 404, url


def test_analytics_redirects_to_the_users_first_clinic(client, therapist_a):
    client.force_login(therapist_a.user)
    response = client.get(reverse("tracker:analytics_home"))
    assert response["Location"] == reverse("tracker:analytics", args=[therapist_a.clinic.pk])
    # A link with filters keeps them.
    response = client.get(reverse("tracker:analytics_home"), {"muscle": "soleus", "therapist": 7})
    assert response["Location"] == (
        reverse("tracker:analytics", args=[therapist_a.clinic.pk]) + "?muscle=soleus&therapist=7"
    )


def test_analytics_without_a_clinic_is_404(client, django_user_model):
    client.force_login(django_user_model.objects.create_user("loner", password="x" * 12))
    assert client.get(reverse("tracker:analytics_home")).status_code == 404


def test_unknown_chart_is_404(client, clinic, therapist_a):
    client.force_login(therapist_a.user)
    for name in ("tracker:analytics_chart", "tracker:analytics_csv"):
        assert client.get(reverse(name, args=[clinic.pk, "patients"])).status_code == 404


def test_a_therapist_from_another_clinic_is_a_form_error(
    client, clinic, therapist_a, therapist_b, four_sessions
):
    client.force_login(therapist_a.user)
    query = f"?therapist={therapist_b.user.pk}"
    response = client.get(reverse("tracker:analytics", args=[clinic.pk]) + query)
    assert response.status_code == 200
    assert "therapist" in response.context["form"].errors
    assert response.context["panels"] == []
    for url in _urls(clinic, query)[1:]:
        assert client.get(url).status_code == 400, url


def test_reversed_dates_are_a_form_error(client, clinic, therapist_a):
    client.force_login(therapist_a.user)
    response = client.get(
        reverse("tracker:analytics", args=[clinic.pk]) + "?date_from=2026-03-10&date_to=2026-03-01"
    )
    assert "date_to" in response.context["form"].errors


def _filters_form(page: str) -> str:
    """The filters' <form> of an analytics page."""
    start = page.index('<form method="get" novalidate>')
    return page[start : page.index("</form>", start)]


def test_the_filters_kept_rendered_are_those_rendered_afresh(
    client, clinic, therapist_a, therapist_b
):
    colleague = MembershipFactory(clinic=clinic, user__first_name="Mo").user
    client.force_login(therapist_a.user)
    url = reverse("tracker:analytics", args=[clinic.pk])
    queries = ["", f"?therapist={colleague.pk}&muscle=soleus", "?date_from=2026-03-01"]
    afresh = []
    for query in queries:
        afresh.append(_filters_form(client.get(url + query).content.decode()))
        caches["template_fragments"].clear()
    # Each query in turn, twice: the second time from the kept markup.
    for _round in range(2):
        for query, page in zip(queries, afresh, strict=True):
            response = client.get(url + query)
            assert _filters_form(response.content.decode()) == page
            key = make_template_fragment_key(
                "analytics_filters", ["en", response.context["form"].markup_digest]
            )
            assert caches["template_fragments"].get(key)
    assert f'<option value="{colleague.pk}" selected>Mo' in afresh[1]
    assert 'value="2026-03-01"' in afresh[2]

    # A therapist who joins the clinic is in the list at once.
    MembershipFactory(clinic=clinic, user__first_name="Noor")
    assert ">Noor" in _filters_form(client.get(url).content.decode())
    # Filters with an error are drawn afresh, their message beside the field.
    page = client.get(url + f"?therapist={therapist_b.user.pk}").content.decode()
    assert "Choose a therapist of this clinic." in _filters_form(page)


def test_filter_messages_sit_beside_their_fields(client, clinic, therapist_a, therapist_b):
    client.force_login(therapist_a.user)
    query = f"?date_from=2026-03-10&date_to=2026-03-01&therapist={therapist_b.user.pk}"
    html = client.get(reverse("tracker:analytics", args=[clinic.pk]) + query).content.decode()
    start = html.index('<form method="get"')
    form = html[start : html.index("</form>", start)]
    assert 'name="date_from"' in form
    # A GET form: no CSRF token to end up in the address.
    assert "csrfmiddlewaretoken" not in form
    for name, message in [
        ("date_to", "The end date is before the start date."),
        ("therapist", "Choose a therapist of this clinic."),
    ]:
        field = re.search(rf'<(?:input|select)[^>]*name="{name}"[^>]*>', form).group()
        assert "is-invalid" in field
        assert f'aria-describedby="id_{name}_error"' in field
        # From the field to the next field's wrapper.
        beside = form[form.index(field) :].split('<div id="div_id_')[0]
        assert f'<div id="id_{name}_error" class="invalid-feedback">' in beside
        assert message in beside
    date_from = re.search(r'<input[^>]*name="date_from"[^>]*>', form).group()
    assert "is-invalid" not in date_from and 'value="2026-03-10"' in date_from
    reset = reverse("tracker:analytics", args=[clinic.pk])
    assert f'<a class="btn btn-outline-secondary" href="{reset}">Reset</a>' in form
    assert '<button class="btn btn-primary" type="submit">Apply</button>' in form


@pytest.mark.parametrize(
    "query",
    ["date_from=0001-01-01", "date_to=9999-12-31", "date_to=soon", "therapist=abc", "muscle=heart"],
)
def test_odd_filter_values_are_form_errors_not_server_errors(client, clinic, therapist_a, query):
    client.force_login(therapist_a.user)
    response = client.get(reverse("tracker:analytics", args=[clinic.pk]) + "?" + query)
    assert response.status_code == 200
    assert response.context["form"].errors
    chart = reverse("tracker:analytics_chart", args=[clinic.pk, "rates"]) + "?" + query
    assert client.get(chart).status_code == 400


def test_default_range_is_the_last_90_days(client, clinic, therapist_a, time_machine):
    time_machine.move_to(datetime(2026, 6, 1, 12, 0, tzinfo=UTC), tick=False)
    client.force_login(therapist_a.user)
    form = client.get(reverse("tracker:analytics", args=[clinic.pk])).context["form"]
    assert (form.cleaned_data["date_from"], form.cleaned_data["date_to"]) == (
        date(2026, 3, 3),
        date(2026, 6, 1),
    )


# ---------------------------------------------------------------------------
# Views: page, tables and CSVs hold the same numbers


class _Tables(HTMLParser):
    """Rows of the page's tables: [[cell text, ...], ...] per table id (the panel's)."""

    def __init__(self):
        super().__init__()
        self.tables, self.section, self.row, self.cell = {}, None, None, None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "section" and attrs.get("id"):
            self.section = attrs["id"]
            self.tables[self.section] = []
        elif tag == "tr":
            self.row = []
        elif tag in ("td", "th") and self.row is not None:
            self.cell = ""

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self.cell is not None:
            self.row.append(" ".join(self.cell.split()))
            self.cell = None
        elif tag == "tr" and self.row is not None:
            self.tables[self.section].append(self.row)
            self.row = None

    def handle_data(self, data):
        if self.cell is not None:
            self.cell += data


def _numbers(cells):
    """Every number in some cells: '1 of 4', '4.6–69.9' -> two each, '3.0 (2.0–4.0; 5)'
    -> four; '–' -> '' (the CSV has an empty cell for each number the column holds)."""
    out = []
    for cell in cells:
        out += [""] if cell in ("", "–") else re.findall(r"\d+(?:\.\d+)?", cell)
    return out


def test_csv_holds_the_numbers_of_the_table_on_the_page(
    client, clinic, therapist_a, four_sessions, time_machine
):
    time_machine.move_to(MONDAY + timedelta(days=10), tick=False)
    client.force_login(therapist_a.user)
    page = client.get(reverse("tracker:analytics", args=[clinic.pk]))
    parser = _Tables()
    parser.feed(page.content.decode())
    for slug in CHARTS:
        response = client.get(
            reverse("tracker:analytics_csv", args=[clinic.pk, slug]),
            {"date_from": "2026-01-01", "date_to": "2026-03-12"},
        )
        assert response["Content-Type"].startswith("text/csv")
        assert response["Content-Disposition"].startswith('attachment; filename="')
        assert response["Content-Disposition"].endswith(f'-{slug}-2026-01-01-to-2026-03-12.csv"')
        header, *rows = list(csv.reader(io.StringIO(response.content.decode())))
        table_header, *table_rows = parser.tables[slug]
        assert header[0] == table_header[0]
        assert rows, slug
        assert len(rows) == len(table_rows), slug
        for csv_row, table_row in zip(rows, table_rows):
            assert csv_row[0] == table_row[0]
            assert len(csv_row) == len(header)
            assert [x for x in csv_row[1:] if x] == [x for x in _numbers(table_row[1:]) if x], slug
        assert "Zebediah" not in response.content.decode()


def test_rates_table_and_csv_by_hand(client, clinic, therapist_a, four_sessions, time_machine):
    time_machine.move_to(MONDAY + timedelta(days=10), tick=False)
    client.force_login(therapist_a.user)
    response = client.get(reverse("tracker:analytics_csv", args=[clinic.pk, "rates"]))
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows == [
        [
            "After-effect",
            "Sessions with it",
            "Sessions (n)",
            "Rate (%)",
            "95 % CI low (%)",
            "95 % CI high (%)",
            "Brady et al. 2014 (%)",
            "Boyce et al. 2020 (%)",
        ],
        ["Bruising", "1", "4", "25.0", "4.6", "69.9", "7.55", "7.7"],
        ["Bleeding", "2", "4", "50.0", "15.0", "85.0", "4.65", "16"],
        ["Original symptoms worse", "0", "4", "0.0", "0.0", "49.0", "0.88", ""],
        ["Any after-effect", "3", "4", "75.0", "30.1", "95.4", "19.18", "36.7"],
        ["Any warning sign", "0", "4", "0.0", "0.0", "49.0", "0.04", "0.1"],
    ]


def test_the_page_says_how_sessions_heard_from_only_through_warning_signs_count(
    client, clinic, therapist_a, patient_a, four_sessions, time_machine
):
    warned_only(patient_a, therapist_a, "rf_cough", hours=30)
    time_machine.move_to(MONDAY + timedelta(days=10), tick=False)
    client.force_login(therapist_a.user)
    page = client.get(reverse("tracker:analytics", args=[clinic.pk])).content.decode()
    assert (
        "1 more session, heard from only through warning signs sent between check-ins, "
        "counts in the rate of each after-effect it reported" in page
    )
    # The chart's text alternative and the table's caption say it too.
    note = "1 more, heard from only through warning signs, counts in the rate of each"
    alt = re.search(r'<section[^>]*id="rates".*?<img[^>]*alt="([^"]*)"', page, re.S).group(1)
    assert note in alt
    assert re.search(rf"<caption[^>]*>[^<]*{note}", page)
    response = client.get(reverse("tracker:analytics_csv", args=[clinic.pk, "rates"]))
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[1][:3] == ["Bruising", "1", "4"]
    assert rows[5][:4] == ["Any warning sign", "1", "5", "20.0"]


def test_page_shows_sources_and_charts(client, clinic, therapist_a, four_sessions, time_machine):
    time_machine.move_to(MONDAY + timedelta(days=10), tick=False)
    client.force_login(therapist_a.user)
    html = client.get(reverse("tracker:analytics", args=[clinic.pk])).content.decode()
    assert analytics.BRADY_2014.citation in html
    assert analytics.BOYCE_2020.citation in html
    for slug in CHARTS:
        assert f"/analytics/{slug}.svg?" in html
        assert f"/analytics/{slug}.csv?" in html
    assert html.count("<caption") == len(CHARTS)
    assert "Zebediah" not in html


def test_page_marks_the_72h_medians_of_the_slower_sessions(
    client, clinic, therapist_a, patient_a, frozen_now
):
    frozen_now(MONDAY + timedelta(days=10))
    sessions_sore_at_72h(
        patient=patient_a, therapist=therapist_a.user, count=analytics.MIN_72H_ANSWERS
    )
    client.force_login(therapist_a.user)
    html = client.get(reverse("tracker:analytics", args=[clinic.pk])).content.decode()
    for slug in ("soreness-by-muscle", "soreness-by-therapist"):
        panel = _panel(html, slug)
        assert "72 h (not settled at 48 h)" in panel  # the table's column
        assert "only sessions not settled at 48 h are asked then" in panel  # its footnote
        assert "Hollow points on a dotted line at 72 hours" in panel  # the chart's caption
        assert '4.0 <span class="text-body-secondary">(4.0–4.0; 10)</span>' in panel


def test_chart_is_svg_and_cached_until_its_numbers_change(
    client, clinic, therapist_a, four_sessions, time_machine, monkeypatch
):
    time_machine.move_to(MONDAY + timedelta(days=10), tick=False)
    monkeypatch.setattr(analytics.queries, "RESULTS_CACHE_SECONDS", 0)  # counted afresh each time
    calls = []
    real = charts.rates_chart
    monkeypatch.setattr(charts, "rates_chart", lambda *a, **k: calls.append(1) or real(*a, **k))
    client.force_login(therapist_a.user)
    url = reverse("tracker:analytics_chart", args=[clinic.pk, "rates"])

    first = client.get(url)
    assert first["Content-Type"] == "image/svg+xml"
    assert first.content.startswith(b"<?xml")
    assert client.get(url).content == first.content
    assert len(calls) == 1  # the second answer came from the cache

    answer(four_sessions[3], 24, after_effects=["aggravation"])
    changed = client.get(url)
    assert len(calls) == 2
    assert changed.content != first.content


def test_results_are_kept_for_a_few_minutes(
    client, clinic, therapist_a, four_sessions, time_machine, monkeypatch
):
    time_machine.move_to(MONDAY + timedelta(days=10), tick=False)
    counted = []

    def rates(filters):
        counted.append(filters)
        return analytics.rates(filters)

    spec = CHARTS["rates"]
    monkeypatch.setitem(CHARTS, "rates", dataclasses.replace(spec, data=rates))
    client.force_login(therapist_a.user)
    csv_url = reverse("tracker:analytics_csv", args=[clinic.pk, "rates"])

    first = client.get(csv_url).content
    answer(four_sessions[3], 24, after_effects=["aggravation"])
    page = client.get(reverse("tracker:analytics", args=[clinic.pk]))

    # The page, its charts and CSVs share one count of each result.
    assert client.get(csv_url).content == first
    assert len(counted) == 1
    assert "counted again every 5 minutes" in page.content.decode()
    cache.clear()  # as when the five minutes are up
    assert client.get(csv_url).content != first


def test_the_panels_are_drawn_again_only_when_what_they_show_changes(
    client, clinic, therapist_a, four_sessions, time_machine, monkeypatch
):
    time_machine.move_to(MONDAY + timedelta(days=10), tick=False)
    monkeypatch.setattr(analytics.queries, "RESULTS_CACHE_SECONDS", 0)  # counted afresh each time
    client.force_login(therapist_a.user)
    url = reverse("tracker:analytics", args=[clinic.pk])

    first = client.get(url)
    assert first.context["panels"]  # built and drawn
    again = client.get(url)
    assert again.context["panels"] == []  # the same results: the HTML drawn from them is kept
    for slug in CHARTS:
        assert _panel(again.content.decode(), slug) == _panel(first.content.decode(), slug)

    answer(four_sessions[3], 24, after_effects=["aggravation"])
    changed = client.get(url)
    assert changed.context["panels"]
    assert _panel(changed.content.decode(), "rates") != _panel(first.content.decode(), "rates")

    spanish = client.get(url, HTTP_ACCEPT_LANGUAGE="es")
    assert spanish.context["panels"]  # same numbers, other words: drawn for its language
    assert "Descargar CSV" in spanish.content.decode()
    filtered = client.get(url + f"?therapist={therapist_a.user.pk}")
    assert filtered.context["panels"]
    assert f"therapist={therapist_a.user.pk}" in _panel(filtered.content.decode(), "rates")


# ---------------------------------------------------------------------------
# Query counts: the same with 5 sessions and with 500


MUSCLES = [Muscle.UPPER_TRAPEZIUS, Muscle.GLUTEUS_MEDIUS, Muscle.INFRASPINATUS, Muscle.SOLEUS]


def bulk_sessions(*, clinic, therapists, count, start):
    """``count`` answered sessions written straight to the tables (no service, no alerts)."""
    patients = Patient.objects.bulk_create(
        [Patient(clinic=clinic, display_name=f"Bulk {i}") for i in range(max(1, count // 10))]
    )
    sessions = NeedlingSession.objects.bulk_create(
        [
            NeedlingSession(
                patient=patients[i % len(patients)],
                clinic=clinic,
                therapist=therapists[i % len(therapists)],
                performed_at=start + timedelta(hours=2 * i),
                pre_pain=5,
            )
            for i in range(count)
        ]
    )
    NeedledSite.objects.bulk_create(
        [
            NeedledSite(
                session=s,
                muscle=MUSCLES[i % len(MUSCLES)],
                side="left",
                insertions=3,
                technique=Technique.DEEP_PISTONING,
            )
            for i, s in enumerate(sessions)
        ]
    )
    follow_ups = FollowUp.objects.bulk_create(
        [
            FollowUp(
                session=s,
                clinic=clinic,
                time_point=tp,
                due_at=s.performed_at + timedelta(hours=tp),
                opens_at=s.performed_at + timedelta(hours=tp),
                closes_at=s.performed_at + timedelta(hours=tp + 12),
                answered_at=None if (i + tp) % 7 == 0 else s.performed_at + timedelta(hours=tp),
            )
            for i, s in enumerate(sessions)
            for tp in (TimePoint.IN_CLINIC, TimePoint.H24, TimePoint.H48)
        ]
    )
    SymptomReport.objects.bulk_create(
        [
            SymptomReport(
                follow_up=f,
                idempotency_key=uuid.uuid4(),
                soreness=(f.pk * 3) % 11,
                twitching="none",
                bruising=BruiseBand.UNDER_2_5 if f.pk % 9 == 0 else BruiseBand.NONE,
                interference="not_at_all",
                bleeding=f.pk % 13 == 0,
                submitted_at=f.due_at,
            )
            for f in follow_ups
            if f.answered_at is not None
        ]
    )
    # bulk_create skips the services: the outcome rows are counted here, as the seeds do.
    SessionOutcome.objects.recount([s.pk for s in sessions])
    # As any bulk load: let PostgreSQL's planner see the rows (autovacuum may have
    # analysed these tables while another test's few rows were in them).
    refresh_statistics()


# The login session and the user; the clinic; the clinic's staff (therapist filter).
BASE_QUERIES = 4


def chart_queries(slug):
    """What one chart counts, unless it was counted in the last few minutes (then
    nothing): one query; two for soreness by therapist (the sessions' outcomes,
    then the therapists' names); three for completion by week (its first week,
    the sessions whose follow-up is over, the check-ins of the others)."""
    return {"soreness-by-therapist": 2, "completion": 3}.get(slug, 1)


# The charts that count the outcome rows in Python read them once for the page.
SHARED_READ = ("soreness-by-muscle", "soreness-by-therapist")
# All the charts, and once which clinics the user leads (the "Audit" menu item).
PAGE_QUERIES = (
    BASE_QUERIES + sum(chart_queries(slug) for slug in CHARTS) - (len(SHARED_READ) - 1) + 1
)


def test_charts_counted_at_once_read_the_outcome_rows_once(
    clinic, therapist_a, patient_a, django_assert_num_queries
):
    for muscle, soreness in ((Muscle.SOLEUS, 4), (Muscle.DELTOID, 7), (Muscle.SOLEUS, 2)):
        answered_at_0h(patient_a, therapist_a, muscle, soreness)
    everything, soleus = Filters(clinic=clinic), Filters(clinic=clinic, muscle=Muscle.SOLEUS)
    shared = [analytics.soreness_by_muscle, analytics.soreness_by_therapist]
    alone = [(chart(everything), chart(soleus)) for chart in shared]

    # One read for each filters, and the therapists' names for each.
    with django_assert_num_queries(2 + 2), analytics.one_read():
        together = [(chart(everything), chart(soleus)) for chart in shared]
    assert together == alone
    assert [g.key for g in together[0][1].groups] == ["soleus"]
    # Outside it, each chart reads the rows again: a new answer shows at once.
    answer(
        make_session(patient=patient_a, therapist=therapist_a.user, performed_at=MONDAY),
        0,
    )
    with django_assert_num_queries(1):
        grown = analytics.soreness_by_muscle(everything)
    assert sum(g.n for g in grown.groups) > sum(g.n for g in alone[0][0].groups)


def test_query_counts_do_not_grow_with_sessions(
    client, clinic, therapist_a, django_assert_num_queries, time_machine
):
    # The clock stops: on a slow run a minute could pass between two pinned
    # requests, and the sign-in's once-a-minute session write add its queries.
    time_machine.move_to(clock.now(), tick=False)
    colleague = MembershipFactory(clinic=clinic).user
    therapists = [therapist_a.user, colleague]
    start = clock.now() - timedelta(days=60)
    client.force_login(therapist_a.user)
    query = {"therapist": "", "muscle": "", "technique": ""}

    def check_all(expected_sessions):
        assert analytics.sessions(Filters(clinic=clinic)).count() == expected_sessions
        page = reverse("tracker:analytics", args=[clinic.pk])
        cache.clear()
        with django_assert_num_queries(PAGE_QUERIES):
            response = client.get(page, query)
        assert response.status_code == 200
        with django_assert_num_queries(BASE_QUERIES + 1):
            client.get(page, query)
        for slug in CHARTS:
            for name in ("tracker:analytics_chart", "tracker:analytics_csv"):
                cache.clear()
                with django_assert_num_queries(BASE_QUERIES + chart_queries(slug)):
                    response = client.get(reverse(name, args=[clinic.pk, slug]), query)
                assert response.status_code == 200, (name, slug)
                with django_assert_num_queries(BASE_QUERIES):
                    client.get(reverse(name, args=[clinic.pk, slug]), query)

    bulk_sessions(clinic=clinic, therapists=therapists, count=5, start=start)
    check_all(5)
    bulk_sessions(clinic=clinic, therapists=therapists, count=495, start=start)
    check_all(500)

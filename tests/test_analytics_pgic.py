"""The patients' global impression of change (PGIC) on the analytics page:
distributions by muscle and by therapist recounted here from the answers
given, filters, one query each, the table, chart and CSV."""

import csv
import io
import random
from collections import Counter
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

import pytest
from django.urls import reverse

from tests.factories import MembershipFactory, PatientFactory, answer, make_session, site
from tracker import analytics
from tracker.analytics import Filters
from tracker.analytics.figures import CHARTS
from tracker.choices import Muscle, Pgic, Technique, TimePoint

pytestmark = pytest.mark.django_db

MONDAY = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
PGIC_HEADINGS = [
    "Very much better",
    "Much better",
    "A little better",
    "No change",
    "A little worse",
    "Much worse",
    "Very much worse",
    "Sessions (n)",
    "Much or very much better (%)",
]


def improved_share(counts: Counter) -> Decimal:
    """% much or very much better, rounded half up to one decimal as the page shows it."""
    n = sum(counts.values())
    share = Decimal(100 * (counts[1] + counts[2])) / Decimal(n)
    return share.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def distribution(result) -> dict:
    return {g.label: (g.counts, g.n, g.improved_percent) for g in result.groups}


def expected(by_group: dict) -> dict:
    return {
        label: (tuple(counts[p] for p in Pgic.values), sum(counts.values()), improved_share(counts))
        for label, counts in by_group.items()
    }


@pytest.fixture
def colleague(clinic_a):
    return MembershipFactory(clinic=clinic_a, user__first_name="Mo", user__last_name="Reyes").user


@pytest.fixture
def answered(clinic_a, therapist_a, colleague):
    """Sixty sessions with known answers; returns what was given, for recounting.

    Each is needled at one or two of three muscles (one muscle sometimes on
    both sides), answers PGIC at 48 h, and a fifth of them, not settled at 48 h,
    again at 72 h: that later answer is the session's. Some never answer it.
    """
    rng = random.Random(12)
    patient = PatientFactory(clinic=clinic_a)
    muscles = [Muscle.UPPER_TRAPEZIUS, Muscle.GLUTEUS_MEDIUS, Muscle.INFRASPINATUS]
    given = []
    for i in range(60):
        therapist = rng.choice([therapist_a.user, colleague])
        chosen = rng.sample(muscles, rng.choice([1, 1, 2]))
        sites = [site(muscle=m) for m in chosen]
        if rng.random() < 0.2:
            sites.append(site(muscle=chosen[0], side="right"))
        session = make_session(
            patient=patient,
            therapist=therapist,
            performed_at=MONDAY + timedelta(hours=i),
            sites=sites,
        )
        answer(session, TimePoint.IN_CLINIC)
        if rng.random() < 0.1:
            given.append((session, therapist, chosen, None))  # never reached 48 h
            continue
        again = rng.random() < 0.2
        first = rng.randint(1, 7)
        answer(session, TimePoint.H48, soreness=5 if again else 1, pgic=first)
        final = first
        if again:
            final = rng.randint(1, 7)
            answer(session, TimePoint.H72, soreness=1, pgic=final)
        given.append((session, therapist, chosen, final))
    return given


def recount(given, *, keep=lambda session, therapist, muscles: True):
    by_muscle, by_therapist = {}, {}
    for session, therapist, muscles, final in given:
        if final is None or not keep(session, therapist, muscles):
            continue
        for muscle in set(muscles):
            by_muscle.setdefault(str(Muscle(muscle).label), Counter())[final] += 1
        by_therapist.setdefault(therapist.get_full_name(), Counter())[final] += 1
    return by_muscle, by_therapist


def test_distributions_match_the_answers_given(clinic_a, answered):
    by_muscle, by_therapist = recount(answered)
    assert sum(sum(c.values()) for c in by_therapist.values()) >= 40  # most answered
    assert any(final for *_rest, final in answered if final and final >= 5)  # worse ones too
    assert distribution(analytics.pgic_by_muscle(Filters(clinic=clinic_a))) == expected(by_muscle)
    assert distribution(analytics.pgic_by_therapist(Filters(clinic=clinic_a))) == expected(
        by_therapist
    )


def test_only_the_last_answer_of_a_session_counts(clinic_a, therapist_a, patient_a):
    session = make_session(patient=patient_a, therapist=therapist_a.user, performed_at=MONDAY)
    answer(session, TimePoint.H48, soreness=6, pgic=Pgic.VERY_MUCH_BETTER)
    answer(session, TimePoint.H72, soreness=1, pgic=Pgic.MUCH_WORSE)
    (group,) = analytics.pgic_by_therapist(Filters(clinic=clinic_a)).groups
    assert (group.counts, group.n, group.improved) == ((0, 0, 0, 0, 0, 1, 0), 1, 0)


def test_filters_apply(clinic_a, therapist_a, colleague, answered):
    trapezius = Filters(clinic=clinic_a, muscle=Muscle.UPPER_TRAPEZIUS)
    by_muscle, by_therapist = recount(
        answered, keep=lambda s, t, muscles: Muscle.UPPER_TRAPEZIUS in muscles
    )
    # A muscle filter keeps the sessions with that muscle, and only its groups.
    assert distribution(analytics.pgic_by_muscle(trapezius)) == expected(
        {str(Muscle.UPPER_TRAPEZIUS.label): by_muscle[str(Muscle.UPPER_TRAPEZIUS.label)]}
    )
    assert distribution(analytics.pgic_by_therapist(trapezius)) == expected(by_therapist)

    mine = Filters(clinic=clinic_a, therapist=colleague.pk)
    by_muscle, by_therapist = recount(answered, keep=lambda s, t, m: t == colleague)
    assert distribution(analytics.pgic_by_muscle(mine)) == expected(by_muscle)
    assert list(distribution(analytics.pgic_by_therapist(mine))) == ["Mo Reyes"]

    # Sessions on the first day only (the clinic's day: London, GMT in March).
    first_day = Filters(clinic=clinic_a, date_from=MONDAY.date(), date_to=MONDAY.date())
    by_muscle, by_therapist = recount(
        answered, keep=lambda s, t, m: s.performed_at.date() == MONDAY.date()
    )
    assert distribution(analytics.pgic_by_therapist(first_day)) == expected(by_therapist)
    assert distribution(analytics.pgic_by_muscle(first_day)) == expected(by_muscle)

    no_technique = Filters(clinic=clinic_a, technique=Technique.SUPERFICIAL)
    assert analytics.pgic_by_muscle(no_technique).groups == ()
    assert analytics.pgic_by_therapist(no_technique).groups == ()


def test_another_clinics_answers_never_count(clinic_a, therapist_b):
    other = make_session(
        patient=PatientFactory(clinic=therapist_b.clinic),
        therapist=therapist_b.user,
        performed_at=MONDAY,
    )
    answer(other, TimePoint.H48, soreness=1, pgic=Pgic.MUCH_BETTER)
    assert analytics.pgic_by_muscle(Filters(clinic=clinic_a)).groups == ()
    assert analytics.pgic_by_therapist(Filters(clinic=clinic_a)).groups == ()
    assert analytics.pgic_by_therapist(Filters(clinic=therapist_b.clinic)).groups[0].n == 1


def test_each_distribution_reads_one_row_per_session(clinic_a, answered, django_assert_num_queries):
    with django_assert_num_queries(1):  # the sessions' answers, with their sites
        analytics.pgic_by_muscle(Filters(clinic=clinic_a))
    with django_assert_num_queries(1):
        analytics.pgic_by_therapist(Filters(clinic=clinic_a))


def test_the_most_answered_groups_are_kept(clinic_a, therapist_a, patient_a):
    muscles = list(Muscle)[:4]
    for i, muscle in enumerate(muscles):
        for _ in range(i + 1):
            session = make_session(
                patient=patient_a,
                therapist=therapist_a.user,
                performed_at=MONDAY,
                sites=[site(muscle=muscle)],
            )
            answer(session, TimePoint.H48, soreness=1, pgic=Pgic.NO_CHANGE)
    result = analytics.pgic_by_muscle(Filters(clinic=clinic_a), limit=2)
    assert [g.key for g in result.groups] == [muscles[3], muscles[2]]
    assert result.hidden == 2
    table = CHARTS["pgic-by-muscle"].table(result)
    assert [label for label, _cells in table.rows] == [str(m.label) for m in muscles[:1:-1]]
    svg = CHARTS["pgic-by-muscle"].svg(result, "PGIC").decode()
    assert "2 more muscles with fewer answers not drawn" in svg


def test_csv_columns_and_rows(client, clinic_a, therapist_a, answered, time_machine):
    time_machine.move_to(MONDAY + timedelta(days=10), tick=False)
    client.force_login(therapist_a.user)
    _by_muscle, by_therapist = recount(answered)
    response = client.get(
        reverse("tracker:analytics_csv", args=[clinic_a.pk, "pgic-by-therapist"]),
        {"date_from": "2026-03-01", "date_to": "2026-03-12"},
    )
    header, *rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert header == ["Therapist", *PGIC_HEADINGS]
    want = expected(by_therapist)
    assert {row[0] for row in rows} == set(want)
    for row in rows:
        counts, n, share = want[row[0]]
        assert row[1:] == [*map(str, counts), str(n), str(share)]

    response = client.get(reverse("tracker:analytics_csv", args=[clinic_a.pk, "pgic-by-muscle"]))
    header = next(csv.reader(io.StringIO(response.content.decode())))
    assert header == ["Muscle", *PGIC_HEADINGS]


def test_page_shows_the_distributions(client, clinic_a, therapist_a, answered, time_machine):
    time_machine.move_to(MONDAY + timedelta(days=10), tick=False)
    client.force_login(therapist_a.user)
    html = client.get(reverse("tracker:analytics", args=[clinic_a.pk])).content.decode()
    for slug in ("pgic-by-muscle", "pgic-by-therapist"):
        assert f'id="{slug}"' in html
        assert f"/analytics/{slug}.svg?" in html
    assert "Global impression of change by muscle" in html
    assert "Much or very much better (%)" in html
    assert "Farrar 2001" in html


def test_chart_draws_a_bar_per_group_and_the_seven_answers(clinic_a, answered):
    result = analytics.pgic_by_therapist(Filters(clinic=clinic_a))
    svg = CHARTS["pgic-by-therapist"].svg(result, "PGIC").decode()
    for group in result.groups:
        assert f"{group.label} (n = {group.n})" in svg
    for label in Pgic.labels:
        assert str(label) in svg
    empty = (
        CHARTS["pgic-by-therapist"]
        .svg(analytics.pgic_by_therapist(Filters(clinic=clinic_a, therapist=-1)), "PGIC")
        .decode()
    )
    assert "No answered check-ins match these filters" in empty
    assert "Very much better" not in empty

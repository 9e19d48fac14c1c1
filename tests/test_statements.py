"""Queries compiled once and run with each request's values (tracker.queries.rows)."""

from datetime import UTC, datetime, timedelta

import pytest
from django.db.models.expressions import RawSQL

from tests.factories import ClinicFactory, MembershipFactory, PatientFactory, make_session
from tracker import clock
from tracker.models import AccessLink, FollowUp, NeedlingSession, Patient
from tracker.queries import dashboard
from tracker.queries.rows import Statement

pytestmark = pytest.mark.django_db

COLUMNS = ("pk", "session_id", "time_point", "opens_at", "closes_at", "session__performed_at")


def _late(clinics, therapist, now):
    """A query with a list, an optional value and a time at an offset (``late_at``)."""
    follow_ups = FollowUp.objects.in_clinics(clinics).late_at(now)
    if therapist is not None:
        follow_ups = follow_ups.filter(session__therapist=therapist)
    return follow_ups.order_by("closes_at", "pk").values_list(*COLUMNS)


def test_a_statement_reads_what_its_query_reads_whatever_the_values(therapist_a, therapist_b):
    start = datetime(2026, 3, 10, 9, 0, tzinfo=UTC)
    for membership in (therapist_a, therapist_b):
        for hours in range(0, 30, 3):
            make_session(
                patient=PatientFactory(clinic=membership.clinic),
                therapist=membership.user,
                performed_at=start + timedelta(hours=hours),
            )
    late = Statement(_late)
    clinics = [therapist_a.clinic.pk, therapist_b.clinic.pk]
    seen = set()
    for hours in range(0, 60, 5):
        now = start + timedelta(hours=hours)
        for values in (
            {"clinics": clinics, "therapist": None, "now": now},
            {"clinics": clinics[:1], "therapist": None, "now": now},
            {"clinics": clinics[1:], "therapist": therapist_b.user.pk, "now": now},
        ):
            rows = late.rows(**values)
            assert rows == list(_late(**values))
            seen.update(row[0] for row in rows)
    # Three shapes (lists of one and two, a therapist or none), each made once.
    assert len(late.made) == 3
    # Rows at all, from both clinics, times converted as values_list converts them.
    assert FollowUp.objects.filter(pk__in=seen).values("clinic").distinct().count() == 2
    assert all(row[3].tzinfo is not None for row in late.rows(**values))


@pytest.mark.parametrize(
    ("build", "values"),
    [
        # A day's start: the value's date kept, its time dropped.
        (
            lambda now: FollowUp.objects.filter(
                opens_at__gte=clock.day_start(now.date(), UTC)
            ).values_list("pk"),
            {"now": datetime(2026, 3, 10, 12, tzinfo=UTC)},
        ),
        # A number made from a value.
        (
            lambda clinic: FollowUp.objects.filter(clinic=clinic + 1).values_list("pk"),
            {"clinic": 1},
        ),
    ],
)
def test_a_value_computed_other_than_by_a_fixed_offset_is_refused(build, values):
    with pytest.raises(ValueError, match="pass it as a value of its own"):
        Statement(build).rows(**values)


def test_today_is_each_clinics_own_day_when_its_clocks_change(therapist_a, frozen_now):
    """One member of two clinics, on the day London's clocks go forward (23 hours
    long) and in New York: each clinic's sessions of its own day, and no others."""
    new_york = ClinicFactory(time_zone="America/New_York")
    MembershipFactory(clinic=new_york, user=therapist_a.user)
    london = therapist_a.clinic
    now = frozen_now(datetime(2026, 3, 29, 23, 30, tzinfo=london.zone))
    times = {
        # London's day: 00:00 GMT to 00:00 BST, 23 hours.
        london: [
            "2026-03-28T23:59Z",
            "2026-03-29T00:01Z",
            "2026-03-29T22:59Z",
            "2026-03-29T23:01Z",
        ],
        # New York's: 2026-03-29 from 04:00 UTC (EDT) to 2026-03-30 04:00 UTC.
        new_york: ["2026-03-29T03:59Z", "2026-03-29T04:01Z"],
    }
    made = {
        clinic: [
            make_session(
                patient=PatientFactory(clinic=clinic),
                therapist=therapist_a.user,
                performed_at=datetime.fromisoformat(moment),
            )
            for moment in moments
        ]
        for clinic, moments in times.items()
    }
    sections = dashboard.for_user(therapist_a.user, now)
    expected = NeedlingSession.objects.filter(
        pk__in=[made[london][1].pk, made[london][2].pk, made[new_york][1].pk]
    ).order_by("-performed_at")
    assert [line.pk for line in sections["today"].items] == [session.pk for session in expected]
    assert sections["today"].count == 3


def test_a_statement_that_can_match_nothing_reads_nothing(session_a):
    in_clinics = Statement(lambda clinics: FollowUp.objects.in_clinics(clinics).values_list("pk"))
    assert in_clinics.rows(clinics=[]) == []
    assert in_clinics.rows(clinics=[session_a.clinic_id])


def test_a_statements_models_come_with_what_select_related_brings(
    session_a, django_assert_num_queries
):
    links = Statement(
        lambda token_hash: AccessLink.objects.select_related("session__patient__clinic").filter(
            token_hash=token_hash
        )
    )
    link = session_a.access_links.get()
    with django_assert_num_queries(1):
        (found,) = links.models(token_hash=link.token_hash)
        assert (found.pk, found.created_at, found.session.patient.clinic.time_zone) == (
            link.pk,
            link.created_at,
            session_a.patient.clinic.time_zone,
        )
    assert links.models(token_hash=link.token_hash[::-1]) == []


def test_a_percent_sign_in_a_value_or_in_the_sql_is_read_as_itself(clinic_a):
    """Statements name their parameters (%(p0)s): a "%" in a value is a value,
    and one the SQL holds itself (written "%%" in Django's SQL) stays one "%"."""
    for name in ("50% off", "Plain", "100%% sure", "%s"):
        PatientFactory(clinic=clinic_a, display_name=name)

    def by_name(name):
        return Patient.objects.filter(display_name=name).values_list(
            "display_name", RawSQL("'%%s and %%'", ())
        )

    statement = Statement(by_name)
    for name in ("50% off", "Plain", "100%% sure", "%s", "%"):
        assert statement.rows(name=name) == list(by_name(name))
    assert statement.rows(name="100%% sure") == [("100%% sure", "%s and %")]

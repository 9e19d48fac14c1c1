"""Each session's outcome row: written with whatever changes it, and equal to a recount."""

import io
import uuid
from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.db.models import Max
from django.test.utils import CaptureQueriesContext

from tests.factories import answer, answers, make_session, site
from tracker import clock, reminders, services
from tracker.analytics.queries import EFFECTS
from tracker.choices import (
    AfterEffect,
    BruiseBand,
    Muscle,
    Pgic,
    RedFlag,
    Side,
    Technique,
    TimePoint,
)
from tracker.models import NeedlingSession, SessionOutcome, SymptomReport
from tracker.models.statistics import AFTER_EFFECTS, CHECK_IN_FIELDS, EFFECT_FIELDS, after_effects

pytestmark = pytest.mark.django_db

NOTHING_YET = {
    "answers": 0,
    "bruising": False,
    "bleeding": False,
    "aggravation": False,
    "any_minor": False,
    "warning_sign": False,
    "soreness_0h": None,
    "soreness_6h": None,
    "soreness_24h": None,
    "soreness_48h": None,
    "soreness_72h": None,
    "pgic": None,
}


def outcome(session) -> dict:
    return SessionOutcome.objects.filter(session=session).values(*NOTHING_YET, "last_close").get()


def last_close(session):
    return session.follow_ups.aggregate(last=Max("closes_at"))["last"]


def every_outcome() -> list[dict]:
    return list(SessionOutcome.objects.order_by("session").values())


def test_a_session_recorded_has_its_outcome_with_nothing_answered(session_a):
    assert outcome(session_a) == {**NOTHING_YET, "last_close": last_close(session_a)}


def test_each_answer_is_in_the_outcome_as_it_is_stored(session_a):
    answer(session_a, TimePoint.IN_CLINIC, soreness=6)
    assert outcome(session_a) == {
        **NOTHING_YET,
        "answers": 1,
        "soreness_0h": 6,
        "last_close": last_close(session_a),
    }
    answer(
        session_a,
        TimePoint.H24,
        soreness=3,
        bruising=BruiseBand.UNDER_2_5,
        after_effects=[AfterEffect.HEADACHE],
    )
    assert outcome(session_a) == {
        **NOTHING_YET,
        "answers": 2,
        "soreness_0h": 6,
        "soreness_24h": 3,
        "bruising": True,
        "any_minor": True,
        "last_close": last_close(session_a),
    }


def test_bleeding_that_does_not_stop_is_bleeding_and_a_warning_sign(session_a):
    answer(session_a, TimePoint.IN_CLINIC, soreness=2, red_flags=[RedFlag.HEAVY_BLEEDING])
    row = outcome(session_a)
    assert (row["bleeding"], row["warning_sign"], row["any_minor"]) == (True, True, True)
    assert (row["bruising"], row["aggravation"]) == (False, False)


def test_a_48h_answer_not_settled_moves_the_last_close_to_the_72h_check_in(session_a):
    before = last_close(session_a)
    answer(session_a, TimePoint.H24, soreness=6)
    answer(session_a, TimePoint.H48, soreness=5, pgic=Pgic.A_LITTLE_BETTER)
    seventy_two = session_a.follow_ups.get(time_point=TimePoint.H72)
    assert outcome(session_a)["last_close"] == seventy_two.closes_at > before
    # Asked again at 72 h, the later impression is the one that counts.
    answer(session_a, TimePoint.H72, soreness=2, pgic=Pgic.MUCH_BETTER)
    assert outcome(session_a)["pgic"] == Pgic.MUCH_BETTER
    assert outcome(session_a)["soreness_72h"] == 2


def test_a_48h_check_in_missed_after_unsettled_24h_moves_the_last_close_too(
    session_a, time_machine
):
    answer(session_a, TimePoint.H24, soreness=6)
    missed = session_a.follow_ups.get(time_point=TimePoint.H48)
    time_machine.move_to(missed.closes_at + timedelta(minutes=1), tick=False)
    reminders.mark_missed()
    seventy_two = session_a.follow_ups.get(time_point=TimePoint.H72)
    assert outcome(session_a)["last_close"] == seventy_two.closes_at
    asked = SessionOutcome.objects.get(session=session_a).asked
    assert asked == asked_bits(session_a) and asked & SessionOutcome.asked_bit(TimePoint.H72)


def test_stored_outcomes_equal_a_recount_from_the_reports(patient_a, therapist_a, monkeypatch):
    for i in range(5):
        session = make_session(patient=patient_a, therapist=therapist_a.user)
        answer(session, TimePoint.IN_CLINIC, soreness=i + 3)
        if i % 2:
            answer(session, TimePoint.H24, soreness=i + 2, after_effects=[AfterEffect.AGGRAVATION])
        if i == 4:
            answer(session, TimePoint.H48, soreness=5, red_flags=[RedFlag.BREATHING])
    stored = every_outcome()
    assert len(stored) == 5

    SessionOutcome.objects.all().delete()
    monkeypatch.setattr(SessionOutcome.objects, "batch", 2)  # three batches
    assert SessionOutcome.objects.recount_all(NeedlingSession.objects.all()) == 5
    assert every_outcome() == stored


def test_a_clinic_seeded_in_bulk_has_every_outcome():
    call_command("seed_scale", "--patients", "20", "--therapists", "2", verbosity=0)
    stored = every_outcome()
    assert len(stored) == NeedlingSession.objects.count() > 0
    assert any(row["answers"] for row in stored)
    SessionOutcome.objects.all().delete()
    SessionOutcome.objects.recount_all(NeedlingSession.objects.all())
    assert every_outcome() == stored


@pytest.mark.django_db(transaction=True)
def test_the_migration_counts_the_sessions_recorded_before_it(patient_a, therapist_a):
    session = make_session(patient=patient_a, therapist=therapist_a.user)
    answer(session, TimePoint.IN_CLINIC, soreness=7, bruising=BruiseBand.FROM_2_5_TO_5)
    expected = every_outcome()
    latest = MigrationExecutor(connection).loader.graph.leaf_nodes("tracker")
    try:
        MigrationExecutor(connection).migrate([("tracker", "0015_soreness_counts")])
        MigrationExecutor(connection).migrate([("tracker", "0016_session_outcome")])
        rows = list(
            MigrationExecutor(connection)
            .loader.project_state(("tracker", "0016_session_outcome"))
            .apps.get_model("tracker", "SessionOutcome")
            .objects.order_by("session")
            .values()
        )
    finally:
        MigrationExecutor(connection).migrate(latest)
    # Which check-ins were asked came with migration 0018 (below).
    assert rows == [{k: v for k, v in row.items() if k != "asked"} for row in expected]
    assert rows[0]["soreness_0h"] == 7 and rows[0]["bruising"]


def asked_bits(session) -> int:
    """``SessionOutcome.asked`` of ``session`` counted from its follow-ups."""
    return sum(
        SessionOutcome.asked_bit(hours)
        for hours in session.follow_ups.filter(asked=True).values_list("time_point", flat=True)
    )


def test_a_session_recorded_late_has_only_its_asked_check_ins_in_its_outcome(patient_a):
    # Recorded 40 h after it: the 24 h check-in's window closed at 36 h.
    performed_at = clock.now() - timedelta(hours=40)
    session = make_session(patient=patient_a, performed_at=performed_at, recorded_at=clock.now())
    asked = SessionOutcome.objects.get(session=session).asked
    assert asked == asked_bits(session)
    assert asked & SessionOutcome.asked_bit(TimePoint.IN_CLINIC)
    assert asked & SessionOutcome.asked_bit(TimePoint.H48)
    assert not asked & SessionOutcome.asked_bit(TimePoint.H24)


@pytest.mark.django_db(transaction=True)
def test_migration_0018_fills_in_the_check_ins_asked(patient_a, therapist_a):
    late = make_session(
        patient=patient_a,
        therapist=therapist_a.user,
        performed_at=clock.now() - timedelta(hours=40),
        recorded_at=clock.now(),
    )
    on_time = make_session(patient=patient_a, therapist=therapist_a.user)
    answer(on_time, TimePoint.IN_CLINIC)
    expected = every_outcome()
    asked = {row["session_id"]: row["asked"] for row in expected}
    assert asked == {late.pk: asked_bits(late), on_time.pk: asked_bits(on_time)}
    assert asked_bits(late) != asked_bits(on_time)
    latest = MigrationExecutor(connection).loader.graph.leaf_nodes("tracker")
    try:
        MigrationExecutor(connection).migrate([("tracker", "0017_analytics_covering_indexes")])
    finally:
        MigrationExecutor(connection).migrate(latest)
    assert every_outcome() == expected


def quiet_report(**answers) -> dict:
    return {"bruising": BruiseBand.NONE, **dict.fromkeys(EFFECT_FIELDS[1:], False), **answers}


@pytest.mark.parametrize("effect", AfterEffect.values)
def test_each_after_effect_asked_is_an_after_effect(effect):
    found = after_effects(quiet_report(**{effect: True}))
    assert found["any_minor"] and not found["warning_sign"] and not found["bruising"]
    assert found["bleeding"] == (effect == AfterEffect.BLEEDING)
    assert found["aggravation"] == (effect == AfterEffect.AGGRAVATION)


@pytest.mark.parametrize("sign", RedFlag.values)
def test_each_warning_sign_is_one_and_only_heavy_bleeding_is_bleeding(sign):
    found = after_effects(quiet_report(**{sign: True}))
    assert found["warning_sign"]
    assert found["bleeding"] == found["any_minor"] == (sign == RedFlag.HEAVY_BLEEDING)


def test_a_report_without_after_effects_has_none():
    assert not any(after_effects(quiet_report()).values())
    assert after_effects(quiet_report(bruising=BruiseBand.FROM_5_TO_10)) == {
        **dict.fromkeys(after_effects(quiet_report()), False),
        "bruising": True,
        "any_minor": True,
    }


def test_the_rates_count_every_after_effect_an_outcome_holds():
    assert [key for key, _label in EFFECTS] == list(AFTER_EFFECTS)


def test_the_outcome_holds_its_sessions_clinic_time_and_therapist(session_a):
    row = SessionOutcome.objects.values("clinic", "performed_at", "therapist").get()
    assert row == {
        "clinic": session_a.clinic_id,
        "performed_at": session_a.performed_at,
        "therapist": session_a.therapist_id,
    }


def test_a_session_entered_in_error_is_marked_so_in_its_outcome(session_a, lead_a):
    services.mark_entered_in_error(session=session_a, user=lead_a.user, reason="Wrong patient")
    assert SessionOutcome.objects.get().entered_in_error


def test_the_outcome_holds_each_muscle_and_technique_once_and_follows_corrections(
    patient_a, therapist_a
):
    session = make_session(
        patient=patient_a,
        therapist=therapist_a.user,
        sites=[
            site(muscle=Muscle.GASTROCNEMIUS, side=Side.LEFT),
            site(muscle=Muscle.GASTROCNEMIUS, side=Side.RIGHT),
            site(muscle=Muscle.GLUTEUS_MEDIUS, technique=Technique.SUPERFICIAL),
        ],
    )
    assert SessionOutcome.objects.get().sites == (
        "gastrocnemius:deep_pistoning gluteus_medius:superficial"
    )
    gluteus = session.sites.get(muscle=Muscle.GLUTEUS_MEDIUS)
    services.correct_session(
        session=session,
        user=therapist_a.user,
        fields={},
        sites=[{"id": gluteus.pk, "technique": Technique.DEEP_PISTONING}],
    )
    assert SessionOutcome.objects.get().sites == (
        "gastrocnemius:deep_pistoning gluteus_medius:deep_pistoning"
    )


def test_the_command_counts_again_what_changed_outside_the_app(patient_a, therapist_a):
    recent = make_session(patient=patient_a, therapist=therapist_a.user)
    old = make_session(
        patient=patient_a,
        therapist=therapist_a.user,
        performed_at=clock.now() - timedelta(days=30),
    )
    report = answer(recent, TimePoint.IN_CLINIC, soreness=8)
    answer(old, TimePoint.IN_CLINIC, soreness=8)
    # As an upgrade's old code would: a report changed, its row not counted again.
    SymptomReport.objects.filter(pk=report.pk).update(soreness=1)
    SessionOutcome.objects.filter(session=old).update(soreness_0h=None)

    out = io.StringIO()
    call_command("recount_outcomes", "--days", "7", stdout=out)
    assert "Counted the outcome of 1 session" in out.getvalue()
    assert outcome(recent)["soreness_0h"] == 1
    assert outcome(old)["soreness_0h"] is None  # older than 7 days: left alone

    call_command("recount_outcomes", stdout=out)
    assert outcome(old)["soreness_0h"] == 8
    with pytest.raises(CommandError):
        call_command("recount_outcomes", "--days", "0")


def test_a_check_in_counts_every_field_its_check_ins_decide():
    copies = {"session", "clinic", "performed_at", "entered_in_error", "therapist", "sites"}
    fields = {field.name for field in SessionOutcome._meta.concrete_fields}
    assert set(CHECK_IN_FIELDS) == fields - copies


def test_a_check_in_on_a_session_without_its_row_counts_it_in_full(session_a):
    SessionOutcome.objects.all().delete()
    answer(session_a, TimePoint.IN_CLINIC, soreness=4)
    assert outcome(session_a)["soreness_0h"] == 4
    assert SessionOutcome.objects.get().sites == "gluteus_medius:deep_pistoning"


def recounted(session) -> dict:
    """The session's row as ``recount`` writes it from its reports."""
    SessionOutcome.objects.recount([session.pk])
    return outcome(session)


@pytest.mark.parametrize(
    "given",
    [
        {"soreness": 0},
        {"soreness": 7, "bruising": BruiseBand.FROM_5_TO_10},
        {"soreness": 2, "after_effects": [AfterEffect.BLEEDING, AfterEffect.NAUSEA]},
        {"soreness": 3, "after_effects": [AfterEffect.AGGRAVATION]},
        {"soreness": 4, "red_flags": [RedFlag.HEAVY_BLEEDING]},
        {"soreness": 1, "red_flags": [RedFlag.BREATHING]},
    ],
)
def test_each_report_counted_in_place_equals_a_recount(session_a, given):
    # After-effects told at 0 h, none at 24 h (the session keeps them), again at 48 h.
    for time_point, told in [
        (TimePoint.IN_CLINIC, given),
        (TimePoint.H24, {"soreness": 2}),
        (TimePoint.H48, {**given, "pgic": Pgic.A_LITTLE_BETTER}),
    ]:
        answer(session_a, time_point, **told)
        counted = outcome(session_a)
        assert counted == recounted(session_a)
    assert counted["answers"] == 3


def test_a_check_in_updates_its_outcome_row_without_reading_it(session_a):
    follow_up = session_a.follow_ups.get(time_point=TimePoint.IN_CLINIC)
    with CaptureQueriesContext(connection) as queries:
        services.submit_report(
            follow_up=follow_up,
            idempotency_key=uuid.uuid4(),
            answers=answers(soreness=5),
            now=follow_up.due_at,
        )
    statements = [
        query["sql"]
        for query in queries
        if not query["sql"].startswith(("SAVEPOINT", "RELEASE", "BEGIN", "COMMIT"))
    ]
    # The check-in locked, its report stored, the check-in marked answered,
    # the outcome row updated: nothing read for the row.
    assert len(statements) == 4
    assert [sql for sql in statements if "sessionoutcome" in sql] == [statements[-1]]
    assert statements[-1].startswith("UPDATE")
    assert outcome(session_a)["soreness_0h"] == 5


def test_an_impression_counted_after_a_later_ones_leaves_the_later_one(session_a):
    # The 24-hour check-in answered first, the in-clinic one after it (its
    # window still open): the latest check-in's impression is the one that counts.
    answer(session_a, TimePoint.H24, soreness=2, pgic=Pgic.MUCH_BETTER)
    answer(session_a, TimePoint.IN_CLINIC, soreness=5, pgic=Pgic.A_LITTLE_BETTER)
    counted = outcome(session_a)
    assert counted["pgic"] == Pgic.MUCH_BETTER
    assert counted == recounted(session_a)

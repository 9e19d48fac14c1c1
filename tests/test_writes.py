"""Writes made into SQL once (tracker.queries.writes): the rows the ORM would write."""

import uuid

import pytest
from django.db import IntegrityError, connection, transaction
from django.db.models import F, signals
from django.forms.models import model_to_dict
from django.test.utils import CaptureQueriesContext

from tests.factories import make_session
from tracker import clock
from tracker.choices import TimePoint
from tracker.models import Alert, AlertRule, FollowUp, SessionOutcome, Severity, SymptomReport
from tracker.queries.writes import Insert, Update

pytestmark = pytest.mark.django_db


def _report(follow_up, **overrides):
    fields = {
        "follow_up": follow_up,
        "idempotency_key": uuid.uuid4(),
        "soreness": 6,
        "twitching": "mild",
        "bruising": "2.5-5",
        "bruise_growing": True,
        "interference": "a_little",
        "local_reaction": None,
        "note": "Sore on the stairs, ça va",
        "submitted_at": clock.now(),
    }
    return SymptomReport(**(fields | overrides))


def _stored(report):
    """Every column of the report as the database holds it."""
    return model_to_dict(SymptomReport.objects.get(pk=report.pk))


def test_insert_stores_the_row_save_would_store(session_a):
    by_orm, by_insert = (session_a.follow_ups.get(time_point=tp) for tp in (0, 24))
    saved = _report(by_orm, headache=True, rf_cough=True)
    saved.save()
    inserted = _report(by_insert, headache=True, rf_cough=True)
    Insert(SymptomReport).save(inserted)

    assert inserted.pk is not None and inserted.pk != saved.pk
    assert not inserted._state.adding and inserted._state.db == "default"
    expected = _stored(saved)
    for differs in ("id", "follow_up", "idempotency_key", "submitted_at"):
        del expected[differs]
    got = _stored(inserted)
    assert {name: got[name] for name in expected} == expected
    assert got["follow_up"] == by_insert.pk
    assert SymptomReport.objects.get(pk=inserted.pk).submitted_at == inserted.submitted_at


def test_insert_is_one_statement_and_sends_the_save_signals(session_a):
    follow_up = session_a.follow_ups.get(time_point=0)
    seen = []

    def receiver(signal, sender, instance, **kwargs):
        seen.append((signal, instance.pk is None, kwargs.get("created")))

    signals.pre_save.connect(receiver, sender=SymptomReport)
    signals.post_save.connect(receiver, sender=SymptomReport)
    try:
        with CaptureQueriesContext(connection) as queries:
            Insert(SymptomReport).save(_report(follow_up))
    finally:
        signals.pre_save.disconnect(receiver, sender=SymptomReport)
        signals.post_save.disconnect(receiver, sender=SymptomReport)
    assert len(queries) == 1
    assert seen == [(signals.pre_save, True, None), (signals.post_save, False, True)]


def test_insert_refuses_a_stored_row_and_an_expression(session_a):
    follow_up = session_a.follow_ups.get(time_point=0)
    stored = _report(follow_up)
    stored.save()
    with pytest.raises(ValueError, match="new SymptomReport"):
        Insert(SymptomReport).save(stored)
    with pytest.raises(TypeError, match="plain values"):
        Insert(SymptomReport).save(
            _report(session_a.follow_ups.get(time_point=24), soreness=F("id"))
        )
    assert SymptomReport.objects.count() == 1


def test_an_insert_that_breaks_a_constraint_stores_nothing(session_a):
    first = _report(session_a.follow_ups.get(time_point=0))
    Insert(SymptomReport).save(first)
    again = _report(session_a.follow_ups.get(time_point=24), idempotency_key=first.idempotency_key)
    with pytest.raises(IntegrityError), transaction.atomic():
        Insert(SymptomReport).save(again)
    assert list(SymptomReport.objects.values_list("pk", flat=True)) == [first.pk]


def test_update_sets_its_fields_on_one_row_only(patient_a, therapist_a):
    one, other = (make_session(patient=patient_a, therapist=therapist_a.user) for _ in range(2))
    mark = Update(FollowUp, ["answered_at"])
    follow_up = one.follow_ups.get(time_point=TimePoint.H24)
    now = clock.now()

    with CaptureQueriesContext(connection) as queries:
        changed = mark.run(follow_up.pk, answered_at=now)
    assert changed == 1 and len(queries) == 1
    assert FollowUp.objects.get(pk=follow_up.pk).answered_at == now
    assert FollowUp.objects.exclude(pk=follow_up.pk).filter(answered_at__isnull=False).count() == 0
    assert other.follow_ups.filter(answered_at__isnull=False).count() == 0
    assert mark.run(follow_up.pk, answered_at=None) == 1
    assert FollowUp.objects.get(pk=follow_up.pk).answered_at is None
    assert mark.run(-1, answered_at=now) == 0


def test_update_writes_what_queryset_update_writes(session_a):
    fields = ["answers", "soreness_0h", "bruising", "pgic", "last_close"]
    values = {"answers": 2, "soreness_0h": 7, "bruising": True, "pgic": None, "last_close": None}
    SessionOutcome.objects.filter(pk=session_a.pk).update(**values)
    expected = model_to_dict(SessionOutcome.objects.get(pk=session_a.pk))
    SessionOutcome.objects.filter(pk=session_a.pk).update(
        answers=0, soreness_0h=None, bruising=False, pgic=3, last_close=clock.now()
    )

    assert Update(SessionOutcome, fields).run(session_a.pk, **values) == 1
    assert model_to_dict(SessionOutcome.objects.get(pk=session_a.pk)) == expected


def test_update_takes_exactly_its_fields(session_a):
    mark = Update(FollowUp, ["answered_at"])
    with pytest.raises(ValueError, match="exactly"):
        mark.run(session_a.follow_ups.first().pk)
    with pytest.raises(ValueError, match="exactly"):
        mark.run(session_a.follow_ups.first().pk, answered_at=None, asked=True)
    with pytest.raises(TypeError, match="plain values"):
        Update(SessionOutcome, ["answers"]).run(session_a.pk, answers=F("answers") + 1)


def test_insert_unless_exists_leaves_the_row_there_as_it_is(session_a):
    follow_up = session_a.follow_ups.get(time_point=0)
    insert = Insert(Alert, unless_exists=("follow_up", "rule"))

    def alert(**overrides):
        fields = {
            "session": session_a,
            "clinic_id": session_a.clinic_id,
            "follow_up": follow_up,
            "rule": AlertRule.RED_FLAG,
            "severity": Severity.URGENT,
            "facts": {"flags": ["rf_breathing"]},
            "opened_at": clock.now(),
        }
        return Alert(**(fields | overrides))

    first = alert()
    assert insert.save(first) is True
    assert Alert.objects.get().facts == {"flags": ["rf_breathing"]}
    again = alert(facts={"flags": ["rf_cough"]})
    with CaptureQueriesContext(connection) as queries:
        assert insert.save(again) is False
    assert len(queries) == 1
    assert again.pk is None and again._state.adding
    assert list(Alert.objects.values_list("pk", "facts")) == [
        (first.pk, {"flags": ["rf_breathing"]})
    ]
    # Another rule of the same check-in is another row.
    assert insert.save(alert(rule=AlertRule.SORENESS_RISING, severity=Severity.ATTENTION))
    assert Alert.objects.count() == 2

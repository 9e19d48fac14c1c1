"""The database itself refuses out-of-range and duplicated clinical rows, by each named rule."""

import re
import uuid

import pytest
from django.apps import apps
from django.core.management import call_command
from django.db import IntegrityError, connection, models, transaction
from django.utils import timezone

from tests.factories import ClinicFactory, PatientFactory, make_session
from tracker.choices import Role, TimePoint
from tracker.models import (
    Alert,
    AlertRule,
    AlertStep,
    AuditActor,
    AuditEvent,
    Clinic,
    FollowUp,
    Membership,
    NeedledSite,
    NeedlingSession,
    Patient,
    Severity,
    SymptomReport,
    WarningReport,
)

pytestmark = pytest.mark.django_db


# Every named constraint of the app's models: name -> (model, constraint).
CONSTRAINTS = {
    constraint.name: (model, constraint)
    for model in apps.get_app_config("tracker").get_models()
    for constraint in model._meta.constraints
}


def _refused(pattern):
    return pytest.raises(IntegrityError, match=pattern)


def refused_by(name):
    """Expect the IntegrityError of the named constraint ``name``, and of no other.

    PostgreSQL names the constraint in its message. SQLite names a CHECK
    constraint ("CHECK constraint failed: name") but lists a UNIQUE one's
    columns ("UNIQUE constraint failed: table.a, table.b"): those are matched.
    """
    model, constraint = CONSTRAINTS[name]
    unique = isinstance(constraint, models.UniqueConstraint)
    if connection.vendor == "sqlite":
        if not unique:
            return _refused(f"^CHECK constraint failed: {re.escape(name)}$")
        return refused_as_duplicate(model, *constraint.fields)
    return _refused(f'violates {"unique" if unique else "check"} constraint "{re.escape(name)}"')


def refused_as_duplicate(model, *fields):
    """Expect the IntegrityError of a unique column (or set of them) of ``model``."""
    columns = [model._meta.get_field(field).column for field in fields]
    if connection.vendor == "sqlite":
        table = model._meta.db_table
        listed = ", ".join(f"{table}.{column}" for column in columns)
        return _refused(f"^UNIQUE constraint failed: {re.escape(listed)}$")
    key = re.escape(f"Key ({', '.join(columns)})=")
    return _refused(f"(?s)duplicate key value violates unique constraint .*{key}")


# ---- One raw write per named constraint, breaking that constraint alone ----------------
#
# update() and create() skip the models' validators and forms: only the
# database stands in the way.

VIOLATIONS = {}


def violates(name):
    def register(write):
        VIOLATIONS[name] = write
        return write

    return register


@violates("session_pre_pain_nrs_0_10")
def pain_before_the_session_above_10(session):
    NeedlingSession.objects.filter(pk=session.pk).update(pre_pain=11)


@violates("session_entered_in_error_by_someone_with_reason")
def entered_in_error_without_a_reason(session):
    NeedlingSession.objects.filter(pk=session.pk).update(
        entered_in_error_at=session.performed_at,
        entered_in_error_by=session.therapist,
        entered_in_error_reason="",
    )


@violates("site_insertions_1_99")
def a_site_with_no_insertion(session):
    NeedledSite.objects.filter(session=session).update(insertions=0)


@violates("report_soreness_nrs_0_10")
def soreness_above_10(session):
    SymptomReport.objects.create(
        follow_up=session.follow_ups.get(time_point=TimePoint.IN_CLINIC),
        idempotency_key=uuid.uuid4(),
        soreness=11,
        twitching="none",
        bruising="none",
        submitted_at=timezone.now(),
    )


@violates("followup_window_contains_due_time")
def a_check_in_closing_as_it_opens(session):
    follow_up = session.follow_ups.get(time_point=TimePoint.H24)
    FollowUp.objects.filter(pk=follow_up.pk).update(closes_at=follow_up.opens_at)


@violates("followup_unique_session_time_point")
def a_second_24_hour_check_in(session):
    existing = session.follow_ups.get(time_point=TimePoint.H24)
    FollowUp.objects.create(
        session=session,
        clinic=session.clinic,
        time_point=TimePoint.H24,
        due_at=existing.due_at,
        opens_at=existing.opens_at,
        closes_at=existing.closes_at,
    )


@violates("clinic_soreness_threshold_0_10")
def an_alert_threshold_above_10(session):
    Clinic.objects.filter(pk=session.clinic_id).update(soreness_threshold=11)


@violates("clinic_window_hours_in_range")
def a_window_closing_25_hours_after(session):
    Clinic.objects.filter(pk=session.clinic_id).update(window_closes_hours_after=25)


@violates("patient_year_of_birth_plausible")
def born_in_1899(session):
    Patient.objects.filter(pk=session.patient_id).update(year_of_birth=1899)


@violates("patient_unique_reference_per_clinic")
def two_patients_with_one_reference(session):
    Patient.objects.filter(pk=session.patient_id).update(reference="MRN-1")
    Patient.objects.create(clinic=session.clinic, display_name="Another", reference="MRN-1")


@violates("membership_unique_user_clinic")
def a_second_membership_of_the_same_clinic(session):
    Membership.objects.create(user=session.therapist, clinic=session.clinic, role=Role.LEAD)


@violates("clinic_settled_and_72h_0_10")
def settled_above_10(session):
    Clinic.objects.filter(pk=session.clinic_id).update(settled_max=11)


@violates("clinic_escalation_minutes_in_range")
def escalation_after_no_time(session):
    Clinic.objects.filter(pk=session.clinic_id).update(escalation_minutes=0)


@violates("report_pgic_1_7")
def a_pgic_of_8(session):
    SymptomReport.objects.create(
        follow_up=session.follow_ups.get(time_point=TimePoint.H48),
        idempotency_key=uuid.uuid4(),
        soreness=2,
        twitching="none",
        bruising="none",
        pgic=8,
        submitted_at=timezone.now(),
    )


def _missed_alert(session, **fields):
    fields = {
        "severity": Severity.ATTENTION,
        "follow_up": session.follow_ups.get(time_point=TimePoint.H24),
        **fields,
    }
    return Alert(
        session=session,
        clinic=session.clinic,
        rule=AlertRule.MISSED,
        opened_at=timezone.now(),
        **fields,
    )


@violates("alert_unique_follow_up_rule")
def a_second_alert_of_one_rule_for_one_check_in(session):
    Alert.objects.bulk_create([_missed_alert(session), _missed_alert(session)])


@violates("alert_raised_by_one_event")
def an_alert_raised_by_nothing(session):
    Alert.objects.bulk_create([_missed_alert(session, follow_up=None)])


def _warning_report(session, **flags):
    return WarningReport(
        session=session,
        idempotency_key=uuid.uuid4(),
        reported_at=timezone.now(),
        **({"rf_breathing": True} | flags),
    )


@violates("warningreport_has_a_sign")
def a_warning_report_without_a_sign(session):
    WarningReport.objects.bulk_create([_warning_report(session, rf_breathing=False)])


@violates("alert_acknowledged_by_someone")
def acknowledged_by_no_one(session):
    alert = _missed_alert(session)
    alert.save()
    Alert.objects.filter(pk=alert.pk).update(acknowledged_at=timezone.now(), acknowledged_by=None)


@violates("alertstep_unique_alert_step")
def a_step_sent_twice(session):
    alert = _missed_alert(session, severity=Severity.URGENT)
    alert.save()
    AlertStep.objects.bulk_create([AlertStep(alert=alert, step=0, at=timezone.now())] * 2)


@violates("audit_actor_matches_user")
def a_patients_change_under_a_staff_name(session):
    AuditEvent.objects.bulk_create(
        [
            AuditEvent(
                clinic=session.clinic,
                actor=AuditActor.PATIENT,
                user=session.therapist,
                action="update",
                patient=session.patient,
                at=timezone.now(),
            )
        ]
    )


def test_an_alert_is_raised_by_a_check_in_or_a_warning_report_not_both(session_a):
    warning = _warning_report(session_a)
    warning.save()
    with refused_by("alert_raised_by_one_event"), transaction.atomic():
        Alert.objects.bulk_create([_missed_alert(session_a, warning_report=warning)])
    Alert.objects.bulk_create([_missed_alert(session_a, follow_up=None, warning_report=warning)])
    assert Alert.objects.get().warning_report == warning


def test_every_named_constraint_has_a_write_that_breaks_it():
    assert sorted(VIOLATIONS) == sorted(CONSTRAINTS)


@pytest.mark.parametrize(
    ("name", "write"), [pytest.param(name, write, id=name) for name, write in VIOLATIONS.items()]
)
def test_the_database_refuses_a_write_against_the_named_constraint(session_a, name, write):
    # In a savepoint of its own: the test's transaction outlives the error.
    with refused_by(name), transaction.atomic():
        write(session_a)


def test_one_report_per_follow_up(session_a):
    follow_up = session_a.follow_ups.get(time_point=TimePoint.IN_CLINIC)
    fields = {
        "twitching": "none",
        "bruising": "none",
        "submitted_at": timezone.now(),
        "soreness": 2,
    }
    SymptomReport.objects.create(follow_up=follow_up, idempotency_key=uuid.uuid4(), **fields)
    with refused_as_duplicate(SymptomReport, "follow_up"), transaction.atomic():
        SymptomReport.objects.create(follow_up=follow_up, idempotency_key=uuid.uuid4(), **fields)


def test_idempotency_key_is_unique(session_a):
    key = uuid.uuid4()
    fields = {
        "twitching": "none",
        "bruising": "none",
        "submitted_at": timezone.now(),
        "soreness": 2,
    }
    first, second = session_a.follow_ups.all()[:2]
    SymptomReport.objects.create(follow_up=first, idempotency_key=key, **fields)
    with refused_as_duplicate(SymptomReport, "idempotency_key"), transaction.atomic():
        SymptomReport.objects.create(follow_up=second, idempotency_key=key, **fields)


def test_patient_reference_unique_within_a_clinic_only():
    clinic = ClinicFactory()
    PatientFactory(clinic=clinic, reference="MRN-1")
    PatientFactory(clinic=ClinicFactory(), reference="MRN-1")  # another clinic: fine
    PatientFactory(clinic=clinic, reference="")
    PatientFactory(clinic=clinic, reference="")  # blank references never clash
    with refused_by("patient_unique_reference_per_clinic"), transaction.atomic():
        PatientFactory(clinic=clinic, reference="MRN-1")


def test_red_flags_and_after_effects_read_back_as_labels(session_a):
    report = SymptomReport(rf_breathing=True, headache=True)
    assert report.has_red_flag
    assert any("shortness of breath" in str(label) for label in report.red_flags)
    assert [str(label) for label in report.after_effects] == ["Headache"]
    assert not SymptomReport(bleeding=True).has_red_flag


def test_session_over_the_chest_wall_is_marked_whatever_the_checkbox_says(patient_a, therapist_a):
    from tests.factories import site

    session = make_session(
        patient=patient_a, therapist=therapist_a.user, sites=[site(muscle="upper_trapezius")]
    )
    assert session.chest_wall_area and session.lung_risk
    calf = make_session(
        patient=patient_a, therapist=therapist_a.user, sites=[site(muscle="soleus")]
    )
    assert not calf.chest_wall_area and not calf.lung_risk


def test_the_migrations_make_the_models_schema():
    # Raises SystemExit when a model change has no migration.
    call_command("makemigrations", "tracker", check=True, dry_run=True, verbosity=0)


def _partial_indexes(model):
    named = [*model._meta.indexes, *model._meta.constraints]
    return {index.name for index in named if getattr(index, "condition", None) is not None}


@pytest.mark.django_db
def test_no_index_repeats_the_first_columns_of_another():
    """Every check-in, session and audit event writes each index of its table:
    an index whose columns another (whole-table) index starts with is a write
    for nothing. A unique one is kept: it says something the longer cannot."""
    repeated = []
    with connection.cursor() as cursor:
        for model in apps.get_app_config("tracker").get_models():
            table = model._meta.db_table
            found = connection.introspection.get_constraints(cursor, table)
            indexes = {name: c for name, c in found.items() if c["index"] or c["unique"]}
            partial = _partial_indexes(model)
            for name, index in indexes.items():
                if index["unique"]:
                    continue
                columns = index["columns"]
                repeated += [
                    f"{table}: {name} {columns} starts {other} {longer['columns']}"
                    for other, longer in indexes.items()
                    if other not in partial
                    and len(longer["columns"]) > len(columns)
                    and longer["columns"][: len(columns)] == columns
                ]
    assert repeated == []

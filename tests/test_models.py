"""The database itself refuses out-of-range and duplicated clinical rows."""

import uuid

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from tests.factories import ClinicFactory, PatientFactory, make_session
from tracker.choices import TimePoint
from tracker.models import FollowUp, NeedledSite, NeedlingSession, SymptomReport

pytestmark = pytest.mark.django_db


def _violates(name):
    return pytest.raises(IntegrityError, match=f"(?i){name}|CHECK|unique")


def test_pre_pain_above_10_is_refused_by_the_database(session_a):
    with _violates("session_pre_pain_nrs_0_10"), transaction.atomic():
        NeedlingSession.objects.filter(pk=session_a.pk).update(pre_pain=11)


def test_soreness_above_10_is_refused_by_the_database(session_a):
    follow_up = session_a.follow_ups.get(time_point=TimePoint.IN_CLINIC)
    with _violates("report_soreness_nrs_0_10"), transaction.atomic():
        SymptomReport.objects.create(
            follow_up=follow_up, idempotency_key=uuid.uuid4(), soreness=11,
            twitching="none", bruising="none", submitted_at=timezone.now(),
        )
    assert not SymptomReport.objects.exists()


def test_zero_insertions_is_refused_by_the_database(session_a):
    with _violates("site_insertions_1_99"), transaction.atomic():
        NeedledSite.objects.filter(session=session_a).update(insertions=0)


def test_one_follow_up_per_session_and_time_point(session_a):
    existing = session_a.follow_ups.get(time_point=TimePoint.H24)
    with _violates("followup_unique_session_time_point"), transaction.atomic():
        FollowUp.objects.create(
            session=session_a, clinic=session_a.clinic, time_point=TimePoint.H24,
            due_at=existing.due_at,
            opens_at=existing.opens_at, closes_at=existing.closes_at,
        )


def test_follow_up_window_must_contain_its_due_time(session_a):
    follow_up = session_a.follow_ups.get(time_point=TimePoint.H24)
    with _violates("followup_window_contains_due_time"), transaction.atomic():
        FollowUp.objects.filter(pk=follow_up.pk).update(closes_at=follow_up.opens_at)


def test_one_report_per_follow_up(session_a):
    follow_up = session_a.follow_ups.get(time_point=TimePoint.IN_CLINIC)
    fields = {"twitching": "none", "bruising": "none", "submitted_at": timezone.now(), "soreness": 2}
    SymptomReport.objects.create(follow_up=follow_up, idempotency_key=uuid.uuid4(), **fields)
    with _violates("follow_up_id"), transaction.atomic():
        SymptomReport.objects.create(follow_up=follow_up, idempotency_key=uuid.uuid4(), **fields)


def test_idempotency_key_is_unique(session_a):
    key = uuid.uuid4()
    fields = {"twitching": "none", "bruising": "none", "submitted_at": timezone.now(), "soreness": 2}
    first, second = session_a.follow_ups.all()[:2]
    SymptomReport.objects.create(follow_up=first, idempotency_key=key, **fields)
    with _violates("idempotency_key"), transaction.atomic():
        SymptomReport.objects.create(follow_up=second, idempotency_key=key, **fields)


def test_patient_reference_unique_within_a_clinic_only():
    clinic = ClinicFactory()
    PatientFactory(clinic=clinic, reference="MRN-1")
    PatientFactory(clinic=ClinicFactory(), reference="MRN-1")  # another clinic: fine
    PatientFactory(clinic=clinic, reference="")
    PatientFactory(clinic=clinic, reference="")  # blank references never clash
    with _violates("patient_unique_reference_per_clinic"), transaction.atomic():
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
    calf = make_session(patient=patient_a, therapist=therapist_a.user, sites=[site(muscle="soleus")])
    assert not calf.chest_wall_area and not calf.lung_risk

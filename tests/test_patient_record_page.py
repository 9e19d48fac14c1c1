"""The record a patient can read: in their language, every answer, the alerts' outcomes, printable."""

import re
import uuid

import pytest
from django.urls import reverse
from django.utils import translation

from tests.factories import PatientFactory, answers, make_session
from tracker import services
from tracker.choices import CHECK_IN_NAMES, AfterEffect, TimePoint
from tracker.models import Alert, AuditAction, AuditEvent, Outcome

pytestmark = pytest.mark.django_db


def _answer(session, time_point, **overrides):
    follow_up = session.follow_ups.get(time_point=time_point)
    return services.submit_report(
        follow_up=follow_up,
        idempotency_key=uuid.uuid4(),
        answers=answers(**overrides),
        now=follow_up.due_at,
    )[0]


@pytest.fixture
def spanish_patient(patient_a, therapist_a):
    patient_a.language = "es"
    patient_a.save()
    session = make_session(patient=patient_a, therapist=therapist_a.user)
    _answer(
        session,
        TimePoint.IN_CLINIC,
        soreness=7,
        red_flags=["rf_breathing"],
        after_effects=["headache"],
        note="Me duele al respirar",
    )
    _answer(session, TimePoint.H24, soreness=3)
    alert = Alert.objects.get(session=session, rule="red_flag")
    services.acknowledge_alert(
        alert=alert, user=therapist_a.user, outcome=Outcome.EMERGENCY, note="Sent to A&E"
    )
    return patient_a


def _page(client, user, patient):
    client.force_login(user)
    return client.get(reverse("tracker:patient_record", args=[patient.pk]))


def test_the_page_speaks_the_patients_language_whatever_the_staff_reads(
    client, therapist_a, spanish_patient
):
    response = _page(client, therapist_a.user, spanish_patient)
    assert response.status_code == 200
    assert response["Content-Language"] == "es"
    page = response.content.decode()
    assert '<html lang="es">' in page
    with translation.override("es"):
        for words in (
            "Your after-needling record",
            "Your answers",
            "Print",
            "How sore is the needled area right now?",
            "When your answers needed a look",
        ):
            assert translation.gettext(words) in page, words
        assert str(AfterEffect.HEADACHE.label) in page
        assert str(Outcome.EMERGENCY.label) in page
    assert "Me duele al respirar" in page and "Sent to A&amp;E" in page
    # The next page is in the staff member's own language again.
    assert client.get(reverse("tracker:home"))["Content-Language"] == "en"


def test_every_answer_of_every_check_in_is_there(client, therapist_a, spanish_patient):
    page = _page(client, therapist_a.user, spanish_patient).content.decode()
    with translation.override("es"):
        for time_point in (TimePoint.IN_CLINIC, TimePoint.H24):
            assert str(CHECK_IN_NAMES[time_point]).capitalize() in page
    answers_given = re.findall(r"<dd[^>]*>(.*?)</dd>", page)
    assert "7" in answers_given and "3" in answers_given


def test_the_chart_is_in_the_page_and_the_print_button_needs_no_inline_script(
    client, therapist_a, spanish_patient
):
    page = _page(client, therapist_a.user, spanish_patient).content.decode()
    assert 'src="data:image/svg+xml;base64,' in page
    assert "data-print" in page
    assert "onclick" not in page and not re.search(r"<script(?![^>]*\bsrc=)", page)


def test_read_by_staff_of_the_clinic_only_and_audited(
    client, therapist_a, therapist_b, spanish_patient
):
    before = AuditEvent.objects.count()
    assert _page(client, therapist_b.user, spanish_patient).status_code == 404
    assert AuditEvent.objects.count() == before
    _page(client, therapist_a.user, spanish_patient)
    event = AuditEvent.objects.order_by("-pk").first()
    assert (event.action, event.patient, event.detail) == (
        AuditAction.VIEW,
        spanish_patient,
        "patient_record",
    )


@pytest.mark.parametrize("sessions", [1, 5])
def test_query_count_does_not_grow_with_sessions(
    client, therapist_a, sessions, django_assert_num_queries
):
    patient = PatientFactory(clinic=therapist_a.clinic)
    for _ in range(sessions):
        _answer(
            make_session(patient=patient, therapist=therapist_a.user),
            TimePoint.IN_CLINIC,
            red_flags=["rf_cough"],
        )
    client.force_login(therapist_a.user)
    client.get(reverse("tracker:patient_record", args=[patient.pk]))  # the typical band, cached
    # session, user, patient+clinic, the audit INSERT; sessions+therapists, sites,
    # check-ins+reports, alerts+who acknowledged, contact attempts; the chart's points;
    # the clinics the user leads (the menu's "Audit")
    with django_assert_num_queries(11):
        client.get(reverse("tracker:patient_record", args=[patient.pk]))

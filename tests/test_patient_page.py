"""The therapist's patient page, its chart and the printable visit summary."""

import io
import re
import uuid

import pytest
from django.core.cache import cache
from django.core.management import call_command
from django.urls import reverse

from tests.factories import PatientFactory, answers, make_session
from tracker import services
from tracker.choices import TimePoint

pytestmark = pytest.mark.django_db


def _answer(session, time_point, **fields):
    follow_up = session.follow_ups.get(time_point=time_point)
    services.submit_report(
        follow_up=follow_up,
        idempotency_key=uuid.uuid4(),
        answers=answers(**fields),
        now=follow_up.due_at,
    )


def _patient_with_sessions(therapist, count):
    patient = PatientFactory(clinic=therapist.clinic)
    for _ in range(count):
        session = make_session(patient=patient, therapist=therapist.user)
        _answer(session, TimePoint.IN_CLINIC, soreness=5, bruising="lt2.5", note="Bit tender")
    return patient


def test_patient_page_shows_every_session_with_its_check_ins(client, therapist_a):
    patient = _patient_with_sessions(therapist_a, 2)
    client.force_login(therapist_a.user)
    page = client.get(reverse("tracker:patient_detail", args=[patient.pk])).content.decode()
    assert page.count("Check-ins of this session") == 2
    assert page.count('<td class="text-end fw-semibold pe-3">5/10</td>') == 2
    assert reverse("tracker:patient_chart", args=[patient.pk]) in page


@pytest.mark.parametrize("sessions", [1, 12])
def test_patient_page_query_count_does_not_grow(
    client, therapist_a, sessions, django_assert_num_queries
):
    patient = _patient_with_sessions(therapist_a, sessions)
    call_command("count_typical_courses", stdout=io.StringIO())  # the hourly job
    cache.clear()
    client.force_login(therapist_a.user)
    url = reverse("tracker:patient_detail", args=[patient.pk])
    # session, user, patient+clinic, the blocks' keys (sessions+therapist, sites,
    # alerts, check-ins+reports, as values), the audit event's INSERT, the clinics
    # the user leads (the "Audit" menu item), the clinic's stored soreness counts
    # (whether the chart has a typical band to caption; kept an hour in the cache,
    # where the chart's own request then finds them) and, for the blocks not kept
    # yet, the same four as models.
    sessions_part = re.compile(r"<h2 class=\"h5\">Sessions</h2>.*</main>", re.S)
    with django_assert_num_queries(14):
        first = sessions_part.search(client.get(url).content.decode()).group()
    with django_assert_num_queries(9):  # nothing to draw, the counts in the cache
        assert sessions_part.search(client.get(url).content.decode()).group() == first
    # A new answer redraws its session's block alone, with the same four queries.
    newest = patient.sessions.order_by("-performed_at", "-pk")[0]
    _answer(newest, TimePoint.H24, soreness=2, note="Much better")
    with django_assert_num_queries(13) as queries:
        page = client.get(url).content.decode()
    assert "Much better" in page
    session_reads = [q["sql"] for q in queries if '"tracker_needlingsession"."id" IN' in q["sql"]]
    assert len(session_reads) == 1 and f'."id" IN ({newest.pk})' in session_reads[0]


@pytest.mark.parametrize("sessions", [1, 12])
def test_patient_chart_query_count_does_not_grow(
    client, therapist_a, sessions, django_assert_num_queries
):
    patient = _patient_with_sessions(therapist_a, sessions)
    call_command("count_typical_courses", stdout=io.StringIO())  # the hourly job
    cache.clear()
    client.force_login(therapist_a.user)
    # session, user, patient+clinic, the audit event's INSERT, the clinic's stored
    # soreness counts, the patient's points
    with django_assert_num_queries(6):
        response = client.get(reverse("tracker:patient_chart", args=[patient.pk]))
    assert response["Content-Type"] == "image/svg+xml"
    assert b"Bruising reported" in response.content
    # The counts are then kept for an hour (they move slowly with thousands of reports).
    with django_assert_num_queries(5):
        again = client.get(reverse("tracker:patient_chart", args=[patient.pk]))
    assert again.content == response.content


def test_patient_chart_is_cached_until_a_new_report(client, therapist_a, django_assert_num_queries):
    patient = _patient_with_sessions(therapist_a, 1)
    client.force_login(therapist_a.user)
    url = reverse("tracker:patient_chart", args=[patient.pk])
    first = client.get(url).content
    assert client.get(url).content == first
    _answer(patient.sessions.get(), TimePoint.H24, soreness=2)
    assert client.get(url).content != first


def test_visit_summary_has_one_block_per_session_and_the_notes(client, therapist_a):
    patient = _patient_with_sessions(therapist_a, 3)
    client.force_login(therapist_a.user)
    response = client.get(reverse("tracker:visit_summary", args=[patient.pk]))
    page = response.content.decode()
    assert page.count('class="summary-block') == 3
    assert page.count("Bit tender") == 3
    assert "@media print" in open("tracker/static/tracker/css/app.css").read()


def test_other_clinics_get_404(client, therapist_a, therapist_b):
    patient = _patient_with_sessions(therapist_a, 1)
    client.force_login(therapist_b.user)
    for name in ["patient_detail", "patient_chart", "visit_summary"]:
        assert client.get(reverse(f"tracker:{name}", args=[patient.pk])).status_code == 404

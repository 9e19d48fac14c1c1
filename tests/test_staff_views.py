"""Therapist pages: who sees what, recording a session, adding a patient."""

from datetime import UTC, datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from tests.factories import MembershipFactory, PatientFactory, make_session
from tracker.models import FollowUp, NeedledSite, NeedlingSession, Patient

pytestmark = pytest.mark.django_db


def _staff_urls(session):
    patient = session.patient
    return [
        reverse("tracker:patient_detail", args=[patient.pk]),
        reverse("tracker:session_create", args=[patient.pk]),
        reverse("tracker:session_detail", args=[session.pk]),
        reverse("tracker:session_chart", args=[session.pk]),
    ]


def test_anonymous_users_are_sent_to_login(client, session_a):
    for url in [reverse("tracker:patient_list"), *_staff_urls(session_a)]:
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith("/accounts/login/")


def test_own_clinic_sees_every_page(client, therapist_a, session_a):
    client.force_login(therapist_a.user)
    for url in _staff_urls(session_a):
        assert client.get(url).status_code == 200, url


def test_another_clinics_therapist_gets_404_everywhere(client, therapist_b, session_a):
    client.force_login(therapist_b.user)
    for url in _staff_urls(session_a):
        assert client.get(url).status_code == 404, url
    response = client.post(reverse("tracker:session_create", args=[session_a.patient.pk]), {})
    assert response.status_code == 404
    assert NeedlingSession.objects.count() == 1


def test_patient_list_shows_only_own_clinics(client, therapist_a, patient_a):
    other = PatientFactory(display_name="Someone Elsewhere")
    client.force_login(therapist_a.user)
    response = client.get(reverse("tracker:patient_list"))
    names = [p.display_name for p in response.context["patient_list"]]
    assert names == [patient_a.display_name]
    assert other.display_name not in response.content.decode()


def test_patient_list_query_count_does_not_grow_with_rows(
    client, therapist_a, django_assert_num_queries
):
    client.force_login(therapist_a.user)
    # session, user, the therapists of the user's clinics (the filter's choices), count
    # for the paginator, the page of patients, the clinics the user leads (the "Audit"
    # menu item). A list: no audit event.
    PatientFactory.create_batch(3, clinic=therapist_a.clinic)
    with django_assert_num_queries(6):
        client.get(reverse("tracker:patient_list"))
    for patient in PatientFactory.create_batch(40, clinic=therapist_a.clinic):
        make_session(patient=patient, therapist=therapist_a.user)
    with django_assert_num_queries(6):
        client.get(reverse("tracker:patient_list"))


def test_add_patient(client, therapist_a):
    client.force_login(therapist_a.user)
    response = client.post(
        reverse("tracker:patient_create"),
        {
            "clinic": therapist_a.clinic.pk,
            "display_name": "Rosa Díaz",
            "reference": "HP-77",
            "language": "es",
            "reminder_channel": "email",
            "email": "rosa@example.com",
            "reminders_consent": "on",
        },
    )
    patient = Patient.objects.get()
    assert response["Location"] == reverse("tracker:patient_detail", args=[patient.pk])
    assert (patient.clinic, patient.language, patient.reminders_consent) == (
        therapist_a.clinic,
        "es",
        True,
    )


def test_add_patient_to_a_clinic_one_is_not_in_is_refused(client, therapist_a, therapist_b):
    client.force_login(therapist_a.user)
    response = client.post(
        reverse("tracker:patient_create"),
        {
            "clinic": therapist_b.clinic.pk,
            "display_name": "X",
            "language": "en",
            "reminder_channel": "none",
        },
    )
    assert response.status_code == 200 and "clinic" in response.context["form"].errors
    assert not Patient.objects.exists()


def test_email_reminders_need_an_email(client, therapist_a):
    client.force_login(therapist_a.user)
    response = client.post(
        reverse("tracker:patient_create"),
        {
            "clinic": therapist_a.clinic.pk,
            "display_name": "X",
            "language": "en",
            "reminder_channel": "email",
        },
    )
    assert "email" in response.context["form"].errors
    assert not Patient.objects.exists()


def _session_post(**overrides):
    data = {
        "performed_at": timezone.localtime(timezone.now()).strftime("%Y-%m-%dT%H:%M"),
        "pre_pain": "6",
        "anticoagulants": "on",
        "sites-TOTAL_FORMS": "3",
        "sites-INITIAL_FORMS": "0",
        "sites-MIN_NUM_FORMS": "0",
        "sites-MAX_NUM_FORMS": "20",
        "sites-0-muscle": "upper_trapezius",
        "sites-0-side": "right",
        "sites-0-insertions": "5",
        "sites-0-technique": "deep_pistoning",
        "sites-0-twitch_band": "3-5",
        "sites-1-muscle": "gluteus_medius",
        "sites-1-side": "left",
        "sites-1-insertions": "3",
        "sites-1-technique": "deep_static",
        "sites-1-twitch_band": "none",
        "sites-2-side": "right",
        "sites-2-insertions": "1",
        "sites-2-technique": "deep_pistoning",
        "sites-2-twitch_band": "none",
    }
    data.update(overrides)
    return data


def test_record_session_creates_sites_follow_ups_and_link(client, therapist_a, patient_a):
    client.force_login(therapist_a.user)
    response = client.post(reverse("tracker:session_create", args=[patient_a.pk]), _session_post())
    session = NeedlingSession.objects.get()
    assert response["Location"] == reverse("tracker:session_detail", args=[session.pk])
    assert session.sites.count() == 2
    assert sorted(session.follow_ups.values_list("time_point", flat=True)) == [0, 24, 48]
    assert session.access_links.count() == 1
    assert session.anticoagulants and session.chest_wall_area and session.pre_pain == 6
    page = client.get(response["Location"]).content.decode()
    assert "/f/" in page and "<svg" in page


# The day after the session it records (the form refuses one in the future), not the real date.
@pytest.mark.time_machine(datetime(2026, 11, 21, 12, 0, tzinfo=UTC), tick=False)
def test_session_time_is_read_in_the_clinics_zone(client, therapist_a, patient_a):
    therapist_a.clinic.time_zone = "America/Chicago"
    therapist_a.clinic.save()
    client.force_login(therapist_a.user)
    client.post(
        reverse("tracker:session_create", args=[patient_a.pk]),
        _session_post(performed_at="2026-11-20T09:30"),
    )
    performed = NeedlingSession.objects.get().performed_at
    assert performed.isoformat() == "2026-11-20T15:30:00+00:00"  # 09:30 in Chicago (UTC−6)


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"pre_pain": "11"}, "pre_pain"),
        ({"performed_at": "2099-01-01T10:00"}, "performed_at"),
        ({"performed_at": "yesterday"}, "performed_at"),
        ({"sites-0-insertions": "0"}, "sites-0-insertions"),
        ({"sites-1-muscle": "kneecap"}, "sites-1-muscle"),
    ],
)
def test_bad_session_input_stores_nothing(client, therapist_a, patient_a, overrides, field):
    client.force_login(therapist_a.user)
    response = client.post(
        reverse("tracker:session_create", args=[patient_a.pk]), _session_post(**overrides)
    )
    assert response.status_code == 200
    assert f'name="{field}"' in response.content.decode()
    errors = response.context["form"].errors or [e for e in response.context["sites"].errors if e]
    assert errors
    assert not NeedlingSession.objects.exists() and not NeedledSite.objects.exists()
    assert not FollowUp.objects.exists()


def test_a_session_needs_at_least_one_site(client, therapist_a, patient_a):
    client.force_login(therapist_a.user)
    untouched_row = {
        "muscle": "",
        "side": "right",
        "insertions": "1",
        "technique": "deep_pistoning",
        "twitch_band": "none",
    }
    data = _session_post(
        **{
            f"sites-{row}-{name}": value
            for row in range(3)
            for name, value in untouched_row.items()
        }
    )
    response = client.post(reverse("tracker:session_create", args=[patient_a.pk]), data)
    assert "Add at least one needled site." in response.content.decode()
    assert not NeedlingSession.objects.exists()


def test_chart_is_svg_of_this_sessions_reports(client, therapist_a, session_a):
    client.force_login(therapist_a.user)
    response = client.get(reverse("tracker:session_chart", args=[session_a.pk]))
    assert response["Content-Type"] == "image/svg+xml"
    assert b"No check-ins answered yet" in response.content


def test_a_member_of_two_clinics_sees_both(client, therapist_a, therapist_b, patient_a):
    MembershipFactory(user=therapist_a.user, clinic=therapist_b.clinic)
    other = PatientFactory(clinic=therapist_b.clinic)
    client.force_login(therapist_a.user)
    response = client.get(reverse("tracker:patient_list"))
    assert {p.pk for p in response.context["patient_list"]} == {patient_a.pk, other.pk}


def test_in_development_the_session_page_opens_the_patients_page_here(
    client, settings, therapist_a, session_a, link_token
):
    client.force_login(therapist_a.user)
    url = reverse("tracker:session_detail", args=[session_a.pk])
    settings.DEBUG = True
    page = client.get(url).content.decode()
    assert "Open the patient's page here" in page
    assert f'href="http://testserver/f/{link_token}/" target="_blank"' in page
    assert "at phone width" in page

    settings.DEBUG = False
    assert "Open the patient" not in client.get(url).content.decode()


@pytest.mark.parametrize("zone", ["Europe/London", "Asia/Tokyo", "America/New_York"])
@pytest.mark.parametrize("when", ["0001-01-01T00:00", "9999-12-31T23:59"])
def test_a_session_date_past_the_calendars_ends_is_a_message(client, zone, when):
    membership = MembershipFactory(clinic__time_zone=zone)
    patient = PatientFactory(clinic=membership.clinic)
    client.force_login(membership.user)
    response = client.post(
        reverse("tracker:session_create", args=[patient.pk]),
        {
            "performed_at": when,
            "pre_pain": "6",
            "sites-TOTAL_FORMS": "1",
            "sites-INITIAL_FORMS": "0",
            "sites-0-muscle": "gluteus_medius",
            "sites-0-side": "left",
            "sites-0-insertions": "3",
            "sites-0-technique": "deep_static",
            "sites-0-twitch_band": "none",
        },
    )
    assert response.status_code == 200
    assert response.context["form"].errors["performed_at"] == [
        "Choose a date between 2000-01-01 and 2999-12-31."
    ]
    assert not NeedlingSession.objects.exists()

"""Patients: editing, the reminder and phone rules of both forms, duplicates, search,
filters and sorting of the list, and a number the SMS provider refused."""

import importlib
import uuid
from datetime import timedelta

import pytest
from django.apps import apps
from django.core.exceptions import ValidationError
from django.urls import reverse

from tests.factories import ClinicFactory, MembershipFactory, PatientFactory, answers, make_session
from tracker import clock, names, phones, reminders, services
from tracker.choices import ReminderChannel, TimePoint
from tracker.models import AuditAction, AuditEvent, FollowUp, Patient
from tracker.reminders import sms

pytestmark = pytest.mark.django_db

LONDON_MOBILE = "+447911123456"


def _add(client, clinic, **fields):
    data = {
        "clinic": clinic.pk,
        "display_name": "Rosa Díaz",
        "reference": "",
        "year_of_birth": "",
        "email": "",
        "phone": "",
        "language": "en",
        "reminder_channel": "none",
        **fields,
    }
    return client.post(reverse("tracker:patient_create"), data)


def _edit_data(patient, **fields):
    data = {
        "display_name": patient.display_name,
        "reference": patient.reference,
        "year_of_birth": patient.year_of_birth or "",
        "email": patient.email,
        "phone": patient.phone,
        "language": patient.language,
        "reminder_channel": patient.reminder_channel,
        **fields,
    }
    if patient.reminders_consent and "reminders_consent" not in fields:
        data["reminders_consent"] = "on"
    return {key: value for key, value in data.items() if value is not None}


def _edit(client, patient, **fields):
    return client.post(
        reverse("tracker:patient_edit", args=[patient.pk]), _edit_data(patient, **fields)
    )


def _field_error(response, field):
    """The message shown beside ``field``: its errors, and the Bootstrap feedback in the page."""
    errors = response.context["form"].errors.get(field)
    assert errors, f"no error on {field}"
    assert 'class="invalid-feedback' in response.content.decode()
    return " ".join(errors)


# --- The clinic's country and E.164 ------------------------------------------------


@pytest.mark.parametrize(
    ("zone", "region"),
    [("Europe/London", "GB"), ("Europe/Madrid", "ES"), ("America/Chicago", "US"), ("UTC", None)],
)
def test_the_clinics_country_comes_from_its_time_zone(zone, region):
    assert phones.region_for_zone(zone) == region
    assert ClinicFactory.build(time_zone=zone).phone_region == region


@pytest.mark.parametrize(
    ("zone", "typed", "stored"),
    [
        ("Europe/London", "07911 123456", LONDON_MOBILE),
        ("Europe/London", "+44 (0)7911-123456", LONDON_MOBILE),
        ("Europe/Madrid", "612 34 56 78", "+34612345678"),
        # With its country code, a number is read as such in any clinic.
        ("Europe/Madrid", "+44 7911 123456", LONDON_MOBILE),
    ],
)
def test_a_new_patients_phone_is_stored_in_e164(client, zone, typed, stored):
    member = MembershipFactory(clinic=ClinicFactory(time_zone=zone))
    client.force_login(member.user)
    response = _add(client, member.clinic, phone=typed)
    assert response.status_code == 302
    assert Patient.objects.get().phone == stored


@pytest.mark.parametrize("typed", ["12345", "07911 12345699999", "call me"])
def test_a_number_that_is_not_one_is_refused_beside_the_field(client, therapist_a, typed):
    client.force_login(therapist_a.user)
    response = _add(client, therapist_a.clinic, phone=typed)
    assert response.status_code == 200
    assert "not a valid phone number" in _field_error(response, "phone")
    assert not Patient.objects.exists()


def test_without_a_country_a_local_number_asks_for_its_code(client):
    member = MembershipFactory(clinic=ClinicFactory(time_zone="UTC"))
    client.force_login(member.user)
    response = _add(client, member.clinic, phone="07911 123456")
    assert "country code" in _field_error(response, "phone")
    assert _add(client, member.clinic, phone="+447911123456").status_code == 302


@pytest.mark.parametrize(
    "params",
    [
        {"q": "a\x00b"},
        {"q": "x" * 5000},
        {"therapist": "abc", "status": "'; drop table", "sort": "-pk"},
        {"therapist": "999999999999999999999"},
        {"page": "-1"},
    ],
)
def test_hostile_list_parameters_are_ignored_or_answered(client, therapist_a, patient_a, params):
    client.force_login(therapist_a.user)
    assert client.get(reverse("tracker:patient_list"), params).status_code == 200


def test_hostile_edit_input_is_refused_beside_the_fields(client, therapist_a, patient_a):
    client.force_login(therapist_a.user)
    response = _edit(
        client,
        patient_a,
        display_name="x" * 500,
        year_of_birth="99999",
        language="xx",
        phone="+" + "9" * 40,
    )
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert {"display_name", "year_of_birth", "language", "phone"} <= set(errors)
    patient_a.refresh_from_db()
    assert len(patient_a.display_name) < 120


def test_the_patient_page_shows_the_number_readably(client, therapist_a, patient_a):
    Patient.objects.filter(pk=patient_a.pk).update(phone=LONDON_MOBILE)
    client.force_login(therapist_a.user)
    page = client.get(reverse("tracker:patient_detail", args=[patient_a.pk])).content.decode()
    assert "Call +44 7911 123456" in page
    assert 'href="tel:+447911123456"' in page


# --- Reminders need consent and an address, on both forms ---------------------------


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"reminder_channel": "sms", "phone": "07911 123456"}, "reminders_consent", "agreement"),
        ({"reminder_channel": "email", "email": "r@example.com"}, "reminders_consent", "agreement"),
        ({"reminder_channel": "sms", "reminders_consent": "on"}, "phone", "Add a mobile number"),
        ({"reminder_channel": "email", "reminders_consent": "on"}, "email", "Add an email address"),
    ],
)
def test_reminders_without_consent_or_address_are_refused_when_adding(
    client, therapist_a, fields, field, message
):
    client.force_login(therapist_a.user)
    response = _add(client, therapist_a.clinic, **fields)
    assert response.status_code == 200
    assert message in _field_error(response, field)
    assert not Patient.objects.exists()


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"reminder_channel": "sms", "phone": "07911 123456"}, "reminders_consent", "agreement"),
        ({"reminder_channel": "sms", "reminders_consent": "on"}, "phone", "Add a mobile number"),
        ({"reminder_channel": "email", "reminders_consent": "on"}, "email", "Add an email address"),
    ],
)
def test_reminders_without_consent_or_address_are_refused_when_editing(
    client, therapist_a, patient_a, fields, field, message
):
    client.force_login(therapist_a.user)
    response = _edit(client, patient_a, **fields)
    assert response.status_code == 200
    assert message in _field_error(response, field)
    patient_a.refresh_from_db()
    assert patient_a.reminder_channel == ReminderChannel.NONE and patient_a.phone == ""
    assert not AuditEvent.objects.filter(action=AuditAction.UPDATE).exists()


# --- Editing ----------------------------------------------------------------------


def test_editing_saves_the_changes_and_audits_the_fields_by_name(client, therapist_a, patient_a):
    client.force_login(therapist_a.user)
    response = _edit(
        client,
        patient_a,
        display_name="Lucía Pérez",
        year_of_birth="1984",
        phone="07911 123456",
        reminder_channel="sms",
        reminders_consent="on",
        language="es",
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("tracker:patient_detail", args=[patient_a.pk])
    patient_a.refresh_from_db()
    assert (patient_a.display_name, patient_a.year_of_birth, patient_a.phone) == (
        "Lucía Pérez",
        1984,
        LONDON_MOBILE,
    )
    assert patient_a.reminders_consent and patient_a.consent_changed_at is not None
    assert patient_a.search_key == " lucia perez "
    [event] = AuditEvent.objects.filter(action=AuditAction.UPDATE)
    assert event.user == therapist_a.user and event.patient == patient_a
    assert event.detail == (
        "changed display_name, year_of_birth, phone, language, reminder_channel, reminders_consent"
    )
    # Names of fields, never their values.
    assert "Lucía" not in event.detail and "7911" not in event.detail


def test_saving_without_a_change_writes_nothing(client, therapist_a, patient_a):
    client.force_login(therapist_a.user)
    response = _edit(client, patient_a)
    assert response.status_code == 302
    assert not AuditEvent.objects.filter(action=AuditAction.UPDATE).exists()


def test_the_edit_page_shows_the_patients_details(client, therapist_a, patient_a):
    Patient.objects.filter(pk=patient_a.pk).update(reference="HP-12", phone=LONDON_MOBILE)
    client.force_login(therapist_a.user)
    response = client.get(reverse("tracker:patient_edit", args=[patient_a.pk]))
    page = response.content.decode()
    assert response.status_code == 200
    assert 'value="HP-12"' in page and 'value="+44 7911 123456"' in page
    assert 'name="clinic"' not in page  # the clinic does not change


def test_an_unchanged_number_is_kept_as_stored(client, therapist_a, patient_a):
    # A number from before numbers were checked (the demo's fiction range does not parse).
    Patient.objects.filter(pk=patient_a.pk).update(phone="+447700900123")
    client.force_login(therapist_a.user)
    page = client.get(reverse("tracker:patient_edit", args=[patient_a.pk])).content.decode()
    assert 'value="+44 7700 900123"' in page
    assert _edit(client, patient_a, phone="+44 7700 900123", reference="HP-5").status_code == 302
    patient_a.refresh_from_db()
    assert (patient_a.phone, patient_a.reference) == ("+447700900123", "HP-5")


def test_a_valid_number_is_shown_readably_and_saved_in_e164(client, therapist_a, patient_a):
    Patient.objects.filter(pk=patient_a.pk).update(phone=LONDON_MOBILE)
    client.force_login(therapist_a.user)
    page = client.get(reverse("tracker:patient_edit", args=[patient_a.pk])).content.decode()
    assert 'value="+44 7911 123456"' in page
    assert _edit(client, patient_a, phone="+44 7911 123456", language="es").status_code == 302
    patient_a.refresh_from_db()
    assert patient_a.phone == LONDON_MOBILE
    assert AuditEvent.objects.get(action=AuditAction.UPDATE).detail == "changed language"


def test_a_reference_taken_in_the_clinic_is_refused_beside_the_field(
    client, therapist_a, patient_a
):
    PatientFactory(clinic=therapist_a.clinic, reference="HP-1")
    client.force_login(therapist_a.user)
    response = _edit(client, patient_a, reference="HP-1")
    assert response.status_code == 200
    _field_error(response, "reference")


@pytest.mark.parametrize("method", ["get", "post"])
def test_only_the_patients_clinic_may_edit(client, therapist_b, patient_a, method):
    client.force_login(therapist_b.user)
    url = reverse("tracker:patient_edit", args=[patient_a.pk])
    if method == "get":
        response = client.get(url)
    else:
        response = client.post(url, _edit_data(patient_a, display_name="Changed"))
    assert response.status_code == 404
    patient_a.refresh_from_db()
    assert patient_a.display_name != "Changed"


def test_an_erased_patient_cannot_be_edited(client, therapist_a, lead_a, patient_a):
    services.erase_patient(patient=patient_a, user=lead_a.user, request_ip=None)
    client.force_login(therapist_a.user)
    assert client.get(reverse("tracker:patient_edit", args=[patient_a.pk])).status_code == 404
    page = client.get(reverse("tracker:patient_detail", args=[patient_a.pk])).content.decode()
    assert reverse("tracker:patient_edit", args=[patient_a.pk]) not in page


def test_the_service_refuses_someone_outside_the_clinic(therapist_b, patient_a):
    with pytest.raises(ValidationError):
        services.update_patient(
            patient=patient_a, changes={"display_name": "X"}, user=therapist_b.user
        )
    patient_a.refresh_from_db()
    assert patient_a.display_name != "X"


# --- Possible duplicates ----------------------------------------------------------


def test_a_possible_duplicate_is_shown_before_adding_and_save_anyway_adds(client, therapist_a):
    existing = PatientFactory(
        clinic=therapist_a.clinic, display_name="Lucía Pérez", year_of_birth=1980
    )
    client.force_login(therapist_a.user)
    response = _add(client, therapist_a.clinic, display_name="perez LUCIA", year_of_birth="1980")
    assert response.status_code == 200
    assert list(response.context["duplicates"]) == [existing]
    page = response.content.decode()
    assert "This may be a patient the clinic already has" in page
    assert reverse("tracker:patient_detail", args=[existing.pk]) in page
    assert 'name="save_anyway"' in page
    assert Patient.objects.count() == 1

    response = _add(
        client,
        therapist_a.clinic,
        display_name="perez LUCIA",
        year_of_birth="1980",
        save_anyway="1",
    )
    assert response.status_code == 302
    assert Patient.objects.count() == 2


@pytest.mark.parametrize(
    "other",
    [
        {"display_name": "Lucía Pérez", "year_of_birth": 1981},  # another year
        {"display_name": "Lucía Pereira", "year_of_birth": 1980},  # another name
    ],
)
def test_no_warning_for_another_name_or_year(client, therapist_a, other):
    PatientFactory(clinic=therapist_a.clinic, **other)
    client.force_login(therapist_a.user)
    response = _add(client, therapist_a.clinic, display_name="Lucia Perez", year_of_birth="1980")
    assert response.status_code == 302


def test_a_namesake_in_another_clinic_is_no_duplicate(client, therapist_a):
    PatientFactory(display_name="Lucía Pérez", year_of_birth=1980)
    client.force_login(therapist_a.user)
    response = _add(client, therapist_a.clinic, display_name="Lucia Perez", year_of_birth="1980")
    assert response.status_code == 302


def test_editing_into_a_duplicate_warns_then_saves_anyway(client, therapist_a, patient_a):
    PatientFactory(clinic=therapist_a.clinic, display_name="Ines Fofana", year_of_birth=1990)
    client.force_login(therapist_a.user)
    response = _edit(client, patient_a, display_name="Inés FOFANA", year_of_birth="1990")
    assert response.status_code == 200 and response.context["duplicates"]
    patient_a.refresh_from_db()
    assert patient_a.display_name != "Inés FOFANA"
    response = _edit(
        client, patient_a, display_name="Inés FOFANA", year_of_birth="1990", save_anyway="1"
    )
    assert response.status_code == 302
    patient_a.refresh_from_db()
    assert patient_a.display_name == "Inés FOFANA"
    # Saving again, itself alone is no duplicate of itself.
    assert _edit(client, patient_a, reference="HP-9").status_code == 302


# --- Search (run on SQLite and on PostgreSQL: make test-postgres) -------------------


@pytest.fixture
def named(clinic_a):
    made = {}
    for name, reference in [
        ("Lucía Pérez", "HP-0042"),
        ("Ines Fofana", ""),
        ("JOSÉ Ñúñez", "MRN 7"),
        ("Lucas Grant", ""),
        ("Ana Lucia-Smith", ""),
    ]:
        made[name] = PatientFactory(clinic=clinic_a, display_name=name, reference=reference)
    return made


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("lucia", {"Lucía Pérez", "Ana Lucia-Smith"}),
        ("LUCÍA", {"Lucía Pérez", "Ana Lucia-Smith"}),
        ("Fofana Ines", {"Ines Fofana"}),
        ("inés fofana", {"Ines Fofana"}),
        ("nunez jose", {"JOSÉ Ñúñez"}),
        ("perez lucia", {"Lucía Pérez"}),
        ("luc", {"Lucía Pérez", "Lucas Grant", "Ana Lucia-Smith"}),  # the start of a word
        ("hp-0042", {"Lucía Pérez"}),
        ("0042", {"Lucía Pérez"}),
        ("mrn 7", {"JOSÉ Ñúñez"}),
        ("cia", set()),  # not the middle of a word
        ("lucia fofana", set()),  # every word must match
        ("lu%", {"Lucía Pérez", "Lucas Grant", "Ana Lucia-Smith"}),  # "%" is no wildcard
        ("%", set()),
        ("_", set()),
    ],
)
def test_search_ignores_accents_case_and_word_order(client, therapist_a, named, query, expected):
    client.force_login(therapist_a.user)
    response = client.get(reverse("tracker:patient_list"), {"q": query})
    assert {p.display_name for p in response.context["patient_list"]} == expected


def test_a_search_with_no_match_says_so(client, therapist_a, named):
    client.force_login(therapist_a.user)
    response = client.get(reverse("tracker:patient_list"), {"q": "zzz"})
    assert "No patient matches “zzz”." in response.content.decode()


def test_search_keys_follow_a_rename(clinic_a, therapist_a):
    patient = PatientFactory(clinic=clinic_a, display_name="Old Name")
    services.update_patient(
        patient=patient, changes={"display_name": "Zoë Ávila"}, user=therapist_a.user
    )
    assert Patient.objects.filter(search_key__contains=" zoe").get() == patient
    assert Patient.objects.get(pk=patient.pk).name_key == "avila zoe"


def test_names_are_compared_without_accents_case_or_order():
    assert names.name_key("Lucía  PÉREZ") == names.name_key("perez lucia") == "lucia perez"
    assert names.search_key("Ines Fofana", "HP-7") == " 7 fofana hp ines "


def test_the_migration_fills_the_keys_and_normalises_stored_numbers(clinic_a):
    london = PatientFactory(clinic=clinic_a, display_name="Lucía Pérez")
    madrid = PatientFactory(clinic=ClinicFactory(time_zone="Europe/Madrid"))
    odd = PatientFactory(clinic=clinic_a)
    Patient.objects.filter(pk=london.pk).update(phone="07911 123456", name_key="", search_key="")
    Patient.objects.filter(pk=madrid.pk).update(phone="612345678")
    Patient.objects.filter(pk=odd.pk).update(phone="ask at desk")
    migration = importlib.import_module("tracker.migrations.0011_patient_search_and_phone")
    migration.fill_keys_and_normalise_phones(apps, None)
    london.refresh_from_db()
    assert (london.phone, london.name_key, london.search_key) == (
        LONDON_MOBILE,
        "lucia perez",
        " lucia perez ",
    )
    assert Patient.objects.get(pk=madrid.pk).phone == "+34612345678"
    assert Patient.objects.get(pk=odd.pk).phone == "ask at desk"  # left for staff to correct


# --- Filters, sorting, names shared -------------------------------------------------


def _listed(client, **params):
    response = client.get(reverse("tracker:patient_list"), params)
    assert response.status_code == 200
    return [p.display_name for p in response.context["patient_list"]]


def test_my_patients_and_a_therapists(client, therapist_a, clinic_a):
    colleague = MembershipFactory(clinic=clinic_a).user
    mine = PatientFactory(clinic=clinic_a, display_name="Mine")
    theirs = PatientFactory(clinic=clinic_a, display_name="Theirs")
    PatientFactory(clinic=clinic_a, display_name="Nobody's")
    make_session(patient=mine, therapist=therapist_a.user)
    make_session(patient=theirs, therapist=colleague)
    client.force_login(therapist_a.user)
    assert _listed(client, therapist="me") == ["Mine"]
    assert _listed(client, therapist=str(colleague.pk)) == ["Theirs"]
    assert len(_listed(client)) == 3
    # Another clinic's therapist is no choice: the filter is ignored.
    outsider = MembershipFactory().user
    assert len(_listed(client, therapist=str(outsider.pk))) == 3


def test_status_filters(client, therapist_a, clinic_a, frozen_now):
    start = frozen_now(_now())
    with_alert = PatientFactory(clinic=clinic_a, display_name="Alerted")
    session = make_session(patient=with_alert, therapist=therapist_a.user, performed_at=start)
    services.submit_report(
        follow_up=session.follow_ups.get(time_point=TimePoint.IN_CLINIC),
        idempotency_key=uuid.uuid4(),
        answers=answers(soreness=7, red_flags=["rf_breathing"]),
        now=start,
    )
    missed = PatientFactory(clinic=clinic_a, display_name="Missed")
    old = make_session(
        patient=missed, therapist=therapist_a.user, performed_at=start - timedelta(hours=40)
    )
    open_now = PatientFactory(clinic=clinic_a, display_name="Open now")
    recent = make_session(
        patient=open_now, therapist=therapist_a.user, performed_at=start - timedelta(hours=23)
    )
    services.submit_report(
        follow_up=recent.follow_ups.get(time_point=TimePoint.IN_CLINIC),
        idempotency_key=uuid.uuid4(),
        answers=answers(soreness=2),
        now=recent.performed_at,
    )
    PatientFactory(clinic=clinic_a, display_name="Quiet")
    client.force_login(therapist_a.user)

    assert _listed(client, status="alert") == ["Alerted"]
    # The in-clinic and 24-hour check-ins of the 40-hour-old session closed unanswered.
    assert old.follow_ups.get(time_point=TimePoint.IN_CLINIC).state_at(start) == "missed"
    assert _listed(client, status="missed") == ["Missed"]
    # Open now: the 24-hour check-in of the session 23 hours ago (its in-clinic one was
    # answered; the newest session's next one is not open yet).
    assert _listed(client, status="open") == ["Open now"]
    assert _listed(client, status="nonsense") == ["Alerted", "Missed", "Open now", "Quiet"]


def _now():
    return clock.now().replace(microsecond=0)


def test_sorting_by_name_and_by_last_session(client, therapist_a, clinic_a, frozen_now):
    now = frozen_now(_now())
    for name, hours in [("Bea", 50), ("Abe", 2), ("Cal", None), ("Dee", 20)]:
        patient = PatientFactory(clinic=clinic_a, display_name=name)
        if hours is not None:
            make_session(
                patient=patient,
                therapist=therapist_a.user,
                performed_at=now - timedelta(hours=hours),
            )
    client.force_login(therapist_a.user)
    assert _listed(client) == ["Abe", "Bea", "Cal", "Dee"]
    assert _listed(client, sort="name") == ["Abe", "Bea", "Cal", "Dee"]
    assert _listed(client, sort="last_session") == ["Abe", "Dee", "Bea", "Cal"]


def test_a_shared_name_shows_the_reference_or_year_of_birth(client, therapist_a, clinic_a):
    PatientFactory(clinic=clinic_a, display_name="Ana García", reference="HP-1")
    PatientFactory(clinic=clinic_a, display_name="ana garcia", year_of_birth=1975)
    PatientFactory(clinic=clinic_a, display_name="Ana Gómez", reference="HP-3")
    client.force_login(therapist_a.user)
    response = client.get(reverse("tracker:patient_list"))
    shared = {p.display_name: p.shares_name for p in response.context["patient_list"]}
    assert shared == {"Ana García": True, "ana garcia": True, "Ana Gómez": False}
    page = response.content.decode()
    assert '<span class="small text-body-secondary shared-name">(Ref. HP-1)</span>' in page
    assert '<span class="small text-body-secondary shared-name">(born 1975)</span>' in page
    assert "(Ref. HP-3)" not in page


def test_the_filtered_list_costs_the_same_queries_however_many_rows(
    client, therapist_a, clinic_a, django_assert_num_queries
):
    client.force_login(therapist_a.user)
    make_session(patient=PatientFactory(clinic=clinic_a), therapist=therapist_a.user)
    params = {"q": "pat", "therapist": "me", "status": "open", "sort": "last_session"}
    # session, user, the therapists (filter choices), the paginator's count, the page,
    # the clinics the user leads (the menu).
    with django_assert_num_queries(6):
        assert len(client.get(reverse("tracker:patient_list"), params).context["patient_list"]) == 1
    for patient in PatientFactory.create_batch(30, clinic=clinic_a):
        make_session(patient=patient, therapist=therapist_a.user)
    with django_assert_num_queries(6):
        assert (
            len(client.get(reverse("tracker:patient_list"), params).context["patient_list"]) == 31
        )


def test_the_list_is_paginated(client, therapist_a, clinic_a):
    PatientFactory.create_batch(55, clinic=clinic_a)
    client.force_login(therapist_a.user)
    response = client.get(reverse("tracker:patient_list"), {"sort": "name"})
    assert len(response.context["patient_list"]) == 50
    response = client.get(reverse("tracker:patient_list"), {"sort": "name", "page": "2"})
    assert len(response.context["patient_list"]) == 5
    assert "sort=name" in response.content.decode()  # the pages keep the filters


# --- A number the SMS provider refused ----------------------------------------------


class RefusingSMSBackend(sms.BaseBackend):
    """A provider that refuses every number for good, and counts what it was asked."""

    calls = 0

    def send(self, *, to, body):
        RefusingSMSBackend.calls += 1
        raise sms.NumberRefused("Refused (error 21211).")


class DownSMSBackend(sms.BaseBackend):
    """A provider that cannot be reached: a passing failure."""

    def send(self, *, to, body):
        raise sms.SMSError("Could not reach the provider (TimeoutError).")


@pytest.fixture
def refusing(settings, patient_a):
    settings.SMS_BACKEND = "tests.test_patients.RefusingSMSBackend"
    RefusingSMSBackend.calls = 0
    Patient.objects.filter(pk=patient_a.pk).update(
        phone=LONDON_MOBILE, reminder_channel=ReminderChannel.SMS, reminders_consent=True
    )
    patient_a.refresh_from_db()
    return patient_a


def test_a_refused_number_is_recorded_and_not_tried_again(
    refusing, session_a, hours_after, caplog, client, therapist_a
):
    hours_after(24)
    result = reminders.run()
    assert (result.refused, result.failed, result.sent_total) == (1, 0, 0)
    assert RefusingSMSBackend.calls == 1
    refusing.refresh_from_db()
    assert refusing.phone_refused_at is not None
    # The claim stays: this check-in is not retried...
    assert FollowUp.objects.get(session=session_a, time_point=TimePoint.H24).reminder_sent_at
    assert reminders.run().refused == 0
    # ...nor is any later one sent to that number.
    hours_after(48)
    reminders.run()
    assert RefusingSMSBackend.calls == 1
    assert LONDON_MOBILE not in caplog.text
    [event] = AuditEvent.objects.filter(detail="phone refused by SMS provider")
    assert event.patient == refusing and event.user is None

    client.force_login(therapist_a.user)
    page = client.get(reverse("tracker:patient_detail", args=[refusing.pk])).content.decode()
    assert "Text reminders cannot reach this number." in page
    assert "text reminders stopped: number refused" in page


def test_a_new_number_clears_the_refusal(refusing, session_a, hours_after, client, therapist_a):
    hours_after(24)
    reminders.run()
    client.force_login(therapist_a.user)
    refusing.refresh_from_db()
    assert _edit(client, refusing, phone="07911 123457").status_code == 302
    refusing.refresh_from_db()
    assert refusing.phone == "+447911123457" and refusing.phone_refused_at is None
    page = client.get(reverse("tracker:patient_detail", args=[refusing.pk])).content.decode()
    assert "cannot reach this number" not in page
    assert "reminders by text message" in page
    hours_after(48)
    reminders.run()
    assert RefusingSMSBackend.calls == 2  # the new number is tried


def test_a_passing_failure_is_still_retried(settings, refusing, session_a, hours_after):
    settings.SMS_BACKEND = "tests.test_patients.DownSMSBackend"
    hours_after(24)
    assert reminders.run().failed == 1
    refusing.refresh_from_db()
    assert refusing.phone_refused_at is None
    assert (
        FollowUp.objects.get(session=session_a, time_point=TimePoint.H24).reminder_sent_at is None
    )


def test_a_refusal_is_not_recorded_against_a_number_changed_meanwhile(patient_a):
    Patient.objects.filter(pk=patient_a.pk).update(phone="+447911123457")
    assert not services.record_phone_refused(patient_id=patient_a.pk, phone=LONDON_MOBILE)
    assert Patient.objects.get(pk=patient_a.pk).phone_refused_at is None


def test_a_refused_number_is_no_reminder_address(refusing):
    assert services.has_reminder_address(refusing)
    services.record_phone_refused(patient_id=refusing.pk, phone=refusing.phone)
    assert not services.has_reminder_address(Patient.objects.get(pk=refusing.pk))

"""A clinic lead runs the clinic from the app: its settings and its staff, audited."""

import re
from datetime import time, timedelta

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from tests.factories import MembershipFactory, PatientFactory, UserFactory, make_session
from tracker.choices import Role
from tracker.models import AuditAction, AuditEvent, Clinic, Membership

pytestmark = pytest.mark.django_db

ADDRESS = "203.0.113.9"
PASSWORD = "a-long-new-pass-2026"


def _signs_in(username, password) -> bool:
    """Whether the sign-in page lets this username and password in (a redirect onwards)."""
    response = Client().post(reverse("login"), {"username": username, "password": password})
    return response.status_code == 302


def _mark() -> int:
    return AuditEvent.objects.order_by("-pk").values_list("pk", flat=True).first() or 0


def _events_after(mark):
    return list(AuditEvent.objects.filter(pk__gt=mark).order_by("pk"))


# ---------------------------------------------------------------------------
# The clinic's settings


def _settings_data(clinic, **overrides):
    return {
        "time_zone": "Europe/Madrid",
        "phone": "+34 910 000 000",
        "emergency_number": "112",
        "settled_max": "1",
        "soreness_threshold": "5",
        "soreness_72h_threshold": "4",
        "urgent_contacts": [],
        "escalation_minutes": "10",
        "quiet_hours_start": "22:00",
        "quiet_hours_end": "07:30",
        "require_2fa_for_leads": "on",
        **overrides,
    }


def test_a_lead_saves_the_clinics_settings_and_it_is_audited(client, lead_a, therapist_a):
    clinic = lead_a.clinic
    url = reverse("tracker:clinic_settings", args=[clinic.pk])
    client.force_login(lead_a.user)
    assert client.get(url).status_code == 200
    mark = _mark()
    response = client.post(
        url, _settings_data(clinic, urgent_contacts=[therapist_a.user.pk]), REMOTE_ADDR=ADDRESS
    )
    assert response.status_code == 302 and response["Location"] == url
    clinic.refresh_from_db()
    assert (
        clinic.time_zone,
        clinic.phone,
        clinic.emergency_number,
        clinic.settled_max,
        clinic.soreness_threshold,
        clinic.soreness_72h_threshold,
        clinic.escalation_minutes,
        clinic.quiet_hours_start,
        clinic.quiet_hours_end,
        clinic.require_2fa_for_leads,
    ) == ("Europe/Madrid", "+34 910 000 000", "112", 1, 5, 4, 10, time(22), time(7, 30), True)
    assert list(clinic.urgent_contacts.all()) == [therapist_a.user]
    [event] = _events_after(mark)
    assert (event.action, event.user, event.clinic, event.patient, event.ip, event.detail) == (
        AuditAction.UPDATE,
        lead_a.user,
        clinic,
        None,
        ADDRESS,
        "clinic settings",
    )
    assert (event.object_type, event.object_id) == ("clinic", clinic.pk)
    assert "The clinic&#x27;s settings were saved." in client.get(url).content.decode()


def test_the_settings_say_when_no_urgent_contact_can_be_reached(client, lead_a, therapist_a):
    clinic = lead_a.clinic
    url = reverse("tracker:clinic_settings", args=[clinic.pk])
    client.force_login(lead_a.user)

    def warned() -> bool:
        return 'id="no-urgent-contact"' in client.get(url).content.decode()

    assert warned()  # none chosen
    assert "only after 15 minutes" in client.get(url).content.decode()
    clinic.urgent_contacts.add(therapist_a.user)
    therapist_a.user.email = ""
    therapist_a.user.save()
    assert warned()  # chosen, but no email and no mobile
    therapist_a.user.email = "ana@clinic.example"
    therapist_a.user.save()
    assert not warned()
    therapist_a.user.is_active = False
    therapist_a.user.save()
    assert warned()  # the account was closed


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"soreness_72h_threshold": "1"}, "soreness_72h_threshold", "Alert only above the settled"),
        ({"soreness_threshold": "11"}, "soreness_threshold", "less than or equal to 10"),
        ({"escalation_minutes": "0"}, "escalation_minutes", "greater than or equal to 1"),
        ({"time_zone": "Mars/Olympus"}, "time_zone", "Select a valid choice"),
        ({"emergency_number": ""}, "emergency_number", "This field is required"),
        ({"quiet_hours_end": "25:00"}, "quiet_hours_end", "Enter a valid time"),
    ],
)
def test_bad_settings_are_a_message_beside_the_field_and_nothing_is_saved(
    client, lead_a, therapist_a, overrides, field, message
):
    clinic = lead_a.clinic
    before = Clinic.objects.filter(pk=clinic.pk).values().get()
    client.force_login(lead_a.user)
    mark = _mark()
    response = client.post(
        reverse("tracker:clinic_settings", args=[clinic.pk]),
        _settings_data(clinic, urgent_contacts=[therapist_a.user.pk], **overrides),
    )
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert list(errors) == [field] and message in errors[field][0]
    page = response.content.decode()
    # Beside the field: Bootstrap's invalid-feedback right after it, and in the summary.
    assert re.search(rf'id="error_\d+_id_{field}"', page) and "error-summary" in page
    assert Clinic.objects.filter(pk=clinic.pk).values().get() == before
    assert not clinic.urgent_contacts.exists()
    assert _events_after(mark) == []


def test_an_urgent_contact_must_be_on_the_clinics_staff(client, lead_a, therapist_b):
    client.force_login(lead_a.user)
    response = client.post(
        reverse("tracker:clinic_settings", args=[lead_a.clinic.pk]),
        _settings_data(lead_a.clinic, urgent_contacts=[therapist_b.user.pk]),
    )
    assert "urgent_contacts" in response.context["form"].errors
    assert not lead_a.clinic.urgent_contacts.exists()


@pytest.mark.parametrize("pk", [str(2**63), str(-(2**63) - 1), "12abc"])
def test_an_urgent_contact_id_no_one_can_have_is_a_message_not_an_error(client, lead_a, pk):
    client.force_login(lead_a.user)
    response = client.post(
        reverse("tracker:clinic_settings", args=[lead_a.clinic.pk]),
        _settings_data(lead_a.clinic, urgent_contacts=[pk]),
    )
    assert response.status_code == 200
    assert response.context["form"].errors["urgent_contacts"] == [f"“{pk}” is not a valid value."]
    assert not lead_a.clinic.urgent_contacts.exists()


@pytest.mark.parametrize("name", ["tracker:clinic_settings", "tracker:clinic_staff"])
def test_therapists_and_other_clinics_leads_cannot_reach_the_lead_pages(
    client, lead_a, therapist_a, therapist_b, name
):
    clinic = lead_a.clinic
    url = reverse(name, args=[clinic.pk])
    lead_b = MembershipFactory(clinic=therapist_b.clinic, role=Role.LEAD)
    before = Clinic.objects.filter(pk=clinic.pk).values().get()
    for user in (therapist_a.user, therapist_b.user, lead_b.user):
        client.force_login(user)
        assert client.get(url).status_code == 404
        post = {**_settings_data(clinic), "first_name": "Eve", "last_name": "X", "email": "e@x.org"}
        assert client.post(url, post).status_code == 404
    # Lead B's "Clinic" is B's; a therapist has none.
    assert client.get(reverse("tracker:clinic_home"))["Location"].startswith(
        f"/clinics/{therapist_b.clinic_id}/"
    )
    client.force_login(therapist_a.user)
    assert client.get(reverse("tracker:clinic_home")).status_code == 404
    assert Clinic.objects.filter(pk=clinic.pk).values().get() == before
    assert not get_user_model().objects.filter(email="e@x.org").exists()
    assert mail.outbox == []


def test_the_clinic_menu_item_is_for_leads(client, lead_a, therapist_a):
    client.force_login(therapist_a.user)
    assert (
        reverse("tracker:clinic_home") not in client.get(reverse("tracker:home")).content.decode()
    )
    client.force_login(lead_a.user)
    assert reverse("tracker:clinic_home") in client.get(reverse("tracker:home")).content.decode()
    response = client.get(reverse("tracker:clinic_home"))
    assert response["Location"] == reverse("tracker:clinic_settings", args=[lead_a.clinic.pk])


# ---------------------------------------------------------------------------
# Inviting a member of staff


def _invite(client, clinic, **overrides):
    data = {
        "first_name": "Nora",
        "last_name": "Quinn",
        "email": "Nora.Quinn@Example.org",
        "role": Role.THERAPIST,
        **overrides,
    }
    return client.post(reverse("tracker:clinic_staff", args=[clinic.pk]), data, REMOTE_ADDR=ADDRESS)


def _link(message) -> str:
    [url] = re.findall(r"https?://\S+/invitation/\S+/", message.body)
    return url[url.index("/invitation/") :]


def test_an_invitation_emails_a_link_that_sets_the_password_once(
    client, lead_a, django_capture_on_commit_callbacks
):
    clinic = lead_a.clinic
    patient = PatientFactory(clinic=clinic, display_name="Ana Torres", reference="MRN-1")
    client.force_login(lead_a.user)
    mark = _mark()
    with django_capture_on_commit_callbacks(execute=True):
        response = _invite(client, clinic)
    assert response.status_code == 302
    nora = get_user_model().objects.get(email="nora.quinn@example.org")
    assert nora.username == "nora.quinn@example.org" and not nora.has_usable_password()
    membership = Membership.objects.get(user=nora, clinic=clinic)
    assert membership.role == Role.THERAPIST
    [message] = mail.outbox
    assert message.to == ["nora.quinn@example.org"]
    assert clinic.name in message.body and "nora.quinn@example.org" in message.body
    # No patient data in the mail.
    text = message.subject + message.body
    assert patient.display_name not in text and patient.reference not in text
    [event] = _events_after(mark)
    assert (event.action, event.user, event.clinic, event.object_type, event.detail) == (
        AuditAction.CREATE,
        lead_a.user,
        clinic,
        "membership",
        "staff invited",
    )
    assert event.ip == ADDRESS

    # The link sets the password; then Nora signs in with it.
    client.logout()
    link = _link(message)
    page = client.get(link)
    assert page.status_code == 200 and page.context["validlink"]
    short = client.post(link, {"new_password1": "short", "new_password2": "short"})
    assert (
        short.context["form"].errors
        and not get_user_model().objects.get(pk=nora.pk).has_usable_password()
    )
    mark = _mark()
    done = client.post(link, {"new_password1": PASSWORD, "new_password2": PASSWORD})
    assert done.status_code == 302 and done["Location"] == reverse("login")
    assert _signs_in("nora.quinn@example.org", PASSWORD)
    [event] = _events_after(mark)
    assert (event.user, event.detail, event.clinic) == (nora, "password set", clinic)
    # Once only.
    client.logout()
    assert not client.get(link).context["validlink"]
    again = client.post(link, {"new_password1": "other-pass-2026!x", "new_password2": "x"})
    assert not again.context["validlink"]


@pytest.mark.parametrize(("days", "works"), [(6, True), (8, False)])
def test_the_invitation_link_expires(
    client, lead_a, settings, time_machine, django_capture_on_commit_callbacks, days, works
):
    settings.INVITATION_LINK_DAYS = 7
    time_machine.move_to(timezone.now(), tick=False)
    client.force_login(lead_a.user)
    with django_capture_on_commit_callbacks(execute=True):
        _invite(client, lead_a.clinic)
    link = _link(mail.outbox[0])
    client.logout()
    time_machine.move_to(timezone.now() + timedelta(days=days), tick=False)
    assert client.get(link).context["validlink"] is works
    client.post(link, {"new_password1": PASSWORD, "new_password2": PASSWORD})
    nora = get_user_model().objects.get(email="nora.quinn@example.org")
    assert nora.has_usable_password() is works


def test_a_made_up_or_reset_link_is_no_invitation(client, lead_a, therapist_a):
    from django.contrib.auth.tokens import default_token_generator
    from django.utils.encoding import force_bytes
    from django.utils.http import urlsafe_base64_encode

    uid = urlsafe_base64_encode(force_bytes(therapist_a.user.pk))
    reset = default_token_generator.make_token(therapist_a.user)
    for args in ([uid, reset], [uid, "made-up"], ["!!", "x-y"]):
        page = client.get(reverse("tracker:invitation", args=args))
        assert page.status_code == 200 and not page.context["validlink"]
        assert "This link does not work" in page.content.decode()


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"email": "not an email"}, "email", "Enter a valid email address."),
        ({"first_name": ""}, "first_name", "This field is required."),
        ({"role": "owner"}, "role", "Select a valid choice."),
    ],
)
def test_bad_invitations_are_a_message_beside_the_field(client, lead_a, overrides, field, message):
    client.force_login(lead_a.user)
    users, mark = get_user_model().objects.count(), _mark()
    response = _invite(client, lead_a.clinic, **overrides)
    assert response.status_code == 200
    assert message in response.context["form"].errors[field][0]
    assert f'id="error_1_id_{field}"' in response.content.decode()
    assert get_user_model().objects.count() == users and _events_after(mark) == []
    assert mail.outbox == []


def test_someone_already_on_the_staff_or_elsewhere_is_not_invited_again(
    client, lead_a, therapist_a, therapist_b
):
    therapist_a.user.email = "ana@example.org"
    therapist_a.user.save()
    therapist_b.user.email = "bo@example.org"
    therapist_b.user.save()
    client.force_login(lead_a.user)
    here = _invite(client, lead_a.clinic, email="ANA@example.org")
    assert "already on the staff" in here.context["form"].errors["email"][0]
    elsewhere = _invite(client, lead_a.clinic, email="bo@example.org")
    assert "another clinic" in elsewhere.context["form"].errors["email"][0]
    assert not Membership.objects.filter(user=therapist_b.user, clinic=lead_a.clinic).exists()
    assert mail.outbox == []


def test_the_staff_page_lists_the_clinics_staff_only(client, lead_a, therapist_a, therapist_b):
    client.force_login(lead_a.user)
    page = client.get(reverse("tracker:clinic_staff", args=[lead_a.clinic.pk])).content.decode()
    assert therapist_a.user.get_full_name() in page and lead_a.user.get_full_name() in page
    assert therapist_b.user.get_full_name() not in page


# ---------------------------------------------------------------------------
# Roles


def _member_post(client, membership, follow=False, **data):
    return client.post(
        reverse("tracker:staff_member", args=[membership.clinic_id, membership.pk]),
        data,
        REMOTE_ADDR=ADDRESS,
        follow=follow,
    )


def test_a_lead_changes_a_role_and_it_is_audited(client, lead_a, therapist_a):
    client.force_login(lead_a.user)
    mark = _mark()
    response = _member_post(
        client, therapist_a, action="role", **{f"m{therapist_a.pk}-role": "lead"}
    )
    assert response.status_code == 302
    therapist_a.refresh_from_db()
    assert therapist_a.role == Role.LEAD
    [event] = _events_after(mark)
    assert (event.action, event.user, event.object_type, event.object_id, event.detail) == (
        AuditAction.UPDATE,
        lead_a.user,
        "membership",
        therapist_a.pk,
        "role lead",
    )


def test_the_last_lead_cannot_be_demoted(client, lead_a, therapist_a):
    client.force_login(lead_a.user)
    mark = _mark()
    response = _member_post(client, lead_a, action="role", **{f"m{lead_a.pk}-role": "therapist"})
    lead_a.refresh_from_db()
    assert lead_a.role == Role.LEAD and _events_after(mark) == []
    page = client.get(response["Location"]).content.decode()
    assert "This is the clinic&#x27;s last lead." in page
    # With a second lead, the first may step down.
    _member_post(client, therapist_a, action="role", **{f"m{therapist_a.pk}-role": "lead"})
    stepped_down = _member_post(
        client, lead_a, action="role", **{f"m{lead_a.pk}-role": "therapist"}
    )
    lead_a.refresh_from_db()
    assert lead_a.role == Role.THERAPIST
    assert stepped_down["Location"] == reverse("tracker:home")
    # Now a therapist: the staff pages are closed to them.
    assert client.get(reverse("tracker:clinic_staff", args=[lead_a.clinic_id])).status_code == 404


def test_a_deactivated_lead_does_not_count_as_the_other_lead(client, lead_a, therapist_a):
    other = MembershipFactory(clinic=lead_a.clinic, role=Role.LEAD)
    other.user.is_active = False
    other.user.save()
    client.force_login(lead_a.user)
    _member_post(client, lead_a, action="role", **{f"m{lead_a.pk}-role": "therapist"})
    lead_a.refresh_from_db()
    assert lead_a.role == Role.LEAD


def test_a_bad_role_changes_nothing(client, lead_a, therapist_a):
    client.force_login(lead_a.user)
    mark = _mark()
    for data in ({"action": "role", f"m{therapist_a.pk}-role": "owner"}, {"action": "drop"}, {}):
        assert _member_post(client, therapist_a, **data).status_code == 302
    therapist_a.refresh_from_db()
    assert therapist_a.role == Role.THERAPIST and _events_after(mark) == []


def test_a_lead_cannot_change_another_clinics_staff(client, lead_a, therapist_b):
    client.force_login(lead_a.user)
    # Clinic A's address with B's member, and B's address: both 404.
    url = reverse("tracker:staff_member", args=[lead_a.clinic_id, therapist_b.pk])
    assert client.post(url, {"action": "deactivate"}).status_code == 404
    url = reverse("tracker:staff_member", args=[therapist_b.clinic_id, therapist_b.pk])
    assert client.post(url, {"action": "deactivate"}).status_code == 404
    therapist_b.user.refresh_from_db()
    assert therapist_b.user.is_active


# ---------------------------------------------------------------------------
# Deactivating


def test_a_deactivated_account_cannot_sign_in_and_its_sessions_stay(
    client, lead_a, therapist_a, patient_a
):
    session = make_session(patient=patient_a, therapist=therapist_a.user)
    therapist_client = Client()
    therapist_client.force_login(therapist_a.user)
    client.force_login(lead_a.user)
    mark = _mark()
    _member_post(client, therapist_a, action="deactivate")
    therapist_a.user.refresh_from_db()
    assert not therapist_a.user.is_active
    [event] = _events_after(mark)
    assert (event.user, event.detail, event.object_id) == (
        lead_a.user,
        "deactivated",
        therapist_a.pk,
    )

    # No new sign-in, and the session already open ends at its next request.
    refused = Client().post(
        reverse("login"),
        {"username": therapist_a.user.username, "password": "correct-horse-battery"},
    )
    assert refused.status_code == 200 and refused.context["form"].errors
    assert therapist_client.get(reverse("tracker:home")).status_code == 302

    # The sessions they recorded stay, and still say who treated the patient.
    session.refresh_from_db()
    assert session.therapist == therapist_a.user
    page = client.get(reverse("tracker:session_detail", args=[session.pk])).content.decode()
    assert therapist_a.user.get_full_name() in page
    # They are no urgent contact to choose any more.
    form = client.get(reverse("tracker:clinic_settings", args=[lead_a.clinic_id])).context["form"]
    assert therapist_a.user not in form.fields["urgent_contacts"].queryset

    # Reactivated, they sign in again.
    _member_post(client, therapist_a, action="reactivate")
    assert _signs_in(therapist_a.user.username, "correct-horse-battery")


def test_the_last_lead_and_oneself_cannot_be_deactivated(client, lead_a):
    client.force_login(lead_a.user)
    _member_post(client, lead_a, action="deactivate")
    lead_a.user.refresh_from_db()
    assert lead_a.user.is_active
    other_lead = MembershipFactory(clinic=lead_a.clinic, role=Role.LEAD)
    client.force_login(other_lead.user)
    # Two leads: one may deactivate the other, but then not the last one left.
    _member_post(client, lead_a, action="deactivate")
    lead_a.user.refresh_from_db()
    assert not lead_a.user.is_active
    _member_post(client, other_lead, action="deactivate")
    other_lead.user.refresh_from_db()
    assert other_lead.user.is_active


def test_an_account_of_another_clinic_too_is_not_deactivated_here(
    client, lead_a, therapist_a, therapist_b
):
    MembershipFactory(user=therapist_a.user, clinic=therapist_b.clinic)
    client.force_login(lead_a.user)
    response = _member_post(client, therapist_a, action="deactivate")
    therapist_a.user.refresh_from_db()
    assert therapist_a.user.is_active
    assert "another clinic" in client.get(response["Location"]).content.decode()


def test_an_invitation_can_be_sent_again_until_the_password_is_set(
    client, lead_a, therapist_a, django_capture_on_commit_callbacks
):
    client.force_login(lead_a.user)
    with django_capture_on_commit_callbacks(execute=True):
        _invite(client, lead_a.clinic)
    nora = Membership.objects.get(user__email="nora.quinn@example.org")
    with django_capture_on_commit_callbacks(execute=True):
        _member_post(client, nora, action="resend")
    assert len(mail.outbox) == 2 and mail.outbox[1].to == ["nora.quinn@example.org"]
    # Someone with a password already gets no invitation.
    with django_capture_on_commit_callbacks(execute=True):
        _member_post(client, therapist_a, action="resend")
    assert len(mail.outbox) == 2
    # A deactivated invitee's link opens nothing.
    _member_post(client, nora, action="deactivate")
    client.logout()
    assert not client.get(_link(mail.outbox[1])).context["validlink"]


# ---------------------------------------------------------------------------
# What the pages cost


@pytest.mark.parametrize("staff", [1, 15])
def test_the_staff_page_query_count_does_not_grow(client, lead_a, staff, django_assert_num_queries):
    for _ in range(staff):
        MembershipFactory(clinic=lead_a.clinic)
    client.force_login(lead_a.user)
    # session, user, the led clinic, the members with their users, the clinics the
    # user leads (the "Audit" and "Clinic" menu items)
    with django_assert_num_queries(5):
        response = client.get(reverse("tracker:clinic_staff", args=[lead_a.clinic_id]))
    assert len(response.context["members"]) == staff + 2  # and therapist_a and lead_a


@pytest.mark.parametrize("staff", [1, 15])
def test_the_settings_page_query_count_does_not_grow(
    client, lead_a, staff, django_assert_num_queries
):
    for _ in range(staff):
        MembershipFactory(clinic=lead_a.clinic)
    client.force_login(lead_a.user)
    # session, user, the led clinic, whether an urgent contact can be reached, the
    # staff to choose urgent contacts from, the clinic's urgent contacts (the boxes
    # ticked), the clinics the user leads (the menu)
    with django_assert_num_queries(7):
        response = client.get(reverse("tracker:clinic_settings", args=[lead_a.clinic_id]))
    assert (
        len(response.context["form"].fields["urgent_contacts"].queryset) == staff + 2
    )  # and therapist_a and lead_a


def test_a_mail_that_fails_leaves_the_invitation_to_send_again(
    client, lead_a, monkeypatch, caplog, django_capture_on_commit_callbacks
):
    def refuse(*args, **kwargs):
        raise ConnectionRefusedError

    monkeypatch.setattr("tracker.services.clinic.send_mail", refuse)
    client.force_login(lead_a.user)
    with django_capture_on_commit_callbacks(execute=True):
        response = _invite(client, lead_a.clinic)
    assert response.status_code == 302
    nora = get_user_model().objects.get(email="nora.quinn@example.org")
    [line] = [r.getMessage() for r in caplog.records if "Invitation mail" in r.getMessage()]
    assert line == f"Invitation mail to user {nora.pk} failed: ConnectionRefusedError"


def test_deactivating_the_only_reachable_urgent_contact_says_so(client, lead_a, therapist_a):
    clinic = lead_a.clinic
    clinic.urgent_contacts.add(therapist_a.user)
    client.force_login(lead_a.user)
    response = _member_post(client, therapist_a, action="deactivate", follow=True)
    page = response.content.decode()
    assert "was the clinic&#x27;s urgent contact: no urgent contact can be reached now" in page

    # With another urgent contact still reachable, nothing more is said.
    _member_post(client, therapist_a, action="reactivate")
    desk = MembershipFactory(clinic=clinic, user=UserFactory(email="desk@clinic.example"))
    clinic.urgent_contacts.add(desk.user)
    page = _member_post(client, therapist_a, action="deactivate", follow=True).content.decode()
    assert "can no longer sign in" in page and "no urgent contact can be reached" not in page

"""Replacing a patient's link from the session page: the old one stops, a new one is shown."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from tests.factories import make_session
from tracker import services
from tracker.models import AccessLink, AuditAction, AuditEvent
from tracker.security import tokens

pytestmark = pytest.mark.django_db


def _replace_url(session):
    return reverse("tracker:link_replace", args=[session.pk])


def test_a_therapist_replaces_the_link_and_the_old_one_says_so(
    client, therapist_a, session_a, link_token
):
    client.force_login(therapist_a.user)
    page = client.get(reverse("tracker:session_detail", args=[session_a.pk])).content.decode()
    assert "Replace the patient's link" in page and _replace_url(session_a) in page

    response = client.post(_replace_url(session_a))
    assert response["Location"] == reverse("tracker:session_detail", args=[session_a.pk])
    old, new = session_a.access_links.order_by("pk")
    assert old.revoked_at is not None and new.revoked_at is None
    assert new.expires_at == old.expires_at  # the same check-in period

    # The old token shows the "replaced" page; the new one opens the check-in.
    closed = client.get(reverse("patient:check_in", args=[link_token]))
    assert closed.status_code == 404 and "This link has been replaced" in closed.content.decode()
    assert client.get(reverse("patient:check_in", args=[new.token])).status_code == 200

    # The session page now shows the new link and its QR code, and says what happened.
    page = client.get(response["Location"]).content.decode()
    assert new.token in page and link_token not in page
    assert "The patient&#x27;s link was replaced" in page  # a message: escaped

    events = AuditEvent.objects.filter(action__in=[AuditAction.REVOKE_LINK, AuditAction.ISSUE_LINK])
    assert sorted((e.action, e.object_id, e.user_id, e.patient_id) for e in events) == sorted(
        [
            (AuditAction.REVOKE_LINK, old.pk, therapist_a.user.pk, session_a.patient.pk),
            (AuditAction.ISSUE_LINK, new.pk, therapist_a.user.pk, session_a.patient.pk),
        ]
    )


def test_only_staff_of_the_clinic_may_replace_it(client, therapist_b, session_a):
    client.force_login(therapist_b.user)
    assert client.post(_replace_url(session_a)).status_code == 404
    assert client.get(_replace_url(session_a)).status_code == 405  # the same for anyone
    assert AccessLink.objects.get().revoked_at is None
    with pytest.raises(ValidationError):
        services.replace_access_link(session=session_a, user=therapist_b.user)


def test_replacing_needs_a_post_with_a_csrf_token(therapist_a, session_a):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(therapist_a.user)
    assert client.get(_replace_url(session_a)).status_code == 405
    assert client.post(_replace_url(session_a)).status_code == 403
    assert AccessLink.objects.get().revoked_at is None


def test_a_revoked_link_can_be_issued_again_within_the_check_in_period(
    client, therapist_a, session_a
):
    AccessLink.objects.update(revoked_at=session_a.performed_at)
    client.force_login(therapist_a.user)
    page = client.get(reverse("tracker:session_detail", args=[session_a.pk])).content.decode()
    assert "it was revoked" in page and "Issue a new link" in page
    client.post(_replace_url(session_a))
    assert AccessLink.objects.usable_at(session_a.performed_at).count() == 1
    assert AuditEvent.objects.filter(action=AuditAction.REVOKE_LINK).count() == 0
    assert AuditEvent.objects.filter(action=AuditAction.ISSUE_LINK).count() == 1


def test_no_new_link_after_the_check_in_period_or_for_an_erased_patient(
    client, therapist_a, lead_a, patient_a, session_a
):
    client.force_login(therapist_a.user)
    old = make_session(
        patient=patient_a,
        therapist=therapist_a.user,
        performed_at=session_a.performed_at - timedelta(days=8),
    )
    page = client.get(reverse("tracker:session_detail", args=[old.pk])).content.decode()
    assert "Replace the patient" not in page and "Issue a new link" not in page
    response = client.post(_replace_url(old), follow=True)
    assert "check-ins are over" in response.content.decode()
    assert old.access_links.count() == 1

    services.erase_patient(patient=patient_a, user=lead_a.user, request_ip=None)
    response = client.post(_replace_url(session_a), follow=True)
    assert "were erased" in response.content.decode()
    assert not AccessLink.objects.usable_at(session_a.performed_at).exists()


def test_two_replacements_leave_one_working_link(therapist_a, session_a):
    first = services.replace_access_link(session=session_a, user=therapist_a.user)
    second = services.replace_access_link(session=session_a, user=therapist_a.user)
    assert [link.pk for link in second.revoked] == [first.issued.pk]
    assert AccessLink.objects.usable_at(session_a.performed_at).get() == second.issued
    assert tokens.hash_token(second.issued.token) == second.issued.token_hash

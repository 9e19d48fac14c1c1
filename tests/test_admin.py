"""The admin: what it lets a superuser do with the clinical records."""

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("model", ["needlingsession", "followup"])
def test_sessions_and_check_ins_are_not_added_in_the_admin(admin_client, model):
    # Recorded in the app, which plans the check-ins and issues the link.
    assert admin_client.get(reverse(f"admin:tracker_{model}_add")).status_code == 403


def test_a_session_can_still_be_looked_at_and_fixed(admin_client, session_a):
    response = admin_client.get(reverse("admin:tracker_needlingsession_change", args=[session_a.pk]))
    assert response.status_code == 200
    assert 'name="pre_pain"' in response.content.decode()

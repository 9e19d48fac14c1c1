"""The admin: what it lets a superuser do with the clinical records."""

import uuid

import pytest
from django.urls import reverse

from tests.factories import answers
from tracker import services
from tracker.choices import TimePoint
from tracker.models import (
    AccessLink,
    Alert,
    AuditAction,
    AuditActor,
    AuditEvent,
    FollowUp,
    NeedledSite,
    NeedlingSession,
    Patient,
    SymptomReport,
)

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("model", ["needlingsession", "followup"])
def test_sessions_and_check_ins_are_not_added_in_the_admin(admin_client, model):
    # Recorded in the app, which plans the check-ins and issues the link.
    assert admin_client.get(reverse(f"admin:tracker_{model}_add")).status_code == 403


def test_a_session_can_still_be_looked_at_and_fixed(admin_client, session_a):
    response = admin_client.get(
        reverse("admin:tracker_needlingsession_change", args=[session_a.pk])
    )
    assert response.status_code == 200
    assert 'name="pre_pain"' in response.content.decode()


# ---------------------------------------------------------------------------
# The admin never goes around the audit trail

PATIENT_DATA = [
    "patient",
    "needlingsession",
    "needledsite",
    "followup",
    "symptomreport",
    "accesslink",
]


@pytest.fixture
def rows(session_a):
    follow_up = session_a.follow_ups.get(time_point=TimePoint.IN_CLINIC)
    report, _created = services.submit_report(
        follow_up=follow_up,
        idempotency_key=uuid.uuid4(),
        answers=answers(soreness=6),
        now=follow_up.opens_at,
    )
    return {
        "patient": session_a.patient,
        "needlingsession": session_a,
        "needledsite": session_a.sites.first(),
        "followup": follow_up,
        "symptomreport": report,
        "accesslink": session_a.access_links.get(),
    }


def _counts():
    return [
        model.objects.count()
        for model in (
            Patient,
            NeedlingSession,
            NeedledSite,
            FollowUp,
            SymptomReport,
            AccessLink,
            Alert,
        )
    ]


@pytest.mark.parametrize("model", PATIENT_DATA)
def test_patient_data_is_never_deleted_in_the_admin(admin_client, rows, model):
    """Erasure and "entered in error" are the ways: a deletion here left no trace."""
    obj = rows[model]
    before = _counts()
    delete_url = reverse(f"admin:tracker_{model}_delete", args=[obj.pk])
    assert admin_client.get(delete_url).status_code == 403
    assert admin_client.post(delete_url, {"post": "yes"}).status_code == 403
    changelist = reverse(f"admin:tracker_{model}_changelist")
    action_form = admin_client.get(changelist).context["action_form"]
    assert action_form is None or "delete_selected" not in dict(
        action_form.fields["action"].choices
    )
    admin_client.post(
        changelist, {"action": "delete_selected", "_selected_action": [obj.pk], "post": "yes"}
    )
    page = admin_client.get(reverse(f"admin:tracker_{model}_change", args=[obj.pk]))
    assert page.context["has_delete_permission"] is False  # no "Delete" button
    assert _counts() == before


def test_a_sessions_sites_and_check_ins_cannot_be_deleted_from_its_page(admin_client, rows):
    page = admin_client.get(
        reverse("admin:tracker_needlingsession_change", args=[rows["needlingsession"].pk])
    )
    for formset in page.context["inline_admin_formsets"]:
        assert not formset.formset.can_delete, formset.opts
    assert "-DELETE" not in page.content.decode()


@pytest.mark.parametrize("model", PATIENT_DATA)
def test_opening_a_record_in_the_admin_is_recorded(admin_client, admin_user, rows, model):
    obj = rows[model]
    mark = AuditEvent.objects.order_by("-pk").values_list("pk", flat=True).first()
    response = admin_client.get(
        reverse(f"admin:tracker_{model}_change", args=[obj.pk]), REMOTE_ADDR="203.0.113.9"
    )
    assert response.status_code == 200
    [event] = AuditEvent.objects.filter(pk__gt=mark)
    assert (
        event.action,
        event.actor,
        event.user,
        event.patient,
        event.object_type,
        event.object_id,
        event.ip,
        event.detail,
    ) == (
        AuditAction.VIEW,
        AuditActor.STAFF,
        admin_user,
        rows["patient"],
        obj._meta.model_name,
        obj.pk,
        "203.0.113.9",
        "admin",
    )


def test_a_change_in_the_admin_is_recorded(admin_client, admin_user, rows):
    patient = rows["patient"]
    url = reverse("admin:tracker_patient_change", args=[patient.pk])
    form = admin_client.get(url).context["adminform"].form
    data = {name: value for name, value in form.initial.items() if value not in (None, False)}
    data["display_name"] = "Corrected Name"
    mark = AuditEvent.objects.order_by("-pk").values_list("pk", flat=True).first()
    response = admin_client.post(url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    [event] = AuditEvent.objects.filter(pk__gt=mark)
    assert (event.action, event.user, event.patient, event.detail) == (
        AuditAction.UPDATE,
        admin_user,
        patient,
        "admin",
    )


def test_adding_a_patient_in_the_admin_is_recorded(admin_client, admin_user, clinic_a):
    response = admin_client.post(
        reverse("admin:tracker_patient_add"),
        {
            "clinic": clinic_a.pk,
            "display_name": "Added Here",
            "language": "en",
            "reminder_channel": "none",
        },
    )
    assert response.status_code == 302, response.context["adminform"].form.errors
    patient = Patient.objects.get(display_name="Added Here")
    event = AuditEvent.objects.get(patient=patient)
    assert (event.action, event.user, event.detail) == (AuditAction.CREATE, admin_user, "admin")

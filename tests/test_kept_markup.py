"""Markup kept rendered under a digest of what it shows is never out of date.

The alert cards (Today, the inbox), Today's lists and the sessions on the
patient page (tracker.fragments): each test views a page, changes what it
shows, and views it again.
"""

import re
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from django.contrib.auth.models import User
from django.core.cache import caches
from django.core.cache.utils import make_template_fragment_key
from django.db import models, transaction
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from tests.factories import MembershipFactory, PatientFactory, answer, make_session
from tracker import fragments, services
from tracker.choices import TimePoint
from tracker.models import Alert, NeedlingSession
from tracker.queries import dashboard
from tracker.queries import patients as patient_queries
from tracker.templatetags.tracker_tags import alert_cards_key

pytestmark = pytest.mark.django_db


@pytest.fixture
def alert(session_a):
    answer(session_a, TimePoint.IN_CLINIC, red_flags=["rf_breathing"])
    return Alert.objects.get(session=session_a, rule="red_flag")


def _inbox(client):
    return client.get(reverse("tracker:alert_list") + "?state=all").content.decode()


def _cards(alerts):
    return dashboard.AlertCards(alerts.values_list(*dashboard.CARD_ROW))


def _other(value):
    """A value unlike ``value``."""
    if isinstance(value, bool):
        return not value
    if isinstance(value, int):
        return value + 1
    if isinstance(value, str):
        return value + "·"
    if isinstance(value, datetime):
        return value + timedelta(seconds=1)
    if isinstance(value, uuid.UUID):
        return uuid.uuid4()
    if isinstance(value, list):
        return [*value, "changed"]
    if isinstance(value, dict):
        return {**value, "changed": True}
    if value is None:
        return "set"
    raise AssertionError(f"no other value for {value!r}")


def test_a_kept_card_shows_each_change_on_the_next_view(client, therapist_a, alert):
    patient = alert.session.patient
    client.force_login(therapist_a.user)
    assert patient.display_name in _inbox(client)

    patient.phone = "+447700900456"
    patient.save()
    page = _inbox(client)
    assert "+44 7700 900456" in page and "tel:+447700900456" in page

    services.act_on_alert(alert=alert, user=therapist_a.user, outcome="no_answer")
    assert "Called: no answer —" in _inbox(client)  # the attempt's line, with who made it

    services.act_on_alert(alert=alert, user=therapist_a.user, outcome="advised", note="Seen, fine.")
    page = _inbox(client)
    assert "Seen, fine." in page
    assert f'id="acknowledge-{alert.pk}"' not in page


def test_a_kept_list_of_cards_changes_with_any_card_and_with_their_order(
    client, therapist_a, session_a, alert
):
    """The inbox keeps its page of cards as one piece, under its cards' keys in order."""
    other = make_session(
        patient=PatientFactory(clinic=session_a.clinic), therapist=alert.session.therapist
    )
    answer(other, TimePoint.IN_CLINIC, red_flags=["rf_breathing"])
    cards = _cards(Alert.objects.order_by("pk"))
    assert len(cards) == 2
    key = alert_cards_key(cards)
    assert alert_cards_key(cards[::-1]) != key
    other.patient.display_name += "·"
    other.patient.save()
    assert alert_cards_key(_cards(Alert.objects.order_by("pk"))) != key

    client.force_login(therapist_a.user)
    response = client.get(reverse("tracker:alert_list") + "?state=all")
    assert response.content.decode().count('class="fw-semibold"') == 2
    # The page is kept apart from the cards (a page of 50 is some 100 KB).
    shown = response.context["cards"]
    page_key = make_template_fragment_key("alert_cards", ["en", True, alert_cards_key(shown)])
    assert caches["fragment_pages"].get(page_key) is not None
    assert caches["template_fragments"].get(page_key) is None
    services.act_on_alert(alert=alert, user=therapist_a.user, outcome="advised")
    page = _inbox(client)
    assert page.count('class="fw-semibold"') == 2
    assert f'form="acknowledge-{alert.pk}"' not in page  # its form and its inputs are gone
    still_open = Alert.objects.exclude(pk=alert.pk).get()
    assert page.count(f'form="acknowledge-{still_open.pk}"') == 2  # the token and "next"


def test_a_kept_card_carries_each_requests_own_token(therapist_a, clinic_a, alert):
    """The card is kept; its form's CSRF token and return address are the request's."""
    colleague = MembershipFactory(clinic=clinic_a)
    for user in (therapist_a.user, colleague.user):
        client = Client(enforce_csrf_checks=True)
        client.force_login(user)
        page = client.get(reverse("tracker:home")).content.decode()
        form = f'form="acknowledge-{alert.pk}"'
        token = re.search(rf'name="csrfmiddlewaretoken" value="([^"]+)" {form}', page)
        assert re.search(rf'name="next" value="/" {form}', page)
        response = client.post(
            reverse("tracker:alert_acknowledge", args=[alert.pk]),
            {"csrfmiddlewaretoken": token.group(1), "outcome": "no_answer", "next": "/"},
        )
        assert response.status_code == 302
    assert alert.attempts.count() == 2


def test_a_kept_card_is_in_the_readers_language(client, therapist_a, alert):
    client.force_login(therapist_a.user)
    assert "What was done" in _inbox(client)
    page = client.get(
        reverse("tracker:alert_list") + "?state=all", HTTP_ACCEPT_LANGUAGE="es"
    ).content.decode()
    assert "What was done" not in page
    assert "Urgente" in page


def test_a_kept_session_shows_each_change_on_the_next_view(
    client, therapist_a, session_a, hours_after
):
    url = reverse("tracker:patient_detail", args=[session_a.patient_id])

    def states():
        client.force_login(therapist_a.user)  # a sign-in lasts hours, not days
        page = client.get(url).content.decode()
        return re.findall(r'<span class="badge state-(\w+)">', page), page

    hours_after(1)
    assert states()[0] == ["open", "upcoming", "upcoming"]

    answer(session_a, TimePoint.IN_CLINIC, soreness=7, note="Stiff neck")
    found, page = states()
    assert found == ["answered", "upcoming", "upcoming"]
    assert "7/10" in page and "Stiff neck" in page

    # Nothing stored changed: the clock moved, and the check-ins' states with it.
    hours_after(24)
    assert states()[0] == ["answered", "open", "upcoming"]
    hours_after(60)
    assert states()[0] == ["answered", "missed", "missed"]

    services.mark_entered_in_error(session=session_a, user=therapist_a.user, reason="Wrong patient")
    found, page = states()
    assert "Wrong patient" in page and "<del>" in page


def _keys_with_each_value_changed(rows, key, *, others) -> list[str]:
    """``key()``, then again after each column of ``rows`` is changed in the
    database in turn (each change undone before the next).

    ``rows`` are (instance, column names); ``others`` gives, by model, a row
    that a foreign key to that model can point at instead (a join needs one).
    If the key covers every column, the keys are all different.
    """
    keys = [key()]
    now = timezone.now()
    for row, attnames in rows:
        model = type(row)
        for attname in attnames:
            field = model._meta.get_field(attname.removesuffix("_id"))
            value = getattr(row, attname)
            if field.is_relation and field.related_model in others:
                new = others[field.related_model].pk
            elif attname == "opens_at":  # earlier, as a window opens by its due time
                new = value - timedelta(seconds=1)
            elif value is None:
                new = {models.DateTimeField: now, models.BooleanField: True}.get(
                    type(field), 1 if isinstance(field, models.IntegerField) else "set"
                )
            else:
                new = _other(value)
            with transaction.atomic():
                model.objects.filter(pk=row.pk).update(**{attname: new})
                keys.append(key())
                transaction.set_rollback(True)
    return keys


def _columns(instance, *but) -> list[str]:
    return [
        field.attname
        for field in instance._meta.concrete_fields
        if not field.primary_key and field.attname not in but
    ]


def test_the_key_changes_with_every_value_a_card_is_drawn_from(therapist_a, therapist_b, alert):
    services.act_on_alert(alert=alert, user=therapist_a.user, outcome="no_answer")
    services.act_on_alert(alert=alert, user=therapist_a.user, outcome="advised")
    alert.refresh_from_db()
    patient = alert.session.patient
    rows = [
        # Raised by a check-in, it can have no warning report (alert_raised_by_one_event).
        (alert, _columns(alert, "warning_report_id")),
        *((attempt, _columns(attempt)) for attempt in alert.attempts.all()),
        (patient, ["display_name", "erased_at", "phone", "phone_refused_at", "email"]),
        (patient.clinic, ["time_zone"]),
        (therapist_a.user, fragments.STAFF_NAMES),  # who acknowledged it, who tried to call
    ]
    others = {
        User: therapist_b.user,
        NeedlingSession: make_session(patient=patient, therapist=therapist_a.user),
    }

    def key():
        return _cards(Alert.objects.filter(pk=alert.pk))[0].key

    keys = _keys_with_each_value_changed(rows, key, others=others)
    assert len(keys) > 20
    assert len(set(keys)) == len(keys)


def test_a_sessions_key_changes_with_every_value_its_block_is_drawn_from(
    therapist_a, therapist_b, session_a, alert
):
    services.act_on_alert(alert=alert, user=therapist_a.user, outcome="advised")
    services.mark_entered_in_error(session=session_a, user=therapist_a.user, reason="Wrong patient")
    session_a.refresh_from_db()
    follow_up = session_a.follow_ups.get(time_point=TimePoint.IN_CLINIC)
    rows = [
        # Another patient's session is not on the page.
        (session_a, _columns(session_a, "patient_id")),
        *((site, _columns(site)) for site in session_a.sites.all()),
        (alert, _columns(alert, "warning_report_id")),
        *((check_in, _columns(check_in)) for check_in in session_a.follow_ups.all()),
        (follow_up.report, _columns(follow_up.report)),
        (therapist_a.user, fragments.STAFF_NAMES),  # who treated, who acknowledged the alert
    ]
    patient, now = session_a.patient, timezone.now()

    def key():
        return patient_queries.session_block_keys(patient, now)[session_a.pk]

    keys = _keys_with_each_value_changed(rows, key, others={User: therapist_b.user})
    assert len(keys) > 60
    assert len(set(keys)) == len(keys)


@pytest.mark.parametrize("time_zone", ["Europe/London", "America/New_York"])
def test_todays_kept_lists_show_each_change_on_the_next_view(
    client, therapist_a, patient_a, frozen_now, time_zone
):
    # Midday in London and in New York: the session is today in both, at any
    # hour the test runs.
    frozen_now(datetime(2026, 3, 4, 15, 0, tzinfo=UTC))
    session_a = make_session(patient=patient_a, therapist=therapist_a.user)
    client.force_login(therapist_a.user)
    patient = session_a.patient
    assert client.get(reverse("tracker:home")).content.decode().count(patient.display_name) == 2

    patient.display_name = "Renamed Patient"
    patient.save()
    clinic = patient.clinic
    clinic.time_zone = time_zone
    clinic.save()
    therapist = therapist_a.user
    therapist.first_name, therapist.last_name = "Ana", "Renamed"
    therapist.save()
    page = client.get(reverse("tracker:home")).content.decode()
    # Under "Sessions today" and "Check-ins open now", in the clinic's own time.
    assert page.count("Renamed Patient") == 2
    performed = session_a.performed_at.astimezone(clinic.zone).strftime("%H:%M")
    assert f"{performed} · Ana Renamed" in page

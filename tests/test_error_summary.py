"""The error summary (templates/tracker/_error_summary.html): every staff form that
fails says so at the top of the page, once, with a link to each field in error.

Focus and the links' behaviour in a browser are checked in
tests/browser/test_staff_accessibility.py.
"""

import re
from pathlib import Path

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
SUMMARY = '{% include "tracker/_error_summary.html"'


def summary_of(response):
    """The summary's HTML, or None."""
    html = response.content.decode()
    found = re.search(
        r'<div class="alert alert-danger error-summary".*?</ul>\s*</div>', html, re.DOTALL
    )
    return found and found.group(0)


def test_every_page_with_a_crispy_form_includes_the_summary():
    # crispy-forms' own list of a form's non-field errors is blanked
    # (templates/bootstrap5/errors.html): the summary is where they show.
    pages = [path for path in TEMPLATES.rglob("*.html") if "crispy_forms_tags" in path.read_text()]
    assert len(pages) >= 9
    missing = [
        str(path.relative_to(TEMPLATES)) for path in pages if SUMMARY not in path.read_text()
    ]
    assert missing == []


def test_a_valid_page_has_no_summary(client, therapist_a):
    client.force_login(therapist_a.user)
    assert summary_of(client.get(reverse("tracker:patient_create"))) is None


def test_each_field_error_links_to_its_field(client, therapist_a):
    client.force_login(therapist_a.user)
    response = client.post(
        reverse("tracker:patient_create"),
        {
            "clinic": therapist_a.clinic.pk,
            "display_name": "",
            "reminder_channel": "sms",
            "language": "en",
        },
    )
    summary = summary_of(response)
    assert 'tabindex="-1" autofocus' in summary
    assert (
        '<a class="alert-link" href="#id_display_name">Name: This field is required.</a>' in summary
    )
    assert '<a class="alert-link" href="#id_phone">Mobile number: Add a mobile number' in summary


def test_a_formsets_rows_are_named_and_its_own_errors_listed(client, therapist_a, patient_a):
    client.force_login(therapist_a.user)
    response = client.post(
        reverse("tracker:session_create", args=[patient_a.pk]),
        {
            "performed_at": "2026-01-15T10:30",
            "pre_pain": "",
            "sites-TOTAL_FORMS": "2",
            "sites-INITIAL_FORMS": "0",
            "sites-0-side": "right",
            "sites-0-insertions": "1",
            "sites-0-technique": "deep_static",
            "sites-0-twitch_band": "none",
            "sites-1-muscle": "piriformis",
            "sites-1-side": "right",
            "sites-1-insertions": "0",
            "sites-1-technique": "deep_static",
            "sites-1-twitch_band": "none",
        },
    )
    summary = summary_of(response)
    assert 'href="#id_pre_pain">Pain before the session (0–10): Ask the patient' in summary
    assert 'href="#id_sites-1-insertions">Site 2, insertions: Ensure this value' in summary


def test_a_forms_own_errors_show_once(client, therapist_a):
    response = client.post(
        reverse("login"), {"username": therapist_a.user.username, "password": "no"}
    )
    message = "Please enter a correct username and password."
    assert message in summary_of(response)
    assert response.content.decode().count(message) == 1

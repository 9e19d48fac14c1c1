"""No browser or proxy keeps a page that shows patient data: every URL, from the resolver.

Staff pages (the ``tracker`` namespace and the admin) and the patient's link
pages answer ``Cache-Control: no-store, private``; the few pages that show
no patient data are named in ``STORABLE``. A new URL is in one group or the
other, or ``test_every_url_is_checked`` fails.
"""

import pytest
from django.test import Client
from django.urls import reverse

from tests.factories import UserFactory
from tests.test_authorization_matrix import MATRIX, POST_DATA, _patterns, _url, people  # noqa: F401

pytestmark = pytest.mark.django_db

# Pages without patient data: signing in and out, the health check, the
# patient pages' service worker and manifest (the same for every patient).
STORABLE = {
    "healthz", "login", "logout", "password_change", "password_change_done", "password_reset",
    "password_reset_done", "password_reset_confirm", "password_reset_complete",
    "patient:service_worker", "patient:manifest",
}


def _kept_from_stores(response) -> bool:
    directives = {part.strip() for part in response.get("Cache-Control", "").split(",")}
    return {"no-store", "private"} <= directives


def test_every_url_is_checked():
    names = {name for name, _route in _patterns()}
    checked = {name for name in names if name.startswith(("tracker:", "patient:", "admin:"))}
    assert names - checked - STORABLE == set()
    assert STORABLE <= names


@pytest.mark.parametrize(
    "name", sorted(n for n in MATRIX if n.startswith(("tracker:", "patient:")) and n not in STORABLE)
)
def test_pages_with_patient_data_are_never_stored(name, people):
    client = Client()
    client.force_login(people["users"]["lead_a"])  # a lead of clinic A sees every page
    url = _url(name, dict(_patterns())[name], people["x"])
    if MATRIX[name].get("method") == "POST":
        response = client.post(url, POST_DATA[name])
    else:
        response = client.get(url)
    assert response.status_code in (200, 302), response.status_code
    assert _kept_from_stores(response), (name, response.get("Cache-Control"))


def test_a_refused_staff_page_is_not_stored_either(people):
    client = Client()
    client.force_login(people["users"]["therapist_b"])
    response = client.get(reverse("tracker:patient_detail", args=[people["x"].patient.pk]))
    assert response.status_code == 404 and _kept_from_stores(response)


def test_admin_pages_are_never_stored(people):
    client = Client()
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    x = people["x"]
    for url in (
        reverse("admin:index"),
        reverse("admin:tracker_patient_changelist"),
        reverse("admin:tracker_patient_change", args=[x.patient.pk]),
        reverse("admin:tracker_needlingsession_change", args=[x.session.pk]),
    ):
        response = client.get(url)
        assert response.status_code == 200 and _kept_from_stores(response), url


@pytest.mark.parametrize("name", ["patient:service_worker", "patient:manifest"])
def test_pages_without_patient_data_keep_their_own_caching(name, people):
    """The patient pages' service worker and manifest are revalidated or kept a day, not refetched."""
    response = Client().get(_url(name, dict(_patterns())[name], people["x"]))
    assert response.status_code == 200
    assert "no-store" not in response.get("Cache-Control", "")

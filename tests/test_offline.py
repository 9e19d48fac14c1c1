"""The service worker and web app manifest views, and what patient pages link to."""

import json
import re

import pytest
from django.contrib.staticfiles import finders
from django.urls import resolve, reverse
from PIL import Image

from tracker.views import offline

pytestmark = pytest.mark.django_db


def test_service_worker_is_served_from_the_patient_folder_and_never_kept_stale(client):
    url = reverse("patient:service_worker")
    assert url == "/f/sw.js"  # its folder is the scope it may control
    assert resolve(url).func is offline.service_worker  # not taken for a token

    response = client.get(url)

    assert response.status_code == 200
    assert response["Content-Type"] == "application/javascript"
    assert response["Cache-Control"] == "no-cache"
    assert b'addEventListener("fetch"' in response.content
    assert not response.cookies


def test_service_worker_never_keeps_posts(client):
    source = client.get(reverse("patient:service_worker")).content.decode()
    assert 'if (request.method !== "GET") return;' in source


def test_service_worker_answers_only_reads(client):
    assert client.post(reverse("patient:service_worker")).status_code == 405


def test_manifest_names_the_app_and_its_icons(client):
    response = client.get(reverse("patient:manifest"))

    assert response.status_code == 200
    assert response["Content-Type"] == "application/manifest+json"
    manifest = json.loads(response.content)
    assert manifest["name"] == "Needle Aftercare check-in"
    assert manifest["display"] == "standalone"
    assert re.fullmatch(r"#[0-9a-f]{6}", manifest["theme_color"])
    # Each link is its own secret URL: the start URL is the page it was added from.
    assert "start_url" not in manifest
    assert {icon["sizes"] for icon in manifest["icons"]} == {"192x192", "512x512"}


@pytest.mark.parametrize("size", [192, 512])
def test_manifest_icons_exist_at_their_size(size):
    path = finders.find(f"tracker/img/icon-{size}.png")
    assert path, f"icon-{size}.png is missing"
    with Image.open(path) as image:
        assert image.size == (size, size)
        assert image.format == "PNG"


@pytest.fixture
def check_in_page(client, link_token):
    return client.get(reverse("patient:check_in", args=[link_token])).content.decode()


def test_patient_pages_load_the_script_without_inline_code(check_in_page):
    scripts = re.findall(r"<script\b[^>]*>(.*?)</script>", check_in_page, flags=re.S)
    assert scripts == [""], "one script, loaded from a file: a strict CSP forbids inline code"
    # load.js, deferred, brings in check-in.js once the page has loaded.
    assert re.search(
        r'<script src="/static/tracker/js/load\.js" data-src="/static/tracker/js/check-in\.js"'
        r"[^>]* defer>",
        check_in_page,
    )
    assert 'data-service-worker="/f/sw.js"' in check_in_page
    assert '<link rel="manifest" href="/f/manifest.webmanifest">' in check_in_page
    assert not re.search(r"<[^>]+\son[a-z]+=", check_in_page), "no inline event handlers"


def test_both_check_in_forms_work_offline_and_have_a_status_region(check_in_page):
    assert check_in_page.count("data-offline-form") == 2
    region = re.search(r'<div class="offline-status"[^>]*>', check_in_page).group(0)
    assert 'role="status"' in region and 'aria-live="polite"' in region
    assert "Saved on this phone — will send when you are back online." in region


def test_patient_pages_load_nothing_from_another_host(check_in_page):
    addresses = re.findall(r'(?:src|href|action)="([^"]*)"', check_in_page)
    assert addresses
    for address in addresses:
        assert not re.match(r"(?i)^(https?:)?//", address), address

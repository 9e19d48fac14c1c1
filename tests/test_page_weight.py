"""What a phone downloads for a check-in: compressed pages, and 304s for what it already has.

``make bench`` measures the bytes end to end (bench/load.py, ``page_weight``);
these tests pin the headers that make them small.
"""

import gzip

import pytest
from django.urls import reverse

from tests.factories import PatientFactory, answer, make_session

pytestmark = pytest.mark.django_db

GZIP = {"accept-encoding": "gzip, deflate, br"}  # what phones send

# The check-in page is about 15 KB as text and about 3.4 KB compressed (2026-11).
CHECK_IN_PAGE_GZIP_BYTES = 5_000


def test_check_in_page_is_compressed_for_a_phone_and_still_never_stored(client, link_token):
    url = reverse("patient:check_in", args=[link_token])

    plain = client.get(url)
    compressed = client.get(url, headers=GZIP)

    assert compressed.status_code == 200
    assert compressed["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in compressed["Vary"]
    page = gzip.decompress(compressed.content)
    # The same form (each answer carries its own idempotency key, so not the same bytes).
    assert page.count(b"data-offline-form") == plain.content.count(b"data-offline-form") == 2
    assert url.encode() in page
    assert len(compressed.content) < CHECK_IN_PAGE_GZIP_BYTES < len(plain.content)
    assert int(compressed["Content-Length"]) == len(compressed.content)
    # The page holds the patient's private link: no cache may keep it, compressed or not.
    for response in (plain, compressed):
        assert "no-store" in response["Cache-Control"]
        assert "private" in response["Cache-Control"]
        assert "ETag" not in response


def test_check_in_page_is_sent_as_is_to_a_client_without_gzip(client, link_token):
    response = client.get(reverse("patient:check_in", args=[link_token]))

    assert not response.has_header("Content-Encoding")
    assert b"data-offline-form" in response.content


def test_patient_pages_compress_with_random_padding_against_breach(client, link_token):
    """Django's GZipMiddleware pads each answer with random bytes; the same page
    compressed twice rarely has the same length."""
    url = reverse("patient:check_in", args=[link_token])
    lengths = {len(client.get(url, headers=GZIP).content) for _ in range(8)}
    assert len(lengths) > 1


@pytest.mark.parametrize("name", ["service_worker", "manifest"])
def test_offline_files_answer_304_while_unchanged(client, name):
    url = reverse(f"patient:{name}")
    first = client.get(url, headers=GZIP)
    assert first.status_code == 200
    assert first["Content-Encoding"] == "gzip"
    etag = first["ETag"]  # weak (W/"…") once compressed, as RFC 9110 asks

    again = client.get(url, headers={**GZIP, "if-none-match": etag})

    assert again.status_code == 304
    assert again.content == b""
    # A 304 repeats the caching rules, so the browser's stored copy keeps them.
    assert again["Cache-Control"] == first["Cache-Control"]
    assert again["ETag"].removeprefix("W/") == etag.removeprefix("W/")
    assert "Accept-Encoding" in again["Vary"]


@pytest.mark.parametrize("name", ["service_worker", "manifest"])
def test_offline_files_are_sent_again_when_the_phone_has_another_version(client, name):
    url = reverse(f"patient:{name}")
    fresh = client.get(url)

    response = client.get(url, headers={"if-none-match": '"an-older-version"'})

    assert response.status_code == 200
    assert response.content == fresh.content
    assert response["ETag"] == fresh["ETag"]


def test_service_worker_is_revalidated_on_every_check(client):
    """A phone stores the worker but must ask before using it: a new worker
    reaches it on the next update check, not a day later."""
    response = client.get(reverse("patient:service_worker"))
    assert response["Cache-Control"] == "no-cache"
    assert response.has_header("ETag")


def test_manifest_is_kept_for_a_day_in_each_language(client):
    english = client.get(reverse("patient:manifest"))
    spanish = client.get(reverse("patient:manifest"), headers={"accept-language": "es"})

    assert english["Cache-Control"] == "max-age=86400"
    assert "Accept-Language" in english["Vary"]
    assert english["ETag"] != spanish["ETag"]
    # An English copy is not a Spanish phone's copy.
    stale = client.get(
        reverse("patient:manifest"),
        headers={"accept-language": "es", "if-none-match": english["ETag"]},
    )
    assert stale.status_code == 200


def test_static_files_are_not_compressed_a_second_time(client, link_token):
    """WhiteNoise answers static files above GZipMiddleware: a PNG (already
    compressed) goes out as it is, with its length, not re-wrapped in gzip,
    while a page asked for the same way is compressed."""
    response = client.get("/static/tracker/img/icon-192.png", headers=GZIP)

    assert response.status_code == 200
    assert not response.has_header("Content-Encoding")
    assert response.has_header("Content-Length")
    page = client.get(reverse("patient:check_in", args=[link_token]), headers=GZIP)
    assert page["Content-Encoding"] == "gzip"


def test_a_chart_is_compressed_once_and_sent_the_same_to_every_browser(client, therapist_a):
    """A chart is the same bytes on every visit: compressed once in the process,
    not again by GZipMiddleware on each request. The two forms hold one SVG."""
    session = make_session(patient=PatientFactory(clinic=therapist_a.clinic))
    answer(session, 0, soreness=4)
    client.force_login(therapist_a.user)
    url = reverse("tracker:patient_chart", args=[session.patient.pk])

    plain = client.get(url)
    compressed = [client.get(url, headers=GZIP) for _ in range(2)]

    assert not plain.has_header("Content-Encoding")
    assert plain["Content-Type"] == "image/svg+xml"
    for response in compressed:
        assert response["Content-Encoding"] == "gzip"
        assert response["Content-Type"] == "image/svg+xml"
        assert "Accept-Encoding" in response["Vary"]
        assert int(response["Content-Length"]) == len(response.content)
        assert gzip.decompress(response.content) == plain.content
    # Kept compressed: not padded afresh per request, so the very same bytes.
    assert compressed[0].content == compressed[1].content
    assert len(compressed[0].content) < len(plain.content) / 2
    assert "Accept-Encoding" in plain["Vary"]

"""Looking up a patient link: limited per address, and as costly for a wrong token as a right one."""

from datetime import timedelta
from pathlib import Path

import pytest
from django.core.cache import cache
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from tests.factories import answer
from tracker import services
from tracker.choices import TimePoint
from tracker.models import FollowUp
from tracker.security import ratelimit, tokens
from tracker.services import links

pytestmark = pytest.mark.django_db

UNKNOWN = tokens.token_for(tokens.new_nonce())


@pytest.fixture(params=["folder", "redis"])
def limits(request, settings, frozen_now):
    """A small limit, an empty cache (the server's folder, or Redis), the clock at an hour's start."""
    if request.param == "redis":
        request.getfixturevalue("redis_cache")
    cache.clear()
    settings.LINK_MISSES_PER_HOUR = 3
    start = frozen_now(
        timezone.now().replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
    )
    yield start
    cache.clear()


@pytest.fixture
def catalogue():
    """The Spanish catalogue compiled from the committed .po (``make test`` does it first too)."""
    po = Path(__file__).resolve().parent.parent / "tracker/locale/es/LC_MESSAGES/django.po"
    mo = po.with_suffix(".mo")
    if not mo.exists() or mo.stat().st_mtime < po.stat().st_mtime:
        call_command("compilemessages", locale=["es"], ignore_patterns=[".venv"], verbosity=0)


def _check_in(token):
    return reverse("patient:check_in", args=[token])


def test_a_right_link_is_answered_however_often_it_is_opened(client, link_token, limits):
    for _ in range(100):
        assert client.get(_check_in(link_token)).status_code == 200


def test_too_many_unknown_tokens_get_a_please_wait_page(client, limits, frozen_now, catalogue):
    for _ in range(3):
        assert client.get(_check_in(UNKNOWN)).status_code == 404
    frozen_now(limits + timedelta(minutes=10))
    response = client.get(_check_in(UNKNOWN))
    assert response.status_code == 429
    assert response["Retry-After"] == str(50 * 60)
    assert response["Referrer-Policy"] == "no-referrer"
    assert response["Content-Language"] == "en, es"
    assert "no-store" in response["Cache-Control"] and not response.cookies
    page = response.content.decode()
    assert "Please wait a moment" in page and "Espere un momento" in page
    assert "try your link again in 50 minutes" in page
    assert "A complete, valid link still opens" in page
    assert "call emergency services now" in page  # still there for someone unwell
    # Another address is not affected; the hour's end lifts the limit.
    assert Client(REMOTE_ADDR="198.51.100.7").get(_check_in(UNKNOWN)).status_code == 404
    frozen_now(limits + timedelta(hours=1))
    assert client.get(_check_in(UNKNOWN)).status_code == 404


def test_a_right_link_opens_from_an_address_past_the_limit(client, link_token, limits):
    """Junk from a shared address (clinic Wi-Fi, a carrier's NAT) stops no patient behind it."""
    for _ in range(10):
        client.get(_check_in(UNKNOWN))
    assert client.get(_check_in(UNKNOWN)).status_code == 429
    assert client.get(_check_in(link_token)).status_code == 200
    for name in ["stop_reminders", "soreness_chart"]:
        assert client.get(reverse(f"patient:{name}", args=[link_token])).status_code == 200
    response = client.post(reverse("patient:set_language", args=[link_token]), {"language": "en"})
    assert response.status_code == 302


def test_every_patient_link_page_counts_unknown_tokens(client, limits):
    pages = [
        ("get", reverse("patient:check_in", args=[UNKNOWN])),
        ("get", reverse("patient:stop_reminders", args=[UNKNOWN])),
        ("get", reverse("patient:soreness_chart", args=[UNKNOWN])),
    ]
    for method, url in pages:
        assert getattr(client, method)(url).status_code == 404
    assert (
        client.post(reverse("patient:set_language", args=[UNKNOWN]), {"language": "en"}).status_code
        == 429
    )
    assert client.get(reverse("patient:done", args=[UNKNOWN, 0])).status_code == 429


def test_known_links_that_no_longer_open_are_not_misses(client, session_a, link_token, limits):
    link = session_a.access_links.get()
    link.revoked_at = link.created_at
    link.save()
    for _ in range(5):
        response = client.get(_check_in(link_token))
        assert response.status_code == 404 and "replaced" in response.content.decode()


def test_ipv6_addresses_are_counted_per_64(limits):
    """Stepping through the addresses of one /64 does not reset the count; another /64 is apart."""
    for address in ("2001:db8:1:2::1", "2001:db8:1:2::2", "2001:db8:1:2:ffff::3"):
        assert Client(REMOTE_ADDR=address).get(_check_in(UNKNOWN)).status_code == 404
    assert Client(REMOTE_ADDR="2001:db8:1:2:abcd::9").get(_check_in(UNKNOWN)).status_code == 429
    assert Client(REMOTE_ADDR="2001:db8:1:3::1").get(_check_in(UNKNOWN)).status_code == 404


def test_addresses_are_counted_as_the_audit_trail_reads_them(rf, settings):
    request = rf.get("/", REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="203.0.113.9")
    assert ratelimit.client_key(request) == "10.0.0.2"  # the header is anyone's to write
    settings.TRUSTED_PROXY_COUNT = 1
    assert ratelimit.client_key(request) == "203.0.113.9"
    # IPv6: one home's /64 counts as one address; an IPv4-mapped address as itself.
    settings.TRUSTED_PROXY_COUNT = 0
    first = rf.get("/", REMOTE_ADDR="2001:db8:1:2::1")
    other = rf.get("/", REMOTE_ADDR="2001:db8:1:2:ffff::9")
    assert ratelimit.client_key(first) == ratelimit.client_key(other) == "2001:db8:1:2::/64"
    assert ratelimit.client_key(rf.get("/", REMOTE_ADDR="::ffff:192.0.2.1")) == "192.0.2.1"
    assert ratelimit.client_key(rf.get("/", REMOTE_ADDR="not an address")) == "unknown"


# --- A wrong token costs the same work as a right one -----------------------------------


def _operations(monkeypatch, django_assert_num_queries, token):
    """The hashing, HMAC and comparison calls one lookup makes, in order."""
    calls = []

    def counting(name, function):
        def wrapped(*args, **kwargs):
            calls.append(name)
            return function(*args, **kwargs)

        return wrapped

    monkeypatch.setattr(tokens, "hash_token", counting("sha256", tokens.hash_token))
    monkeypatch.setattr(tokens, "token_for", counting("hmac", tokens.token_for))
    monkeypatch.setattr(
        links, "constant_time_compare", counting("compare", links.constant_time_compare)
    )
    with django_assert_num_queries(1):
        link = services.lookup_access_link(token)
    monkeypatch.undo()
    return calls, link


def test_a_wrong_token_runs_the_same_operations_as_a_right_one(
    monkeypatch, django_assert_num_queries, session_a, link_token
):
    right, found = _operations(monkeypatch, django_assert_num_queries, link_token)
    assert found == session_a.access_links.get()
    for wrong in [
        UNKNOWN,
        link_token[:-1] + ("A" if link_token[-1] != "A" else "B"),
        "x",
        "é" * 500,
    ]:
        ops, missing = _operations(monkeypatch, django_assert_num_queries, wrong)
        assert missing is None
        assert ops == right == ["sha256", "hmac", "sha256", "compare"], wrong


def test_a_row_written_without_the_secret_key_opens_nothing(session_a):
    """Someone who can write to the database but lacks SECRET_KEY cannot make a working link."""
    link = session_a.access_links.get()
    forged = "forged-token-" + "A" * 30
    type(link).objects.filter(pk=link.pk).update(token_hash=tokens.hash_token(forged))
    assert services.lookup_access_link(forged) is None


# --- What the lookup brings -------------------------------------------------------------


def _fields(instance) -> dict:
    return {field.attname: getattr(instance, field.attname) for field in instance._meta.fields}


def test_the_link_comes_with_what_its_pages_show_in_one_query(
    session_a, link_token, django_assert_num_queries
):
    """The link, its session, patient and clinic, and the session's check-ins with
    their reports, as the ORM reads them, and related to each other."""
    answer(session_a, TimePoint.IN_CLINIC, soreness=4)
    with django_assert_num_queries(1):
        link = services.lookup_access_link(link_token)
    expected = list(
        FollowUp.objects.filter(session=session_a).select_related("report").order_by("time_point")
    )
    expected_link = session_a.access_links.get()
    with django_assert_num_queries(0):
        session = link.session
        assert _fields(link) == _fields(expected_link)
        assert _fields(session) == _fields(session_a)
        assert _fields(session.patient) == _fields(session_a.patient)
        assert _fields(session.patient.clinic) == _fields(session_a.patient.clinic)
        found = session.follow_up_list
        assert [_fields(fu) for fu in found] == [_fields(fu) for fu in expected]
        assert len(found) >= 3 and all(fu.session is session for fu in found)
        answered = [fu for fu in found if hasattr(fu, "report")]
        assert [fu.time_point for fu in answered] == [TimePoint.IN_CLINIC]
        assert _fields(answered[0].report) == _fields(expected[0].report)
        assert answered[0].report.follow_up is answered[0]


def test_a_session_without_check_ins_still_has_its_link(session_a, link_token):
    FollowUp.objects.filter(session=session_a).delete()
    link = services.lookup_access_link(link_token)
    assert link == session_a.access_links.get()
    assert link.session.follow_up_list == []

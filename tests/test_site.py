"""Links and QR codes point at the address the app is served on (tracker/site.py)."""

import re
import uuid

import pytest
import segno
from django.core import mail
from django.urls import reverse

from tests.factories import answers
from tracker import services, site
from tracker.choices import RedFlag
from tracker.models import FollowUp
from tracker.reminders.sending import build_message

pytestmark = pytest.mark.django_db


def _link_and_qr(client, session):
    html = client.get(reverse("tracker:session_detail", args=[session.pk])).content.decode()
    link = re.search(r'<input [^>]*id="link-url"[^>]*value="([^"]+)"', html).group(1)
    qr = re.search(r'<div class="qr mx-auto mb-3">(<svg .*?</svg>)</div>', html, re.DOTALL).group(1)
    return link, qr


def _modules(svg):
    """The QR code's dark modules as segno draws them: one path, whatever its colour or title."""
    return re.search(r' d="([^"]+)"', svg).group(1)


def _qr_of(url):
    return _modules(segno.make(url, error="m").svg_inline())


def test_session_page_link_and_qr_code_carry_the_configured_address_and_port(
    client, settings, therapist_a, session_a, link_token
):
    settings.SITE_URL = "http://192.168.1.20:8001"
    client.force_login(therapist_a.user)
    link, qr = _link_and_qr(client, session_a)
    expected = f"http://192.168.1.20:8001/f/{link_token}/"
    assert link == expected
    assert _modules(qr) == _qr_of(expected)


def test_without_site_url_the_page_uses_the_address_it_was_opened_at(
    client, settings, therapist_a, session_a, link_token
):
    # Development without SITE_URL, e.g. `DEBUG=1 manage.py runserver 0.0.0.0:9000` by hand.
    settings.SITE_URL = ""
    settings.ALLOWED_HOSTS = ["192.168.1.20"]
    client.force_login(therapist_a.user)
    client.defaults["HTTP_HOST"] = "192.168.1.20:9000"
    link, qr = _link_and_qr(client, session_a)
    expected = f"http://192.168.1.20:9000/f/{link_token}/"
    assert link == expected
    assert _modules(qr) == _qr_of(expected)


def test_site_url_wins_over_the_host_the_browser_asked_for(
    client, settings, therapist_a, session_a, link_token
):
    # A therapist on the serving machine opens localhost; the phone needs the network address.
    settings.SITE_URL = "http://192.168.1.20:8000"
    client.force_login(therapist_a.user)
    client.defaults["HTTP_HOST"] = "localhost"
    link, _ = _link_and_qr(client, session_a)
    assert link == f"http://192.168.1.20:8000/f/{link_token}/"


def test_messages_sent_without_a_request_use_site_url(settings, session_a, link_token):
    settings.SITE_URL = "http://192.168.1.20:8001"
    follow_up = session_a.follow_ups.get(time_point=24)
    message = build_message(follow_up, link_token)
    assert f"http://192.168.1.20:8001/f/{link_token}/" in message.body
    assert message.stop_url == f"http://192.168.1.20:8001/f/{link_token}/reminders/"


def test_an_urgent_alert_email_links_to_site_url(
    settings, django_capture_on_commit_callbacks, session_a
):
    settings.SITE_URL = "http://192.168.1.20:8001"
    session_a.therapist.email = "ana@clinic.example"
    session_a.therapist.save()
    follow_up = FollowUp.objects.get(session=session_a, time_point=0)
    with django_capture_on_commit_callbacks(execute=True):
        services.submit_report(
            follow_up=follow_up,
            idempotency_key=uuid.uuid4(),
            answers=answers(red_flags=[RedFlag.BREATHING]),
        )
    session_url = reverse("tracker:session_detail", args=[session_a.pk])
    assert f"http://192.168.1.20:8001{session_url}" in mail.outbox[0].body


def test_without_site_url_or_request_messages_use_runservers_address(settings):
    settings.SITE_URL = ""
    assert site.absolute_url("/f/x/") == "http://127.0.0.1:8000/f/x/"

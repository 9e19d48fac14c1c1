"""Text-message backends: console, file, and the Twilio adapter against a local stand-in."""

import base64
import io
import json
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.core import mail
from django.core.exceptions import ImproperlyConfigured

from tracker import reminders
from tracker.choices import ReminderChannel
from tracker.reminders import sms

PHONE = "+447700900123"
SID = "AC0123456789abcdef0123456789abcdef"
AUTH_TOKEN = "twilio-auth-token-for-tests"


class _StandIn(BaseHTTPRequestHandler):
    """Records each request; answers with the server's ``status``."""

    def do_POST(self):
        length = int(self.headers["Content-Length"])
        self.server.requests.append(
            {"path": self.path, "headers": dict(self.headers), "body": self.rfile.read(length)}
        )
        status = self.server.status
        # Twilio's errors echo the number; the adapter must not pass it on.
        payload = (
            {"sid": "SM123"}
            if status < 300
            else {"code": self.server.code, "message": f"Invalid 'To': {PHONE}"}
        )
        body = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def twilio(settings, monkeypatch):
    """A local stand-in for api.twilio.com, with the Twilio backend pointed at it."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _StandIn)
    server.requests = []
    server.status = 201
    server.code = 20003
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    monkeypatch.setenv("no_proxy", "127.0.0.1")  # never through a proxy from the environment
    settings.SMS_BACKEND = "tracker.reminders.sms.TwilioBackend"
    settings.SMS_TWILIO_API_BASE = f"http://127.0.0.1:{server.server_port}"
    settings.SMS_TWILIO_ACCOUNT_SID = SID
    settings.SMS_TWILIO_AUTH_TOKEN = AUTH_TOKEN
    settings.SMS_FROM = "+447700900999"
    yield server
    server.shutdown()
    server.server_close()
    thread.join()


def test_get_backend_builds_the_configured_class(settings, tmp_path):
    settings.SMS_BACKEND = "tracker.reminders.sms.FileBackend"
    settings.SMS_FILE_PATH = str(tmp_path / "sms.jsonl")
    assert isinstance(sms.get_backend(), sms.FileBackend)


def test_an_unknown_backend_is_a_configuration_error(settings):
    settings.SMS_BACKEND = "tracker.reminders.sms.NoSuchBackend"
    with pytest.raises(ImproperlyConfigured, match="SMS_BACKEND"):
        sms.get_backend()


def test_console_backend_prints_the_message():
    stream = io.StringIO()
    sms.ConsoleBackend(stream=stream).send(to=PHONE, body="Your check-in is open")
    assert PHONE in stream.getvalue() and "Your check-in is open" in stream.getvalue()


def test_file_backend_appends_one_json_line_per_message(settings, tmp_path):
    settings.SMS_FILE_PATH = str(tmp_path / "sms.jsonl")
    settings.SMS_FROM = "Clinic"
    backend = sms.FileBackend()
    backend.send(to=PHONE, body="first")
    backend.send(to="+15005550006", body="second, ñ")
    lines = [json.loads(line) for line in (tmp_path / "sms.jsonl").read_text().splitlines()]
    assert [(m["to"], m["from"], m["body"]) for m in lines] == [
        (PHONE, "Clinic", "first"),
        ("+15005550006", "Clinic", "second, ñ"),
    ]


def test_file_backend_needs_a_path(settings):
    settings.SMS_FILE_PATH = ""
    with pytest.raises(ImproperlyConfigured, match="SMS_FILE_PATH"):
        sms.FileBackend()


def test_twilio_backend_posts_the_message_with_basic_auth(twilio):
    sms.get_backend().send(to=PHONE, body="Your 24-hour check-in is open: https://x/f/abc/")
    [request] = twilio.requests
    assert request["path"] == f"/2010-04-01/Accounts/{SID}/Messages.json"
    expected = base64.b64encode(f"{SID}:{AUTH_TOKEN}".encode()).decode()
    assert request["headers"]["Authorization"] == f"Basic {expected}"
    assert request["headers"]["Content-Type"] == "application/x-www-form-urlencoded"
    assert urllib.parse.parse_qs(request["body"].decode()) == {
        "To": [PHONE],
        "From": ["+447700900999"],
        "Body": ["Your 24-hour check-in is open: https://x/f/abc/"],
    }


def test_twilio_error_raises_without_the_number_or_the_text(twilio):
    twilio.status = 400
    with pytest.raises(sms.SMSError) as raised:
        sms.get_backend().send(to=PHONE, body="secret link https://x/f/abc/")
    assert str(raised.value) == "Twilio answered HTTP 400."
    assert raised.value.__cause__ is None and raised.value.__suppress_context__


@pytest.mark.parametrize("code", sorted(sms.TWILIO_REFUSED_NUMBER_CODES))
def test_twilio_refusing_the_number_is_a_permanent_failure(twilio, code):
    twilio.status, twilio.code = 400, code
    with pytest.raises(sms.NumberRefused) as raised:
        sms.get_backend().send(to=PHONE, body="secret link https://x/f/abc/")
    assert str(raised.value) == f"Twilio refused the number (error {code})."
    assert PHONE not in str(raised.value)


@pytest.mark.parametrize(("status", "code"), [(400, 20003), (401, 21211), (500, 21211)])
def test_other_twilio_errors_stay_passing_failures(twilio, status, code):
    twilio.status, twilio.code = status, code
    with pytest.raises(sms.SMSError) as raised:
        sms.get_backend().send(to=PHONE, body="x")
    assert not isinstance(raised.value, sms.NumberRefused)


def test_twilio_unreachable_raises_sms_error(twilio):
    twilio.shutdown()
    twilio.server_close()
    with pytest.raises(sms.SMSError, match="Could not reach Twilio"):
        sms.get_backend().send(to=PHONE, body="x")


def test_twilio_backend_refuses_to_start_without_credentials(settings):
    settings.SMS_TWILIO_ACCOUNT_SID = ""
    settings.SMS_TWILIO_AUTH_TOKEN = ""
    settings.SMS_FROM = "+447700900999"
    with pytest.raises(ImproperlyConfigured, match="SMS_TWILIO_ACCOUNT_SID, SMS_TWILIO_AUTH_TOKEN"):
        sms.TwilioBackend()


@pytest.mark.django_db
@pytest.mark.parametrize("status", [201, 500])
def test_reminder_by_twilio_logs_neither_the_token_nor_the_phone(
    status, twilio, patient_a, session_a, link_token, hours_after, caplog
):
    patient_a.phone = PHONE
    patient_a.reminder_channel = ReminderChannel.SMS
    patient_a.reminders_consent = True
    patient_a.save()
    twilio.status = status
    hours_after(24)
    with caplog.at_level("DEBUG"):
        result = reminders.run()

    expected = (1, 0) if status == 201 else (0, 1)
    assert (result.sent[ReminderChannel.SMS], result.failed) == expected
    [request] = twilio.requests
    assert link_token in request["body"].decode()  # the link went to Twilio...
    for record in caplog.records:  # ...and nowhere into the logs
        text = record.getMessage() + str(record.args or "") + str(record.exc_info or "")
        assert link_token not in text and PHONE not in text
    assert mail.outbox == []

"""Text messages: one small interface, a backend chosen by ``SMS_BACKEND``.

Like Django's email backends: ``get_backend()`` builds the configured class,
and every backend has ``send(to=..., body=...)``, which raises on failure.
``ConsoleBackend`` prints (development), ``FileBackend`` appends one JSON
line per message (tests, staging), ``TwilioBackend`` sends for real.

A message body holds a patient's link, and a phone number is personal data:
neither ever goes into a log line or an exception message.
"""

import base64
import json
import sys
import urllib.error
import urllib.parse
import urllib.request

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils.module_loading import import_string

from tracker import clock


class SMSError(Exception):
    """A message could not be sent. The text names no recipient and no body."""


class NumberRefused(SMSError):
    """The provider refused the recipient's number for good: it is not a valid or
    reachable mobile number, or its owner opted out. Sending again cannot succeed;
    the reminders record it on the patient and stop trying that number."""


# Twilio's error codes for a number that will never take a message (its error
# dictionary, https://www.twilio.com/docs/api/errors): 21211 invalid "To" number,
# 21214 not a reachable mobile, 21610 the recipient replied STOP, 21612 a
# number Twilio cannot route to, 21614 not a mobile number.
TWILIO_REFUSED_NUMBER_CODES = frozenset({21211, 21214, 21610, 21612, 21614})


def get_backend():
    """An instance of the class named by ``settings.SMS_BACKEND``."""
    try:
        backend_class = import_string(settings.SMS_BACKEND)
    except ImportError as error:
        raise ImproperlyConfigured(
            f"SMS_BACKEND: cannot import {settings.SMS_BACKEND!r}."
        ) from error
    return backend_class()


class BaseBackend:
    def send(self, *, to: str, body: str) -> None:
        raise NotImplementedError


class ConsoleBackend(BaseBackend):
    """Print each message to standard output (development)."""

    def __init__(self, stream=None):
        self.stream = stream or sys.stdout

    def send(self, *, to, body):
        self.stream.write(f"SMS from {settings.SMS_FROM or '-'} to {to}\n{body}\n{'-' * 40}\n")
        self.stream.flush()


class FileBackend(BaseBackend):
    """Append each message as one JSON line to ``settings.SMS_FILE_PATH``.

    Each line is written with a single append, so several processes can
    share the file.
    """

    def __init__(self, path=None):
        self.path = path or settings.SMS_FILE_PATH
        if not self.path:
            raise ImproperlyConfigured(
                "SMS_FILE_PATH must be set to use tracker.reminders.sms.FileBackend."
            )

    def send(self, *, to, body):
        line = json.dumps(
            {"to": to, "from": settings.SMS_FROM, "body": body, "sent_at": clock.now().isoformat()},
            ensure_ascii=False,
        )
        with open(self.path, "a", encoding="utf-8") as file:
            file.write(line + "\n")


class TwilioBackend(BaseBackend):
    """Send through Twilio's Messages API (one HTTPS POST per message).

    Needs ``SMS_TWILIO_ACCOUNT_SID``, ``SMS_TWILIO_AUTH_TOKEN`` and
    ``SMS_FROM``. ``SMS_TWILIO_API_BASE`` exists only so that tests can point
    the adapter at a local server.
    """

    timeout = 15  # seconds; a reminder run must not hang on one message

    def __init__(self):
        missing = [
            name
            for name in ("SMS_TWILIO_ACCOUNT_SID", "SMS_TWILIO_AUTH_TOKEN", "SMS_FROM")
            if not getattr(settings, name)
        ]
        if missing:
            raise ImproperlyConfigured(
                f"tracker.reminders.sms.TwilioBackend needs {', '.join(missing)} to be set."
            )
        self.account_sid = settings.SMS_TWILIO_ACCOUNT_SID
        credentials = f"{self.account_sid}:{settings.SMS_TWILIO_AUTH_TOKEN}".encode()
        self.authorization = "Basic " + base64.b64encode(credentials).decode("ascii")
        self.url = (
            f"{settings.SMS_TWILIO_API_BASE}/2010-04-01/Accounts/"
            f"{urllib.parse.quote(self.account_sid, safe='')}/Messages.json"
        )

    def send(self, *, to, body):
        data = urllib.parse.urlencode({"To": to, "From": settings.SMS_FROM, "Body": body})
        request = urllib.request.Request(
            self.url,
            data=data.encode("utf-8"),
            method="POST",
            headers={
                "Authorization": self.authorization,
                "Content-Type": "application/x-www-form-urlencoded",
                "Accept": "application/json",
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                status = response.status
        except urllib.error.HTTPError as error:
            # Twilio's error body may echo the number; keep only the status and its code.
            code = _twilio_error_code(error)
            if error.code == 400 and code in TWILIO_REFUSED_NUMBER_CODES:
                raise NumberRefused(f"Twilio refused the number (error {code}).") from None
            raise SMSError(f"Twilio answered HTTP {error.code}.") from None
        except (urllib.error.URLError, OSError) as error:
            reason = getattr(error, "reason", error)
            raise SMSError(f"Could not reach Twilio ({type(reason).__name__}).") from None
        if not 200 <= status < 300:
            raise SMSError(f"Twilio answered HTTP {status}.")


def _twilio_error_code(error: urllib.error.HTTPError) -> int | None:
    """The ``code`` of a Twilio error body ({"code": 21211, ...}), or None. The body is read
    for its code only: it may hold the number, which goes nowhere else."""
    try:
        payload = json.loads(error.read(16_384) or b"{}")
    except (OSError, ValueError):
        return None
    code = payload.get("code") if isinstance(payload, dict) else None
    return code if isinstance(code, int) else None

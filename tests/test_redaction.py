"""Patient link tokens never reach a log line."""

import io
import logging

import pytest

from tracker.security.redaction import RedactTokensFilter, redact

TOKEN = "E2LdYpAvUUWi-gR_SACXs0123456789abcdefghijk"


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        (f"Not Found: /f/{TOKEN}/", "Not Found: /f/[token]/"),
        (f'"GET /f/{TOKEN}/done/24/ HTTP/1.1" 200', '"GET /f/[token]/done/24/ HTTP/1.1" 200'),
        (f"/f/{TOKEN}/soreness.svg?x=1", "/f/[token]/soreness.svg?x=1"),
        ("GET /patients/3/ 200", "GET /patients/3/ 200"),
    ],
)
def test_redact(line, expected):
    assert redact(line) == expected


def test_django_request_logs_pass_through_the_filter(client, db):
    handler = logging.getLogger("django").handlers[0]
    assert any(isinstance(f, RedactTokensFilter) for f in handler.filters)
    stream, handler.stream = handler.stream, io.StringIO()
    try:
        client.get(f"/f/{TOKEN}/")  # a 404: Django logs "Not Found: <path>"
        client.get(f"/f/{TOKEN}/no-such-page/")
        written = handler.stream.getvalue()
    finally:
        handler.stream = stream
    assert "Not Found: /f/[token]/no-such-page/" in written
    assert TOKEN not in written


def test_gunicorn_logger_redacts_access_lines():
    from gunicorn.config import Config

    from project.gunicorn_logging import RedactingLogger

    logger = RedactingLogger(Config())
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    logger.access_log.addHandler(handler)
    logger.access_log.setLevel(logging.INFO)
    try:
        logger.access_log.info('127.0.0.1 "GET /f/%s/ HTTP/1.1" 200', TOKEN)
    finally:
        logger.access_log.removeHandler(handler)
    assert stream.getvalue() == '127.0.0.1 "GET /f/[token]/ HTTP/1.1" 200\n'

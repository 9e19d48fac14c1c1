"""Headers and deployment: the CSP, HSTS and cookies, and `check --deploy` with production settings."""

import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings as conf
from django.urls import reverse

ROOT = Path(__file__).resolve().parent.parent

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; worker-src 'self'; manifest-src 'self'; font-src 'self'; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
)


def _directives(header):
    return dict(
        (part.split()[0], " ".join(part.split()[1:])) for part in header.split(";") if part.strip()
    )


@pytest.mark.django_db
def test_every_kind_of_page_carries_the_policy(client, therapist_a, session_a, link_token):
    expected = _directives(CSP)
    anonymous = [
        reverse("login"),
        reverse("patient:check_in", args=[link_token]),
        reverse("patient:check_in", args=["no-such-link"]),
        reverse("healthz"),
    ]
    for url in anonymous:
        response = client.get(url)
        assert _directives(response["Content-Security-Policy"]) == expected, url
        assert response["X-Frame-Options"] == "DENY", url
        assert response["X-Content-Type-Options"] == "nosniff", url
    client.force_login(therapist_a.user)
    for url in [reverse("tracker:home"), reverse("tracker:session_detail", args=[session_a.pk])]:
        response = client.get(url)
        assert _directives(response["Content-Security-Policy"]) == expected, url
        assert response["Referrer-Policy"] == "same-origin", url


@pytest.mark.django_db
def test_patient_pages_send_no_referrer_whatever_they_answer(client, session_a, link_token):
    urls = [
        reverse("patient:check_in", args=[link_token]),
        reverse("patient:done", args=[link_token, 0]),
        reverse("patient:check_in", args=["no-such-link"]),
        reverse("patient:soreness_chart", args=[link_token]),
    ]
    for url in urls:
        response = client.get(url)
        assert response["Referrer-Policy"] == "no-referrer", url
        assert not response.cookies, url
    page = client.get(urls[0]).content.decode()
    assert '<meta name="referrer" content="no-referrer">' in page


@pytest.mark.django_db
def test_a_chart_opened_on_its_own_may_use_its_inline_style_but_no_script(
    client, therapist_a, session_a, link_token
):
    """matplotlib styles its SVG inline; pages show it through <img>, untouched by their policy."""
    urls = [reverse("patient:soreness_chart", args=[link_token])]
    client.force_login(therapist_a.user)
    urls += [
        reverse("tracker:session_chart", args=[session_a.pk]),
        reverse("tracker:patient_chart", args=[session_a.patient_id]),
        reverse("tracker:analytics_chart", args=[session_a.patient.clinic_id, "rates"]),
    ]
    for url in urls:
        response = client.get(url)
        assert response["Content-Type"] == "image/svg+xml", url
        policy = _directives(response["Content-Security-Policy"])
        assert policy["style-src"] == "'self' 'unsafe-inline'", url
        assert policy["script-src"] == "'self'" and policy["default-src"] == "'self'", url
        assert b"<script" not in response.content, url


TEMPLATES = sorted((ROOT / "templates").rglob("*.html"))
INLINE = [
    (re.compile(r"\sstyle\s*=", re.I), "a style attribute"),
    (re.compile(r"<style\b", re.I), "a <style> element"),
    (re.compile(r"<script\b(?![^>]*\bsrc=)[^>]*>", re.I), "an inline <script>"),
    (re.compile(r"\son[a-z]+\s*=", re.I), "an event handler attribute"),
    (re.compile(r"javascript:", re.I), "a javascript: URL"),
]


@pytest.mark.parametrize("template", TEMPLATES, ids=lambda path: str(path.relative_to(ROOT)))
def test_no_template_holds_inline_script_or_style(template):
    source = template.read_text("utf-8")
    found = [what for pattern, what in INLINE if pattern.search(source)]
    assert found == []


@pytest.mark.django_db
def test_rendered_staff_and_patient_pages_hold_no_inline_script_or_style(
    client, therapist_a, session_a, link_token
):
    """What crispy-forms, segno and the templates put together, as the browser gets it."""
    patient = session_a.patient
    pages = [
        reverse("login"),
        reverse("patient:check_in", args=[link_token]),
        reverse("patient:stop_reminders", args=[link_token]),
    ]
    client.force_login(therapist_a.user)
    pages += [
        reverse("tracker:home"),
        reverse("tracker:alert_list"),
        reverse("tracker:patient_list"),
        reverse("tracker:patient_create"),
        reverse("tracker:patient_detail", args=[patient.pk]),
        reverse("tracker:visit_summary", args=[patient.pk]),
        reverse("tracker:session_create", args=[patient.pk]),
        reverse("tracker:session_detail", args=[session_a.pk]),
        reverse("tracker:analytics", args=[patient.clinic_id]),
        reverse("tracker:two_step"),
        reverse("password_change"),
    ]
    for url in pages:
        response = client.get(url)
        assert response.status_code == 200, url
        html = response.content.decode()
        found = [what for pattern, what in INLINE if pattern.search(html)]
        assert found == [], url


def test_cookies_are_secure_and_http_only_in_production():
    result = _run_production(
        "from django.conf import settings as s; print(s.SESSION_COOKIE_SECURE, "
        "s.CSRF_COOKIE_SECURE, s.SESSION_COOKIE_HTTPONLY, s.CSRF_COOKIE_HTTPONLY, "
        "s.SECURE_SSL_REDIRECT, s.SECURE_HSTS_SECONDS, "
        "s.SECURE_HSTS_INCLUDE_SUBDOMAINS, s.X_FRAME_OPTIONS, "
        "getattr(s, 'SECURE_PROXY_SSL_HEADER', None))"
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [
        "True",
        "True",
        "True",
        "True",
        "True",
        "31536000",
        "True",
        "DENY",
        "None",
    ]


def test_a_tls_proxy_header_is_read_only_when_named():
    code = "from django.conf import settings as s; print(s.SECURE_PROXY_SSL_HEADER)"
    result = _run_production(code, SECURE_PROXY_SSL_HEADER="X-Forwarded-Proto")
    assert result.stdout.strip() == "('HTTP_X_FORWARDED_PROTO', 'https')", result.stderr
    result = _run_production(code, SECURE_PROXY_SSL_HEADER="X-Forwarded-Proto: https")
    assert result.returncode != 0 and "must be a header name" in result.stderr


def test_check_deploy_passes_with_production_settings():
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=_production_env(),
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout
    assert "WARNING" not in result.stdout + result.stderr


def test_health_check_is_not_redirected_to_https(settings, client, db):
    settings.SECURE_SSL_REDIRECT = True
    assert client.get(reverse("healthz")).status_code == 200
    assert client.get(reverse("login")).status_code == 301


def test_the_suite_itself_runs_with_these_protections_on():
    assert conf.AXES_ENABLED and "csp.middleware.CSPMiddleware" in conf.MIDDLEWARE
    assert conf.SESSION_SAVE_EVERY_REQUEST is False


# --- helpers --------------------------------------------------------------------------


def _production_env(**extra):
    # Nothing of the test run's own environment (the browser tests set DJANGO_ALLOW_ASYNC_UNSAFE).
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("SECURE_", "SESSION_", "AXES_", "DJANGO_"))
        and k not in {"DEBUG", "SECRET_KEY", "ALLOWED_HOSTS", "SITE_URL"}
    }
    return {
        **env,
        "DJANGO_SETTINGS_MODULE": "project.settings",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "aftercare.example-clinic.org",
        "SITE_URL": "https://aftercare.example-clinic.org",
        **extra,
    }


def _run_production(code, **extra):
    return subprocess.run(
        [sys.executable, "-c", f"import django; django.setup(); {code}"],
        cwd=ROOT,
        env=_production_env(**extra),
        capture_output=True,
        text=True,
    )

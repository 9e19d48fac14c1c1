"""Settings for Needle Aftercare, read from the environment.

Development needs only DEBUG=1 (``make run`` sets it). With DEBUG off the
server refuses to start without SECRET_KEY and ALLOWED_HOSTS. Every variable
is listed, with an example, in ``.env.example``.
"""

from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from project.env import env_bool, env_int, env_list, env_required, env_str

BASE_DIR = Path(__file__).resolve().parent.parent

DEBUG = env_bool("DEBUG", default=False)

if DEBUG:
    # Only ever used with DEBUG on, on a developer's machine.
    SECRET_KEY = env_str("SECRET_KEY") or "dev-only-insecure-key-never-used-in-production"
    ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]"])
else:
    SECRET_KEY = env_required(
        "SECRET_KEY",
        "Set a long random value (python -c 'import secrets; print(secrets.token_urlsafe(50))'), "
        "or set DEBUG=1 on a development machine.",
    )
    ALLOWED_HOSTS = env_list("ALLOWED_HOSTS")
    if not ALLOWED_HOSTS:
        env_required(
            "ALLOWED_HOSTS", "List the host names this server answers to, comma-separated."
        )

CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

# Shown in patient links, QR codes and reminders, which leave the request
# that made them (e.g. https://aftercare.example-clinic.org). Development may
# leave it out: pages then use the address they were opened at, and messages
# sent by commands http://127.0.0.1:8000 (tracker/site.py).
SITE_URL = (
    (env_str("SITE_URL") or "").strip()
    if DEBUG
    else env_required(
        "SITE_URL",
        "Set the public address patients' phones open, e.g. https://aftercare.example.org.",
    )
).rstrip("/")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    # Django's own widget templates, for FORM_RENDERER below.
    "django.forms",
    "crispy_forms",
    "crispy_bootstrap5",
    "axes",
    "csp",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "tracker",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Compresses what the views answer (the check-in page: 15 KB of HTML, 3.4 KB
    # sent). Below WhiteNoise, which answers static files itself with its own
    # pre-compressed copies, so they never pass through here; above everything
    # that writes a body. BREACH needs a secret and attacker-chosen text in one
    # compressed page: patient pages carry no CSRF token or cookie (their
    # secret is the URL, which an attacker would already need to make a phone
    # load it); staff pages' CSRF tokens are masked anew on every response,
    # and the one that shows a patient's link (session detail) echoes nothing
    # from the request; and this middleware pads each response with random bytes.
    "django.middleware.gzip.GZipMiddleware",
    "csp.middleware.CSPMiddleware",
    # Cache-Control: no-store, private on every staff response (tracker/security/nostore.py).
    "tracker.security.nostore.StaffNoStoreMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    # The staff member's own language over the browser's (tracker/security/signin.py).
    "tracker.security.signin.StaffLanguageMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    # Signs staff out after idle time or the fixed maximum, then asks for the
    # second step where it is set up or required (tracker/signin.py).
    "tracker.security.signin.StaffSessionMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, as django-axes asks: it turns a locked-out sign-in into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "project.urls"
WSGI_APPLICATION = "project.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "tracker.context_processors.staff_roles",
            ],
        },
    },
]

# Each gunicorn sync worker serves one request at a time, so it needs one
# connection, kept between requests: opening a new PostgreSQL connection costs
# about 5 ms per request (measured in bench/), more than most pages' queries.
# DATABASE_CONN_MAX_AGE seconds (0: close after every request; -1 for ever),
# and before a kept connection is reused for a new request Django checks it
# still works (a database restart or a proxy closing idle connections then
# costs one reconnection, not a failed request). The server must allow as
# many connections as all app servers' workers plus the commands run by cron.
CONN_MAX_AGE = env_int("DATABASE_CONN_MAX_AGE", 600)
if CONN_MAX_AGE < -1:
    raise ImproperlyConfigured(
        f"DATABASE_CONN_MAX_AGE must be -1 (for ever), 0 or more seconds; got {CONN_MAX_AGE}."
    )
DATABASES = {
    "default": dj_database_url.parse(
        env_str("DATABASE_URL") or f"sqlite:///{BASE_DIR / 'db.sqlite3'}",
        conn_max_age=None if CONN_MAX_AGE == -1 else CONN_MAX_AGE,
        conn_health_checks=env_bool("DATABASE_CONN_HEALTH_CHECKS", default=True),
    )
}
# PostgreSQL: each query's values sent apart from its text (server-side
# binding), and a query a worker has run 5 times prepared on its connection,
# so that PostgreSQL plans it once per connection instead of on every request:
# planning Today's joined lists took about 2 ms of each request (measured in
# bench/). Off behind a pooler that hands one connection to several workers
# in turn (PgBouncer in transaction mode): a statement prepared on one worker's
# turn would be unknown, or another, on the next.
PREPARED_STATEMENTS = env_bool("DATABASE_PREPARED_STATEMENTS", default=True)
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # Django's, with a health check that makes no round trip while the
    # connection is sound, and times read by psycopg's compiled loader
    # (project/postgresql/base.py).
    DATABASES["default"]["ENGINE"] = "project.postgresql"
if DATABASES["default"]["ENGINE"] == "project.postgresql" and PREPARED_STATEMENTS:
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        server_side_binding=True, prepare_threshold=5
    )
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Without WAL and IMMEDIATE transactions, concurrent check-ins from many
    # phones fail with "database is locked" (measured: a third of requests
    # under 20 concurrent writers). synchronous=FULL: a commit waits until the
    # disk has it, as PostgreSQL's does. With NORMAL, a power cut could take
    # back a report, and the alert it opened, after the patient was told the
    # clinic knows; the escalation steps run from that alert's row.
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "init_command": (
            "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA busy_timeout=5000;"
        ),
    }

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

FIXTURE_DIRS = [BASE_DIR / "fixtures"]

# django-axes first: it refuses a locked-out sign-in before the password is checked.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "tracker:home"
LOGOUT_REDIRECT_URL = "login"

# Sign-in lockout (django-axes), two limits in one cool-off: after
# SIGNIN_FAILURES_PER_ADDRESS wrong passwords for one username from one
# address, that pair is refused; after SIGNIN_FAILURES_PER_ACCOUNT for one
# username from any addresses together (a password sprayed from many), the
# username is refused from everywhere; each for AXES_COOLOFF_MINUTES (a
# further failure while locked starts the wait again). Usernames are counted
# whether or not an account has them, so the answer never tells which exist.
# Attempts live in the database (admin: "Access attempts"; `manage.py
# axes_reset_username NAME` unlocks one).
SIGNIN_FAILURES_PER_ADDRESS = env_int("AXES_FAILURE_LIMIT", 5)
SIGNIN_FAILURES_PER_ACCOUNT = env_int("AXES_ACCOUNT_FAILURE_LIMIT", 10)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"], ["username"]]
# Which of the two limits applies to a sign-in (tracker/security/signin.py).
AXES_FAILURE_LIMIT = "tracker.security.signin.failure_limit"
AXES_COOLOFF_TIME = timedelta(minutes=env_int("AXES_COOLOFF_MINUTES", 15))
AXES_RESET_ON_SUCCESS = True
# A page that says how long to wait (tracker/views/account.py), status 429.
AXES_LOCKOUT_CALLABLE = "tracker.views.account.locked_out"
# The same address the audit trail records (REMOTE_ADDR, or X-Forwarded-For
# only through TRUSTED_PROXY_COUNT proxies of ours).
AXES_CLIENT_IP_CALLABLE = "tracker.security.audit.client_ip"
if min(
    SIGNIN_FAILURES_PER_ADDRESS, SIGNIN_FAILURES_PER_ACCOUNT
) < 1 or AXES_COOLOFF_TIME <= timedelta(0):
    raise ImproperlyConfigured(
        "AXES_FAILURE_LIMIT, AXES_ACCOUNT_FAILURE_LIMIT and AXES_COOLOFF_MINUTES must be 1 or more."
    )

# Password reset mails (tracker/views/account.py), per hour: requests from one
# client address (past it, a "please wait" page), and mails to one email
# address (past it, the same "check your inbox" page, and no mail).
PASSWORD_RESETS_PER_ADDRESS = env_int("PASSWORD_RESETS_PER_ADDRESS", 5)
PASSWORD_RESET_MAILS_PER_ACCOUNT = env_int("PASSWORD_RESET_MAILS_PER_ACCOUNT", 3)
if min(PASSWORD_RESETS_PER_ADDRESS, PASSWORD_RESET_MAILS_PER_ACCOUNT) < 1:
    raise ImproperlyConfigured(
        "PASSWORD_RESETS_PER_ADDRESS and PASSWORD_RESET_MAILS_PER_ACCOUNT must be 1 or more."
    )

# How long a new member of staff's invitation link sets their password
# (tracker/security/invitations.py); it works once.
INVITATION_LINK_DAYS = env_int("INVITATION_LINK_DAYS", 7)
if INVITATION_LINK_DAYS < 1:
    raise ImproperlyConfigured("INVITATION_LINK_DAYS must be 1 or more.")

# Staff sessions end after SESSION_IDLE_MINUTES without a request, and in any
# case SESSION_MAX_HOURS after signing in (tracker/signin.py): a computer left
# signed in at the front desk does not stay open to the next person.
SESSION_IDLE_MINUTES = env_int("SESSION_IDLE_MINUTES", 30)
SESSION_COOKIE_AGE = env_int("SESSION_MAX_HOURS", 10) * 3600
# Never slide the cookie's expiry: the maximum is counted from signing in.
SESSION_SAVE_EVERY_REQUEST = False
if SESSION_IDLE_MINUTES < 1 or SESSION_COOKIE_AGE < 3600:
    raise ImproperlyConfigured("SESSION_IDLE_MINUTES and SESSION_MAX_HOURS must be 1 or more.")

# Two-step sign-in (django-otp, TOTP apps such as FreeOTP, Google or Microsoft
# Authenticator). Optional for everyone; a clinic can require it of its leads
# (Clinic.require_2fa_for_leads, in the admin). The issuer is the name the
# app shows beside the code.
OTP_TOTP_ISSUER = env_str("OTP_TOTP_ISSUER") or "Needle Aftercare"
# The admin never shows a device's secret key (or its QR code) once it exists.
OTP_ADMIN_HIDE_SENSITIVE_DATA = True

LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("es", "Español")]
LOCALE_PATHS = [BASE_DIR / "tracker" / "locale"]
# Stored times are UTC; each clinic shows them in its own zone (Clinic.time_zone).
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = Path(env_str("STATIC_ROOT") or BASE_DIR / "staticfiles")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

# Form widgets are rendered by the templates above, so that templates/django/forms/
# can replace one of Django's: the <select> writes its options in one template
# instead of two includes per option (the analytics filters' 31 muscles took 4 ms).
FORM_RENDERER = "django.forms.renderers.TemplatesSetting"

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

EMAIL_BACKEND = env_str("EMAIL_BACKEND") or (
    "django.core.mail.backends.console.EmailBackend"
    if DEBUG
    else "django.core.mail.backends.smtp.EmailBackend"
)
EMAIL_HOST = env_str("EMAIL_HOST") or "localhost"
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER") or ""
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD") or ""
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", default=False)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL") or "Needle Aftercare <aftercare@localhost>"
# Only read by the file backend (django.core.mail.backends.filebased.EmailBackend).
if env_str("EMAIL_FILE_PATH"):
    EMAIL_FILE_PATH = env_str("EMAIL_FILE_PATH")

# Text-message reminders (tracker/sms.py): a dotted path to a backend class.
# The console backend prints messages; the file backend appends one JSON line
# per message to SMS_FILE_PATH; the Twilio backend sends them.
SMS_BACKEND = env_str("SMS_BACKEND") or "tracker.reminders.sms.ConsoleBackend"
SMS_FILE_PATH = env_str("SMS_FILE_PATH") or ""
# The sender number or alphanumeric sender ID the provider lets you use.
SMS_FROM = env_str("SMS_FROM") or ""
SMS_TWILIO_ACCOUNT_SID = env_str("SMS_TWILIO_ACCOUNT_SID") or ""
SMS_TWILIO_AUTH_TOKEN = env_str("SMS_TWILIO_AUTH_TOKEN") or ""
SMS_TWILIO_API_BASE = (env_str("SMS_TWILIO_API_BASE") or "https://api.twilio.com").rstrip("/")

# HTTPS. Production is HTTPS-only: plain HTTP is redirected (except the
# health check, which load balancers often ask over HTTP), and browsers are
# told by HSTS never to try HTTP again for SECURE_HSTS_SECONDS.
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", default=not DEBUG)
SECURE_REDIRECT_EXEMPT = [r"^healthz(/jobs)?$"]
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=not DEBUG)
# Only a header: a domain is preloaded only when its owner submits it (hstspreload.org).
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", default=not DEBUG)
# Behind a TLS proxy (nginx, Caddy, a load balancer) the app sees plain HTTP;
# name the header the proxy sets to "https" (e.g. X-Forwarded-Proto). Only
# when the proxy always sets or overwrites it: a client could send it too.
_proxy_ssl_header = (env_str("SECURE_PROXY_SSL_HEADER") or "").strip()
if _proxy_ssl_header:
    if not _proxy_ssl_header.replace("-", "").replace("_", "").isalnum():
        raise ImproperlyConfigured(
            f"SECURE_PROXY_SSL_HEADER must be a header name such as X-Forwarded-Proto; "
            f"got {_proxy_ssl_header!r}."
        )
    SECURE_PROXY_SSL_HEADER = ("HTTP_" + _proxy_ssl_header.upper().replace("-", "_"), "https")

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = not DEBUG and env_bool("SECURE_COOKIES", default=True)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
# No script reads the CSRF cookie: forms carry the token in a hidden field.
CSRF_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"  # patient pages send none at all (views/patient.py)

# Content Security Policy (django-csp 4): scripts, styles and everything else
# from this server only, no inline script or style anywhere, no framing. Chart
# SVGs carry matplotlib's own <style>; they are shown through <img>, where a
# page's policy does not reach inside the image.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "connect-src": ["'self'"],
        "worker-src": ["'self'"],
        "manifest-src": ["'self'"],
        "font-src": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
        "base-uri": ["'none'"],
        "object-src": ["'none'"],
    },
}

# How many reverse proxies in front of the app append to X-Forwarded-For.
# 0 (the default): the address the audit trail records is REMOTE_ADDR, since
# any client can write any X-Forwarded-For. Set it only when every request
# passes through that many proxies you run (e.g. 1 for nginx in front).
TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", 0)
if TRUSTED_PROXY_COUNT < 0:
    raise ImproperlyConfigured(f"TRUSTED_PROXY_COUNT must be 0 or more; got {TRUSTED_PROXY_COUNT}.")

# How long a patient's follow-up link stays valid after the session.
ACCESS_LINK_LIFETIME_DAYS = env_int("ACCESS_LINK_LIFETIME_DAYS", 7)

# How many times staff may send one session's link to the patient (email or
# text, from the session page) in any hour.
LINK_SENDS_PER_SESSION_PER_HOUR = env_int("LINK_SENDS_PER_SESSION_PER_HOUR", 3)
if LINK_SENDS_PER_SESSION_PER_HOUR < 1:
    raise ImproperlyConfigured("LINK_SENDS_PER_SESSION_PER_HOUR must be 1 or more.")

# How often Today fetches its lists again in an open browser tab (seconds).
LIVE_REFRESH_SECONDS = env_int("LIVE_REFRESH_SECONDS", 60)
if LIVE_REFRESH_SECONDS < 1:
    raise ImproperlyConfigured("LIVE_REFRESH_SECONDS must be 1 or more.")

# `send_due_reminders` runs every minute (cron) and sends urgent alerts'
# escalations: when its last run is older than this (minutes), or there is
# none, Today warns the staff and /healthz/jobs answers 503
# (tracker/reminders/watchdog.py).
JOB_LATE_MINUTES = env_int("JOB_LATE_MINUTES", 5)
if JOB_LATE_MINUTES < 2:
    raise ImproperlyConfigured("JOB_LATE_MINUTES must be 2 or more (the job runs every minute).")

# Patient link tokens that match no link, per client address (and per /64
# for IPv6) in a one-hour window (tracker/views/patient.py). Past it, unknown
# tokens from that address get a 429 page until the hour ends; a right token
# is always answered. Counted in the cache, which every worker shares.
LINK_MISSES_PER_HOUR = env_int("LINK_MISSES_PER_HOUR", 20)
if LINK_MISSES_PER_HOUR < 1:
    raise ImproperlyConfigured("LINK_MISSES_PER_HOUR must be 1 or more.")

# The cache holds chart images, analytics results and the patient-link limits.
# By default it is a folder on this server (project/cache.py), which every
# worker of the server shares, so the limits are counted once per server. With
# several app servers, point them all at one Redis (CACHE_URL=redis://host:6379/0).
CACHE_URL = env_str("CACHE_URL") or f"file://{BASE_DIR / 'var' / 'cache'}"
if CACHE_URL.startswith(("redis://", "rediss://")):
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": CACHE_URL}
    }
elif CACHE_URL.startswith("file:///"):
    CACHES = {
        "default": {
            "BACKEND": "project.cache.FileBasedCache",
            "LOCATION": CACHE_URL.removeprefix("file://"),
            "OPTIONS": {"MAX_ENTRIES": 2000},
        }
    }
else:
    raise ImproperlyConfigured(
        f"CACHE_URL must be file:///absolute/folder (one server) or redis://… (several); "
        f"got {CACHE_URL!r}. A per-process cache (locmem://) would count each limit once per "
        f"worker."
    )
# Rendered template fragments that change only with the code and with what
# their key names (the check-in's unanswered questions, the analytics filters,
# the alert cards): each process keeps its own, as it keeps its compiled
# templates. An alert card is about 2 KB: at most some 6 MB per process.
CACHES["template_fragments"] = {
    "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
    "LOCATION": "template-fragments",
    "OPTIONS": {"MAX_ENTRIES": 3000},
}
# Whole pages of alert cards (the inbox's 50, Today's 10), kept apart from the
# cards: a page of 50 is about 100 KB, and it is kept anew whenever any alert on
# it changes. 64 pages: at most some 6 MB per process.
CACHES["fragment_pages"] = {
    "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
    "LOCATION": "fragment-pages",
    "OPTIONS": {"MAX_ENTRIES": 64},
}

# Every log line goes through one handler that removes patient link tokens
# (Django logs the path of each 404: "Not Found: /f/<token>/").
LOG_LEVEL = env_str("LOG_LEVEL") or "INFO"
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"redact_tokens": {"()": "tracker.security.redaction.RedactTokensFilter"}},
    "handlers": {
        "console": {"class": "logging.StreamHandler", "filters": ["redact_tokens"]},
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        "django": {"handlers": ["console"], "level": LOG_LEVEL, "propagate": False},
        "django.server": {"handlers": ["console"], "level": "INFO", "propagate": False},
        # Not the "AXES: BEGIN" line at every start (cron would mail it); failed
        # and locked-out sign-ins still log through axes.handlers.
        "axes.apps": {"level": "WARNING"},
    },
}

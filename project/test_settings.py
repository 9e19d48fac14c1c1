"""Settings for the test suite: the real settings with test-only speed-ups."""

import os

os.environ.setdefault("SECRET_KEY", "test-secret-key-for-the-suite-only")
os.environ.setdefault("ALLOWED_HOSTS", "testserver,localhost,127.0.0.1")
os.environ.setdefault("SITE_URL", "http://testserver")

from project.settings import *  # noqa: E402,F403

# The live server serves static files through the finders, which cannot
# resolve manifest-hashed names.
STORAGES["staticfiles"]["BACKEND"] = "django.contrib.staticfiles.storage.StaticFilesStorage"  # noqa: F405
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
SESSION_COOKIE_SECURE = False
CSRF_COOKIE_SECURE = False
# Serve static files from the app folders, as in development, without collectstatic.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
# Test requests are plain HTTP.
SECURE_SSL_REDIRECT = False
# The suite tries made-up tokens hundreds of times from one address;
# tests/test_link_lookups.py lowers the limit again to test it.
LINK_MISSES_PER_HOUR = 1_000_000

if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":  # noqa: F405
    # The browser tests' live server answers from several threads. An
    # in-memory SQLite database shared between threads can deadlock there; a
    # file cannot. One file per test process, so parallel runs do not clash.
    import tempfile

    DATABASES["default"]["TEST"] = {  # noqa: F405
        "NAME": os.path.join(tempfile.gettempdir(), f"needle-aftercare-test-{os.getpid()}.sqlite3")
    }

if CACHES["default"]["BACKEND"] == "project.cache.FileBasedCache":  # noqa: F405
    # The shared file cache, as in production, but one folder per test process
    # (each test empties the cache; parallel runs must not empty each other's).
    import atexit
    import shutil
    import tempfile

    CACHES["default"]["LOCATION"] = tempfile.mkdtemp(prefix="needle-aftercare-test-cache-")  # noqa: F405
    atexit.register(shutil.rmtree, CACHES["default"]["LOCATION"], ignore_errors=True)  # noqa: F405

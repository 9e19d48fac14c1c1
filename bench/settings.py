"""Settings for ``make bench``: the production settings plus one bench-only URL.

The environment (SECRET_KEY, ALLOWED_HOSTS, SITE_URL, DATABASE_URL, ...)
is set by ``bench/run.py``; nothing here changes how the app behaves.
"""

from project.settings import *  # noqa: F403

ROOT_URLCONF = "bench.urls"

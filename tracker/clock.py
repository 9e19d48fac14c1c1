"""The one place the app reads the time.

Scheduling, link expiry and follow-up states all ask ``clock.now()`` so that
tests (and the browser walk through 0 h → 72 h) can move time by patching
this function instead of sleeping.
"""

from django.utils import timezone


def now():
    return timezone.now()

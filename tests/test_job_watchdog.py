"""When the minute job stops, someone hears of it: Today warns the staff, and
/healthz/jobs answers 503 for an uptime monitor.

The job (``send_due_reminders``) sends urgent alerts' escalations: without it
a warning sign reaches its first people and nobody after them.
"""

from datetime import timedelta

import pytest
from django.core.cache import cache
from django.core.management import CommandError, call_command
from django.urls import reverse

from tracker import reminders
from tracker.models import JobRun
from tracker.reminders import watchdog

pytestmark = pytest.mark.django_db

WARNING = "Urgent alerts are not being escalated"


def _today(client, user):
    client.force_login(user)
    return client.get(reverse("tracker:home")).content.decode()


def test_a_job_that_never_ran_is_late_everywhere(client, therapist_a):
    assert watchdog.health() == watchdog.JobHealth(finished_at=None, late=True)
    page = _today(client, therapist_a.user)
    assert WARNING in page and "has never run" in page
    response = client.get(reverse("healthz_jobs"))
    assert response.status_code == 503
    assert response.content == b"send_due_reminders has never run: set up its cron job\n"


def test_a_run_clears_the_warning_until_the_job_is_late(client, therapist_a, frozen_now, settings):
    ran = frozen_now(watchdog.clock.now().replace(microsecond=0))
    call_command("send_due_reminders", stdout=None)
    assert JobRun.objects.get().finished_at == ran
    assert WARNING not in _today(client, therapist_a.user)
    response = client.get(reverse("healthz_jobs"))
    assert response.status_code == 200
    assert response.content.decode().startswith("ok: send_due_reminders last run ")

    frozen_now(ran + timedelta(minutes=settings.JOB_LATE_MINUTES))
    assert client.get(reverse("healthz_jobs")).status_code == 200
    frozen_now(ran + timedelta(minutes=settings.JOB_LATE_MINUTES, seconds=1))
    assert client.get(reverse("healthz_jobs")).status_code == 503
    page = _today(client, therapist_a.user)
    assert WARNING in page and "the server's minute job last ran on" in page


def test_a_cache_emptied_reads_the_last_run_from_the_database(frozen_now):
    ran = frozen_now(watchdog.clock.now())
    reminders.run()
    cache.clear()
    assert watchdog.health(ran + timedelta(minutes=1)) == watchdog.JobHealth(
        finished_at=ran, late=False
    )


def test_today_reads_the_last_run_from_the_cache(client, therapist_a, django_assert_num_queries):
    reminders.run()
    client.force_login(therapist_a.user)
    client.get(reverse("tracker:home"))
    with django_assert_num_queries(0):
        assert not watchdog.health().late


def test_every_must_be_a_second_or_more():
    with pytest.raises(CommandError, match="--every must be at least 1 second"):
        call_command("send_due_reminders", every=0)

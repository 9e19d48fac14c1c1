"""Health checks: is the database answering (for load balancers), and is the
minute job running (for uptime monitors)?"""

from django.db import connection
from django.db.utils import DatabaseError
from django.http import HttpResponse
from django.views.decorators.cache import never_cache

from tracker import clock
from tracker.reminders import watchdog


@never_cache
def healthz(request):
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError:
        return HttpResponse("database unavailable\n", status=503, content_type="text/plain")
    return HttpResponse("ok\n", content_type="text/plain")


@never_cache
def healthz_jobs(request):
    """200 while ``send_due_reminders`` runs, 503 once it is late or never ran.

    Apart from ``healthz``: a load balancer that took the app out of service
    because cron stopped would also stop patients reporting warning signs.
    """
    now = clock.now()
    state = watchdog.health(now)
    if state.finished_at is None:
        text, status = "send_due_reminders has never run: set up its cron job\n", 503
    else:
        ago = int((now - state.finished_at).total_seconds())
        when = clock.iso_utc(state.finished_at)
        if state.late:
            text, status = f"send_due_reminders late: last run {when}, {ago} s ago\n", 503
        else:
            text, status = f"ok: send_due_reminders last run {when}, {ago} s ago\n", 200
    return HttpResponse(text, status=status, content_type="text/plain")

"""The project's URLs plus the floors: the cheapest views Django can serve for each
kind of request. Only ``bench/settings.py`` uses this URLconf; production never
routes to these views.

- ``/bench/floor``: anonymous, a short text through the whole middleware stack.
- ``/bench/floor/staff``: signed in, the session and the user loaded (as every
  staff page does), then the same text.
- ``/bench/floor/write``: anonymous POST that inserts one row in a transaction
  (into ``bench_write_floor``, a table ``bench.tasks fixtures`` creates), as a
  check-in is stored in one.
"""

from django.db import connection, transaction
from django.http import HttpResponse, HttpResponseForbidden, HttpResponseNotAllowed
from django.urls import path
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt

from project.urls import urlpatterns as project_urlpatterns

WRITE_FLOOR_TABLE = "bench_write_floor"


def floor(request):
    """A short text through the whole middleware stack: no template, no query."""
    return HttpResponse("ok", content_type="text/plain")


def staff_floor(request):
    """The session and its user loaded from the database, then the same short text."""
    if not request.user.is_authenticated:
        return HttpResponseForbidden("sign in", content_type="text/plain")
    return HttpResponse("ok", content_type="text/plain")


@csrf_exempt
def write_floor(request):
    """One row inserted in a transaction, then the same short text."""
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    body = request.POST.get("key", "")[:64]
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {WRITE_FLOOR_TABLE} (written_at, body) VALUES (%s, %s)",
            [timezone.now(), body],
        )
    return HttpResponse("ok", content_type="text/plain")


def create_write_floor_table():
    """The write floor's table (bench databases only)."""
    key = "INTEGER PRIMARY KEY" if connection.vendor == "sqlite" else "BIGSERIAL PRIMARY KEY"
    with connection.cursor() as cursor:
        cursor.execute(
            f"CREATE TABLE IF NOT EXISTS {WRITE_FLOOR_TABLE} "
            f"(id {key}, written_at TIMESTAMP WITH TIME ZONE NOT NULL, body VARCHAR(64) NOT NULL)"
        )


urlpatterns = [
    path("bench/floor", floor, name="bench_floor"),
    path("bench/floor/staff", staff_floor, name="bench_floor_staff"),
    path("bench/floor/write", write_floor, name="bench_floor_write"),
    *project_urlpatterns,
]

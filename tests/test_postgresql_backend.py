"""The PostgreSQL backend (project/postgresql): Django's, with a health check
that asks the server only when something is wrong, and times read by
psycopg's own loader."""

import time
from datetime import UTC, datetime, timedelta, timezone

import pytest
from django.db import close_old_connections, connection
from django.db.backends.postgresql.psycopg_any import register_tzloader

from tracker.models import FollowUp

pytestmark = pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's backend")

TIMES = [
    datetime(2026, 3, 29, 0, 59, 59, 999999, tzinfo=UTC),  # London's clocks go forward
    datetime(2026, 10, 25, 1, 30, tzinfo=UTC),  # and back
    datetime(1000, 1, 1, 3, 17, 29, 123457, tzinfo=UTC),  # the statements' stand-ins
    datetime(2026, 12, 7, 23, 0, tzinfo=timezone(timedelta(hours=-5))),
]
SELECT_TIMES = "SELECT " + ", ".join(["%s::timestamptz"] * len(TIMES))


@pytest.mark.django_db
def test_times_read_as_djangos_own_loader_reads_them():
    with connection.cursor() as cursor:
        cursor.execute(SELECT_TIMES, TIMES)
        read = cursor.fetchone()
    with _other_connection() as other:
        register_tzloader(UTC, other)  # Django's loader, as Django registers it
        expected = other.execute(SELECT_TIMES, TIMES).fetchone()
    assert read == expected == tuple(TIMES)
    assert all(value.tzinfo is UTC for value in read)
    loader = connection.connection.adapters.get_loader(1184, 0)
    assert loader.__module__.startswith("psycopg"), loader


@pytest.mark.django_db
@pytest.mark.parametrize("server_side_binding", [False, True])
def test_a_server_side_cursor_reads_times_too(session_a, server_side_binding):
    options = connection.settings_dict["OPTIONS"]
    saved = options.get("server_side_binding")
    options["server_side_binding"] = server_side_binding
    try:
        due = list(
            FollowUp.objects.filter(session=session_a)
            .order_by("pk")
            .values_list("due_at", flat=True)
            .iterator(chunk_size=2)
        )
    finally:
        options["server_side_binding"] = saved
    assert due == [fu.due_at for fu in session_a.follow_ups.order_by("pk")]
    assert due and all(value.tzinfo is UTC for value in due)


def _other_connection():
    """A connection of its own to the test database, as another program would open."""
    return connection.get_new_connection(connection.get_connection_params())


@pytest.mark.django_db(transaction=True)
class TestKeptConnectionCheck:
    """project/postgresql: the check Django makes of a kept connection before
    each request's first query asks the server only when something is wrong."""

    KEPT = {"CONN_MAX_AGE": 600, "CONN_HEALTH_CHECKS": True}

    @pytest.fixture
    def kept(self):
        # Kept between requests and checked, as the settings have it by default.
        saved = {name: connection.settings_dict[name] for name in self.KEPT}
        connection.settings_dict.update(self.KEPT)
        connection.close()
        connection.ensure_connection()
        round_trips = []
        real = connection.connection.cursor

        def cursor(*args, **kwargs):
            round_trips.append(1)
            return real(*args, **kwargs)

        connection.connection.cursor = cursor
        yield connection, round_trips
        connection.close()
        connection.settings_dict.update(saved)

    def test_a_sound_idle_connection_is_usable_without_a_round_trip(self, kept):
        connection, round_trips = kept
        assert connection.is_usable() is True
        assert round_trips == []

    def test_a_connection_the_server_ended_is_found_and_replaced(self, kept):
        connection, _round_trips = kept
        pid = connection.connection.info.backend_pid
        with _other_connection() as admin:
            admin.execute("SELECT pg_terminate_backend(%s)", [pid])
        for _ in range(100):  # the server's notice reaches the socket
            if not connection.is_usable():
                break
            time.sleep(0.01)
        assert connection.is_usable() is False
        # The next request opens a new connection instead of failing: as a
        # request starts, Django marks the connection to be checked, then checks
        # it before the first query.
        close_old_connections()
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            assert cursor.fetchone()[0] != pid

    def test_something_waiting_on_the_socket_gets_a_round_trip(self, kept):
        connection, round_trips = kept
        with connection.connection.cursor() as cursor:
            cursor.execute("LISTEN needle_health_check")
        round_trips.clear()
        with _other_connection() as other:
            other.autocommit = True
            other.execute("NOTIFY needle_health_check")
        for _ in range(100):
            if round_trips:
                break
            assert connection.is_usable() is True
            time.sleep(0.01)
        # A notification is no fault: the server answers, and the connection is kept.
        assert round_trips
        assert connection.is_usable() is True

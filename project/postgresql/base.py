"""PostgreSQL: Django's backend, with a health check that asks the server only
when something is wrong, and times read by psycopg's own compiled loader.

Each worker keeps its connection between requests (``DATABASE_CONN_MAX_AGE``)
and, with health checks on (``DATABASE_CONN_HEALTH_CHECKS``), Django checks it
before a request's first query, so that a request after the server restarted
or ended the connection opens a new one instead of failing. Django's check
is a ``SELECT 1``: a round trip to the server on every request, as long as a
patient's check-in page takes to read the link.

A connection the server has ended is never silent: the server sends the
reason (``FATAL: terminating connection due to administrator command``,
idle timeouts, a shutdown) and closes it, and either makes the socket
readable. Between requests a kept connection is idle and expects nothing.
So this check looks at the socket first, without waiting: nothing there,
and the connection is idle, means usable; anything there (or a connection
not idle) gets Django's ``SELECT 1``, which answers or fails as before.

Django reads every ``timestamp with time zone`` through a loader of its own,
written in Python, which parses the text and then sets the time zone: some
40 times on a patient's page, hundreds on Today. With the connection's time
zone UTC, as Django sets it when ``USE_TZ`` is on, psycopg's loader (compiled,
with ``psycopg[binary]``) already gives the very same aware datetimes in
``datetime.timezone.utc``; that one is used then.
"""

import functools
import select
from datetime import UTC

import psycopg
from django.db.backends.postgresql import base
from django.utils.functional import cached_property
from psycopg.adapt import AdaptersMap
from psycopg.pq import Format, TransactionStatus

_TIMESTAMPTZ = psycopg.adapters.types["timestamptz"].oid
# psycopg's own (compiled with psycopg[binary]): times in the connection's zone.
_PSYCOPG_LOADER = psycopg.adapters.get_loader(_TIMESTAMPTZ, Format.TEXT)


@functools.cache
def _with_psycopg_loader(adapters: AdaptersMap) -> AdaptersMap:
    adapters = AdaptersMap(adapters)
    adapters.register_loader(_TIMESTAMPTZ, _PSYCOPG_LOADER)
    return adapters


class DatabaseWrapper(base.DatabaseWrapper):
    @cached_property
    def _times_in_utc(self) -> bool:
        """USE_TZ on and no TIME_ZONE of the database's own: Django then sets
        the connection's TimeZone to UTC, and reads times in UTC."""
        return self.timezone is UTC and self.timezone_name == "UTC"

    def get_connection_params(self):
        params = super().get_connection_params()
        if self._times_in_utc:
            params["context"] = _with_psycopg_loader(params["context"])
        return params

    def create_cursor(self, name=None):
        if not self._times_in_utc:
            return super().create_cursor(name)
        # Django's, but for its check that the connection's loader reads times
        # in Django's zone: psycopg's loader has no attribute to tell it, and
        # reads them in the connection's zone, which is UTC.
        if name is None:
            return self.connection.cursor()
        withhold = self.connection.autocommit
        if self.settings_dict["OPTIONS"].get("server_side_binding") is not True:
            return base.ServerSideCursor(
                self.connection, name=name, scrollable=False, withhold=withhold
            )
        return self.connection.cursor(name, scrollable=False, withhold=withhold)

    def is_usable(self):
        connection = self.connection
        if connection is None or connection.closed:
            return False
        if connection.info.transaction_status == TransactionStatus.IDLE:
            waiting = select.poll()
            try:
                waiting.register(connection.fileno(), select.POLLIN)
                if not waiting.poll(0):
                    return True
            except (OSError, ValueError):
                return False
        return super().is_usable()

"""A patient's rows read by queries compiled once, as the database driver gives them."""

from datetime import UTC, datetime

from django.db import connections


class PatientRows:
    """A values query of one patient's rows, compiled to SQL once per database and
    then run as it is, its rows as the database driver gives them.

    For what is read on every view only to key what is kept (the patient
    page's session blocks, the patient's chart): keys need only that values
    differ, not what they mean. On the patient page, compiling these queries
    took as long as running them, and converting each value twice as long.
    """

    def __init__(self, queryset, patient_field: str):
        self.queryset = queryset.filter(**{patient_field: 0})
        self.compiled = {}

    def of(self, patient) -> list[tuple]:
        connection = connections[self.queryset.db]
        if connection.alias not in self.compiled:
            sql, params = self.queryset.query.get_compiler(connection=connection).as_sql()
            assert list(params) == [0], params  # the patient's id, the one parameter
            self.compiled[connection.alias] = sql
        with connection.cursor() as cursor:
            cursor.execute(self.compiled[connection.alias], [patient.pk])
            return cursor.fetchall()


def stored_moment(value: datetime) -> datetime:
    """A time in a row of ``PatientRows``: SQLite's driver gives it in UTC
    without the zone, as Django stores it there; PostgreSQL's with the zone."""
    return value if value.tzinfo else value.replace(tzinfo=UTC)

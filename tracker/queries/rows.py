"""Queries made into SQL once and run with each request's values.

Django builds and compiles a queryset anew on every request: for the small
indexed reads that pages make on every view, that took longer than running
them. A ``Statement`` builds its query once per process and shape from
stand-in values, keeps the SQL, and runs it with the request's values in
their places.
"""

import dataclasses
import itertools
import re
from datetime import UTC, datetime, timedelta

from django.core.exceptions import EmptyResultSet
from django.db import connections
from django.db.models.query import ModelIterable, get_related_populators

# Stand-ins, two sets of them, far from any real value: the n-th int value of
# a set is its base minus n, the n-th time its base plus n * _APART, the n-th
# text "\ue000" (a private-use character) with the set and n. The two
# sets' times fall at different times of day, so that a query that keeps a
# value's date or hour (a day's start) makes different offsets from them.
_INT_BASES = (-1_000_000_000, -2_000_000_000)
_TIME_BASES = (
    datetime(1000, 1, 1, 3, 17, 29, 123457, tzinfo=UTC),
    datetime(1500, 1, 1, 20, 41, 7, 654321, tzinfo=UTC),
)
_APART = timedelta(days=1000)
# A parameter's place in Django's SQL ("%s", not the literal "%%s").
_PLACEHOLDER = re.compile(r"(?<!%)%s")


@dataclasses.dataclass(frozen=True)
class _Slot:
    """Where a parameter of the SQL comes from: a constant of the query, or a
    value (by name, and index in a list) plus a fixed offset for a time."""

    constant: object = None
    name: str | None = None
    index: int | None = None
    offset: timedelta | None = None


@dataclasses.dataclass(frozen=True)
class _Made:
    alias: str
    # With named parameters, %(p0)s and so on: Django's SQLite backend finds
    # "%s" in the SQL with a regular expression on every query (57 µs for
    # the link's 7 KB statement), a name with Python's formatting (3 µs).
    sql: str | None  # None for a query that can match nothing (an empty list of ids)
    slots: list[_Slot]
    # Each column's converters as the ORM would apply them: (position, converters, expression).
    converters: list[tuple]
    # For a query of models: how to make them from a row, as the ORM's ModelIterable does.
    model: type | None = None
    fields: slice | None = None
    init_list: list[str] | None = None
    populators: list | None = None


class Statement:
    """A values query built by ``build(**values)``, compiled once per shape of
    ``values`` and run with their values as parameters.

    A value is an int, a text, a time (an aware datetime), None, or a list of them;
    the shape is which values are None and each list's length, as these
    change the SQL. The query is built twice from two sets of stand-ins:
    a parameter that is the same in both is a constant of the query; one
    that differs must be a value, or a time at a fixed offset from one (so
    ``FollowUp.objects.late_at(now)``, whose SQL holds ``now - LATE_AFTER``,
    can be built from ``now``). Anything else the query computes from a value
    is refused when the statement is first made, as its result would be
    kept: pass it as a value of its own (a day's end in a time zone, say).
    """

    def __init__(self, build):
        self.build = build
        self.made = {}

    def rows(self, **values) -> list[tuple]:
        """The rows, each value converted as the ORM's ``values_list`` would."""
        made, connection, rows = self._run(values)
        return self._converted(made, connection, rows)

    def models(self, **values) -> list:
        """The models, with what ``select_related`` brings, as the ORM makes them
        (not what ``prefetch_related`` would: a statement is one query)."""
        made, connection, rows = self._run(values)
        if made.sql is None:
            return []
        found = []
        for row in self._converted(made, connection, rows):
            instance = made.model.from_db(made.alias, made.init_list, row[made.fields])
            for populator in made.populators:
                populator.populate(row, instance)
            found.append(instance)
        return found

    def one_with_many(self, first: int, **values) -> tuple[tuple | None, list[tuple]]:
        """For a join of one row to many (a link to its check-ins), whose first
        ``first`` columns are the same in every row: those columns of the first
        row, and the other columns of each row, converted as ``rows`` would.
        (None, []) if nothing matched."""
        made, connection, rows = self._run(values)
        if not rows:
            return None, []
        head = [converter for converter in made.converters if converter[0] < first]
        tail = [
            (position - first, functions, expression)
            for position, functions, expression in made.converters
            if position >= first
        ]
        (one,) = _convert([rows[0][:first]], head, connection)
        return one, _convert([row[first:] for row in rows], tail, connection)

    @staticmethod
    def _converted(made, connection, rows):
        return _convert(rows, made.converters, connection)

    def raw(self, **values) -> list[tuple]:
        """The rows as the database driver gives them: for what only keys what is
        kept, where values need only differ (see ``stored_moment`` for times)."""
        return self._run(values)[2]

    def _run(self, values):
        shape = tuple(
            (name, len(value) if isinstance(value, list) else value is None)
            for name, value in sorted(values.items())
        )
        made = self.made.get(shape)
        if made is None:
            made = self.made[shape] = self._make(values)
        connection = connections[made.alias]
        if made.sql is None:
            return made, connection, []
        params = {}
        for number, slot in enumerate(made.slots):
            if slot.name is None:
                params[f"p{number}"] = slot.constant
                continue
            value = values[slot.name]
            if slot.index is not None:
                value = value[slot.index]
            if slot.offset is not None:
                value = connection.ops.adapt_datetimefield_value(value + slot.offset)
            params[f"p{number}"] = value
        with connection.cursor() as cursor:
            cursor.execute(made.sql, params)
            return made, connection, cursor.fetchall()

    def _make(self, values) -> _Made:
        compiled, places = [], []
        for which in (0, 1):
            stand_ins, place = _stand_ins(values, which)
            queryset = self.build(**stand_ins)
            compiler = queryset.query.get_compiler(using=queryset.db)
            try:
                sql, params = compiler.as_sql()
            except EmptyResultSet:
                return _Made(queryset.db, None, [], [])
            compiled.append((queryset.db, sql, params, compiler))
            places.append(place)
        (alias, sql, params, compiler), (_, other_sql, other_params, _) = compiled
        if sql != other_sql or len(params) != len(other_params):
            raise ValueError(f"{self.build!r} makes a different query from other values")
        slots = []
        for param, other in zip(params, other_params, strict=True):
            if param == other:
                slots.append(_Slot(constant=param))
                continue
            found = [
                _place(value, which, places[which]) for which, value in enumerate((param, other))
            ]
            if found[0] is None or found[0] != found[1]:
                raise ValueError(
                    f"{self.build!r} computes a parameter from a value other than by a fixed "
                    f"offset: pass it as a value of its own"
                )
            slots.append(found[0])
        fields = [select[0] for select in compiler.select[: compiler.col_count]]
        converters = [
            (position, functions, expression)
            for position, (functions, expression) in compiler.get_converters(fields).items()
        ]
        numbers = itertools.count()
        sql = _PLACEHOLDER.sub(lambda _match: f"%(p{next(numbers)})s", sql)
        if next(numbers) != len(slots):
            raise ValueError(f"{self.build!r}: its SQL does not hold one %s per parameter")
        made = _Made(alias, sql, slots, converters)
        if queryset._iterable_class is not ModelIterable:  # a values query
            return made
        if compiler.annotation_col_map or queryset._prefetch_related_lookups:
            raise ValueError(
                f"{self.build!r}: a statement's models have no annotations or prefetches"
            )
        columns = compiler.klass_info["select_fields"]
        return dataclasses.replace(
            made,
            model=compiler.klass_info["model"],
            fields=slice(columns[0], columns[-1] + 1),
            init_list=[
                column[0].target.attname for column in compiler.select[columns[0] : columns[-1] + 1]
            ],
            populators=get_related_populators(compiler.klass_info, compiler.select, alias),
        )


def _convert(rows, converters, connection) -> list[tuple]:
    """Each row with ``converters`` (position, functions, expression) applied."""
    if not converters:
        return rows
    converted = []
    for row in rows:
        row = list(row)
        for position, functions, expression in converters:
            value = row[position]
            for function in functions:
                value = function(value, expression, connection)
            row[position] = value
        converted.append(tuple(row))
    return converted


def _stand_ins(values, which):
    """The stand-ins of ``values`` in set ``which``, and what each stand-in stands for."""
    place, counts = {}, {"int": 0, "time": 0, "text": 0}

    def stand_in(value, name, index):
        if value is None:
            return None
        if isinstance(value, datetime):
            kind = "time"
        elif isinstance(value, str):
            kind = "text"
        elif isinstance(value, int) and not isinstance(value, bool):
            kind = "int"
        else:
            raise TypeError(
                f"{name}: a statement's values are ints, texts, times, None or lists of them"
            )
        number = counts[kind]
        counts[kind] += 1
        place[kind, number] = (name, index)
        if kind == "int":
            return _INT_BASES[which] - number
        if kind == "text":
            return _text(which, number)
        return _TIME_BASES[which] + number * _APART

    stand_ins = {}
    for name, value in sorted(values.items()):
        if isinstance(value, list):
            stand_ins[name] = [stand_in(item, name, index) for index, item in enumerate(value)]
        else:
            stand_ins[name] = stand_in(value, name, None)
    return stand_ins, place


def _text(which, number) -> str:
    return f"\ue000{which}:{number}"


def _place(param, which, place) -> _Slot | None:
    """The value a compiled parameter stands for, or None if it stands for none."""
    if isinstance(param, int) and not isinstance(param, bool):
        found = place.get(("int", _INT_BASES[which] - param))
        return _Slot(name=found[0], index=found[1]) if found else None
    if isinstance(param, str) and param.startswith("\ue000"):
        for (kind, number), (name, index) in place.items():
            if kind == "text" and param == _text(which, number):
                return _Slot(name=name, index=index)
        return None
    if isinstance(param, str):  # SQLite's times, as Django adapts them
        try:
            param = datetime.fromisoformat(param)
        except ValueError:
            return None
    if not isinstance(param, datetime):
        return None
    since = stored_moment(param) - _TIME_BASES[which]
    number = round(since / _APART)
    found = place.get(("time", number))
    if found is None:
        return None
    return _Slot(name=found[0], index=found[1], offset=since - number * _APART)


class PatientRows(Statement):
    """One patient's rows of a values query, as the database driver gives them.

    For what is read on every view only to key what is kept (the patient
    page's session blocks, the patient's chart): keys need only that values
    differ, not what they mean. On the patient page, compiling these queries
    took as long as running them, and converting each value twice as long.
    """

    def __init__(self, queryset, patient_field: str):
        super().__init__(lambda patient: queryset.filter(**{patient_field: patient}))

    def of(self, patient) -> list[tuple]:
        return self.raw(patient=patient.pk)


def stored_moment(value: datetime) -> datetime:
    """A time as the database driver gives it: SQLite's in UTC without the
    zone, as Django stores it there; PostgreSQL's with the zone."""
    return value if value.tzinfo else value.replace(tzinfo=UTC)

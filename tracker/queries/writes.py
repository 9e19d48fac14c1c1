"""Writes made into SQL once and run with each request's values.

A check-in inserts its report and updates two rows in one transaction, and on
SQLite every other check-in waits for that transaction to end. Django built
each INSERT and UPDATE anew, which took longer than the database took to run
it. ``Insert`` and ``Update`` write the SQL once per model and database, and
prepare each value as the ORM's ``save()`` and ``update()`` would.

Only for plain values: a model with database defaults or generated fields is
refused when the write is made, and an expression (``F()``) given as a value
is refused when it runs.
"""

from django.db import connections, router, transaction
from django.db.models import NOT_PROVIDED, signals


def _plain(model, fields):
    for field in fields:
        if field.db_default is not NOT_PROVIDED or field.generated:
            raise ValueError(f"{model.__name__}.{field.name}: a database default or generated")


def _value(field, value, connection):
    if hasattr(value, "resolve_expression"):
        raise TypeError(f"{field.name}: a compiled write takes plain values, not {value!r}")
    return field.get_db_prep_save(value, connection)


class Insert:
    """``instance.save()`` of a new row of ``model``, its primary key set by the
    database: the same columns, values, signals and returned key.

    ``unless_exists``: the fields of a unique constraint. A row that has the
    same values in them is left as it is and nothing is stored (``save``
    returns False), in one statement, where catching the IntegrityError
    would take a savepoint and two statements more.
    """

    def __init__(self, model, *, unless_exists=()):
        meta = model._meta
        self.model = model
        self.fields = [
            field for field in meta.local_concrete_fields if field is not meta.auto_field
        ]
        self.returning = meta.db_returning_fields
        self.unless_exists = [meta.get_field(name) for name in unless_exists]
        _plain(model, self.fields)
        self.sql = {}

    def save(self, instance) -> bool:
        """Store ``instance``; True, or False if ``unless_exists`` found its row."""
        if type(instance) is not self.model or not instance._state.adding:
            raise ValueError(f"Insert({self.model.__name__}) stores a new {self.model.__name__}")
        alias = router.db_for_write(self.model, instance=instance)
        connection = connections[alias]
        instance._prepare_related_fields_for_save(operation_name="save")
        signals.pre_save.send(
            sender=self.model, instance=instance, raw=False, using=alias, update_fields=None
        )
        params = [
            _value(field, field.pre_save(instance, True), connection) for field in self.fields
        ]
        sql, returning_params = self._sql(connection)
        with transaction.mark_for_rollback_on_error(alias), connection.cursor() as cursor:
            cursor.execute(sql, params)
            if connection.features.can_return_columns_from_insert:
                row = connection.ops.fetch_returned_insert_columns(cursor, returning_params)
            else:
                meta = self.model._meta
                row = (connection.ops.last_insert_id(cursor, meta.db_table, meta.pk.column),)
        if row is None:  # unless_exists: the row was there
            return False
        for field, value in zip(self.returning, row, strict=True):
            for converter in field.get_db_converters(connection):
                value = converter(value, field.get_col(self.model._meta.db_table), connection)
            setattr(instance, field.attname, value)
        instance._state.adding = False
        instance._state.db = alias
        signals.post_save.send(
            sender=self.model,
            instance=instance,
            created=True,
            update_fields=None,
            raw=False,
            using=alias,
        )
        return True

    def _sql(self, connection):
        made = self.sql.get(connection.alias)
        if made is None:
            quote = connection.ops.quote_name
            sql = "INSERT INTO {} ({}) VALUES ({})".format(
                quote(self.model._meta.db_table),
                ", ".join(quote(field.column) for field in self.fields),
                ", ".join(["%s"] * len(self.fields)),
            )
            if self.unless_exists:
                if not connection.features.can_return_columns_from_insert:
                    raise NotImplementedError("unless_exists needs INSERT ... RETURNING")
                sql = "{} ON CONFLICT ({}) DO NOTHING".format(
                    sql, ", ".join(quote(field.column) for field in self.unless_exists)
                )
            returning_params = ()
            if connection.features.can_return_columns_from_insert:
                returning, returning_params = connection.ops.return_insert_columns(self.returning)
                sql = f"{sql} {returning}"
            made = self.sql[connection.alias] = (sql, returning_params)
        return made


class Update:
    """``model.objects.filter(pk=pk).update(**values)`` of the same ``fields``
    every time; how many rows it changed (0 or 1). Sends no signals, as
    ``update()`` sends none."""

    def __init__(self, model, fields):
        meta = model._meta
        self.model = model
        self.fields = [meta.get_field(name) for name in fields]
        _plain(model, self.fields)
        self.sql = {}

    def run(self, pk, **values) -> int:
        if values.keys() != {field.name for field in self.fields}:
            raise ValueError(f"Update({self.model.__name__}) sets exactly {list(self.fields)}")
        alias = router.db_for_write(self.model)
        connection = connections[alias]
        pk_field = self.model._meta.pk
        params = [_value(field, values[field.name], connection) for field in self.fields]
        params.append(pk_field.get_db_prep_value(pk_field.get_prep_value(pk), connection))
        with transaction.mark_for_rollback_on_error(alias), connection.cursor() as cursor:
            cursor.execute(self._sql(connection), params)
            return cursor.rowcount

    def _sql(self, connection):
        sql = self.sql.get(connection.alias)
        if sql is None:
            quote = connection.ops.quote_name
            sql = self.sql[connection.alias] = "UPDATE {} SET {} WHERE {} = %s".format(
                quote(self.model._meta.db_table),
                ", ".join(f"{quote(field.column)} = %s" for field in self.fields),
                quote(self.model._meta.pk.column),
            )
        return sql

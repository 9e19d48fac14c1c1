"""On PostgreSQL, the audit table refuses UPDATE and DELETE, from any SQL.

The model already refuses both through the ORM and the admin; raw SQL, a
database console or a bug below the ORM could still change the evidence.
A trigger raises instead. TRUNCATE is left to the database role's rights
(the test runner empties tables with it; production's app role should hold
neither UPDATE, DELETE nor TRUNCATE on the table). The owner of the table
can drop the trigger: a later migration that must rewrite events does so
explicitly, and says why. SQLite has no such trigger here: it is the
embedded, single-clinic database.
"""

from django.db import migrations

CREATE = """
CREATE FUNCTION tracker_auditevent_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'Audit events are never changed or deleted (% on %).', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END;
$$;
CREATE TRIGGER tracker_auditevent_append_only
    BEFORE UPDATE OR DELETE ON tracker_auditevent
    FOR EACH ROW EXECUTE FUNCTION tracker_auditevent_append_only();
"""

DROP = """
DROP TRIGGER IF EXISTS tracker_auditevent_append_only ON tracker_auditevent;
DROP FUNCTION IF EXISTS tracker_auditevent_append_only();
"""


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE, params=None)


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP, params=None)


class Migration(migrations.Migration):
    dependencies = [
        ("tracker", "0009_audit_protect_patient"),
    ]

    operations = [
        migrations.RunPython(create, drop, elidable=False),
    ]

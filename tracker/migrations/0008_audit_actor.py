"""Who acted in each audit event: staff, the patient (through their link), or the system.

Events written so far were by a member of staff when they name a user, and
by the system otherwise (the patient's own changes were not recorded).
"""

from django.db import migrations, models


def name_the_actors(apps, schema_editor):
    # The historical model's plain manager: the app's own refuses update().
    AuditEvent = apps.get_model("tracker", "AuditEvent")
    AuditEvent.objects.filter(user__isnull=False).update(actor="staff")


class Migration(migrations.Migration):
    dependencies = [
        ("tracker", "0007_report_local_reaction_and_pgic"),
    ]

    operations = [
        migrations.AddField(
            model_name="auditevent",
            name="actor",
            field=models.CharField(
                choices=[("staff", "Staff"), ("patient", "Patient"), ("system", "System")],
                default="system",
                max_length=8,
            ),
            preserve_default=False,
        ),
        migrations.RunPython(name_the_actors, migrations.RunPython.noop),
        migrations.AddConstraint(
            model_name="auditevent",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(("actor", "staff"), ("user__isnull", False)),
                    models.Q(("actor__in", ["patient", "system"]), ("user__isnull", True)),
                    _connector="OR",
                ),
                name="audit_actor_matches_user",
            ),
        ),
    ]

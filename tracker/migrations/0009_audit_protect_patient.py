"""Audit events protect their patient: a patient with a trail cannot be deleted.

Before, deleting a patient (as the admin could) set the patient of each of
their events to empty, and the trail no longer said whose record was read.
Only Django acts on on_delete, so the database schema does not change.
"""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("tracker", "0008_audit_actor"),
    ]

    operations = [
        migrations.AlterField(
            model_name="auditevent",
            name="patient",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="audit_events",
                to="tracker.patient",
            ),
        ),
    ]

"""The clinic on sessions, follow-ups and alerts is required, with the indexes
the dashboard, the alert inbox and analytics read through (see the models)."""

import django.db.models.deletion
from django.db import migrations, models


def clinic_field(db_index=True):
    return models.ForeignKey(
        db_index=db_index, editable=False, on_delete=django.db.models.deletion.PROTECT,
        related_name="+", to="tracker.clinic",
    )


class Migration(migrations.Migration):

    dependencies = [
        ("tracker", "0004_clinic_on_sessions_follow_ups_alerts"),
    ]

    operations = [
        migrations.AlterField("needlingsession", "clinic", clinic_field(db_index=False)),
        migrations.AlterField("followup", "clinic", clinic_field()),
        migrations.AlterField("alert", "clinic", clinic_field(db_index=False)),
        migrations.RemoveIndex(model_name="alert", name="alert_open_idx"),
        migrations.AddIndex(
            model_name="needlingsession",
            index=models.Index(fields=["clinic", "performed_at"], name="session_clinic_time_idx"),
        ),
        migrations.AddIndex(
            model_name="followup",
            index=models.Index(
                condition=models.Q(answered_at__isnull=True), fields=["clinic", "closes_at", "opens_at", "due_at"],
                name="followup_clinic_unanswered_idx",
            ),
        ),
        migrations.AddIndex(
            model_name="alert",
            index=models.Index(
                condition=models.Q(acknowledged_at__isnull=True),
                fields=["clinic", "-severity", "-opened_at"],
                name="alert_clinic_open_idx",
            ),
        ),
        migrations.AddIndex(
            model_name="alert",
            index=models.Index(
                fields=["clinic", "-severity", "-opened_at"], name="alert_clinic_time_idx"
            ),
        ),
    ]

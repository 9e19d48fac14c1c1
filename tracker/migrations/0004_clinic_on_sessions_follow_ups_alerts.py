"""Keep the clinic on sessions, follow-ups and alerts (filled in from the
patient). The next migration makes it required and adds the indexes; apart,
because PostgreSQL will not alter a table with row changes pending in the same
transaction."""

import django.db.models.deletion
from django.db import migrations, models
from django.db.models import OuterRef, Subquery


def fill_clinic(apps, schema_editor):
    Patient = apps.get_model("tracker", "Patient")
    NeedlingSession = apps.get_model("tracker", "NeedlingSession")
    FollowUp = apps.get_model("tracker", "FollowUp")
    Alert = apps.get_model("tracker", "Alert")
    NeedlingSession.objects.update(
        clinic=Subquery(Patient.objects.filter(pk=OuterRef("patient")).values("clinic")[:1])
    )
    session_clinic = Subquery(
        NeedlingSession.objects.filter(pk=OuterRef("session")).values("clinic")[:1]
    )
    FollowUp.objects.update(clinic=session_clinic)
    Alert.objects.update(clinic=session_clinic)


def clinic_field(null):
    return models.ForeignKey(
        editable=False, null=null, on_delete=django.db.models.deletion.PROTECT,
        related_name="+", to="tracker.clinic",
    )


class Migration(migrations.Migration):

    dependencies = [
        ("tracker", "0003_clinic_require_2fa_for_leads"),
    ]

    operations = [
        migrations.AddField("needlingsession", "clinic", clinic_field(null=True)),
        migrations.AddField("followup", "clinic", clinic_field(null=True)),
        migrations.AddField("alert", "clinic", clinic_field(null=True)),
        migrations.RunPython(fill_clinic, migrations.RunPython.noop, elidable=True),
    ]

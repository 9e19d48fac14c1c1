from django.db import migrations, models

from tracker import names, phones


def fill_keys_and_normalise_phones(apps, schema_editor):
    """Fill the search keys of the patients already stored, and put each stored phone
    number that reads as a valid number in its clinic's country into E.164.
    A number that does not parse stays as it was typed: staff see it, and the
    edit form asks for a valid one at the next change."""
    Patient = apps.get_model("tracker", "Patient")
    regions = {}
    batch = []
    for patient in Patient.objects.select_related("clinic").order_by("pk").iterator(chunk_size=500):
        patient.name_key = names.name_key(patient.display_name)[:255]
        patient.search_key = names.search_key(patient.display_name, patient.reference)[:400]
        if patient.phone:
            zone = patient.clinic.time_zone
            if zone not in regions:
                regions[zone] = phones.region_for_zone(zone)
            patient.phone = phones.to_e164(patient.phone, regions[zone]) or patient.phone
        batch.append(patient)
        if len(batch) == 500:
            Patient.objects.bulk_update(batch, ["name_key", "search_key", "phone"])
            batch = []
    if batch:
        Patient.objects.bulk_update(batch, ["name_key", "search_key", "phone"])


class Migration(migrations.Migration):
    dependencies = [
        ("tracker", "0010_audit_append_only_trigger"),
    ]

    operations = [
        migrations.AddField(
            model_name="patient",
            name="name_key",
            field=models.CharField(blank=True, editable=False, max_length=255),
        ),
        migrations.AddField(
            model_name="patient",
            name="phone_refused_at",
            field=models.DateTimeField(
                blank=True,
                editable=False,
                help_text="When the text-message provider refused this number for good: no text reminder is sent to it until the number is changed.",
                null=True,
            ),
        ),
        migrations.AddField(
            model_name="patient",
            name="search_key",
            field=models.CharField(blank=True, editable=False, max_length=400),
        ),
        migrations.AlterField(
            model_name="patient",
            name="phone",
            field=models.CharField(
                blank=True,
                help_text="A mobile number, as the patient gives it; kept in international form.",
                max_length=32,
            ),
        ),
        migrations.AddIndex(
            model_name="patient",
            index=models.Index(fields=["clinic", "name_key"], name="patient_clinic_name_key_idx"),
        ),
        migrations.RunPython(fill_keys_and_normalise_phones, migrations.RunPython.noop),
    ]

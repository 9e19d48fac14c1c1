from datetime import date
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from tracker import clock
from tracker.fhir import bulk
from tracker.models import AuditAction, Clinic
from tracker.security import audit


class Command(BaseCommand):
    help = (
        "Write a clinic's records as FHIR R4 Bulk Data files (one NDJSON file per resource "
        "type, and manifest.json) into OUTDIR. --since YYYY-MM-DD keeps the sessions performed "
        "or answered from that day on (the clinic's midnight). Recorded in the audit trail."
    )

    def add_arguments(self, parser):
        parser.add_argument("outdir", type=Path)
        parser.add_argument("--clinic", type=int, required=True, help="The clinic's id.")
        parser.add_argument("--since", type=date.fromisoformat, help="YYYY-MM-DD")

    def handle(self, *args, outdir, clinic, since, **options):
        found = Clinic.objects.filter(pk=clinic).first()
        if found is None:
            raise CommandError(f"No clinic with id {clinic}.")
        since_at = clock.day_start(since, found.zone) if since else None
        command = f"manage.py export_fhir --clinic {found.pk}" + (
            f" --since {since}" if since else ""
        )
        counts = bulk.write_directory(
            bulk.ClinicExport(found, since=since_at), outdir, request=command
        )
        audit.record_event(
            user=None,
            ip=None,
            action=AuditAction.EXPORT,
            clinic=found,
            obj=found,
            detail="export_fhir",
        )
        summary = ", ".join(f"{n:,} {kind}" for kind, n in counts.items())
        self.stdout.write(f"Wrote {summary} to {outdir}.")

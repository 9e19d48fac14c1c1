from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from tracker.devdata import demo
from tracker.models import Clinic


class Command(BaseCommand):
    help = (
        "Add made-up patients with sessions this morning, yesterday and two and three days "
        "ago, their check-ins answered, open and missed. Needs `loaddata demo` first, "
        "or --if-empty."
    )

    def add_arguments(self, parser):
        parser.add_argument("--patients", type=int, default=16, help="How many patients (default 16).")
        parser.add_argument("--seed", type=int, default=1, help="Same seed, same data (default 1).")
        parser.add_argument(
            "--if-empty", action="store_true",
            help="Load the demo clinic and staff first; do nothing if the database has a clinic.",
        )

    def handle(self, *args, patients, seed, if_empty, **options):
        if patients < 1:
            raise CommandError("--patients must be at least 1.")
        if if_empty and Clinic.objects.exists():
            self.stdout.write("The database already has data; demo data not loaded.")
            return
        try:
            with transaction.atomic():
                if if_empty:
                    call_command("loaddata", "demo", verbosity=0)
                created = demo.seed(patients=patients, seed=seed)
        except ValueError as error:
            raise CommandError(str(error)) from error
        self.stdout.write(self.style.SUCCESS(f"Added {len(created)} demo patients."))

from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.test.utils import override_settings

from tracker.devdata import demo
from tracker.models import Clinic


class Command(BaseCommand):
    help = (
        "Add made-up patients, each with a session this morning, yesterday, two or three "
        "days ago (half of them also an earlier one, 8 to 20 days ago), their check-ins "
        "answered, open and missed, and one warning sign. Loads the demo clinic and staff "
        "first (fixtures/demo.json) on a database without a clinic."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--patients", type=int, default=16, help="How many patients (default 16)."
        )
        parser.add_argument("--seed", type=int, default=1, help="Same seed, same data (default 1).")
        parser.add_argument(
            "--if-empty",
            action="store_true",
            help="Do nothing if the database already has a clinic (what `make run` uses).",
        )

    def handle(self, *args, patients, seed, if_empty, **options):
        if patients < 1:
            raise CommandError("--patients must be at least 1.")
        has_clinic = Clinic.objects.exists()
        if if_empty and has_clinic:
            self.stdout.write("The database already has data; demo data not loaded.")
            return
        if not has_clinic and get_user_model().objects.exists():
            # The fixture's users have fixed ids: loading it would overwrite these accounts.
            raise CommandError(
                "This database has users but no clinic: add a clinic with a therapist in the "
                "admin first, or start from an empty database."
            )
        try:
            # The demo's warning sign opens an urgent alert, whose email to the
            # therapist would be printed (the development console backend) or
            # sent: seeding sends no message.
            with (
                override_settings(EMAIL_BACKEND="django.core.mail.backends.dummy.EmailBackend"),
                transaction.atomic(),
            ):
                if not has_clinic:
                    call_command("loaddata", "demo", verbosity=0)
                created = demo.seed(patients=patients, seed=seed)
        except ValueError as error:
            raise CommandError(str(error)) from error
        counts = demo.counts(created)
        self.stdout.write(
            self.style.SUCCESS(
                f"Added {len(created)} demo patients: {counts['sessions']} sessions, "
                f"{counts['check_ins']} check-ins answered, {counts['alerts']} alerts "
                f"({counts['urgent']} urgent)."
            )
        )

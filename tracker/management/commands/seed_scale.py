import time

from django.core.management.base import BaseCommand, CommandError

from tracker.devdata import scale


class Command(BaseCommand):
    help = (
        "Build a large made-up network (several clinics, 50 therapists, ~10 sessions per "
        "patient with follow-ups and reports) for benchmarks. Adds to what is there."
    )

    def add_arguments(self, parser):
        parser.add_argument("--patients", type=int, default=20000)
        parser.add_argument("--sessions-per-patient", type=int, default=10)
        parser.add_argument("--therapists", type=int, default=50)
        parser.add_argument("--seed", type=int, default=1)

    def handle(self, *args, patients, sessions_per_patient, therapists, seed, **options):
        if patients < 1 or sessions_per_patient < 1 or therapists < 1:
            raise CommandError(
                "--patients, --sessions-per-patient and --therapists must be at least 1."
            )
        started = time.monotonic()
        counts = scale.seed(
            patients=patients,
            sessions_per_patient=sessions_per_patient,
            therapists=therapists,
            seed=seed,
            progress=self.stderr.write,
        )
        seconds = time.monotonic() - started
        summary = ", ".join(f"{n:,} {name.replace('_', '-')}" for name, n in counts.items())
        self.stdout.write(self.style.SUCCESS(f"Added {summary} in {seconds:.0f} s."))

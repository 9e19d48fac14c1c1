import time

from django.core.management.base import BaseCommand, CommandError

from tracker.devdata import truth, truth_check


class Command(BaseCommand):
    help = (
        "Build one made-up clinic whose after-effect rates and soreness courses are set "
        "beforehand (tracker/devdata/truth.py), every check-in answered and closed. With "
        "--check, run the analytics on it and compare each figure with what was set. Adds to "
        "what is there."
    )

    def add_arguments(self, parser):
        parser.add_argument("--sessions", type=int, default=10000)
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument(
            "--check",
            action="store_true",
            help="Compare the analytics with what was set; fail if any figure is out of range.",
        )

    def handle(self, *args, sessions, seed, check, **options):
        if sessions < 1:
            raise CommandError("--sessions must be at least 1.")
        started = time.monotonic()
        clinic = truth.seed(sessions=sessions, seed=seed, progress=self.stderr.write)
        built = time.monotonic() - started
        self.stdout.write(
            self.style.SUCCESS(
                f"Added {clinic.name} (id {clinic.pk}) with {sessions:,} sessions in {built:.1f} s."
            )
        )
        if not check:
            return
        checks = truth_check.recovered(clinic)
        for line in checks:
            self.stdout.write(line.line())
        missed = [c for c in checks if not c.ok]
        summary = (
            f"{len(checks) - len(missed)} of {len(checks)} figures recovered "
            f"in {time.monotonic() - started - built:.1f} s."
        )
        if missed:
            raise CommandError(summary)
        self.stdout.write(self.style.SUCCESS(summary))

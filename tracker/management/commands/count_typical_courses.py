import time

from django.core.management.base import BaseCommand

from tracker import analytics


class Command(BaseCommand):
    help = (
        "Count each clinic's soreness answers by check-in and score, for the typical course "
        "drawn behind every patient's chart, and store the counts. Run it every hour: a chart "
        "counts them itself, slowly in a large clinic, when they are older than 75 minutes."
    )

    def handle(self, *args, **options):
        started = time.monotonic()
        clinics = analytics.count_typical_courses()
        self.stdout.write(
            f"Counted the typical course of {clinics} clinic{'s' if clinics != 1 else ''} "
            f"in {time.monotonic() - started:.1f} s."
        )

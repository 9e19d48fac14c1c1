import time
from datetime import timedelta

from django.core.management.base import BaseCommand, CommandError

from tracker import clock
from tracker.models import NeedlingSession, SessionOutcome


class Command(BaseCommand):
    help = (
        "Count again each session's outcome row, which the analytics read: all sessions, or "
        "those recorded in the last --days. Every change to a session, its sites or its "
        "check-ins counts its row; run this after what did not go through the app, such as an "
        "upgrade's migration run while the old code still took check-ins."
    )

    def add_arguments(self, parser):
        parser.add_argument("--days", type=int, help="only sessions recorded in the last DAYS days")

    def handle(self, *args, days=None, **options):
        sessions = NeedlingSession.objects.all()
        if days is not None:
            if days < 1:
                raise CommandError("--days must be 1 or more.")
            sessions = sessions.filter(performed_at__gte=clock.now() - timedelta(days=days))
        started = time.monotonic()
        counted = SessionOutcome.objects.recount_all(sessions)
        self.stdout.write(
            f"Counted the outcome of {counted:,} session{'s' if counted != 1 else ''} "
            f"in {time.monotonic() - started:.1f} s."
        )

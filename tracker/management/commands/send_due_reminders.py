import os
import time

from django.core.management.base import BaseCommand, CommandError

from tracker import reminders
from tracker.choices import ReminderChannel


def _plural(count, word):
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


class Command(BaseCommand):
    help = (
        "Send urgent alerts' messages and escalations that are due, each check-in reminder "
        "that is due, once, and record check-ins whose window has closed as missed. "
        "Run it every minute; safe to run twice at once."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--batch-size",
            type=int,
            default=reminders.BATCH_SIZE,
            help="Follow-ups read and claimed together (default %(default)s). A run "
            "killed mid-batch loses that batch's unsent reminders.",
        )
        parser.add_argument(
            "--every",
            type=int,
            metavar="SECONDS",
            help="Run again every SECONDS until the process that started this one ends, "
            "printing only runs that did something (`make run` uses it; in production, "
            "cron or a systemd timer).",
        )

    def handle(self, *args, batch_size, every, **options):
        if batch_size < 1:
            raise CommandError("--batch-size must be at least 1.")
        if every is None:
            self._summary(reminders.run(batch_size=batch_size))
            return
        if every < 1:
            raise CommandError("--every must be at least 1 second.")
        parent = os.getppid()
        while os.getppid() == parent:  # the parent gone, this is adopted: stop
            started = time.monotonic()
            result = reminders.run(batch_size=batch_size)
            if result.sent_total or result.failed or result.marked_missed or result.alert_steps:
                self._summary(result)
            time.sleep(max(0.0, every - (time.monotonic() - started)))

    def _summary(self, result):
        by_email, by_sms = result.sent[ReminderChannel.EMAIL], result.sent[ReminderChannel.SMS]
        self.stdout.write(
            f"Sent {_plural(result.sent_total, 'reminder')} ({by_email} email, {by_sms} SMS), "
            f"{result.failed} failed"
            f"{f', {result.refused} refused (number marked)' if result.refused else ''}; marked {_plural(result.marked_missed, 'check-in')} missed; "
            f"sent {_plural(result.alert_steps, 'urgent alert step')}."
        )

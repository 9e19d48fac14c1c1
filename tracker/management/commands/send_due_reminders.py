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

    def handle(self, *args, batch_size, **options):
        if batch_size < 1:
            raise CommandError("--batch-size must be at least 1.")
        result = reminders.run(batch_size=batch_size)
        by_email, by_sms = result.sent[ReminderChannel.EMAIL], result.sent[ReminderChannel.SMS]
        self.stdout.write(
            f"Sent {_plural(result.sent_total, 'reminder')} ({by_email} email, {by_sms} SMS), "
            f"{result.failed} failed"
            f"{f', {result.refused} refused (number marked)' if result.refused else ''}; marked {_plural(result.marked_missed, 'check-in')} missed; "
            f"sent {_plural(result.alert_steps, 'urgent alert step')}."
        )

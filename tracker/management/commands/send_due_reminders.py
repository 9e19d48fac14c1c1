from django.core.management.base import BaseCommand

from tracker import reminders
from tracker.choices import ReminderChannel


def _plural(count, word):
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


class Command(BaseCommand):
    help = (
        "Send each check-in reminder that is due, once, and record check-ins whose window "
        "has closed as missed. Safe to run every few minutes, and twice at once."
    )

    def handle(self, *args, **options):
        result = reminders.run()
        by_email, by_sms = result.sent[ReminderChannel.EMAIL], result.sent[ReminderChannel.SMS]
        self.stdout.write(
            f"Sent {_plural(result.sent_total, 'reminder')} ({by_email} email, {by_sms} SMS), "
            f"{result.failed} failed; marked {_plural(result.marked_missed, 'check-in')} missed."
        )

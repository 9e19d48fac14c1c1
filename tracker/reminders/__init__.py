"""Patient reminders: which check-ins to remind about, the messages, and the
channels that carry them (``sms``). Run by ``manage.py send_due_reminders``."""

from tracker.reminders.sending import (
    BATCH_SIZE,
    Message,
    RunResult,
    build_message,
    due_reminders,
    mark_missed,
    run,
    send_due_reminders,
)

__all__ = [
    "BATCH_SIZE",
    "Message",
    "RunResult",
    "build_message",
    "due_reminders",
    "mark_missed",
    "run",
    "send_due_reminders",
]

"""Check-in reminders, and recording check-ins whose window has closed.

``run()`` is what ``manage.py send_due_reminders`` does every few minutes.
It must be safe to run twice at once (cron overlapping a slow run, two
servers), so follow-ups are *claimed* before anything is sent for them, a
batch at a time (``_claim``): of two runs, exactly one claims each row. A
reminder is therefore sent at most once; if sending fails the claim is
released and the next run tries again, unless the SMS provider refused the
number for good: then the claim stays and the patient's number is marked
(``phone_refused_at``), so that no run tries it again until it is changed. A run killed between claim and send
loses the rest of that batch's reminders, which we prefer to sending twice.

Rows are read in keyset batches (``pk > last``), so memory stays flat
however many follow-ups are due, and no read cursor stays open while the
same table is written. Reminders differ between patients only in their
links, so each distinct message (language, clinic, check-in) is rendered
once per run and the patient's token put into the copy.

No reminder goes in its clinic's quiet hours (``Clinic.in_quiet_hours``,
default 21:00–08:00 on the clinic's clock): a reminder due then is left
unclaimed, and the first run after they end sends it if its check-in is
still open (``due_reminders`` reads only open and late check-ins). Quiet
hours are for patients' reminders only: ``run`` sends urgent alerts and
their escalations first, whatever the hour, and ``tracker.alerts`` never
asks about quiet hours.

A reminder carries the clinic's name, which check-in is open and two links
(check in, stop reminders): never the patient's name or anything clinical,
since email and SMS are read on lock screens and by other people.
"""

import logging
import secrets
from dataclasses import dataclass, field
from datetime import timedelta

from django.conf import settings
from django.core import mail
from django.db import transaction
from django.db.models import OuterRef, Q, Subquery
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation

from tracker import alerts, clock, services, site
from tracker.choices import ReminderChannel, TimePoint
from tracker.models import AccessLink, FollowUp, NeedlingSession, SessionOutcome
from tracker.reminders import sms, watchdog
from tracker.security import tokens
from tracker.services import scheduling

logger = logging.getLogger(__name__)

BATCH_SIZE = 200

# Sessions marked "entered in error": never reminded, never marked missed. A
# subquery rather than a join, so that claiming locks follow-up rows only.
_ENTERED_IN_ERROR = NeedlingSession.objects.filter(entered_in_error_at__isnull=False).values("pk")

# What a reminder needs from a follow-up and its patient and clinic (with the
# annotated link nonce): ``due_reminders`` rows are read with these columns only.
_MESSAGE_FIELDS = (
    "time_point",
    "session__patient__language",
    "session__patient__reminder_channel",
    "session__patient__email",
    "session__patient__phone",
    "session__patient__clinic__name",
    "session__patient__clinic__time_zone",
    "session__patient__clinic__quiet_hours_start",
    "session__patient__clinic__quiet_hours_end",
)

# Stands in for the patient's token while a shared message is rendered. Random,
# so that no clinic name or translation can happen to contain it.
_TOKEN_PLACEHOLDER = secrets.token_urlsafe(16)


@dataclass
class RunResult:
    """What one run did, for the command's summary line."""

    sent: dict[str, int] = field(
        default_factory=lambda: {ReminderChannel.EMAIL: 0, ReminderChannel.SMS: 0}
    )
    failed: int = 0
    refused: int = 0
    # Due, but in the clinic's quiet hours: sent by a later run.
    held: int = 0
    marked_missed: int = 0
    alert_steps: int = 0

    @property
    def sent_total(self) -> int:
        return sum(self.sent.values())


@dataclass(frozen=True)
class Message:
    subject: str
    body: str
    sms: str
    stop_url: str

    def with_token(self, placeholder: str, token: str) -> "Message":
        """This message with ``token`` wherever ``placeholder`` stands in its links."""
        return Message(
            subject=self.subject.replace(placeholder, token),
            body=self.body.replace(placeholder, token),
            sms=self.sms.replace(placeholder, token),
            stop_url=self.stop_url.replace(placeholder, token),
        )


def due_reminders(now):
    """Follow-ups whose reminder should go out at ``now``, with what the message needs.

    Open or late and unanswered, asked (``FollowUp.asked``), of a session not
    entered in error (``answerable_at``), not reminded yet, not the in-clinic check-in
    (the patient is in the clinic with the QR code), the patient agreed and
    has an address for their channel (a phone number the SMS provider has
    not refused), and the session has a usable link.
    Each row carries ``link_nonce``: the newest usable link of its session.
    """
    newest_usable_link = (
        AccessLink.objects.usable_at(now)
        .filter(session_id=OuterRef("session_id"))
        .order_by("-created_at", "-pk")
        .values("nonce")[:1]
    )
    # A number the SMS provider refused for good is not tried again (``_send_one``).
    reachable = (
        Q(session__patient__reminder_channel=ReminderChannel.EMAIL) & ~Q(session__patient__email="")
    ) | (
        Q(session__patient__reminder_channel=ReminderChannel.SMS)
        & ~Q(session__patient__phone="")
        & Q(session__patient__phone_refused_at__isnull=True)
    )
    return (
        FollowUp.objects.answerable_at(now)
        .filter(reminder_sent_at__isnull=True, session__patient__reminders_consent=True)
        .filter(reachable)
        .exclude(time_point=TimePoint.IN_CLINIC)
        .annotate(link_nonce=Subquery(newest_usable_link))
        .filter(link_nonce__isnull=False)
        .select_related("session__patient__clinic")
    )


def build_message(follow_up, token: str) -> Message:
    """The reminder for ``follow_up`` in its patient's language."""
    patient = follow_up.session.patient
    context = {
        "clinic_name": patient.clinic.name,
        "hours": follow_up.time_point,
        "check_in_url": site.absolute_url(reverse("patient:check_in", args=[token])),
        "stop_url": site.absolute_url(reverse("patient:stop_reminders", args=[token])),
    }
    with translation.override(patient.language):
        subject = render_to_string("reminders/email_subject.txt", context)
        return Message(
            # A header must be one line, whatever the template or clinic name holds.
            subject=" ".join(subject.split()),
            body=render_to_string("reminders/email_body.txt", context),
            sms=" ".join(render_to_string("reminders/sms.txt", context).split()),
            stop_url=context["stop_url"],
        )


class _Messages:
    """Each distinct reminder rendered once per run, then copied with each patient's token.

    Rendering is most of a reminder's cost, and all that differs between two
    patients of a clinic due for the same check-in in the same language is
    the token in their links. Holds one entry per (language, clinic, check-in)
    seen in the run: bounded by the clinics, not by the follow-ups due.
    """

    def __init__(self):
        self._rendered = {}

    def for_follow_up(self, follow_up, token: str) -> Message:
        patient = follow_up.session.patient
        key = (patient.language, patient.clinic_id, follow_up.time_point)
        if key not in self._rendered:
            self._rendered[key] = build_message(follow_up, _TOKEN_PLACEHOLDER)
        return self._rendered[key].with_token(_TOKEN_PLACEHOLDER, token)


class _Senders:
    """One email connection and one SMS backend per run, made on first use.

    A run with nothing due opens no SMTP connection.
    """

    def __init__(self):
        self._email = None
        self._sms = None

    def send(self, follow_up, message: Message) -> None:
        patient = follow_up.session.patient
        if patient.reminder_channel == ReminderChannel.SMS:
            if self._sms is None:
                self._sms = sms.get_backend()
            self._sms.send(to=patient.phone, body=message.sms)
            return
        try:
            if self._email is None:
                self._email = mail.get_connection()
                self._email.open()
            mail.EmailMessage(
                subject=message.subject,
                body=message.body,
                to=[patient.email],
                connection=self._email,
                headers={
                    "Auto-Submitted": "auto-generated",
                    # Mail apps show an "unsubscribe" button that opens the stop page.
                    "List-Unsubscribe": f"<{message.stop_url}>",
                },
            ).send()
        except Exception:
            # The connection may be broken; the next message opens a new one.
            self.close()
            raise

    def close(self):
        connection, self._email = self._email, None
        if connection is None:
            return
        try:
            connection.close()
        except Exception:  # noqa: BLE001 - closing a broken connection may fail too
            pass


def send_due_reminders(*, now=None, batch_size=BATCH_SIZE, result=None) -> RunResult:
    """Send every reminder due at ``now``, each at most once across concurrent runs.

    A reminder whose clinic is in its quiet hours at ``now`` is left for a later run.
    """
    now = now or clock.now()
    result = result or RunResult()
    messages = _Messages()
    senders = _Senders()
    try:
        last_pk = 0
        while True:
            batch = list(
                due_reminders(now)
                .only(*_MESSAGE_FIELDS)
                .filter(pk__gt=last_pk)
                .order_by("pk")[:batch_size]
            )
            sendable = [
                follow_up
                for follow_up in batch
                if not follow_up.session.patient.clinic.in_quiet_hours(now)
            ]
            result.held += len(batch) - len(sendable)
            claimed = _claim(sendable, now)
            for follow_up in sendable:
                if follow_up.pk in claimed:
                    _send_one(follow_up, now, messages, senders, result)
            if len(batch) < batch_size:
                break
            last_pk = batch[-1].pk
    finally:
        senders.close()
    return result


def _claim(follow_ups, now) -> set[int]:
    """Mark ``follow_ups`` as reminded at ``now``; return the ids this run claimed.

    The still-unclaimed rows are read and marked in one transaction that holds
    them: on PostgreSQL by ``SELECT ... FOR UPDATE`` (a second run waits, then
    finds them claimed); on SQLite by the database's write lock, which our
    settings take when the transaction begins (``transaction_mode``
    ``IMMEDIATE``; without it a second writer fails instead of waiting).
    Rows that another run claimed first, or that the patient answered
    meanwhile, are left out.
    """
    if not follow_ups:
        return set()
    with transaction.atomic():
        free = list(
            FollowUp.objects.select_for_update()
            .filter(
                pk__in=[follow_up.pk for follow_up in follow_ups],
                reminder_sent_at__isnull=True,
                answered_at__isnull=True,
            )
            # Marked "entered in error" since it was read: no reminder for it.
            .exclude(session_id__in=_ENTERED_IN_ERROR)
            # One lock order for every run, so that two runs cannot deadlock.
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        FollowUp.objects.filter(pk__in=free).update(reminder_sent_at=now)
    return set(free)


def _send_one(follow_up, now, messages, senders, result):
    try:
        message = messages.for_follow_up(follow_up, tokens.token_for(follow_up.link_nonce))
        senders.send(follow_up, message)
    except sms.NumberRefused:
        # Permanent: the claim stays (this check-in is not tried again) and the
        # number is marked, so no later check-in is sent to it either, and the
        # patient's page tells staff. The id only in the log, as below.
        patient = follow_up.session.patient
        services.record_phone_refused(patient_id=patient.pk, phone=patient.phone)
        result.refused += 1
        logger.warning(
            "Reminder for follow-up %s not sent: the SMS provider refused the number; "
            "it is not tried again until the number is changed.",
            follow_up.pk,
        )
        return
    except Exception as error:
        FollowUp.objects.filter(pk=follow_up.pk, reminder_sent_at=now).update(reminder_sent_at=None)
        result.failed += 1
        # The id only: an address, a name or the link must not reach the logs.
        logger.warning(
            "Reminder for follow-up %s not sent (%s); the next run will retry.",
            follow_up.pk,
            type(error).__name__,
        )
        return
    result.sent[follow_up.session.patient.reminder_channel] += 1


def mark_missed(*, now=None, batch_size=BATCH_SIZE, result=None) -> RunResult:
    """Record each check-in whose window closed unanswered, and open its "missed" alert.

    The claim and the alert share a transaction: if the alert cannot be
    opened, the follow-up stays unmarked and the next run tries again.
    """
    now = now or clock.now()
    result = result or RunResult()
    # Check-ins that closed before the job was first set up are history, not news:
    # a first run must not open an alert for every old session.
    recent = now - timedelta(days=settings.ACCESS_LINK_LIFETIME_DAYS)
    last_pk = 0
    while True:
        batch = list(
            FollowUp.objects.missed_at(now)
            .filter(marked_missed_at__isnull=True, pk__gt=last_pk, closes_at__gte=recent)
            .select_related("session__patient__clinic")
            .order_by("pk")[:batch_size]
        )
        for follow_up in batch:
            with transaction.atomic():
                claimed = (
                    FollowUp.objects.filter(
                        pk=follow_up.pk, marked_missed_at__isnull=True, answered_at__isnull=True
                    )
                    .exclude(session_id__in=_ENTERED_IN_ERROR)
                    .update(marked_missed_at=now)
                )
                if claimed == 1:
                    follow_up.marked_missed_at = now
                    alerts.evaluate_missed(follow_up)
                    if follow_up.time_point == TimePoint.H48:
                        # No answer at 48 h after unsettled soreness at 24 h: ask at 72 h.
                        if scheduling.add_72h_follow_up_if_unsettled(
                            follow_up.session, soreness_48h=None
                        ):
                            SessionOutcome.objects.recount_session(
                                follow_up.session, check_ins_only=True
                            )
                    result.marked_missed += 1
        if len(batch) < batch_size:
            break
        last_pk = batch[-1].pk
    return result


def run(*, now=None, batch_size=BATCH_SIZE) -> RunResult:
    """One pass of the job: urgent alerts' messages first, then reminders, then missed check-ins.

    Urgent alerts go first and whatever the hour: a slow batch of reminders
    never holds back a message about a warning sign.
    """
    now = now or clock.now()
    result = RunResult(alert_steps=alerts.escalate(now=now))
    send_due_reminders(now=now, batch_size=batch_size, result=result)
    mark_missed(now=now, batch_size=batch_size, result=result)
    watchdog.record_run(now)
    # Missed check-ins may have opened urgent alerts (none today); their step 0
    # went on commit, so nothing more to send here.
    return result

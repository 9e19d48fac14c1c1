"""Taking a patient's check-in answers: one report per check-in, whatever the phone resends;
and warning signs at any time."""

from uuid import UUID, uuid5

from django.db import IntegrityError, transaction

from tracker import alerts, clock
from tracker.choices import AfterEffect, RedFlag, TimePoint
from tracker.models import (
    FollowUp,
    NeedlingSession,
    SessionOutcome,
    SymptomReport,
    WarningReport,
)
from tracker.queries.rows import Statement
from tracker.queries.writes import Insert, Update
from tracker.services import scheduling


class FollowUpNotOpen(Exception):
    """The follow-up cannot take a report now: not yet open, closed or answered."""

    def __init__(self, follow_up, state):
        super().__init__(f"Follow-up {follow_up.pk} is {state}")
        self.follow_up = follow_up
        self.state = state


# The follow-up read and locked with its session, patient and clinic, on every
# check-in and inside its transaction: compiled once (tracker.queries.rows).
_LOCKED = Statement(
    lambda pk: (
        FollowUp.objects.select_for_update(of=("self", "session", "session__patient"))
        .select_related("session__patient__clinic")
        .filter(pk=pk)
    )
)
# The report stored and its check-in marked answered: written once (tracker.queries.writes).
_INSERT_REPORT = Insert(SymptomReport)
_MARK_ANSWERED = Update(FollowUp, ["answered_at"])


def submit_report(*, follow_up, idempotency_key: UUID, answers: dict, now=None):
    """Store the patient's answers to ``follow_up``; return ``(report, created)``.

    ``answers`` holds ``soreness``, ``twitching``, ``bruising``,
    ``interference``, optionally ``bruise_growing``, ``bruise_elsewhere`` and
    ``note``, and the lists ``after_effects`` and ``red_flags`` (choice
    values). A resend with the same idempotency key returns the report
    already stored. The report's alerts are opened in the same transaction,
    and a report at 48 h that has not settled adds a 72 h follow-up.
    """
    now = now or clock.now()
    report = SymptomReport(
        follow_up=follow_up,
        idempotency_key=idempotency_key,
        soreness=answers["soreness"],
        twitching=answers["twitching"],
        bruising=answers["bruising"],
        bruise_growing=answers.get("bruise_growing", False),
        bruise_elsewhere=answers.get("bruise_elsewhere", False),
        interference=answers["interference"],
        local_reaction=answers.get("local_reaction"),
        pgic=answers.get("pgic"),
        note=answers.get("note", ""),
        submitted_at=now,
        **{value: value in answers.get("after_effects", ()) for value in AfterEffect.values},
        **{value: value in answers.get("red_flags", ()) for value in RedFlag.values},
    )
    # The fields' own checks, before the transaction: on SQLite every other
    # check-in waits for it. Not the follow-up (locked below), nor uniqueness
    # or constraints: the database enforces those on the insert, and a key
    # stored meanwhile lands in the except below.
    report.full_clean(exclude=["follow_up"], validate_unique=False, validate_constraints=False)
    try:
        with transaction.atomic():
            # Lock the follow-up so that two copies of the same submission
            # arriving at once are taken one after the other, and its session
            # and patient, so that marking the session entered in error or
            # erasing the patient waits for the report or comes first. Not the
            # clinic: every check-in of the clinic would wait for the one before.
            found = _LOCKED.models(pk=follow_up.pk)
            if not found:
                raise FollowUp.DoesNotExist(f"Follow-up {follow_up.pk} is gone")
            locked = found[0]
            if locked.answered_at is not None:
                # Answered already: by this very submission, sent again?
                existing = SymptomReport.objects.filter(idempotency_key=idempotency_key).first()
                if existing is not None:
                    return existing, False
            if not locked.is_answerable_at(now):
                raise FollowUpNotOpen(locked, locked.state_at(now))

            report.follow_up = locked
            _INSERT_REPORT.save(report)
            locked.answered_at = now
            _MARK_ANSWERED.run(locked.pk, answered_at=now)

            alerts.evaluate_report(report)
            planned = None
            if locked.time_point == TimePoint.H48:
                planned = scheduling.add_72h_follow_up_if_unsettled(
                    locked.session, soreness_48h=report.soreness
                )
            if planned is not None or not SessionOutcome.objects.count_report(report):
                # A check-in planned changes its row's check-ins too; or no row yet.
                SessionOutcome.objects.recount_session(locked.session, check_ins_only=True)
    except IntegrityError:
        # The same key stored already (for another of the session's check-ins,
        # or by a concurrent request).
        existing = SymptomReport.objects.filter(idempotency_key=idempotency_key).first()
        if existing is None:
            raise
        return existing, False
    return report, True


def report_warning_signs(*, follow_up, flags: list[str], now=None):
    """Tell the clinic now of warning signs (RedFlag values) sent with other
    answers missing: the patient may be calling for help rather than finishing
    the form. Opens the check-in's urgent warning-sign alert without a report,
    or finds the one a resend already opened; None if the check-in no longer
    takes answers (answered, its alerts raised by its report; or closed).

    Nothing of the answers is stored: the report, when the patient sends the
    rest, joins this alert (``alerts.evaluate_warning_signs``).
    """
    if not flags:
        raise ValueError("report_warning_signs needs at least one warning sign")
    now = now or clock.now()
    with transaction.atomic():
        # The same locks as submit_report: a report stored meanwhile is seen here.
        found = _LOCKED.models(pk=follow_up.pk)
        if not found or not found[0].is_answerable_at(now):
            return None
        return alerts.evaluate_warning_signs(found[0], flags)


class SessionClosed(Exception):
    """The session was marked "entered in error": its link takes nothing more."""


def report_warning(*, session, idempotency_key: UUID, flags: list[str], now=None):
    """Store warning signs (RedFlag values) the patient reported with no check-in
    open, and open their urgent alert; return ``(warning_report, created)``.

    A resend (the page's idempotency key, the same signs) returns the report
    already stored and opens nothing. Other signs sent from the same page
    (a copy kept on the phone, a page gone back to) are a new report: the
    stored key is made from the page's and the signs. The clinic is told
    when the transaction commits.
    """
    if not flags:
        raise ValueError("report_warning needs at least one warning sign")
    now = now or clock.now()
    signs = [value for value in RedFlag.values if value in flags]
    idempotency_key = uuid5(idempotency_key, " ".join(signs))
    try:
        with transaction.atomic():
            # As submit_report: marking the session entered in error, or
            # erasing the patient, waits for this or comes first.
            locked = (
                NeedlingSession.objects.select_for_update(of=("self", "patient"))
                .select_related("patient")
                .filter(pk=session.pk)
                .first()
            )
            if locked is None:
                raise NeedlingSession.DoesNotExist(f"Session {session.pk} is gone")
            existing = WarningReport.objects.filter(idempotency_key=idempotency_key).first()
            if existing is not None:
                return existing, False
            if locked.entered_in_error_at is not None:
                raise SessionClosed(f"Session {session.pk} was entered in error")
            warning = WarningReport.objects.create(
                session=locked,
                idempotency_key=idempotency_key,
                reported_at=now,
                **{value: value in signs for value in RedFlag.values},
            )
            alerts.evaluate_warning_report(warning, session=locked)
            SessionOutcome.objects.recount_session(locked, check_ins_only=True)
    except IntegrityError:
        # Stored meanwhile by a concurrent copy of the same request.
        existing = WarningReport.objects.filter(idempotency_key=idempotency_key).first()
        if existing is None:
            raise
        return existing, False
    return warning, True

"""Opening alerts for an event: a report saved, or a check-in whose window closed unanswered.

Each event opens its own alerts: the constraint is one alert per check-in
and rule, so a warning sign at 24 h opens an alert (and notifies the
clinic) even when the session's 0 h warning sign was acknowledged. A
resend of the same report opens nothing new: the report is stored once.
"""

from django.db import IntegrityError, transaction

from tracker import clock
from tracker.alerts.notify import notify_urgent
from tracker.alerts.rules import RULES, Facts
from tracker.models import Alert, Severity, SymptomReport
from tracker.queries.rows import Statement


# The session's soreness by check-in, read on every report: compiled once
# (tracker.queries.rows).
_SORENESS = Statement(
    lambda session: SymptomReport.objects.filter(follow_up__session=session).values_list(
        "follow_up__time_point", "soreness"
    )
)


def _facts(session, **event) -> Facts:
    soreness = dict(_SORENESS.rows(session=session.pk))
    return Facts(
        session=session,
        clinic=session.patient.clinic,
        soreness=soreness,
        lung_risk=session.lung_risk,
        anticoagulants=session.anticoagulants,
        **event,
    )


def evaluate_report(report) -> list[Alert]:
    """Open the alerts a newly saved report calls for; returns the new ones."""
    session = report.follow_up.session
    return _open_alerts(_facts(session, report=report), follow_up=report.follow_up, report=report)


def evaluate_missed(follow_up) -> list[Alert]:
    """Open the alerts of a check-in whose window closed unanswered."""
    return _open_alerts(_facts(follow_up.session, missed_follow_up=follow_up), follow_up=follow_up)


def _open_alerts(facts: Facts, *, follow_up, report=None) -> list[Alert]:
    opened = []
    now = clock.now()
    for rule in RULES:
        if rule.optional and not facts.clinic.uses_rule(rule.code):
            continue
        found = rule.check(facts)
        if found is None:
            continue
        alert = Alert(
            session=facts.session,
            clinic_id=facts.session.clinic_id,
            follow_up=follow_up,
            report=report,
            rule=rule.code,
            severity=rule.severity_for(facts),
            facts=found,
            opened_at=now,
        )
        try:
            # A savepoint: an alert this event already opened (a job run twice)
            # leaves the caller's transaction usable.
            with transaction.atomic():
                alert.save()
        except IntegrityError:
            continue
        opened.append(alert)
        if alert.severity == Severity.URGENT:
            transaction.on_commit(lambda alert=alert: notify_urgent(alert))
    return opened

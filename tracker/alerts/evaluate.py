"""Opening alerts for an event: a report saved, or a check-in whose window closed unanswered."""

from django.db import transaction

from tracker import clock
from tracker.alerts.notify import notify_urgent
from tracker.alerts.rules import RULES, Facts
from tracker.models import Alert, Severity, SymptomReport


def _facts(session, **event) -> Facts:
    soreness = dict(
        SymptomReport.objects.filter(follow_up__session=session).values_list(
            "follow_up__time_point", "soreness"
        )
    )
    return Facts(
        session=session,
        clinic=session.patient.clinic,
        soreness=soreness,
        lung_risk=session.lung_risk,
        **event,
    )


def evaluate_report(report) -> list[Alert]:
    """Open the alerts a newly saved report calls for; returns the new ones."""
    session = report.follow_up.session
    return _open_alerts(_facts(session, report=report), report=report)


def evaluate_missed(follow_up) -> list[Alert]:
    return _open_alerts(_facts(follow_up.session, missed_follow_up=follow_up))


def _open_alerts(facts: Facts, report=None) -> list[Alert]:
    opened = []
    for rule in RULES:
        detail = rule.check(facts)
        if detail is None:
            continue
        alert, created = Alert.objects.get_or_create(
            session=facts.session,
            rule=rule.code,
            defaults={
                "clinic_id": facts.session.clinic_id,
                "severity": rule.severity,
                "detail": detail[:300],
                "report": report,
                "opened_at": clock.now(),
            },
        )
        if created:
            opened.append(alert)
            if alert.severity == Severity.URGENT:
                transaction.on_commit(lambda alert=alert: notify_urgent(alert))
    return opened

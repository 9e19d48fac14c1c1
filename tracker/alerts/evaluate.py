"""Opening alerts for an event: a report saved, a check-in whose window closed
unanswered, or warning signs reported with no check-in open.

Each event opens its own alerts: the constraint is one alert per check-in
and rule, so a warning sign at 24 h opens an alert (and notifies the
clinic) even when the session's 0 h warning sign was acknowledged. A
resend of the same report opens nothing new: the report is stored once.
"""

from collections.abc import Mapping
from datetime import timedelta
from functools import cached_property

from django.db import transaction

from tracker import clock
from tracker.alerts.notify import notify_urgent
from tracker.alerts.rules import RULES, Facts, warning_facts
from tracker.models import Alert, AlertRule, Severity, SymptomReport
from tracker.queries.rows import Statement
from tracker.queries.writes import Insert

# The session's soreness by check-in: compiled once (tracker.queries.rows).
_SORENESS = Statement(
    lambda session: SymptomReport.objects.filter(follow_up__session=session).values_list(
        "follow_up__time_point", "soreness"
    )
)


# An event's alert, unless the check-in has one for the rule already (a job run
# twice, a report completing its warning signs): written once, one statement.
_INSERT_ALERT = Insert(Alert, unless_exists=("follow_up", "rule"))


class _Soreness(Mapping):
    """A session's soreness by check-in, read when a rule first looks: only the
    rules of a 48 or 72 h report do, so a check-in at 0 or 24 h reads none."""

    def __init__(self, session_pk):
        self.session_pk = session_pk

    @cached_property
    def _read(self) -> dict[int, int]:
        return dict(_SORENESS.rows(session=self.session_pk))

    def __getitem__(self, time_point):
        return self._read[time_point]

    def __iter__(self):
        return iter(self._read)

    def __len__(self):
        return len(self._read)


def _facts(session, **event) -> Facts:
    return Facts(
        session=session,
        clinic=session.patient.clinic,
        soreness=_Soreness(session.pk),
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


# The one rule a clinic cannot switch off.
(_WARNING_SIGNS,) = [rule for rule in RULES if rule.code == AlertRule.RED_FLAG]


def evaluate_warning_signs(follow_up, flags: list[str]) -> Alert:
    """The check-in's warning-sign alert for ``flags`` (RedFlag values), sent
    before the rest of its answers: opened now, without a report, or the one
    already open. The report that completes the check-in later joins it
    (``_open_alerts``) rather than opening another."""
    unsaved = SymptomReport(follow_up=follow_up, **dict.fromkeys(flags, True))
    facts = _facts(follow_up.session, report=unsaved)
    opened = _open_alerts(facts, follow_up=follow_up, rules=[_WARNING_SIGNS])
    if opened:
        return opened[0]
    return Alert.objects.get(follow_up=follow_up, rule=_WARNING_SIGNS.code)


def evaluate_warning_report(warning, *, session) -> Alert:
    """Open the urgent alert of warning signs reported with no check-in open
    (``WarningReport``), and have the clinic told once the transaction commits."""
    hours = (warning.reported_at - session.performed_at) // timedelta(hours=1)
    alert = Alert.objects.create(
        session=session,
        clinic_id=session.clinic_id,
        warning_report=warning,
        rule=_WARNING_SIGNS.code,
        severity=Severity.URGENT,
        facts=warning_facts(
            warning.flags, lung_risk=session.lung_risk, hours=max(hours, 0), between_check_ins=True
        ),
        opened_at=warning.reported_at,
    )
    transaction.on_commit(lambda: notify_urgent(alert))
    return alert


def _open_alerts(facts: Facts, *, follow_up, report=None, rules=RULES) -> list[Alert]:
    opened = []
    now = clock.now()
    for rule in rules:
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
        if not _INSERT_ALERT.save(alert):
            if report is not None:
                # Warning signs sent before the rest of the answers opened
                # this alert without a report: the report completes it.
                Alert.objects.filter(follow_up=follow_up, rule=rule.code, report=None).update(
                    report=report, facts=found
                )
            continue
        opened.append(alert)
        if alert.severity == Severity.URGENT:
            transaction.on_commit(lambda alert=alert: notify_urgent(alert))
    return opened

"""Alert rules: what in a patient's reports needs a therapist's eyes.

Each rule is a small function of the event's facts. When it fires it
returns what it saw as plain data (numbers and codes, stored as the alert's
``facts``), or None. The words are made when the alert is read
(``tracker.alerts.describe``), in the reader's language.

Rules run when a report is saved and when a check-in is marked missed; each
event opens its own alerts (a database constraint allows one per check-in and
rule). Thresholds are clinic settings, because the literature gives no
cut-offs (docs/clinical.md, section 5); a clinic may switch any attention
rule off, never the warning signs.
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from tracker.choices import BruiseBand, Interference, RedFlag, TimePoint
from tracker.models import AlertRule, Severity, SymptomReport

# About the smallest change in soreness a patient feels (docs/clinical.md, section 5).
MEANINGFUL_RISE = 2
LARGE_BRUISES = frozenset({BruiseBand.FROM_5_TO_10, BruiseBand.OVER_10})
BREATHING_FLAGS = frozenset({RedFlag.BREATHING, RedFlag.COUGH})
# Signs that need the emergency number now; infection alone needs a doctor today.
EMERGENCY_FLAGS = frozenset(RedFlag.values) - {RedFlag.INFECTION}


@dataclass(frozen=True)
class Facts:
    """What the rules look at: one session, its reports so far, and the event."""

    session: object
    clinic: object
    soreness: Mapping[int, int]  # time point -> soreness reported
    report: SymptomReport | None = None
    missed_follow_up: object | None = None
    lung_risk: bool = False
    anticoagulants: bool = False


def guidance_for(flags) -> str:
    """Which guidance a patient with these warning signs is shown: "emergency"
    (call the emergency number now) or "doctor" (see a doctor or call the clinic today)."""
    return "emergency" if set(flags) & EMERGENCY_FLAGS else "doctor"


def red_flag(facts: Facts) -> dict | None:
    report = facts.report
    if report is None or not report.has_red_flag:
        return None
    flags = [value for value in RedFlag.values if getattr(report, value)]
    return warning_facts(flags, lung_risk=facts.lung_risk, hours=report.follow_up.time_point)


def warning_facts(flags, *, lung_risk: bool, hours: int, between_check_ins=False) -> dict:
    """A warning-sign alert's facts: the signs (RedFlag values), whether they
    are breathing signs after needling near the chest, the guidance the
    patient was shown, and when (hours after the session)."""
    facts = {
        "flags": list(flags),
        "lung_risk": lung_risk and bool(set(flags) & BREATHING_FLAGS),
        "guidance": guidance_for(flags),
        "hours": hours,
    }
    if between_check_ins:
        facts["between_check_ins"] = True
    return facts


# The soreness rules look at the report's check-in before its soreness: a
# session's soreness is read only when one of them applies (evaluate._Soreness).


def soreness_rising(facts: Facts) -> dict | None:
    if facts.report is None or facts.report.follow_up.time_point != TimePoint.H48:
        return None
    at24, at48 = facts.soreness.get(TimePoint.H24), facts.soreness.get(TimePoint.H48)
    # A rise that ends settled (0 to 2, say) is no news: only a felt rise to
    # soreness that has not settled is.
    if (
        at24 is not None
        and at48 is not None
        and at48 - at24 >= MEANINGFUL_RISE
        and not facts.clinic.is_settled(at48)
    ):
        return {"at24": at24, "at48": at48}
    return None


def soreness_high_48h(facts: Facts) -> dict | None:
    if facts.report is None or facts.report.follow_up.time_point != TimePoint.H48:
        return None
    at48 = facts.soreness.get(TimePoint.H48)
    if at48 is not None and at48 >= facts.clinic.soreness_threshold:
        return {"at48": at48, "threshold": facts.clinic.soreness_threshold}
    return None


def soreness_at_72h(facts: Facts) -> dict | None:
    if facts.report is None or facts.report.follow_up.time_point != TimePoint.H72:
        return None
    at72 = facts.soreness.get(TimePoint.H72)
    if at72 is not None and at72 >= facts.clinic.soreness_72h_threshold:
        return {"at72": at72, "threshold": facts.clinic.soreness_72h_threshold}
    return None


def aggravation(facts: Facts) -> dict | None:
    report = facts.report
    if report is not None and report.aggravation and report.follow_up.time_point >= TimePoint.H48:
        return {"hours": report.follow_up.time_point}
    return None


def bruise(facts: Facts) -> dict | None:
    report = facts.report
    if report is None:
        return None
    large = report.bruising in LARGE_BRUISES
    if not (large or report.bruise_growing or report.bruise_elsewhere):
        return None
    return {
        "band": report.bruising if large else "",
        "growing": report.bruise_growing,
        "elsewhere": report.bruise_elsewhere,
        "anticoagulants": facts.anticoagulants,
    }


def bruise_severity(facts: Facts) -> str:
    """Urgent for a patient on blood thinners whose bruise grows or who bleeds."""
    report = facts.report
    if facts.anticoagulants and report is not None and (report.bruise_growing or report.bleeding):
        return Severity.URGENT
    return Severity.ATTENTION


def interference(facts: Facts) -> dict | None:
    report = facts.report
    if report is not None and report.interference in {
        Interference.QUITE_A_BIT,
        Interference.VERY_MUCH,
    }:
        return {"level": report.interference}
    return None


def missed(facts: Facts) -> dict | None:
    follow_up = facts.missed_follow_up
    # A check-in never asked (the session was recorded after its window
    # closed) was not missed: the patient had no link to answer it with.
    if follow_up is None or not follow_up.asked:
        return None
    return {"hours": follow_up.time_point}


@dataclass(frozen=True)
class Rule:
    code: str
    severity: str | Callable[[Facts], str]
    check: Callable[[Facts], dict | None] = field(repr=False)
    # Warning signs cannot be switched off by a clinic.
    optional: bool = True

    def severity_for(self, facts: Facts) -> str:
        return self.severity(facts) if callable(self.severity) else self.severity


RULES = [
    Rule(AlertRule.RED_FLAG, Severity.URGENT, red_flag, optional=False),
    Rule(AlertRule.SORENESS_RISING, Severity.ATTENTION, soreness_rising),
    Rule(AlertRule.SORENESS_HIGH_48H, Severity.ATTENTION, soreness_high_48h),
    Rule(AlertRule.SORENESS_AT_72H, Severity.ATTENTION, soreness_at_72h),
    Rule(AlertRule.AGGRAVATION, Severity.ATTENTION, aggravation),
    Rule(AlertRule.BRUISE, bruise_severity, bruise),
    Rule(AlertRule.INTERFERENCE, Severity.ATTENTION, interference),
    Rule(AlertRule.MISSED, Severity.ATTENTION, missed),
]

# The rules a clinic may switch off, for its settings form.
OPTIONAL_RULES = tuple(rule.code for rule in RULES if rule.optional)

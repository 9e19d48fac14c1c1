"""Alert rules: what in a patient's reports needs a therapist's eyes.

Each rule is a small function of the session's facts that returns a short
reason when it fires, or None. Rules are evaluated when a report is saved
and when a follow-up is marked missed; an alert is opened at most once per
session and rule (a database constraint). Thresholds come from the clinic,
because the literature gives no cut-offs (docs/clinical.md, section 5).
"""

import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from django.utils.translation import gettext as _

from tracker.choices import BruiseBand, Interference, TimePoint
from tracker.models import AlertRule, Severity, SymptomReport

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Facts:
    """What the rules look at: one session, its reports so far, and the event."""

    session: object
    clinic: object
    soreness: dict[int, int]  # time point -> soreness reported
    report: SymptomReport | None = None
    missed_follow_up: object | None = None
    lung_risk: bool = False


def red_flag(facts: Facts) -> str | None:
    report = facts.report
    if report is None or not report.has_red_flag:
        return None
    flags = "; ".join(str(label) for label in report.red_flags)
    if facts.lung_risk:
        return _("Needled near the chest or lung risk: %(flags)s") % {"flags": flags}
    return flags


def soreness_rising(facts: Facts) -> str | None:
    at24, at48 = facts.soreness.get(TimePoint.H24), facts.soreness.get(TimePoint.H48)
    if at24 is not None and at48 is not None and at48 > at24:
        return _("%(a)s/10 at 24 h, %(b)s/10 at 48 h") % {"a": at24, "b": at48}
    return None


def soreness_high_48h(facts: Facts) -> str | None:
    at48 = facts.soreness.get(TimePoint.H48)
    if at48 is not None and at48 >= facts.clinic.soreness_threshold:
        return _("%(s)s/10 at 48 h (clinic threshold %(t)s)") % {
            "s": at48, "t": facts.clinic.soreness_threshold,
        }
    return None


def soreness_at_72h(facts: Facts) -> str | None:
    at72 = facts.soreness.get(TimePoint.H72)
    if at72 is not None and at72 > 0:
        return _("%(s)s/10 at 72 h") % {"s": at72}
    return None


def aggravation(facts: Facts) -> str | None:
    report = facts.report
    if report is not None and report.aggravation and report.follow_up.time_point >= TimePoint.H48:
        return _("Original complaint worse at %(h)s h") % {"h": report.follow_up.time_point}
    return None


LARGE_BRUISES = {BruiseBand.FROM_5_TO_10, BruiseBand.OVER_10}


def bruise(facts: Facts) -> str | None:
    report = facts.report
    if report is None:
        return None
    reasons = []
    if report.bruising in LARGE_BRUISES:
        reasons.append(str(report.get_bruising_display()))
    if report.bruise_growing:
        reasons.append(_("growing"))
    if report.bruise_elsewhere:
        reasons.append(_("away from the needled places"))
    return ", ".join(reasons) or None


def interference(facts: Facts) -> str | None:
    report = facts.report
    if report is not None and report.interference in {
        Interference.QUITE_A_BIT, Interference.VERY_MUCH
    }:
        return str(report.get_interference_display())
    return None


def missed(facts: Facts) -> str | None:
    follow_up = facts.missed_follow_up
    if follow_up is None:
        return None
    return _("%(name)s not answered") % {"name": str(follow_up.check_in_name).capitalize()}


@dataclass(frozen=True)
class Rule:
    code: str
    severity: str
    check: Callable[[Facts], str | None] = field(repr=False)


RULES = [
    Rule(AlertRule.RED_FLAG, Severity.URGENT, red_flag),
    Rule(AlertRule.SORENESS_RISING, Severity.ATTENTION, soreness_rising),
    Rule(AlertRule.SORENESS_HIGH_48H, Severity.ATTENTION, soreness_high_48h),
    Rule(AlertRule.SORENESS_AT_72H, Severity.ATTENTION, soreness_at_72h),
    Rule(AlertRule.AGGRAVATION, Severity.ATTENTION, aggravation),
    Rule(AlertRule.BRUISE, Severity.ATTENTION, bruise),
    Rule(AlertRule.INTERFERENCE, Severity.ATTENTION, interference),
    Rule(AlertRule.MISSED, Severity.ATTENTION, missed),
]


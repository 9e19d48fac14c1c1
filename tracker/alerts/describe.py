"""An alert's facts in words, in the language of whoever reads them.

Alerts store numbers and codes (``Alert.facts``); this turns them into the
short line staff read on Today, in the inbox, on the patient and session
pages and in CSVs. Called while the reader's language is active, never the
patient's.
"""

from django.utils.translation import gettext as _

from tracker.choices import CHECK_IN_NAMES, BruiseBand, Interference, RedFlag
from tracker.models import Alert, AlertRule


def _label(choices, value) -> str:
    try:
        return str(choices(value).label)
    except ValueError:
        return str(value)


def describe(alert: Alert) -> str:
    facts = alert.facts or {}
    if "text" in facts:  # written before alerts kept their facts as data
        return facts["text"]
    describe_rule = _DESCRIBERS.get(alert.rule)
    return describe_rule(facts) if describe_rule else ""


def _red_flag(facts) -> str:
    flags = "; ".join(_label(RedFlag, flag) for flag in facts.get("flags", ()))
    if facts.get("lung_risk"):
        flags = _("Needled near the chest or lung risk: %(flags)s") % {"flags": flags}
    if facts.get("guidance") == "doctor":
        shown = _("told to see a doctor or call the clinic today")
    else:
        shown = _("told to call the emergency number now")
    text = f"{flags} ({shown})"
    if facts.get("between_check_ins"):
        text = _("Sent between check-ins, %(hours)s h after the session: %(text)s") % {
            "hours": facts["hours"],
            "text": text,
        }
    return text


def _rising(facts) -> str:
    return _("%(a)s/10 at 24 h, %(b)s/10 at 48 h") % {"a": facts["at24"], "b": facts["at48"]}


def _high_48h(facts) -> str:
    return _("%(s)s/10 at 48 h (clinic threshold %(t)s)") % {
        "s": facts["at48"],
        "t": facts["threshold"],
    }


def _at_72h(facts) -> str:
    return _("%(s)s/10 at 72 h (clinic threshold %(t)s)") % {
        "s": facts["at72"],
        "t": facts["threshold"],
    }


def _aggravation(facts) -> str:
    return _("Original complaint worse at %(h)s h") % {"h": facts["hours"]}


def _bruise(facts) -> str:
    parts = []
    if facts.get("band"):
        parts.append(_label(BruiseBand, facts["band"]))
    if facts.get("growing"):
        parts.append(_("growing"))
    if facts.get("elsewhere"):
        parts.append(_("away from the needled places"))
    text = ", ".join(parts)
    if facts.get("anticoagulants"):
        text = _("%(bruise)s; takes blood-thinning medicine") % {"bruise": text}
    return text


def _interference(facts) -> str:
    return _label(Interference, facts["level"])


def _missed(facts) -> str:
    name = CHECK_IN_NAMES.get(facts["hours"])
    return _("%(name)s not answered") % {"name": str(name or facts["hours"]).capitalize()}


_DESCRIBERS = {
    AlertRule.RED_FLAG: _red_flag,
    AlertRule.SORENESS_RISING: _rising,
    AlertRule.SORENESS_HIGH_48H: _high_48h,
    AlertRule.SORENESS_AT_72H: _at_72h,
    AlertRule.AGGRAVATION: _aggravation,
    AlertRule.BRUISE: _bruise,
    AlertRule.INTERFERENCE: _interference,
    AlertRule.MISSED: _missed,
}

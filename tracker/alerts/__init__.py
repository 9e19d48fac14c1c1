"""Alerts: the rules that open them (``rules``), opening them for an event
(``evaluate``) and telling the clinic (``notify``)."""

from tracker.alerts.evaluate import (
    evaluate_missed,
    evaluate_report,
    evaluate_warning_report,
    evaluate_warning_signs,
)
from tracker.alerts.notify import escalate, notify_urgent

__all__ = [
    "escalate",
    "evaluate_missed",
    "evaluate_report",
    "evaluate_warning_report",
    "evaluate_warning_signs",
    "notify_urgent",
]

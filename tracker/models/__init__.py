"""The tracker's models, one module per part of the flow (DESIGN.md)."""

from tracker.models.alerts import Alert, AlertRule, Severity
from tracker.models.audit import AuditAction, AuditActor, AuditEvent, AuditTrailIsAppendOnly
from tracker.models.clinics import Clinic, Membership
from tracker.models.followups import FollowUp, FollowUpState, SymptomReport
from tracker.models.links import AccessLink
from tracker.models.patients import Patient
from tracker.models.sessions import NeedledSite, NeedlingSession

__all__ = [
    "Alert",
    "AlertRule",
    "Severity",
    "AccessLink",
    "AuditAction",
    "AuditActor",
    "AuditEvent",
    "AuditTrailIsAppendOnly",
    "Clinic",
    "FollowUp",
    "FollowUpState",
    "Membership",
    "NeedledSite",
    "NeedlingSession",
    "Patient",
    "SymptomReport",
]

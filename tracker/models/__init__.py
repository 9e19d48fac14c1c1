"""The tracker's models, one module per part of the flow (docs/architecture.md)."""

from tracker.models.alerts import (
    ATTEMPT_OUTCOMES,
    Alert,
    AlertRule,
    AlertStep,
    ContactAttempt,
    Outcome,
    Severity,
)
from tracker.models.audit import AuditAction, AuditActor, AuditEvent, AuditTrailIsAppendOnly
from tracker.models.clinics import Clinic, Membership, StaffProfile
from tracker.models.followups import FollowUp, FollowUpState, SymptomReport, WarningReport
from tracker.models.jobs import JobRun
from tracker.models.links import AccessLink
from tracker.models.patients import Patient
from tracker.models.sessions import NeedledSite, NeedlingSession
from tracker.models.statistics import SessionOutcome, SorenessCounts

__all__ = [
    "ATTEMPT_OUTCOMES",
    "Alert",
    "AlertStep",
    "ContactAttempt",
    "Outcome",
    "StaffProfile",
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
    "JobRun",
    "Membership",
    "NeedledSite",
    "NeedlingSession",
    "Patient",
    "SessionOutcome",
    "SorenessCounts",
    "SymptomReport",
    "WarningReport",
]

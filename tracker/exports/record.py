"""One patient's whole record as plain data, for their right of access.

``patient_record`` is what the JSON download holds: the patient's details,
every session with its needled sites, check-ins and their answers, warning
signs sent between check-ins, alerts and links (never a link's token).
Times are ISO 8601 in UTC; soreness and pain scores are integers labelled
with LOINC 72514-3 (docs/clinical.md, "Measures and codes"). The caller
hands in a patient it got through a scoping function; everything here is
read through that patient's own relations.
"""

from datetime import datetime

from django.db.models import Prefetch

from tracker import clock
from tracker.choices import AfterEffect, RedFlag
from tracker.models import Alert, FollowUp, NeedlingSession

FORMAT = "needle-aftercare/patient-record"
VERSION = 1

# docs/clinical.md, "Measures and codes": the NRS exported as an integer, LOINC 72514-3.
PAIN_NRS = {
    "system": "http://loinc.org",
    "code": "72514-3",
    "display": "Pain severity - 0-10 verbal numeric rating [Score] - Reported",
}


def _time(moment: datetime | None) -> str | None:
    return clock.iso_utc(moment)


def _nrs(value: int) -> dict:
    return {"value": int(value), "code": PAIN_NRS["code"], "system": PAIN_NRS["system"]}


def patient_record(patient) -> dict:
    """Everything stored about ``patient``, as JSON-ready data.

    A query per kind of row whatever the size of the record: sessions with
    their therapists, sites, check-ins with their reports, alerts, their
    contact attempts, links, warning signs sent between check-ins.
    """
    sessions = (
        NeedlingSession.objects.filter(patient=patient)
        .select_related("therapist")
        .prefetch_related(
            "sites",
            Prefetch("follow_ups", queryset=FollowUp.objects.select_related("report")),
            Prefetch("alerts", queryset=Alert.objects.order_by("opened_at", "pk")),
            "alerts__attempts",
            "access_links",
            "warning_reports",
        )
        .order_by("performed_at", "pk")
    )
    now = clock.now()
    return {
        "format": FORMAT,
        "version": VERSION,
        "exported_at": _time(now),
        "codes": {"pain_nrs": PAIN_NRS},
        "patient": _patient(patient),
        "sessions": [_session(session, now) for session in sessions],
    }


def _patient(patient) -> dict:
    return {
        "id": patient.pk,
        "clinic": {"id": patient.clinic_id, "name": patient.clinic.name},
        "name": patient.display_name,
        "reference": patient.reference,
        "year_of_birth": patient.year_of_birth,
        "email": patient.email,
        "phone": patient.phone,
        "language": patient.language,
        "reminder_channel": patient.reminder_channel,
        "reminders_consent": patient.reminders_consent,
        "consent_changed_at": _time(patient.consent_changed_at),
        "created_at": _time(patient.created_at),
        "erased_at": _time(patient.erased_at),
    }


def _session(session, now) -> dict:
    therapist = session.therapist
    return {
        "id": session.pk,
        "performed_at": _time(session.performed_at),
        "therapist": {
            "id": therapist.pk,
            "name": therapist.get_full_name() or therapist.get_username(),
        },
        "pre_session_pain": _nrs(session.pre_pain),
        "chest_wall_area": session.chest_wall_area,
        "anticoagulants": session.anticoagulants,
        "lung_condition": session.lung_condition,
        "notes": session.notes,
        "created_at": _time(session.created_at),
        # Kept in the record, never deleted: a session recorded by mistake says so.
        "entered_in_error": (
            {
                "at": _time(session.entered_in_error_at),
                "by_id": session.entered_in_error_by_id,
                "reason": session.entered_in_error_reason,
            }
            if session.entered_in_error_at
            else None
        ),
        "sites": [
            {
                "id": site.pk,
                "muscle": site.muscle,
                "side": site.side,
                "insertions": site.insertions,
                "technique": site.technique,
                "twitch_responses": site.twitch_band,
                "notes": site.notes,
            }
            for site in session.sites.all()
        ],
        "follow_ups": [_follow_up(follow_up, now) for follow_up in session.follow_ups.all()],
        # Warning signs sent with no check-in open.
        "warning_reports": [
            {
                "id": warning.pk,
                "reported_at": _time(warning.reported_at),
                "red_flags": warning.flags,
            }
            for warning in session.warning_reports.all()
        ],
        "alerts": [
            {
                "id": alert.pk,
                "rule": alert.rule,
                "severity": alert.severity,
                "facts": alert.facts,
                "follow_up_id": alert.follow_up_id,
                "warning_report_id": alert.warning_report_id,
                "opened_at": _time(alert.opened_at),
                "report_id": alert.report_id,
                "acknowledged_at": _time(alert.acknowledged_at),
                "acknowledged_by_id": alert.acknowledged_by_id,
                "outcome": alert.outcome,
                "note": alert.note,
                "contact_attempts": [
                    {
                        "at": _time(attempt.at),
                        "by_id": attempt.by_id,
                        "outcome": attempt.outcome,
                        "note": attempt.note,
                    }
                    for attempt in alert.attempts.all()
                ],
            }
            for alert in session.alerts.all()
        ],
        # When each link was made and until when it opened; the token is never exported.
        "links": [
            {
                "created_at": _time(link.created_at),
                "expires_at": _time(link.expires_at),
                "revoked_at": _time(link.revoked_at),
            }
            for link in session.access_links.all()
        ],
    }


def _follow_up(follow_up, now) -> dict:
    report = getattr(follow_up, "report", None)
    return {
        "id": follow_up.pk,
        "hours_after_session": follow_up.time_point,
        "due_at": _time(follow_up.due_at),
        "opens_at": _time(follow_up.opens_at),
        "closes_at": _time(follow_up.closes_at),
        "state": follow_up.state_at(now),
        "reminder_sent_at": _time(follow_up.reminder_sent_at),
        "answered_at": _time(follow_up.answered_at),
        "report": _report(report) if report is not None else None,
    }


def _report(report) -> dict:
    return {
        "id": report.pk,
        "submitted_at": _time(report.submitted_at),
        "soreness": _nrs(report.soreness),
        "twitching": report.twitching,
        "bruising": report.bruising,
        "bruise_growing": report.bruise_growing,
        "bruise_elsewhere": report.bruise_elsewhere,
        "interference": report.interference,
        "after_effects": [value for value in AfterEffect.values if getattr(report, value)],
        "red_flags": [value for value in RedFlag.values if getattr(report, value)],
        # None where the check-in did not ask it.
        "local_reaction": report.local_reaction,
        "pgic": report.pgic,
        "note": report.note,
    }

"""One patient's record as a FHIR R4 Bundle of type ``collection``.

The Bundle holds the check-in Questionnaire, the Patient, each Practitioner
who needled them, and for each session its Procedure, its pain-before
Observation, for each check-in answered a QuestionnaireResponse and a
soreness Observation, and an Observation for each report of warning signs
sent between check-ins. Entries are named ``urn:uuid:<id>`` and every
reference points at one of them; the Questionnaire, named by its canonical
URL, is there too, so the Bundle reads on its own.

Four queries whatever the number of sessions: the sessions with their
therapists, their sites, their check-ins with the reports, their warning reports.
"""

from django.db.models import Prefetch

from tracker import clock
from tracker.fhir import common, questionnaire, resources
from tracker.models import FollowUp, NeedlingSession


def _sessions(patient):
    return (
        NeedlingSession.objects.filter(patient=patient)
        .select_related("therapist")
        .prefetch_related(
            "sites",
            Prefetch(
                "follow_ups",
                queryset=FollowUp.objects.filter(report__isnull=False)
                .select_related("report")
                .order_by("time_point"),
            ),
            "warning_reports",
        )
        .order_by("performed_at", "pk")
    )


def patient_bundle(patient) -> dict:
    """The Bundle of everything stored about ``patient`` (got through a scoping function)."""
    sessions = [
        (
            session,
            list(session.sites.all()),
            [fu.report for fu in session.follow_ups.all()],
            list(session.warning_reports.all()),
        )
        for session in _sessions(patient)
    ]
    return assemble(patient, sessions, now=clock.now())


def assemble(patient, sessions, *, now) -> dict:
    """The Bundle of ``patient`` and ``sessions``: (session, its sites, its reports, its
    warning reports) each, the session's ``therapist`` loaded. Reads nothing from the
    database."""
    refs = common.Refs(bundle=True)
    answering = questionnaire.answering()
    entries = [
        {"fullUrl": questionnaire.canonical_url(), "resource": questionnaire.questionnaire()},
        _entry(resources.patient(patient, refs)),
    ]
    clinical, practitioners = [], {}
    for session, sites, reports, warnings in sessions:
        practitioners.setdefault(session.therapist_id, session.therapist)
        clinical.append(resources.procedure(session, sites, refs))
        clinical.append(resources.pain_before_observation(session, refs))
        for report in reports:
            clinical.append(
                resources.questionnaire_response(
                    report,
                    patient_id=patient.pk,
                    session_id=session.pk,
                    answering=answering,
                    refs=refs,
                )
            )
            clinical.append(
                resources.soreness_observation(
                    report_id=report.pk,
                    soreness=report.soreness,
                    submitted_at=report.submitted_at,
                    patient_id=patient.pk,
                    session_id=session.pk,
                    refs=refs,
                )
            )
        clinical += [
            resources.warning_observation(
                warning=warning, patient_id=patient.pk, session_id=session.pk, refs=refs
            )
            for warning in warnings
        ]
    entries += [_entry(resources.practitioner(user, refs)) for user in practitioners.values()]
    entries += [_entry(resource) for resource in clinical]
    return {
        "resourceType": "Bundle",
        "meta": {"lastUpdated": clock.iso_utc(now)},
        "type": "collection",
        "timestamp": clock.iso_utc(now),
        "entry": entries,
    }


def _entry(resource) -> dict:
    # Inside the Bundle every resource is named urn:uuid:<its id> (see common.Refs).
    return {"fullUrl": f"urn:uuid:{resource['id']}", "resource": resource}

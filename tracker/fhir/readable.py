"""The record a patient can read: what the printable record page shows.

The answers are put in words through the same walk of the check-in form as
the QuestionnaireResponses (``tracker.fhir.questionnaire``), so the page
and the FHIR export cannot disagree about what a patient answered, and a
question added to the form is printed too. Words come out in the language
active when they are made: the page makes them in the patient's.

Six queries whatever the number of sessions: sessions with their therapists,
their sites, check-ins with their reports, alerts with who acknowledged them,
and each alert's contact attempts with who made them.
"""

from dataclasses import dataclass

from django.db.models import Prefetch
from django.utils.translation import gettext as _

from tracker.fhir import questionnaire
from tracker.models import Alert, ContactAttempt, FollowUp, NeedlingSession


@dataclass
class CheckIn:
    follow_up: FollowUp
    answers: list  # (question, answer) in words


@dataclass
class SessionRecord:
    session: NeedlingSession
    sites: list
    check_ins: list  # CheckIn of each answered check-in, in time order
    alerts: list


def _words(question, values) -> str:
    labels = dict(question.options)
    if question.type == "boolean":
        return "; ".join(_("Yes") if value else _("No") for value in values)
    return "; ".join(str(labels.get(value, value)) for value in values)


def answers_in_words(report, questions) -> list[tuple[str, str]]:
    """``(question, answer)`` of each question ``report`` answered, in the active language."""
    rows = []
    for question in questions:
        values = questionnaire.stored_values(report, question)
        if values:
            rows.append((str(question.label), _words(question, values)))
    return rows


def patient_sessions(patient) -> list[SessionRecord]:
    """Every session of ``patient`` (got through a scoping function), oldest first."""
    sessions = (
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
            Prefetch(
                "alerts",
                queryset=Alert.objects.select_related("acknowledged_by").order_by(
                    "opened_at", "pk"
                ),
            ),
            Prefetch("alerts__attempts", queryset=ContactAttempt.objects.select_related("by")),
        )
        .order_by("performed_at", "pk")
    )
    questions = questionnaire.questions()
    return [
        SessionRecord(
            session=session,
            sites=list(session.sites.all()),
            check_ins=[
                CheckIn(follow_up, answers_in_words(follow_up.report, questions))
                for follow_up in session.follow_ups.all()
            ],
            alerts=list(session.alerts.all()),
        )
        for session in sessions
    ]

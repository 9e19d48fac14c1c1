"""The patient's follow-up link: issuing it, finding it from a token, replacing it.

Tokens are 256-bit, only their SHA-256 is stored (see ``tracker.security.tokens``)."""

from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.core import mail
from django.core.exceptions import ValidationError
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation
from django.utils.crypto import constant_time_compare
from django.utils.translation import gettext as _

from tracker import clock, site
from tracker.choices import ReminderChannel
from tracker.models import (
    AccessLink,
    AuditAction,
    AuditEvent,
    Clinic,
    FollowUp,
    NeedlingSession,
    Patient,
    SymptomReport,
)
from tracker.queries.rows import Statement
from tracker.security import audit, tokens


def issue_access_link(*, session) -> AccessLink:
    """A new link for the session's check-ins, valid until some days after it."""
    nonce = tokens.new_nonce()
    return AccessLink.objects.create(
        session=session,
        nonce=nonce,
        token_hash=tokens.hash_token(tokens.token_for(nonce)),
        created_at=clock.now(),
        expires_at=session.links_expire_at,
    )


# What a link's pages need, in the order of a row of _LINK_BY_HASH: the link
# with its session, patient and clinic, and the session's check-ins, each
# with its report if answered (a row each; one row of blanks if it has none).
# Each part as (its lookup from the link, its model, its columns' attnames).
_PARTS = [
    (prefix, model, [field.attname for field in model._meta.concrete_fields])
    for prefix, model in (
        ("", AccessLink),
        ("session__", NeedlingSession),
        ("session__patient__", Patient),
        ("session__patient__clinic__", Clinic),
        ("session__follow_ups__", FollowUp),
        ("session__follow_ups__report__", SymptomReport),
    )
]


def _columns() -> list[tuple]:
    """Each part's model, its attnames and its slice of a row."""
    columns, start = [], 0
    for _prefix, model, names in _PARTS:
        columns.append((model, names, slice(start, start + len(names))))
        start += len(names)
    return columns


_COLUMNS = _columns()

# Read on every visit of a patient's page: compiled once (tracker.queries.rows),
# one query, one round trip. The hash is unique.
_LINK_BY_HASH = Statement(
    lambda token_hash: (
        AccessLink.objects.filter(token_hash=token_hash)
        .order_by("session__follow_ups__time_point")
        .values_list(*(f"{prefix}{name}" for prefix, _model, names in _PARTS for name in names))
    )
)

# Stands in for a link's nonce when a token matches no link, so that an unknown
# token costs the same work as a known one (see lookup_access_link).
_NO_LINK_NONCE = "0" * 32


def lookup_access_link(token: str) -> AccessLink | None:
    """The link for ``token`` whether or not it still works, or None if unknown.

    The link comes with its session, patient and clinic, and the session
    with its check-ins in time order, each with its report if answered, as
    a list in ``session.follow_up_list`` (as ``Prefetch(to_attr=...)`` would
    put it): what every page of the link shows, read in one query.

    The row is found by the SHA-256 of the presented token, never by the token
    itself; the row's own token is then derived again from its nonce under the
    server key, and its hash compared with the presented one in constant time,
    so a row written into the database without the key opens nothing. An
    unknown token goes through the same steps with a stand-in nonce: both
    paths hash twice, derive one HMAC, run one query and one constant-time
    comparison, and a wrong token takes as long to refuse as a right one takes
    to find.
    """
    presented = tokens.hash_token(token)
    one, many = _LINK_BY_HASH.one_with_many(_COLUMNS[4][2].start, token_hash=presented)
    link = _link_from(one, many) if one is not None else None
    expected = tokens.hash_token(
        tokens.token_for(link.nonce if link is not None else _NO_LINK_NONCE)
    )
    matches = constant_time_compare(expected, presented)
    return link if link is not None and matches else None


def _link_from(one, many) -> AccessLink:
    """The models of ``_LINK_BY_HASH``'s rows, related as ``select_related`` relates them:
    ``one``, the columns of the link, session, patient and clinic; ``many``, the
    columns of each check-in and its report."""
    alias = AccessLink.objects.db
    start = _COLUMNS[4][2].start

    def made(row, part, start=0):
        model, names, columns = _COLUMNS[part]
        values = row[columns.start - start : columns.stop - start]
        return None if values[0] is None else model.from_db(alias, names, values)

    link, session, patient, clinic = (made(one, part) for part in range(4))
    patient.clinic = clinic
    session.patient = patient
    link.session = session
    session.follow_up_list = []
    for row in many:
        follow_up = made(row, 4, start)
        if follow_up is None:  # a session without check-ins
            continue
        follow_up.session = session
        report = made(row, 5, start)
        FollowUp._meta.get_field("report").set_cached_value(follow_up, report)
        if report is not None:
            report.follow_up = follow_up
        session.follow_up_list.append(follow_up)
    return link


@dataclass(frozen=True)
class LinkReplacement:
    """What ``replace_access_link`` did: the new link, and the links it revoked."""

    issued: AccessLink
    revoked: list[AccessLink]


@transaction.atomic
def replace_access_link(*, session, user, request_ip=None) -> LinkReplacement:
    """Revoke the session's working link and issue a new one (a lost or shared phone).

    Only a member of the patient's clinic may; not for an erased patient, nor
    once the session's check-in period is over (a new link would already be
    expired). The old token then opens the "this link has been replaced" page.
    Each revoked link and the new one are recorded in the audit trail.
    """
    now = clock.now()
    patient = session.patient
    if not patient.clinic.memberships.filter(user=user).exists():
        raise ValidationError(_("Only a member of the patient's clinic can replace the link."))
    if patient.is_erased:
        raise ValidationError(_("This patient's details were erased; no new link can be issued."))
    if session.links_expire_at <= now:
        raise ValidationError(_("This session's check-ins are over; a new link would not open."))
    # The session row is locked, so that two clicks at once run one after the
    # other: the second revokes the first's new link and one link stays usable.
    locked = NeedlingSession.objects.select_for_update().filter(pk=session.pk).first()
    if locked.entered_in_error_at is not None:
        raise ValidationError(_("This session was entered in error; its follow-up is closed."))
    revoked = list(AccessLink.objects.filter(session=session).usable_at(now))
    AccessLink.objects.filter(pk__in=[link.pk for link in revoked]).update(revoked_at=now)
    for link in revoked:
        link.revoked_at = now
    issued = issue_access_link(session=session)
    for old in revoked:
        audit.record_event(
            user=user, ip=request_ip, action=AuditAction.REVOKE_LINK, patient=patient, obj=old
        )
    audit.record_event(
        user=user, ip=request_ip, action=AuditAction.ISSUE_LINK, patient=patient, obj=issued
    )
    return LinkReplacement(issued=issued, revoked=revoked)


def find_access_link(token: str) -> AccessLink | None:
    """The usable link for ``token``, or None if it is unknown, expired or revoked."""
    link = lookup_access_link(token)
    return link if link is not None and link.is_usable_at(clock.now()) else None


class LinkSendLimitReached(ValidationError):
    """The session's link was sent as often as ``LINK_SENDS_PER_SESSION_PER_HOUR`` allows."""


def send_channels(patient) -> list[str]:
    """The channels the link may be sent by: consent recorded, and an address stored for it."""
    if patient.is_erased or not patient.reminders_consent:
        return []
    channels = []
    if patient.email:
        channels.append(ReminderChannel.EMAIL)
    if patient.phone:
        channels.append(ReminderChannel.SMS)
    return channels


def sends_left(session, *, now=None) -> int:
    """How many more times the session's link may be sent in the coming hour."""
    now = now or clock.now()
    sent = AuditEvent.objects.filter(
        action=AuditAction.SEND_LINK,
        object_type=NeedlingSession._meta.model_name,
        object_id=session.pk,
        at__gt=now - timedelta(hours=1),
    ).count()
    return max(settings.LINK_SENDS_PER_SESSION_PER_HOUR - sent, 0)


def link_message(*, clinic_name: str, url: str, language: str) -> dict:
    """The link's email subject and body and its text message, in ``language``.

    As little as a reminder carries: the clinic's name and the link; never the
    patient's name or anything about the session.
    """
    context = {"clinic_name": clinic_name, "check_in_url": url}
    with translation.override(language):
        subject = render_to_string("reminders/link_email_subject.txt", context)
        return {
            "subject": " ".join(subject.split()),
            "body": render_to_string("reminders/link_email_body.txt", context),
            "sms": " ".join(render_to_string("reminders/link_sms.txt", context).split()),
        }


@transaction.atomic
def send_access_link(*, session, user, channel, request_ip=None) -> None:
    """Send the session's working link to the patient now, by email or text message.

    Only to the address stored on the patient, and only with their consent to
    be contacted; at most ``LINK_SENDS_PER_SESSION_PER_HOUR`` times an hour
    per session. The sending is recorded in the audit trail (the channel, not
    the address); a message that cannot be sent raises and records nothing,
    so it does not count against the limit.
    """
    from tracker.reminders import sms  # the SMS backends; imported here, below the services

    now = clock.now()
    patient = session.patient
    if not patient.clinic.memberships.filter(user=user).exists():
        raise ValidationError(_("Only a member of the patient's clinic can send the link."))
    # One send at a time per session, so that two clicks cannot both pass the limit.
    NeedlingSession.objects.select_for_update().filter(pk=session.pk).first()
    link = session.access_links.usable_at(now).order_by("-created_at", "-pk").first()
    if link is None:
        raise ValidationError(_("This session has no working link to send."))
    if channel not in send_channels(patient):
        raise ValidationError(
            _(
                "The link can be sent only to a phone number or email address on the "
                "patient's record, and only if they agreed to be contacted."
            )
        )
    if sends_left(session, now=now) < 1:
        raise LinkSendLimitReached(
            _(
                "The link has been sent %(n)s times in the last hour, the most allowed. "
                "Give the patient the printed card, or try again later."
            )
            % {"n": settings.LINK_SENDS_PER_SESSION_PER_HOUR}
        )
    url = site.absolute_url(reverse("patient:check_in", args=[link.token]))
    message = link_message(clinic_name=patient.clinic.name, url=url, language=patient.language)
    if channel == ReminderChannel.SMS:
        sms.get_backend().send(to=patient.phone, body=message["sms"])
    else:
        mail.EmailMessage(
            subject=message["subject"],
            body=message["body"],
            to=[patient.email],
            headers={"Auto-Submitted": "auto-generated"},
        ).send()
    audit.record_event(
        user=user,
        ip=request_ip,
        action=AuditAction.SEND_LINK,
        patient=patient,
        obj=session,
        detail=str(channel),
    )

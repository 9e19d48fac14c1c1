"""The patient's follow-up link: issuing it, finding it from a token, replacing it.

Tokens are 256-bit, only their SHA-256 is stored (see ``tracker.security.tokens``)."""

from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.crypto import constant_time_compare
from django.utils.translation import gettext as _

from tracker import clock
from tracker.models import (
    AccessLink,
    AuditAction,
    NeedlingSession,
)
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


# Stands in for a link's nonce when a token matches no link, so that an unknown
# token costs the same work as a known one (see lookup_access_link).
_NO_LINK_NONCE = "0" * 32


def lookup_access_link(token: str) -> AccessLink | None:
    """The link for ``token`` whether or not it still works, or None if unknown.

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
    link = (
        AccessLink.objects.select_related("session__patient__clinic")
        .filter(token_hash=presented)
        .first()
    )
    expected = tokens.hash_token(
        tokens.token_for(link.nonce if link is not None else _NO_LINK_NONCE)
    )
    matches = constant_time_compare(expected, presented)
    return link if link is not None and matches else None


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

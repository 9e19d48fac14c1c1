"""Writing the audit trail: who read or changed which patient's data, when, from where.

Views call ``record(request, ...)`` after they have fetched a patient's data
through its scoping function (so a 404 records nothing). Changes are
recorded by the service that makes them (``tracker.services``), in the same
transaction, through ``record_event`` with the user and address, or, for
the patient's own changes through their link, ``actor=AuditActor.PATIENT``.
List pages (patients, dashboard, alert inbox) record nothing per row: a row
there names a patient but shows none of their record.

A page's chart images are part of that page's view: the page puts a signed
key in their address (``page_key``), and a chart asked for with a key the
page gave this user for this patient a moment ago records nothing more
(``shown_on_page``). A chart opened on its own is recorded like a page.
"""

import ipaddress

from django.conf import settings
from django.core import signing

from tracker import clock
from tracker.models import AuditActor, AuditEvent


def client_ip(request) -> str | None:
    """The address the request came from, as far as it can be trusted.

    ``X-Forwarded-For`` is written by whoever sends the request, so it is read
    only when ``TRUSTED_PROXY_COUNT`` says that many proxies of ours append to
    it; then the client is the entry that many places from the right (each
    proxy appends the address it was connected from). Anything unreadable is
    None rather than a guess.
    """
    address = request.META.get("REMOTE_ADDR", "")
    proxies = settings.TRUSTED_PROXY_COUNT
    if proxies:
        forwarded = [
            part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")
        ]
        forwarded = [part for part in forwarded if part]
        if len(forwarded) >= proxies:
            address = forwarded[-proxies]
    try:
        return str(ipaddress.ip_address(address))
    except ValueError:
        return None


# How long a page's key covers its images: they load at once; a page left open
# and then printed or zoomed may ask for them again a little later.
PAGE_KEY_SECONDS = 600
PAGE_KEY_SALT = "tracker.audit.page-images"


def page_key(request, patient) -> str:
    """The key a page that has recorded its view puts in its images' addresses.

    Signed, so it cannot be made up; it holds the user's and the patient's
    ids (both already in staff URLs) and the time, nothing else.
    """
    return signing.dumps([request.user.pk, patient.pk], salt=PAGE_KEY_SALT)


def shown_on_page(request, patient) -> bool:
    """Whether this image request comes from a page whose view was recorded (``page_key``)."""
    key = request.GET.get("v", "")
    if not key or len(key) > 200:
        return False
    try:
        user_id, patient_id = signing.loads(key, salt=PAGE_KEY_SALT, max_age=PAGE_KEY_SECONDS)
    except (signing.BadSignature, TypeError, ValueError):
        return False
    return user_id == request.user.pk and patient_id == patient.pk


def record(request, *, action, patient=None, obj=None, clinic=None, detail="") -> AuditEvent:
    """Record that ``request.user`` did ``action`` to ``patient``'s data (or ``obj``).

    ``detail`` defaults to the name of the page (its URL name), so a "view"
    says which page was seen. Pass ``clinic`` only when there is no patient.
    """
    match = getattr(request, "resolver_match", None)
    return record_event(
        user=request.user,
        ip=client_ip(request),
        action=action,
        patient=patient,
        obj=obj,
        clinic=clinic,
        detail=detail or (match.url_name if match else "") or "",
    )


def record_event(
    *, user, ip, action, patient=None, obj=None, clinic=None, detail="", actor=None, data=None
) -> AuditEvent:
    """Write one audit event, by a member of staff (``user``), the patient or the system.

    ``actor`` defaults to staff when ``user`` is signed in and to the system
    when it is None (or anonymous); the patient's own changes through their
    link pass ``actor=AuditActor.PATIENT`` and no user. One INSERT: the
    clinic comes from the patient's ``clinic_id``, never from a query.
    """
    if clinic is None and patient is None:
        raise ValueError("An audit event needs a patient or a clinic.")
    user = user if user is not None and user.is_authenticated else None
    if actor is None:
        actor = AuditActor.STAFF if user is not None else AuditActor.SYSTEM
    if (actor == AuditActor.STAFF) != (user is not None):
        raise ValueError("A member of staff acts as a user; the patient and the system do not.")
    return AuditEvent.objects.create(
        clinic_id=clinic.pk if clinic is not None else patient.clinic_id,
        actor=actor,
        user=user,
        action=action,
        patient=patient,
        object_type=obj._meta.model_name if obj is not None else "",
        object_id=obj.pk if obj is not None else None,
        at=clock.now(),
        ip=ip,
        detail=detail[:100],
        data=data or {},
    )

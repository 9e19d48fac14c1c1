"""Keys for markup kept rendered in the ``template_fragments`` cache.

Pages keep some of their markup rendered, in each process, with Django's
``{% cache None name language key %}``: the check-in's unanswered
questions, the analytics filters, the alert cards and each page of them,
Today's lists, the patient page's sessions. Each is kept under a digest of
everything it is drawn from, so nothing needs to be invalidated: when a
value changes, so does the key, the markup is drawn afresh, and what was
kept under the old key is never asked for again (the cache drops the
entries used least long ago when it is full). A kept fragment is therefore
never out of date.

What belongs to the request rather than to the data (a CSRF token, the
address to come back to) is never inside a kept fragment.
"""

import functools
import hashlib


def digest(values) -> str:
    """A short digest of ``values`` (their ``repr``: numbers, text, dates, lists)."""
    return hashlib.blake2b(repr(values).encode(), digest_size=16).hexdigest()


def columns(instance) -> tuple | None:
    """Every column of ``instance`` that was read from the database, in field order.

    Deferred columns (``only()``) are left out, as the markup cannot show
    them without a query of its own, which the pages' query-count tests catch.
    """
    if instance is None:
        return None
    return tuple(map(instance.__dict__.get, _attnames(type(instance))))


@functools.cache
def _attnames(model) -> tuple[str, ...]:
    """The attribute names of ``model``'s columns, in field order."""
    return tuple(field.attname for field in model._meta.concrete_fields)


def name_of(user) -> tuple | None:
    """What markup shows of a member of staff: their names. Not the whole row, whose
    last sign-in changes each time they sign in."""
    if user is None:
        return None
    return (user.first_name, user.last_name, user.username)


def rows_digest(*instances, also=()) -> str:
    """A digest of every column read of each of ``instances`` (None allowed), and ``also``."""
    return digest(([columns(instance) for instance in instances], also))

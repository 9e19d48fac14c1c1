"""Keys for markup kept rendered in the ``template_fragments`` cache.

Pages keep some of their markup rendered, in each process, with Django's
``{% cache None name language key %}``: the check-in's unanswered
questions, the analytics filters, the alert cards and each page of them,
Today's lists; and the patient page's sessions with ``kept``, which keeps
many blocks as that tag keeps one and draws those not kept together. Each
is kept under a digest of
everything it is drawn from, so nothing needs to be invalidated: when a
value changes, so does the key, the markup is drawn afresh, and what was
kept under the old key is never asked for again (the cache drops the
entries used least long ago when it is full). A kept fragment is therefore
never out of date.

What belongs to the request rather than to the data (a CSRF token, the
address to come back to) is never inside a kept fragment.
"""

import hashlib

from django.core.cache import caches
from django.core.cache.utils import make_template_fragment_key
from django.utils.safestring import mark_safe


def digest(values) -> str:
    """A short digest of ``values`` (their ``repr``: numbers, text, dates, lists)."""
    return hashlib.blake2b(repr(values).encode(), digest_size=16).hexdigest()


def attnames(model) -> tuple[str, ...]:
    """The attribute names of ``model``'s columns, in field order."""
    return tuple(field.attname for field in model._meta.concrete_fields)


# What markup shows of a member of staff: their names. Not the whole row, whose
# last sign-in changes each time they sign in.
STAFF_NAMES = ("first_name", "last_name", "username")


def kept(name: str, keys: dict, draw, *, vary_on=()) -> list[str]:
    """Many blocks of markup, each kept as ``{% cache None name *vary_on key %}`` keeps one.

    ``keys`` maps each block (an id) to its key, in the page's order. The
    blocks not kept are drawn together, by ``draw(blocks)``, which returns
    their markup in the order asked: a page reads the models behind the
    blocks it has to draw, in one set of queries, and none for the others.
    """
    cache = caches["template_fragments"]
    cache_keys = {
        block: make_template_fragment_key(name, [*vary_on, key]) for block, key in keys.items()
    }
    found = cache.get_many(cache_keys.values())
    missing = [block for block, cache_key in cache_keys.items() if cache_key not in found]
    if missing:
        drawn = dict(zip((cache_keys[block] for block in missing), draw(missing), strict=True))
        cache.set_many(drawn, timeout=None)
        found |= drawn
    return [mark_safe(found[cache_key]) for cache_key in cache_keys.values()]

"""Drawn charts kept in the shared cache, keyed by what they draw.

The key holds a digest of the numbers drawn, so a new report makes a new
key and a cached chart is never stale."""

import hashlib

from django.core.cache import cache
from django.utils.translation import get_language

CHART_CACHE_SECONDS = 24 * 60 * 60


def cached_svg(name: str, data, render) -> bytes:
    """``render()``'s bytes, cached under ``name``, the language and a digest of ``data``."""
    digest = hashlib.sha256(repr(data).encode()).hexdigest()[:32]
    key = f"chart:{name}:{get_language()}:{digest}"
    svg = cache.get(key)
    if svg is None:
        svg = render()
        cache.set(key, svg, CHART_CACHE_SECONDS)
    return svg

"""Drawn charts kept in the shared cache, keyed by what they draw.

The key holds a digest of the numbers drawn, so a new report makes a new
key and a cached chart is never stale. Each process also keeps the charts it
served last (``KEPT_CHARTS``): a chart asked for again is then neither read
from the shared cache nor unpickled, and it is the same bytes object as
before, which ``svg_response`` finds its compressed copy by at no cost.
Nothing kept can be stale, since its key names what it draws.
"""

import hashlib
import threading
from collections import OrderedDict

from django.core.cache import cache
from django.utils.translation import get_language

CHART_CACHE_SECONDS = 24 * 60 * 60
# A patient's chart is 20–40 KB: at most a few MB per process.
KEPT_CHARTS = 128

_kept: OrderedDict[str, bytes] = OrderedDict()
_kept_lock = threading.Lock()


def cached_svg(name: str, data, render) -> bytes:
    """``render()``'s bytes, cached under ``name``, the language and a digest of ``data``."""
    digest = hashlib.sha256(repr(data).encode()).hexdigest()[:32]
    key = f"chart:{name}:{get_language()}:{digest}"
    with _kept_lock:
        svg = _kept.get(key)
        if svg is not None:
            _kept.move_to_end(key)
            return svg
    svg = cache.get(key)
    if svg is None:
        svg = render()
        cache.set(key, svg, CHART_CACHE_SECONDS)
    with _kept_lock:
        _kept[key] = svg
        if len(_kept) > KEPT_CHARTS:
            _kept.popitem(last=False)
    return svg


def forget_kept_charts() -> None:
    """Empty this process's charts (tests that count renders across a cleared cache)."""
    with _kept_lock:
        _kept.clear()

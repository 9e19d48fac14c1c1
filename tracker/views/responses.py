"""What several views share: a chart as a response or in a page, a safe place to go back to."""

import functools
import gzip
from urllib.parse import quote

from django.http import HttpResponse
from django.middleware.gzip import re_accepts_gzip
from django.utils.cache import patch_vary_headers
from django.utils.http import url_has_allowed_host_and_scheme

# Compressed charts kept in each process: a patient page's chart is asked for
# again on every visit and its bytes change only with its numbers. About 5 KB
# each compressed (and the SVG as the key), so at most a few MB per worker.
GZIPPED_CHARTS = 256


def svg_response(svg: bytes, request) -> HttpResponse:
    """A chart as its own document.

    matplotlib styles its SVG with a <style> element and style attributes.
    Pages show charts through <img>, where the page's policy does not reach
    inside the image; a chart opened on its own (a new tab, a download) is a
    document under its own policy, which therefore allows inline style. Never
    script: the policy's script-src stays 'self', and the SVG holds none.

    A browser that takes gzip gets the chart compressed once per process
    (``_gzipped``), not anew by GZipMiddleware on every request, which leaves a
    response that already has a Content-Encoding alone. A chart holds no
    token, nor any secret that a guess echoed in the same response could
    reveal letter by letter, so it needs none of the middleware's padding
    against BREACH.
    """
    if re_accepts_gzip.search(request.headers.get("accept-encoding", "")):
        response = HttpResponse(_gzipped(svg), content_type="image/svg+xml")
        response["Content-Encoding"] = "gzip"
    else:
        response = HttpResponse(svg, content_type="image/svg+xml")
    # Caches in between must keep the two apart.
    patch_vary_headers(response, ("Accept-Encoding",))
    response._csp_update = {"style-src": ["'unsafe-inline'"]}
    return response


@functools.lru_cache(maxsize=GZIPPED_CHARTS)
def _gzipped(svg: bytes) -> bytes:
    return gzip.compress(svg, mtime=0)


def svg_data_uri(svg: bytes) -> str:
    """A chart as a ``data:`` URI for an ``<img>`` inside the page: no request of its own.

    Percent-encoded rather than base64, so that the page's gzip still finds
    the SVG's repeats (about 2.2 KB compressed for the patient's small chart,
    against 3.9 KB in base64). As with a chart's own URL, the page's CSP does
    not reach inside an image; it must allow ``data:`` in img-src.
    """
    return "data:image/svg+xml," + quote(svg, safe=" /:=;,()*-._~@+?!$")


def safe_next(request, *, within: str = "/") -> str:
    """The ``next`` the request carries if it is a path on this site under ``within``, else "".

    Only a path, as the app's own forms send it: nothing a browser or a
    header could read as another place (``//host``, backslashes, control
    characters). ``redirect()`` is never given it, since it would read a path
    like "0" or "a:b" as a view name.
    """
    target = request.POST.get("next") or request.GET.get("next") or ""
    if (
        target.startswith(within)
        and target.isprintable()
        and "\\" not in target
        and url_has_allowed_host_and_scheme(
            target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
        )
    ):
        return target
    return ""

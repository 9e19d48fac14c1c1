"""What lets a patient's check-in open again without a network.

The service worker is served from ``/f/sw.js`` rather than from ``/static/``
because a worker only controls pages under the folder it is served from: here
``/f/``, the patient pages and nothing else. It must never be cached long (a
fixed worker could not be replaced), and its name must not be hashed.

The web app manifest is a view so that its icons get their deployed (hashed)
static URLs and its name can be translated. It names no ``start_url``: each
patient's link is its own URL with a secret token, so the start URL must be
the page it was added from, which is what browsers use when it is omitted
(and the scope then defaults to that link's folder).

Both answers carry an ETag (a digest of their bytes), so a phone that has
them asks again with ``If-None-Match`` and gets a bodiless 304 unless they
changed. GZipMiddleware compresses them when they do travel.
"""

import json
from pathlib import Path

from django.http import HttpResponse
from django.templatetags.static import static
from django.utils.cache import (
    get_conditional_response,
    patch_cache_control,
    patch_vary_headers,
    set_response_etag,
)
from django.utils.translation import gettext as _
from django.views.decorators.http import require_safe

SERVICE_WORKER = Path(__file__).resolve().parent.parent / "static" / "tracker" / "js" / "sw.js"

THEME_COLOUR = "#0b5ed7"  # the icon's blue
BACKGROUND_COLOUR = "#f8f9fa"  # Bootstrap's bg-body-tertiary, the patient pages' background

# The manifest changes only with a deploy (its icons' hashed names) or a
# translation, and only names the app and its icons for a home screen: a copy
# up to a day old is harmless (Chromium itself rechecks an installed app's
# manifest about once a day). Its old icons stay servable across deploys:
# collectstatic adds hashed files, it does not delete the previous ones.
MANIFEST_MAX_AGE = 24 * 60 * 60


def _unless_unchanged(request, response):
    """The response, or a bodiless 304 when the browser's copy has the same ETag.

    What ConditionalGetMiddleware does, for these two views only: the patient
    pages are never stored (``no-store``), so an ETag on them would be wasted.
    The 304 keeps the response's Cache-Control and Vary, as RFC 9110 asks;
    Accept-Encoding is named here because GZipMiddleware leaves a bodiless
    304 alone, and a cache that took the 304's Vary for its stored gzip copy
    could hand that copy to a client that cannot read it.
    """
    patch_vary_headers(response, ["Accept-Encoding"])
    set_response_etag(response)
    return get_conditional_response(request, etag=response["ETag"], response=response)


@require_safe
def service_worker(request):
    response = HttpResponse(SERVICE_WORKER.read_bytes(), content_type="application/javascript")
    # Browsers check for a new worker on each visit; they must not keep an old
    # one. "no-cache" lets them store it but makes them ask first: a 304 while
    # it is unchanged, the new file as soon as it is not.
    patch_cache_control(response, no_cache=True)
    return _unless_unchanged(request, response)


@require_safe
def manifest(request):
    data = {
        "name": _("Needle Aftercare check-in"),
        "short_name": _("Check-in"),
        "display": "standalone",
        "theme_color": THEME_COLOUR,
        "background_color": BACKGROUND_COLOUR,
        "icons": [
            {
                "src": static(f"tracker/img/icon-{size}.png"),
                "sizes": f"{size}x{size}",
                "type": "image/png",
                "purpose": "any",
            }
            for size in (192, 512)
        ],
    }
    response = HttpResponse(
        json.dumps(data, ensure_ascii=False), content_type="application/manifest+json"
    )
    patch_cache_control(response, max_age=MANIFEST_MAX_AGE)
    return _unless_unchanged(request, response)

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
"""

import json
from pathlib import Path

from django.http import HttpResponse
from django.templatetags.static import static
from django.utils.translation import gettext as _
from django.views.decorators.http import require_safe

SERVICE_WORKER = Path(__file__).resolve().parent.parent / "static" / "tracker" / "js" / "sw.js"

THEME_COLOUR = "#0b5ed7"  # the icon's blue
BACKGROUND_COLOUR = "#f8f9fa"  # Bootstrap's bg-body-tertiary, the patient pages' background


@require_safe
def service_worker(request):
    response = HttpResponse(SERVICE_WORKER.read_bytes(), content_type="application/javascript")
    # Browsers check for a new worker on each visit; they must not keep an old one.
    response["Cache-Control"] = "no-cache"
    return response


@require_safe
def manifest(request):
    data = {
        "name": _("Needle Aftercare check-in"),
        "short_name": _("Check-in"),
        "display": "standalone",
        "theme_color": THEME_COLOUR,
        "background_color": BACKGROUND_COLOUR,
        "icons": [
            {"src": static(f"tracker/img/icon-{size}.png"), "sizes": f"{size}x{size}",
             "type": "image/png", "purpose": "any"}
            for size in (192, 512)
        ],
    }
    response = HttpResponse(json.dumps(data, ensure_ascii=False),
                            content_type="application/manifest+json")
    response["Cache-Control"] = "no-cache"
    return response

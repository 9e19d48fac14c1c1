"""The app in FHIR R4: the check-in Questionnaire.

The Questionnaire is public: it holds the questions and nothing about anyone.
"""

import json

from django.http import HttpResponse
from django.utils.cache import patch_cache_control
from django.views.decorators.http import require_GET

from tracker.fhir import common, questionnaire


def _fhir_json(resource: dict) -> HttpResponse:
    body = json.dumps(resource, ensure_ascii=False, indent=2)
    return HttpResponse(body, content_type=f"{common.JSON_TYPE}; charset=utf-8")


@require_GET
def check_in_questionnaire(request):
    """The check-in as a Questionnaire, at its canonical URL."""
    response = _fhir_json(questionnaire.questionnaire())
    patch_cache_control(response, public=True, max_age=3600)
    return response

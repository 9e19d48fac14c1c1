"""The project's URLs plus the framework floor: the cheapest view Django can serve."""

from django.http import HttpResponse
from django.urls import path

from project.urls import urlpatterns as project_urlpatterns


def floor(request):
    """A short text through the whole middleware stack: no template, no query."""
    return HttpResponse("ok", content_type="text/plain")


urlpatterns = [path("bench/floor", floor, name="bench_floor"), *project_urlpatterns]

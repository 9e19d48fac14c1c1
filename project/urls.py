from django.contrib import admin
from django.urls import include, path

from tracker.views.health import healthz

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("accounts/", include("django.contrib.auth.urls")),
    path("admin/", admin.site.urls),
    path("f/", include("tracker.patient_urls")),
    path("", include("tracker.urls")),
]

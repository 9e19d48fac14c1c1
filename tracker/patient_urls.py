"""The patient's link pages: the token is the only thing in the URL."""

from django.urls import path

from tracker.views import offline, patient, reminders

app_name = "patient"

urlpatterns = [
    # Before the token patterns: a worker controls only pages under its own folder.
    path("sw.js", offline.service_worker, name="service_worker"),
    path("manifest.webmanifest", offline.manifest, name="manifest"),
    path("<str:token>/", patient.check_in, name="check_in"),
    path("<str:token>/done/<int:time_point>/", patient.done, name="done"),
    path("<str:token>/warning/", patient.warning, name="warning"),
    path("<str:token>/reminders/", reminders.stop_reminders, name="stop_reminders"),
    path("<str:token>/language/", patient.set_language, name="set_language"),
    path("<str:token>/soreness.svg", patient.soreness_chart, name="soreness_chart"),
]

"""The patient's link pages: the token is the only thing in the URL."""

from django.urls import path

from tracker.views import patient, reminders

app_name = "patient"

urlpatterns = [
    path("<str:token>/", patient.check_in, name="check_in"),
    path("<str:token>/done/<int:time_point>/", patient.done, name="done"),
    path("<str:token>/reminders/", reminders.stop_reminders, name="stop_reminders"),
    path("<str:token>/soreness.svg", patient.soreness_chart, name="soreness_chart"),
]

from django.urls import path

from tracker.views import staff

app_name = "tracker"

urlpatterns = [
    path("", staff.home, name="home"),
    path("patients/", staff.PatientListView.as_view(), name="patient_list"),
    path("patients/new/", staff.PatientCreateView.as_view(), name="patient_create"),
    path("patients/<int:pk>/", staff.PatientDetailView.as_view(), name="patient_detail"),
    path("patients/<int:pk>/sessions/new/", staff.record_session, name="session_create"),
    path("sessions/<int:pk>/", staff.session_detail, name="session_detail"),
    path("sessions/<int:pk>/soreness.svg", staff.session_chart, name="session_chart"),
]

from django.urls import path

from tracker.views import analytics, dashboard, staff

app_name = "tracker"

urlpatterns = [
    path("", dashboard.home, name="home"),
    path("alerts/", dashboard.alert_list, name="alert_list"),
    path("alerts/<int:pk>/acknowledge/", dashboard.acknowledge_alert, name="alert_acknowledge"),
    path("patients/", staff.PatientListView.as_view(), name="patient_list"),
    path("patients/new/", staff.PatientCreateView.as_view(), name="patient_create"),
    path("patients/<int:pk>/", staff.PatientDetailView.as_view(), name="patient_detail"),
    path("patients/<int:pk>/soreness.svg", staff.patient_chart, name="patient_chart"),
    path("patients/<int:pk>/summary/", staff.VisitSummaryView.as_view(), name="visit_summary"),
    path("patients/<int:pk>/sessions/new/", staff.record_session, name="session_create"),
    path("sessions/<int:pk>/", staff.session_detail, name="session_detail"),
    path("sessions/<int:pk>/soreness.svg", staff.session_chart, name="session_chart"),
    path("analytics/", analytics.analytics_home, name="analytics_home"),
    path("clinics/<int:clinic_id>/analytics/", analytics.analytics_page, name="analytics"),
    path(
        "clinics/<int:clinic_id>/analytics/<slug:chart>.svg",
        analytics.analytics_chart, name="analytics_chart",
    ),
    path(
        "clinics/<int:clinic_id>/analytics/<slug:chart>.csv",
        analytics.analytics_csv, name="analytics_csv",
    ),
]

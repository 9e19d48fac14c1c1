from django.urls import path

from tracker.views import account, analytics, audit_trail, dashboard, fhir, records, staff

app_name = "tracker"

urlpatterns = [
    path("", dashboard.home, name="home"),
    path("alerts/", dashboard.alert_list, name="alert_list"),
    path("alerts/<int:pk>/acknowledge/", dashboard.acknowledge_alert, name="alert_acknowledge"),
    path("alerts/acknowledge/", dashboard.acknowledge_alerts, name="alerts_acknowledge"),
    path("patients/", staff.PatientListView.as_view(), name="patient_list"),
    path("patients/new/", staff.PatientCreateView.as_view(), name="patient_create"),
    path("patients/<int:pk>/", staff.PatientDetailView.as_view(), name="patient_detail"),
    path("patients/<int:pk>/soreness.svg", staff.patient_chart, name="patient_chart"),
    path("patients/<int:pk>/summary/", staff.VisitSummaryView.as_view(), name="visit_summary"),
    path("patients/<int:pk>/sessions/new/", staff.record_session, name="session_create"),
    path("patients/<int:pk>/export.json", records.patient_export, name="patient_export"),
    path("patients/<int:pk>/fhir/", fhir.patient_fhir, name="patient_fhir"),
    path("patients/<int:pk>/record/", records.patient_record_page, name="patient_record"),
    path("patients/<int:pk>/erase/", records.patient_erase, name="patient_erase"),
    path("sessions/<int:pk>/", staff.session_detail, name="session_detail"),
    path("sessions/<int:pk>/soreness.svg", staff.session_chart, name="session_chart"),
    path("sessions/<int:pk>/link/replace/", staff.replace_link, name="link_replace"),
    path("sessions/<int:pk>/link/send/", staff.send_link, name="link_send"),
    path("sessions/<int:pk>/link/card/", staff.link_card, name="link_card"),
    path("account/", account.staff_settings, name="staff_settings"),
    path("account/two-step/", account.two_step, name="two_step"),
    path("account/two-step/verify/", account.two_step_verify, name="two_step_verify"),
    path("audit/", audit_trail.audit_list, name="audit_list"),
    path("audit.csv", audit_trail.audit_csv, name="audit_csv"),
    path("fhir/Questionnaire/check-in", fhir.check_in_questionnaire, name="fhir_questionnaire"),
    path(
        "clinics/<int:clinic_id>/fhir-export.zip",
        fhir.clinic_fhir_export,
        name="clinic_fhir_export",
    ),
    path("analytics/", analytics.analytics_home, name="analytics_home"),
    path("clinics/<int:clinic_id>/analytics/", analytics.analytics_page, name="analytics"),
    path(
        "clinics/<int:clinic_id>/analytics/<slug:chart>.svg",
        analytics.analytics_chart,
        name="analytics_chart",
    ),
    path(
        "clinics/<int:clinic_id>/analytics/<slug:chart>.csv",
        analytics.analytics_csv,
        name="analytics_csv",
    ),
]

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from tracker.forms.account import SignInForm
from tracker.views.account import PasswordResetView
from tracker.views.health import healthz, healthz_jobs

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("healthz/jobs", healthz_jobs, name="healthz_jobs"),
    # Before Django's own: the same page, with its mails limited (tracker/views/account.py).
    path("accounts/password_reset/", PasswordResetView.as_view(), name="password_reset"),
    path("accounts/login/", auth_views.LoginView.as_view(form_class=SignInForm), name="login"),
    path("accounts/", include("django.contrib.auth.urls")),
    path("admin/", admin.site.urls),
    path("f/", include("tracker.patient_urls")),
    path("", include("tracker.urls")),
]

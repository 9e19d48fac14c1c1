from django.apps import AppConfig


class TrackerConfig(AppConfig):
    name = "tracker"
    verbose_name = "Needle Aftercare"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        # Connects the sign-in receiver (session limits, second step) before any login.
        from tracker.security import signin  # noqa: F401

from django.db import models


class JobRun(models.Model):
    """When a scheduled job last finished a run: its heartbeat.

    One row per job, updated at the end of each run
    (``tracker.reminders.watchdog``).
    """

    name = models.CharField(max_length=40, primary_key=True)
    finished_at = models.DateTimeField()

    def __str__(self):
        return f"{self.name} at {self.finished_at:%Y-%m-%d %H:%M}"

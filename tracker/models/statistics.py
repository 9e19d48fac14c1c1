"""Counts kept for the charts, so that no page has to count a clinic's every report."""

from django.db import models


class SorenessCounts(models.Model):
    """A clinic's soreness answers counted by check-in and score: its typical course.

    ``counts`` maps a check-in's hours to soreness (0–10) to the number of
    answers, over every report of the clinic's sessions not entered in error:
    at most 5 × 11 numbers, and no patient data. The quartiles drawn behind
    each patient's chart are worked out from them when drawn
    (``tracker.analytics.soreness``), with the clinic's settings of that moment.

    Counted by ``manage.py count_typical_courses`` (hourly, from cron), and by
    the first chart that needs them when that has not run for an hour.
    """

    clinic = models.OneToOneField(
        "tracker.Clinic", on_delete=models.CASCADE, primary_key=True, related_name="+"
    )
    counts = models.JSONField()
    counted_at = models.DateTimeField()

    def __str__(self):
        return f"soreness counts of clinic {self.clinic_id} at {self.counted_at:%Y-%m-%d %H:%M}"

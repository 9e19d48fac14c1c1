"""Made-up data: the demo clinic, a clinic of known rates, a network at scale."""

from django.db import connection

# The tables a bulk load fills.
LOADED_TABLES = (
    "tracker_patient",
    "tracker_needlingsession",
    "tracker_needledsite",
    "tracker_followup",
    "tracker_symptomreport",
    "tracker_accesslink",
    "tracker_alert",
    "tracker_sessionoutcome",
)


def refresh_statistics() -> None:
    """Let PostgreSQL's planner see the rows a bulk load just wrote.

    Autovacuum analyses a table some time after it changes; until then the
    planner may still believe a table of 30,000 rows holds a dozen, and plan
    nested scans that take minutes. SQLite plans from its indexes alone.
    """
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {', '.join(LOADED_TABLES)}")

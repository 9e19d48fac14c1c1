"""The benchmark's work inside Django, one database per process.

``bench/run.py`` runs ``python -m bench.tasks <task>`` with DATABASE_URL
pointing at the database concerned; each task prints one JSON object.
Nothing here changes the app: it writes rows the way the app's own bulk
code does (``tracker.devdata.scale``, ``tracker.services.scheduling``) and reads pages through
Django's test client.

Tasks:
  shift SECONDS      move every stored time forward (a cached database made
                     earlier then looks as if it was made now)
  fixtures JSON      the staff user, the pages to measure, fresh check-ins
  queries JSON       queries per request of each page, measured in-process
  verify JSON        reports stored for the submitted idempotency keys
  profile JSON       cProfile and EXPLAIN QUERY PLAN of one page, to a file
  reminders-build N  N follow-ups due for a reminder now
  export-clinics     each clinic with reports, and how many (the FHIR export's runs)
  phone N            N sessions a day old, in-clinic check-in answered, 24-hour one open
  vacuum             PostgreSQL: VACUUM (ANALYZE) and CHECKPOINT before measuring
"""

import cProfile
import html
import io
import json
import os
import pstats
import re
import sys
import time
import uuid
from datetime import time as dt_time
from datetime import timedelta
from urllib.parse import urlencode

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")
django.setup()

from django.apps import apps  # noqa: E402
from django.contrib.auth import get_user_model  # noqa: E402
from django.contrib.auth.hashers import make_password  # noqa: E402
from django.core.cache import cache  # noqa: E402
from django.db import connection, models, transaction  # noqa: E402
from django.db.models import Count  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

from tracker import clock  # noqa: E402
from tracker.choices import (  # noqa: E402
    BruiseBand,
    Interference,
    ReminderChannel,
    Role,
    TimePoint,
    TwitchingFelt,
)
from tracker.forms.patient import FEELING_FINE, NONE_OF_THESE  # noqa: E402
from tracker.models import (  # noqa: E402
    AccessLink,
    Clinic,
    FollowUp,
    Membership,
    NeedledSite,
    NeedlingSession,
    Patient,
    SessionOutcome,
    SymptomReport,
)
from tracker.security import tokens  # noqa: E402
from tracker.services import scheduling  # noqa: E402

BENCH_CLINIC = "Bench Check-in Clinic"
STAFF_USERNAME = "scale-1-1"  # seed_scale's first therapist: member of Scale Clinic 1
SCALE_PASSWORD = "needle-demo-2026"  # what seed_scale gives every user it makes
HOST_HEADERS = {"HTTP_HOST": "127.0.0.1"}


def out(data):
    json.dump(data, sys.stdout)
    sys.stdout.write("\n")


# ---------------------------------------------------------------------------
# Moving a cached database to the present


def shift(seconds: int) -> dict:
    """Add ``seconds`` to every stored date-time of the tracker's tables.

    The scale data is placed relative to the moment it was built (sessions
    "in the last four days", open check-ins); a copy built yesterday would
    have no open check-ins today, and the dashboard would measure an empty
    clinic. One UPDATE per table.
    """
    started = time.perf_counter()
    vendor = connection.vendor
    tables = 0
    with transaction.atomic(), connection.cursor() as cursor:
        for model in apps.get_app_config("tracker").get_models():
            columns = [
                field.column
                for field in model._meta.concrete_fields
                if isinstance(field, models.DateTimeField)
            ]
            if not columns:
                continue
            if vendor == "sqlite":
                moved = [
                    f"{c} = strftime('%Y-%m-%d %H:%M:%f', {c}, '+{int(seconds)} seconds')"
                    for c in map(connection.ops.quote_name, columns)
                ]
            else:
                moved = [
                    f"{c} = {c} + make_interval(secs => {int(seconds)})"
                    for c in map(connection.ops.quote_name, columns)
                ]
            cursor.execute(
                f"UPDATE {connection.ops.quote_name(model._meta.db_table)} SET {', '.join(moved)}"
            )
            tables += 1
    return {"tables": tables, "seconds": round(time.perf_counter() - started, 1)}


def vacuum() -> dict:
    """PostgreSQL: every table vacuumed and analysed, as autovacuum keeps a running
    database, then a checkpoint.

    A database seeded a minute ago has neither the planner's statistics nor
    the visibility map that lets an index answer a query alone; autovacuum
    would bring them at a moment of its own choosing, in the middle of some
    run's measurements and not another's. And the pages the seeding and the
    vacuum wrote are still to be flushed to disk (with fsync on): left to the
    checkpointer, that happens while requests are being timed. Done once,
    before anything is measured, every run starts from the state a database
    in service is in.
    """
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("VACUUM (ANALYZE)")
        cursor.execute("CHECKPOINT")
    return {"seconds": round(time.perf_counter() - started, 1)}


# ---------------------------------------------------------------------------
# What the load driver needs


def _typical_patient(clinic):
    """A patient of the clinic with the most common number of sessions (about ten)."""
    counts = (
        Patient.objects.filter(clinic=clinic)
        .annotate(n=Count("sessions"))
        .values_list("pk", "n")
        .order_by("pk")[:400]
    )
    by_count = {}
    for pk, n in counts:
        by_count.setdefault(n, []).append(pk)
    common = max(by_count, key=lambda n: (len(by_count[n]), n))
    return by_count[common][0]


def fixtures(spec: dict) -> dict:
    """The staff user to sign in as, the pages to measure, and ``checkins`` open check-ins
    (plus one more, never posted, whose page is measured). Creates the write floor's table."""
    from bench.urls import create_write_floor_table  # noqa: PLC0415

    create_write_floor_table()
    user = get_user_model().objects.get(username=STAFF_USERNAME)
    clinic = Clinic.objects.filter(memberships__user=user).order_by("pk").first()
    patient = _typical_patient(clinic)
    others = list(
        Patient.objects.filter(clinic=clinic, sessions__follow_ups__report__isnull=False)
        .exclude(pk=patient)
        .values_list("pk", flat=True)
        .distinct()
        .order_by("pk")[: 1 + spec.get("cold_charts", 40)]
    )
    result = {
        "username": user.get_username(),
        "password": SCALE_PASSWORD,
        "clinic": clinic.pk,
        "patient": patient,
        "patient_sessions": NeedlingSession.objects.filter(patient_id=patient).count(),
        "chart_warm_patient": others[0],
        "chart_cold_patients": others[1:],
        "counts": {
            "patients": Patient.objects.count(),
            "sessions": NeedlingSession.objects.count(),
            "follow_ups": FollowUp.objects.count(),
            "reports": SymptomReport.objects.count(),
            "clinic_reports": SymptomReport.objects.filter(follow_up__clinic=clinic).count(),
        },
        "pages": {
            "dashboard": "/",
            "patient page": f"/patients/{patient}/",
            "alert inbox": "/alerts/",
            "analytics page": f"/clinics/{clinic.pk}/analytics/",
            "chart image": f"/patients/{patient}/soreness.svg",
        },
    }
    checkins = open_check_ins(spec.get("checkins", 0) + 1, spec.get("seed", 7))
    result["checkin_page"] = checkins["items"].pop()["path"]  # only ever fetched
    if spec.get("checkins"):
        result["checkins"] = checkins
    return result


def _answers(i: int) -> dict:
    """A check-in's answers: mostly "I feel fine", some that open alerts."""
    if i % 100 == 0:  # a warning sign: an urgent alert (the therapist has no email)
        return {**FEELING_FINE, "soreness": "3", "red_flags": "rf_breathing"}
    if i % 5 == 0:  # sore and in the way: an "interference" alert
        return {
            "soreness": "6",
            "twitching": TwitchingFelt.MILD,
            "bruising": BruiseBand.UNDER_2_5,
            "interference": Interference.QUITE_A_BIT,
            "after_effects": ["headache"],
            "red_flags": NONE_OF_THESE,
            "note": "Sore when I lift my arm.",
        }
    return dict(FEELING_FINE)


def open_check_ins(count: int, seed: int) -> dict:
    """``count`` sessions performed five minutes ago, each with its in-clinic check-in open.

    They belong to a clinic of their own, so they change nothing the staff
    pages of the scale clinics show. Written in bulk, as ``tracker.devdata.scale`` does,
    with their outcome rows, as recording a session writes them: a check-in then
    updates its session's row in place, as in the app, rather than counting it
    from the start. Returns, for each, the check-in path and a form body with a
    fresh key.
    """
    now = clock.now()
    with transaction.atomic():
        clinic = Clinic.objects.create(
            name=BENCH_CLINIC,
            time_zone="Europe/London",
            phone="020 7946 0000",
            emergency_number="112",
        )
        therapist = get_user_model().objects.create(
            username=f"bench-therapist-{uuid.uuid4().hex[:8]}", password=make_password(None)
        )
        Membership.objects.create(user=therapist, clinic=clinic, role=Role.THERAPIST)
        patients = Patient.objects.bulk_create(
            Patient(clinic=clinic, display_name=f"Bench Patient {i}", reference=f"B{seed}-{i:06d}")
            for i in range(count)
        )
        sessions = NeedlingSession.objects.bulk_create(
            NeedlingSession(
                patient=p,
                clinic=clinic,
                therapist=therapist,
                performed_at=now - timedelta(minutes=5),
                pre_pain=5,
            )
            for p in patients
        )
        for session, patient in zip(sessions, patients):
            session.patient = patient  # plan_follow_ups reads the clinic's windows
            patient.clinic = clinic
        NeedledSite.objects.bulk_create(
            NeedledSite(session=s, muscle="upper_trapezius", side="right", insertions=3)
            for s in sessions
        )
        FollowUp.objects.bulk_create(
            [fu for s in sessions for fu in scheduling.plan_follow_ups(s, recorded_at=now)],
            batch_size=5000,
        )
        nonces = [tokens.new_nonce() for _ in sessions]
        AccessLink.objects.bulk_create(
            (
                AccessLink(
                    session=s,
                    nonce=n,
                    token_hash=tokens.hash_token(tokens.token_for(n)),
                    created_at=now,
                    expires_at=s.performed_at + timedelta(days=7),
                )
                for s, n in zip(sessions, nonces)
            ),
            batch_size=2000,
        )
        SessionOutcome.objects.recount([s.pk for s in sessions])
    items = []
    for i, nonce in enumerate(nonces):
        key = str(uuid.uuid4())
        body = urlencode({"key": key, **_answers(i)}, doseq=True)
        items.append({"path": f"/f/{tokens.token_for(nonce)}/", "body": body, "key": key})
    return {"clinic": clinic.pk, "items": items}


def phone_sessions(count: int) -> dict:
    """``count`` sessions performed a day ago whose in-clinic check-in was answered
    (soreness 5): the 24-hour check-in is open, and its "done" page shows the
    soreness chart. Through the services, as the app makes them; for bench/phone.py.
    """
    from tracker import services  # noqa: PLC0415

    now = clock.now()
    clinic = Clinic.objects.create(
        name="Bench Phone Clinic",
        time_zone="Europe/London",
        phone="020 7946 0000",
        emergency_number="112",
    )
    therapist = get_user_model().objects.create(
        username=f"bench-phone-{uuid.uuid4().hex[:8]}", password=make_password(None)
    )
    Membership.objects.create(user=therapist, clinic=clinic, role=Role.THERAPIST)
    paths = []
    for i in range(count):
        patient = Patient.objects.create(
            clinic=clinic, display_name=f"Phone Patient {i}", reference=f"PH-{i:04d}"
        )
        session = services.record_session(
            patient=patient,
            therapist=therapist,
            performed_at=now - timedelta(hours=24),
            pre_pain=6,
            sites=[
                {
                    "muscle": "gluteus_medius",
                    "side": "left",
                    "insertions": 4,
                    "technique": "deep_pistoning",
                    "twitch_band": "1-2",
                }
            ],
        )
        services.submit_report(
            follow_up=session.follow_ups.get(time_point=TimePoint.IN_CLINIC),
            idempotency_key=uuid.uuid4(),
            answers={
                "soreness": 5,
                "twitching": TwitchingFelt.NONE,
                "bruising": BruiseBand.NONE,
                "interference": Interference.A_LITTLE,
                "after_effects": [],
                "red_flags": [],
            },
            now=session.performed_at + timedelta(minutes=5),
        )
        paths.append(f"/f/{tokens.token_for(session.access_links.get().nonce)}/")
    return {"paths": paths}


# ---------------------------------------------------------------------------
# In-process measurements


def _client(user=None) -> Client:
    client = Client(**HOST_HEADERS)
    if user is not None:
        client.force_login(user)
    return client


def _as_the_page_asks(client, pages: dict, name: str) -> str:
    """The address of page ``name``; for the chart image, as the patient page asks for it.

    The patient page puts its key in its chart's address, so the view it has
    recorded is not recorded again by the image (the key lasts ten minutes:
    it is fetched when it is used).
    """
    if name != "chart image":
        return pages[name]
    page = client.get(pages["patient page"]).content.decode()
    found = re.search(r'<img[^>]+src="([^"]*soreness\.svg[^"]*)"', page)
    return html.unescape(found.group(1))


def queries(spec: dict) -> dict:
    """Queries (and in-process time) of one request to each page, after one warm-up request.

    The chart is measured twice more: cold (cache cleared, so it is drawn)
    and cached (drawn already).
    """
    user = get_user_model().objects.get(username=STAFF_USERNAME)
    client = _client(user)
    result = {}
    for name in spec["pages"]:
        path = _as_the_page_asks(client, spec["pages"], name)
        response = client.get(path)  # warm-up: imports, template loading, chart cache
        with CaptureQueriesContext(connection) as captured:
            started = time.perf_counter()
            response = client.get(path)
            seconds = time.perf_counter() - started
        result[name] = {
            "status": response.status_code,
            "queries": len(captured),
            "ms": round(seconds * 1000, 1),
            "sql": [q["sql"] for q in captured.captured_queries],
        }
    chart = spec["pages"]["chart image"]
    cache.clear()
    with CaptureQueriesContext(connection) as captured:
        started = time.perf_counter()
        client.get(chart)
        cold_ms = (time.perf_counter() - started) * 1000
    result["chart cold"] = {
        "queries": len(captured),
        "ms": round(cold_ms, 1),
        "sql": [q["sql"] for q in captured.captured_queries],
    }
    chart = _as_the_page_asks(client, spec["pages"], "chart image")
    client.get(chart)
    with CaptureQueriesContext(connection) as captured:
        client.get(chart)
    result["chart cached"] = {
        "queries": len(captured),
        "sql": [q["sql"] for q in captured.captured_queries],
    }
    return result


def profile(spec: dict) -> dict:
    """cProfile one request of ``path`` (after a warm-up) and EXPLAIN its queries; write a report."""
    path = spec["path"]
    if spec.get("body") is not None:
        # A check-in: anonymous, posted once (a warm-up GET of the same page first).
        client = _client()
        client.get(path)

        def request():
            return client.post(path, spec["body"], content_type="application/x-www-form-urlencoded")
    else:
        client = (
            _client()
            if spec.get("anonymous")
            else _client(get_user_model().objects.get(username=STAFF_USERNAME))
        )
        if spec["name"] == "chart image":
            path = _as_the_page_asks(client, spec["pages"], spec["name"])
        client.get(path)
        if spec.get("cold"):
            cache.clear()

        def request():
            return client.get(path)

    profiler = cProfile.Profile()
    with CaptureQueriesContext(connection) as captured:
        profiler.enable()
        response = request()
        profiler.disable()
    text = io.StringIO()
    stats = pstats.Stats(profiler, stream=text).strip_dirs().sort_stats("cumulative")
    stats.print_stats(35)
    sql_ms = sum(float(q["time"]) for q in captured.captured_queries) * 1000
    lines = [
        f"# {spec['name']}: {spec['label']}\n",
        f"{len(captured)} queries, {sql_ms:.0f} ms in the database (as timed by Django).\n",
        "## cProfile (cumulative, top 35)\n",
        "```",
        text.getvalue().strip(),
        "```\n",
        "## Queries, slowest first\n",
    ]
    timed = sorted(captured.captured_queries, key=lambda q: -float(q["time"]))
    with connection.cursor() as cursor:
        for q in timed:
            lines.append(f"### {float(q['time']) * 1000:.1f} ms\n")
            lines += ["```sql", q["sql"], "```"]
            if not q["sql"].lstrip().upper().startswith("SELECT"):
                pass
            elif connection.vendor == "sqlite":
                cursor.execute("EXPLAIN QUERY PLAN " + q["sql"])
                lines += [
                    "```",
                    *(f"{row[0]:>4} {row[1]:>4} {row[3]}" for row in cursor.fetchall()),
                    "```",
                ]
            elif connection.vendor == "postgresql":
                cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + q["sql"])
                lines += ["```", *(row[0] for row in cursor.fetchall()), "```"]
            lines.append("")
    with open(spec["output"], "w", encoding="utf-8") as file:
        file.write("\n".join(lines))
    return {"output": spec["output"], "queries": len(captured), "status": response.status_code}


def verify(spec: dict) -> dict:
    """How many reports the bench clinic holds, and how many of each submitted key."""
    keys = spec["keys"]
    stored = list(
        SymptomReport.objects.filter(
            follow_up__session__patient__clinic_id=spec["clinic"]
        ).values_list("idempotency_key", flat=True)
    )
    stored_keys = {str(key) for key in stored}
    per_follow_up = (
        SymptomReport.objects.filter(follow_up__session__patient__clinic_id=spec["clinic"])
        .values("follow_up")
        .annotate(n=Count("pk"))
        .filter(n__gt=1)
        .count()
    )
    return {
        "reports": len(stored),
        "distinct_keys": len(stored_keys),
        "missing": [key for key in keys if key not in stored_keys][:20],
        "missing_count": sum(1 for key in keys if key not in stored_keys),
        "unexpected": len(stored_keys - set(keys)),
        "follow_ups_with_two_reports": per_follow_up,
    }


# ---------------------------------------------------------------------------
# The reminder job's data


def reminders_build(count: int) -> dict:
    """``count`` follow-ups whose 24 h reminder is due now, for as many patients.

    Half by email, half by text message; every patient agreed to reminders
    and each session has a usable link. The in-clinic check-in is answered.
    """
    started = time.perf_counter()
    now = clock.now()
    chunk = 5000
    with transaction.atomic():
        # No quiet hours (the same time at both ends): the benchmark may run at
        # night in London, when a clinic's quiet hours would hold every reminder
        # and the job would be timed sending none.
        clinic = Clinic.objects.create(
            name="Bench Reminder Clinic",
            time_zone="Europe/London",
            quiet_hours_start=dt_time(0, 0),
            quiet_hours_end=dt_time(0, 0),
        )
        therapist = get_user_model().objects.create(
            username="bench-reminder-therapist", password=make_password(None)
        )
        Membership.objects.create(user=therapist, clinic=clinic)
    for start in range(0, count, chunk):
        size = min(chunk, count - start)
        with transaction.atomic():
            patients = Patient.objects.bulk_create(
                Patient(
                    clinic=clinic,
                    display_name=f"Reminder Patient {start + i}",
                    email=f"patient{start + i}@example.org" if (start + i) % 2 == 0 else "",
                    phone="" if (start + i) % 2 == 0 else f"+4477009{start + i:05d}",
                    reminder_channel=ReminderChannel.EMAIL
                    if (start + i) % 2 == 0
                    else ReminderChannel.SMS,
                    reminders_consent=True,
                    consent_changed_at=now - timedelta(days=1),
                )
                for i in range(size)
            )
            performed = now - timedelta(hours=23)  # the 24 h check-in opened an hour ago
            sessions = NeedlingSession.objects.bulk_create(
                NeedlingSession(
                    patient=p,
                    clinic=clinic,
                    therapist=therapist,
                    performed_at=performed,
                    pre_pain=4,
                )
                for p in patients
            )
            follow_ups = []
            for session, patient in zip(sessions, patients):
                session.patient = patient
                patient.clinic = clinic
                for fu in scheduling.plan_follow_ups(session, recorded_at=performed):
                    if fu.time_point == TimePoint.IN_CLINIC:
                        fu.answered_at = performed + timedelta(minutes=3)
                    follow_ups.append(fu)
            FollowUp.objects.bulk_create(follow_ups, batch_size=5000)
            AccessLink.objects.bulk_create(
                (
                    AccessLink(
                        session=s,
                        nonce=n,
                        token_hash=tokens.hash_token(tokens.token_for(n)),
                        created_at=performed,
                        expires_at=performed + timedelta(days=7),
                    )
                    for s, n in ((s, tokens.new_nonce()) for s in sessions)
                ),
                batch_size=5000,
            )
    from tracker.reminders import due_reminders

    due = due_reminders(clock.now()).count()
    return {"due": due, "seconds": round(time.perf_counter() - started, 1)}


# ---------------------------------------------------------------------------
# The FHIR bulk export


def export_clinics() -> dict:
    """Each clinic that holds reports, with their count, most first."""
    rows = (
        SymptomReport.objects.values_list("follow_up__clinic")
        .annotate(n=Count("pk"))
        .order_by("-n")
    )
    return {"clinics": [{"clinic": clinic, "reports": n} for clinic, n in rows]}


def main():
    task, argument = sys.argv[1], sys.argv[2] if len(sys.argv) > 2 else None
    if task == "shift":
        out(shift(int(argument)))
    elif task == "reminders-build":
        out(reminders_build(int(argument)))
    elif task == "export-clinics":
        out(export_clinics())
    elif task == "phone":
        out(phone_sessions(int(argument)))
    elif task == "vacuum":
        out(vacuum())
    else:
        spec = json.loads(argument) if argument else json.load(sys.stdin)
        out(
            {"fixtures": fixtures, "queries": queries, "verify": verify, "profile": profile}[task](
                spec
            )
        )


if __name__ == "__main__":
    main()

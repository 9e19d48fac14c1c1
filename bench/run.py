"""``make bench``: the app under gunicorn on 127.0.0.1, on SQLite and on PostgreSQL,
each figure measured against the floor that fits its kind of request.

    make bench                                        # both databases, 1 k and 1 M reports
    BENCH_SCALE=small make bench                      # quicker: 1 k and 50 k
    .venv/bin/python -m bench.run --reports 200000    # the large data at another size
    .venv/bin/python -m bench.run --skip phone,truth  # only some parts

Steps: collectstatic into a temporary STATIC_ROOT; then for each database
(SQLite, and PostgreSQL when BENCH_DATABASE_URL is set; ``make bench`` starts
a throwaway cluster with fsync on for it) a small and a large database
(bench/data.py), each served by gunicorn with the production settings plus
the floor views (bench/settings.py) and driven by bench/load.py in a second
process (bench/scenarios.py); queries per request in-process
(bench/tasks.py); a profile of whatever missed its target; the FHIR bulk
export of the large database. Then, on SQLite only: the reminder job over
10 k and 100 k due follow-ups, the patient's pages in Chromium on emulated
phone networks (bench/phone.py) and the known-truth clinic (bench/jobs.py).
Prints the tables and writes bench/results.md (bench/report.py). Exits 1 if
a submitted report was lost or duplicated, or the analytics missed a figure
of the known truth.
"""

import argparse
import json
import os
import sqlite3
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from bench import data, jobs, machine, phone, report, scenarios
from bench.procs import ROOT, log, task

RESULTS = ROOT / "bench" / "results.md"
LAST_RUN = data.DATA_DIR / "last-run"
PARTS = ("fhir", "reminders", "phone", "truth")

TIERS = {
    "full": {
        "small_reports": 1_000,
        "large_reports": 1_000_000,
        "floor_requests": 2_000,
        "page_requests": 300,
        "page_seconds": 30,
        "cold_requests": 20,
        "cold_charts": 30,
        "submissions": {1: 600, 8: 1_500, 32: 2_000},
        "reminders": (10_000, 100_000),
        "truth_sessions": 100_000,
    },
    "small": {
        "small_reports": 1_000,
        "large_reports": 50_000,
        "floor_requests": 1_000,
        "page_requests": 200,
        "page_seconds": 15,
        "cold_requests": 15,
        "cold_charts": 20,
        "submissions": {1: 300, 8: 600, 32: 800},
        "reminders": (2_000, 20_000),
        "truth_sessions": 10_000,
    },
}


def prepare(label, name, reports, workdir, static_root, pg_url) -> tuple[dict, dict]:
    """A scale database for one part of the run: a copy of the SQLite cache, or seeded now."""
    log(f"{label}: database with about {reports:,} reports")
    patients = data.patients_for(reports)
    if pg_url:
        url = jobs.empty_database(name, workdir, pg_url)
        meta = {
            **data.seed_database(data.django_env(url), patients, log),
            "cache": "built (PostgreSQL: not cached)",
        }
    else:
        path = workdir / f"{name}.sqlite3"
        meta = data.scale_database(patients, path, log)
        url = f"sqlite:///{path}"
    env = data.django_env(url, STATIC_ROOT=str(static_root))
    if meta.get("cache") in ("hit", "migrated"):
        age = (datetime.now(UTC) - datetime.fromisoformat(meta["built_at"])).total_seconds()
        shifted = task(env, "shift", int(age))
        log(
            f"{label}: cached database ({meta['cache']}), built {age / 3600:.1f} h ago; "
            f"times moved forward in {shifted['seconds']} s"
        )
    # What the hourly cron job has done on a running server: each clinic's
    # soreness counts stored (the typical course behind every patient's chart).
    counted = data.manage(env, "count_typical_courses", capture=True).stdout.strip()
    log(f"{label}: {counted}")
    meta["typical_courses"] = counted
    if pg_url:
        vacuumed = task(env, "vacuum")
        log(f"{label}: vacuumed, analysed and checkpointed in {vacuumed['seconds']} s")
        meta["vacuumed"] = True
    return env, meta


def one_database(database, pg_url, tier, workers, workdir, static_root, skip) -> dict:
    """The small and the large database of one engine, measured; profiles; the FHIR export."""
    url = pg_url if database == "postgresql" else ""
    small_label = report.size_label(tier["small_reports"])
    large_label = report.size_label(tier["large_reports"])
    small_env, small_meta = prepare(
        f"{database} {small_label}",
        f"{database}_small",
        tier["small_reports"],
        workdir,
        static_root,
        url,
    )
    small = scenarios.measure(f"{database} {small_label}", small_env, workdir, tier, workers)
    large_env, large_meta = prepare(
        f"{database} {large_label}",
        f"{database}_large",
        tier["large_reports"],
        workdir,
        static_root,
        url,
    )
    checkins = sum(tier["submissions"].values()) + 16
    large = scenarios.measure(
        f"{database} {large_label}", large_env, workdir, tier, workers, checkins=checkins
    )
    small["meta"], large["meta"] = small_meta, large_meta

    # Whatever missed its target is profiled in-process (cProfile + the query plans).
    for name, size in report.profile_targets(small, large):
        env = small_env if size == "small" else large_env
        run = small if size == "small" else large
        spec = {"name": name, "label": f"{database}, {size}", "cold": name.endswith(" cold")}
        if name == "report submission":
            spec.update(large["profile_checkin"])
        elif name == "check-in page":
            spec.update(path=run["fixtures"]["checkin_page"], anonymous=True)
        else:
            spec["path"] = run["fixtures"]["pages"][report.PAGE_OF.get(name, name)]
            spec["pages"] = run["fixtures"]["pages"]
        output = LAST_RUN / f"profile-{database}-{name.replace(' ', '-')}-{size}.md"
        log(f"profiling {name} ({database}, {size}) -> {output.relative_to(ROOT)}")
        try:
            task(env, "profile", {**spec, "output": str(output)})
        except RuntimeError as error:  # a profile is an aid; the run goes on
            log(f"profile failed: {error}")
    result = {"small": small, "large": large}
    if "fhir" not in skip:
        log(f"{database}: FHIR bulk export, every clinic of the {large_label} database")
        result["fhir_export"] = jobs.fhir_export(large_env, workdir, f"{database}-large")
        log(
            f"{database}: FHIR bulk export: {result['fhir_export']['reports']:,} reports in "
            f"{result['fhir_export']['seconds']} s, peak {result['fhir_export']['peak_rss_mb']} MB"
        )
    return result


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--reports", type=int, help="reports in the large database")
    parser.add_argument(
        "--workers",
        type=int,
        default=int(os.environ.get("BENCH_WORKERS") or 0),
        help="gunicorn workers (default: 2 per core)",
    )
    parser.add_argument(
        "--databases",
        default="",
        help="sqlite,postgresql (default: sqlite, and postgresql when BENCH_DATABASE_URL is set)",
    )
    parser.add_argument("--skip", default="", help=f"parts to leave out: {','.join(PARTS)}")
    parser.add_argument("--output", default=str(RESULTS))
    args = parser.parse_args(argv)

    scale = os.environ.get("BENCH_SCALE", "full")
    if scale not in TIERS:
        parser.error(f"BENCH_SCALE must be one of {', '.join(TIERS)}; got {scale!r}")
    tier = dict(TIERS[scale])
    if args.reports:
        tier["large_reports"] = args.reports
    workers = args.workers or 2 * (os.cpu_count() or 1)
    pg_url = os.environ.get("BENCH_DATABASE_URL", "").strip()
    databases = [d for d in args.databases.split(",") if d] or (
        ["sqlite", "postgresql"] if pg_url else ["sqlite"]
    )
    if "postgresql" in databases and not pg_url:
        parser.error("postgresql needs BENCH_DATABASE_URL (make bench sets it)")
    skip = {part for part in args.skip.split(",") if part}
    if skip - set(PARTS):
        parser.error(f"--skip takes {', '.join(PARTS)}")

    started = time.monotonic()
    started_at = datetime.now(UTC)
    load_start = os.getloadavg()
    cpu_start = machine.machine_cpu_seconds(), machine.own_cpu_seconds()
    LAST_RUN.mkdir(parents=True, exist_ok=True)
    for old in LAST_RUN.glob("profile-*.md"):
        old.unlink()
    runs, reminder_runs, phone_run, truth = {}, [], None, None
    with tempfile.TemporaryDirectory(prefix="needle-bench-") as tmp:
        workdir = Path(tmp)
        static_root = workdir / "static"
        log(f"collectstatic into {static_root}")
        data.manage(
            data.django_env("sqlite:///:memory:", STATIC_ROOT=str(static_root)),
            "collectstatic",
            "--noinput",
            "-v",
            "0",
        )
        sqlite_settings = machine.sqlite_settings(
            data.django_env(f"sqlite:///{workdir / 'settings.sqlite3'}")
        )
        for database in databases:
            runs[database] = one_database(
                database, pg_url, tier, workers, workdir, static_root, skip
            )

        if "reminders" not in skip:
            for count in tier["reminders"]:
                log(f"reminders: {count:,} due follow-ups")
                reminder_runs.append(jobs.reminders(count, workdir, ""))
                log(
                    f"reminders: {count:,}: {reminder_runs[-1]['seconds']} s, "
                    f"peak {reminder_runs[-1]['peak_rss_mb']} MB ({reminder_runs[-1]['output']})"
                )
        if "phone" not in skip:
            log("phone: the patient's pages on emulated slow networks (bench/phone.py)")
            try:
                phone_run = phone.measure(workdir, static_root)
            except Exception as error:  # noqa: BLE001 - recorded in the results, the run goes on
                log(f"phone: not measured: {error!r}")
                phone_run = {"error": repr(error)}
        if "truth" not in skip:
            log(f"known truth: {tier['truth_sessions']:,} sessions")
            truth = jobs.known_truth(tier["truth_sessions"], workdir, "")
            log(f"known truth: {truth['summary']}")

    info = machine.machine(f"SQLite {sqlite3.sqlite_version} ({sqlite_settings})")
    if "postgresql" in runs:
        info["postgresql"] = machine.postgres_version(pg_url)
        info["postgresql_settings"] = machine.postgres_settings(pg_url)
    info.update(
        date=started_at.strftime("%Y-%m-%d %H:%M UTC"),
        workers=workers,
        scale=scale,
        minutes=round((time.monotonic() - started) / 60, 1),
        load_start=" ".join(f"{x:.2f}" for x in load_start),
        load_end=" ".join(f"{x:.2f}" for x in os.getloadavg()),
        other_cpu=machine.other_cpu_share(cpu_start, time.monotonic() - started),
        skipped=sorted(skip),
        command="BENCH_SCALE=small " if scale == "small" else "",
    )
    raw = {
        "machine": info,
        "tier": tier,
        "databases": runs,
        "reminders": reminder_runs,
        "phone": phone_run,
        "truth": truth,
    }
    (LAST_RUN / "raw.json").write_text(json.dumps(raw, indent=1, default=str))
    text, failures = report.render(raw)
    Path(args.output).write_text(text)
    print()
    print(text)
    output = Path(args.output)
    log(f"wrote {output.relative_to(ROOT) if output.is_relative_to(ROOT) else output}")
    log(f"raw figures: {(LAST_RUN / 'raw.json').relative_to(ROOT)} ({info['minutes']} min)")
    if failures:
        for failure in failures:
            print(f"FAILED: {failure}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

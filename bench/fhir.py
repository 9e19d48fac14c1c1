"""The FHIR bulk export against the size of the database: time, output and peak memory.

    make bench-fhir                                   # SQLite and PostgreSQL, 20 k and 1 M reports
    .venv/bin/python -m bench.fhir --reports 20000,200000 --databases sqlite

``make bench`` exports its large database once per engine, beside everything
else. This runs only that part, at several sizes, so that the export's memory
can be read against the number of reports: it streams, so the peak resident
memory at 1 M reports should be that at 20 k, while the time grows with the
reports. Each size is a database built by ``manage.py seed_scale`` (SQLite:
cached in bench/.data/, as ``make bench`` caches it; PostgreSQL: seeded in the
throwaway cluster ``make bench-fhir`` starts, fsync on), then every clinic in
it exported by ``manage.py export_fhir --clinic ID OUTDIR`` in a process of its
own (bench/jobs.py), the files written to disk and removed afterwards.

Rewrites its section of bench/results.md and keeps the raw figures in
bench/.data/last-run/fhir.json.
"""

import argparse
import json
import os
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from bench import data, jobs, report
from bench.procs import log
from bench.run import LAST_RUN, RESULTS, prepare

HEADING = "## FHIR bulk export by size"
DEFAULT_SIZES = (20_000, 1_000_000)


def measure(databases, sizes, pg_url: str) -> dict:
    runs = []
    load_start = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="needle-fhir-") as tmp:
        workdir = Path(tmp)
        for database in databases:
            for reports in sizes:
                label = f"{database} {report.size_label(reports)}"
                env, meta = prepare(
                    label,
                    f"{database}_fhir_{reports}",
                    reports,
                    workdir,
                    workdir / "static",
                    pg_url if database == "postgresql" else "",
                )
                log(f"{label}: export_fhir of every clinic")
                export = jobs.fhir_export(env, workdir, f"{database}-{reports}")
                log(
                    f"{label}: {export['reports']:,} reports in {export['seconds']} s, "
                    f"peak {export['peak_rss_mb']} MB"
                )
                runs.append({"database": database, "size": reports, "meta": meta, **export})
    return {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "load_start": " ".join(f"{x:.2f}" for x in load_start),
        "load_end": " ".join(f"{x:.2f}" for x in os.getloadavg()),
        "runs": runs,
    }


def section(measured: dict) -> list[str]:
    lines = [
        HEADING,
        "",
        f"`make bench-fhir`, {measured['date']} (load average {measured['load_start']} at the "
        f"start, {measured['load_end']} at the end). Each size is its own database built by "
        "`manage.py seed_scale`; every clinic in it exported by `manage.py export_fhir --clinic "
        "ID OUTDIR` in a process of its own, the NDJSON files written to disk. Seconds and "
        "output are summed over the clinics; peak memory is the largest process's maximum "
        "resident set (Python, Django and the export together). The export reads "
        "`bulk.CHUNK_SIZE` rows at a time, so its memory should not grow with the reports.",
        "",
    ]
    rows = []
    for run in measured["runs"]:
        rows.append(
            [
                report.NAMES[run["database"]],
                f"{run['reports']:,}",
                run["clinics"],
                f"{run['largest_clinic_reports']:,} in {run['largest_clinic_seconds']} s",
                run["seconds"],
                f"{run['reports'] / run['seconds']:,.0f}" if run["seconds"] else "—",
                f"{run['megabytes']:,}",
                run["peak_rss_mb"],
            ]
        )
    lines += report.table(
        [
            "database",
            "reports",
            "clinics",
            "largest clinic",
            "seconds",
            "reports per second",
            "output MB",
            "peak RSS MB",
        ],
        rows,
    )
    for database in dict.fromkeys(run["database"] for run in measured["runs"]):
        peaks = [r["peak_rss_mb"] for r in measured["runs"] if r["database"] == database]
        sizes = [r["reports"] for r in measured["runs"] if r["database"] == database]
        if len(peaks) > 1 and min(peaks):
            lines.append(
                f"{report.NAMES[database]}: peak memory {min(peaks)}–{max(peaks)} MB from "
                f"{min(sizes):,} to {max(sizes):,} reports ({max(sizes) / min(sizes):,.0f}× the "
                f"reports, {max(peaks) / min(peaks):.2f}× the memory)."
            )
    return [*lines, ""]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--reports",
        default=",".join(str(size) for size in DEFAULT_SIZES),
        help="the sizes, in reports, comma-separated",
    )
    parser.add_argument(
        "--databases",
        default="",
        help="sqlite,postgresql (default: sqlite, and postgresql when BENCH_DATABASE_URL is set)",
    )
    parser.add_argument("--output", default=str(RESULTS))
    args = parser.parse_args(argv)
    pg_url = os.environ.get("BENCH_DATABASE_URL", "").strip()
    databases = [d for d in args.databases.split(",") if d] or (
        ["sqlite", "postgresql"] if pg_url else ["sqlite"]
    )
    if "postgresql" in databases and not pg_url:
        parser.error("postgresql needs BENCH_DATABASE_URL (make bench-fhir sets it)")
    sizes = [int(size) for size in args.reports.split(",") if size]

    started = time.monotonic()
    data.DATA_DIR.mkdir(parents=True, exist_ok=True)
    measured = measure(databases, sizes, pg_url)
    LAST_RUN.mkdir(parents=True, exist_ok=True)
    (LAST_RUN / "fhir.json").write_text(json.dumps(measured, indent=1, default=str))
    lines = section(measured)
    report.replace_section(Path(args.output), HEADING, lines)
    print("\n".join(lines))
    log(f"wrote {args.output} in {(time.monotonic() - started) / 60:.1f} min")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

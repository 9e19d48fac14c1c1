"""The benchmark's tables: every figure beside its ratio to the framework floor, its target and a mark.

``python -m bench.report [raw.json] [results.md]`` writes the tables again from
a run's raw numbers (bench/.data/last-run/raw.json), without measuring.
"""

import json
import sys
from pathlib import Path

PAGES = ("dashboard", "patient page", "analytics page")
CHART = "chart image"
MAX_PAGE_RATIO = 10  # p95 of a staff page at 1 M reports, in floors
MAX_CACHED_CHART_RATIO = 2
MAX_COLD_CHART_MS = 150
MIN_SUBMIT_THROUGHPUT = 0.5  # of the floor's requests/s, at 32 clients
MAX_SUBMIT_P95_RATIO = 3
MAX_REMINDER_SECONDS = 60
MAX_REMINDER_MEMORY_GROWTH = 0.15  # peak RSS at 10× the follow-ups, relative
MAX_EXPORT_MEMORY_GROWTH = 0.15  # the FHIR export's peak RSS, large database against small
FIRST_VISIT_BYTES = 60_000
REPEAT_VISIT_BYTES = 10_000
OK, MISS = "✓", "✗"
PHONE_HEADING = "## Patient pages on a phone"  # bench/phone.py's section


def size_label(reports: int) -> str:
    if reports >= 1_000_000 and reports % 1_000_000 == 0:
        return f"{reports // 1_000_000} M"
    if reports >= 1_000 and reports % 1_000 == 0:
        return f"{reports // 1_000} k"
    return f"{reports:,}"


def mark(passed: bool | None) -> str:
    return "" if passed is None else (OK if passed else MISS)


def ms(value) -> str:
    return "—" if value is None else f"{value:.1f}" if value < 100 else f"{value:,.0f}"


def ratio(value, base) -> str:
    if value is None or not base:
        return "—"
    r = value / base
    return f"{r:.2f}×" if r < 10 else f"{r:.0f}×"


def _ratio(value, base):
    return None if value is None or not base else value / base


def errors(result) -> str:
    errs = result.get("errors") or {}
    return "0" if not errs else ", ".join(f"{n}× {k}" for k, n in sorted(errs.items()))


def table(header, rows) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return lines + [""]


# ---------------------------------------------------------------------------
# Targets


def floor_of(result, run, concurrency=1) -> dict:
    """The floor a figure is compared with: measured just before it, else at the start."""
    return result.get("floor") or run["floor"][concurrency]


def page_checks(small, large):
    """(name, size, passed) for every latency target of the staff pages and charts."""
    checks = []
    for name in PAGES:
        result = large["pages"][name]
        p95 = result["p95_ms"]
        checks.append(
            (name, "large", _ok(_ratio(p95, floor_of(result, large)["p95_ms"]), MAX_PAGE_RATIO))
        )
    for size, run in (("small", small), ("large", large)):
        result = run["pages"][CHART]
        checks.append(
            (
                CHART,
                size,
                _ok(
                    _ratio(result["p95_ms"], floor_of(result, run)["p95_ms"]),
                    MAX_CACHED_CHART_RATIO,
                ),
            )
        )
        cold = run["pages"]["chart cold"]["p95_ms"]
        checks.append(("chart cold", size, cold is not None and cold < MAX_COLD_CHART_MS))
    return checks


def _ok(value, limit):
    return value is not None and value <= limit


def submission_checks(large) -> tuple[bool, bool, bool]:
    """(throughput, p95, errors) targets of report submission at 32 clients."""
    result = large["submissions"][32]
    base = floor_of(result, large, 32)
    throughput = _ratio(result["rps"], base["rps"])
    return (
        throughput is not None and throughput >= MIN_SUBMIT_THROUGHPUT,
        _ok(_ratio(result["p95_ms"], base["p95_ms"]), MAX_SUBMIT_P95_RATIO),
        not result["errors"],
    )


def profile_targets(small, large) -> list[tuple[str, str]]:
    """What missed a latency target: worth a profile."""
    missed = [(name, size) for name, size, passed in page_checks(small, large) if not passed]
    if not all(submission_checks(large)[:2]):
        missed.append(("report submission", "large"))
    return missed


# ---------------------------------------------------------------------------


def render(
    info, tier, small, large, reminders, exports=None, phone=None, truth=None
) -> tuple[str, list[str]]:
    """The results page in Markdown, and the failures that must fail the run."""
    small_label, large_label = size_label(tier["small_reports"]), size_label(tier["large_reports"])
    summary = []  # (target, figure, passed)
    head = [
        "# Benchmark results",
        "",
        f"`make bench`, {info['date']}, {info['minutes']} min. "
        "Written by `bench/run.py`; how to run it and read it: `bench/README.md`.",
        "",
        "Every figure is measured in the same run as the **framework floor**: a Django view in "
        "the same gunicorn server, behind the same middleware, returning `ok` "
        "(`bench/urls.py`). A ratio is the figure divided by the floor's same figure "
        "(latency: lower is better; throughput: higher is better).",
        "",
    ]

    # -- Floor ---------------------------------------------------------------
    lines = [
        "## Framework floor",
        "",
        "`GET /bench/floor`, measured when each server starts and again just before each "
        "scenario below (the ratios use the one just before: other work on the machine "
        "comes and goes).",
        "",
    ]
    rows = []
    for label, run in ((small_label, small), (large_label, large)):
        measured = [("server start", 1, run["floor"][1])]
        measured += [
            (f"before {name}", 1, result["floor"])
            for name, result in run["pages"].items()
            if result.get("floor")
        ]
        measured += [
            (f"before submission at {c}", c, result["floor"])
            for c, result in sorted(run.get("submissions", {}).items())
            if result.get("floor")
        ]
        if run.get("floor_end"):
            measured.append(("end of run", 1, run["floor_end"]))
        for when, concurrency, result in measured:
            rows.append(
                [
                    f"{label}",
                    when,
                    concurrency,
                    f"{result['rps']:,}",
                    ms(result["p50_ms"]),
                    ms(result["p95_ms"]),
                    errors(result),
                ]
            )
    lines += table(["data", "measured", "clients", "req/s", "p50 ms", "p95 ms", "errors"], rows)

    # -- Report submission ------------------------------------------------------
    lines += [
        "## Patient report submission",
        "",
        'POST of a check-in (validated, saved, alerts evaluated) → 302 to its "done" '
        "page; each POST a different open check-in with a fresh idempotency key; one in "
        "20 sent again with the same body right after its answer (not counted in the "
        "figures). Ratios against the floor measured just before, at the same number of clients.",
        "",
    ]
    rows = []
    for concurrency, result in sorted(large["submissions"].items()):
        base = floor_of(result, large, concurrency)
        throughput = _ratio(result["rps"], base["rps"])
        target, passed = "", None
        if concurrency == 32:
            ok_tp, ok_p95, ok_err = submission_checks(large)
            passed = ok_tp and ok_p95 and ok_err
            target = (
                f"req/s ≥ 50 % of floor {mark(ok_tp)}; p95 ≤ 3× floor {mark(ok_p95)}; "
                f"0 errors {mark(ok_err)}"
            )
            summary += [
                (
                    "Submission at 32 clients: throughput ≥ 50 % of floor",
                    f"{throughput * 100:.0f} %" if throughput else "—",
                    ok_tp,
                ),
                (
                    "Submission at 32 clients: p95 ≤ 3× floor p95",
                    ratio(result["p95_ms"], base["p95_ms"]),
                    ok_p95,
                ),
                ("Submission at 32 clients: zero errors", errors(result), ok_err),
            ]
        resend = result.get("resend", {})
        rows.append(
            [
                concurrency,
                result["ok"],
                f"{result['rps']:,}",
                f"{base['rps']:,}",
                f"{throughput * 100:.0f} %" if throughput else "—",
                ms(result["p50_ms"]),
                ms(result["p95_ms"]),
                ms(base["p95_ms"]),
                ratio(result["p95_ms"], base["p95_ms"]),
                errors(result),
                f"{resend.get('ok', 0)}/{resend.get('requests', 0)}",
                target,
                mark(passed),
            ]
        )
    lines += table(
        [
            "clients",
            "reports",
            "req/s",
            "floor req/s",
            "of floor",
            "p50 ms",
            "p95 ms",
            "floor p95 ms",
            "p95 / floor",
            "errors",
            "resends ok",
            "target",
            "",
        ],
        rows,
    )
    integrity = large["integrity"]
    failures = []
    if integrity["lost"] or integrity["duplicated"]:
        failures.append(f"{integrity['lost']} report(s) lost, {integrity['duplicated']} duplicated")
    if not integrity["sent"]:
        failures.append("no report was submitted")
    lines += [
        f"Integrity: {integrity['sent']:,} check-ins sent, {integrity['acknowledged']:,} answered "
        f'with their "done" page, {integrity["stored"]:,} reports in the database; '
        f"**{integrity['lost']} lost, {integrity['duplicated']} duplicated** "
        f"{mark(not integrity['lost'] and not integrity['duplicated'])}. "
        f"{integrity['resends_answered_done']}/{integrity['resends']} resends of the same body were "
        'answered with the same "done" page and stored nothing new.'
        + (
            f' {integrity["stored_without_acknowledgement"]} stored without a "done" answer '
            "(the client saw an error; its resend would find the report)."
            if integrity["stored_without_acknowledgement"]
            else ""
        ),
        "",
    ]
    summary.append(
        (
            "Submission: no report lost or duplicated",
            f"{integrity['lost']} lost, {integrity['duplicated']} duplicated",
            not integrity["lost"] and not integrity["duplicated"],
        )
    )

    # -- Staff pages -------------------------------------------------------------
    lines += [
        "## Staff pages",
        "",
        f"One client (latency without queueing), logged in as a therapist of the first "
        f"scale clinic; up to {tier['page_requests']} requests or {tier['page_seconds']} s "
        "per page after a warm-up that reaches every worker. Ratio: p95 over the p95 of the "
        "floor measured just before (1 client, same server). Queries: one request in-process "
        "(`django.test.Client` + `CaptureQueriesContext`) on the same database.",
        "",
    ]
    checks = {(name, size): passed for name, size, passed in page_checks(small, large)}
    rows = []
    for name in (*PAGES, CHART, "chart cold"):
        for size, label, run in (("small", small_label, small), ("large", large_label, large)):
            result = run["pages"][name]
            floor = floor_of(result, run)["p95_ms"]
            q = run["queries"][name]["queries"]
            q_small = small["queries"][name]["queries"]
            target, passed = "", None
            if name in PAGES and size == "large":
                passed = checks[(name, size)]
                target = f"p95 ≤ {MAX_PAGE_RATIO}× floor {mark(passed)}"
                summary.append(
                    (
                        f"{name.capitalize()} at {large_label}: p95 ≤ 10× floor",
                        ratio(result["p95_ms"], floor),
                        passed,
                    )
                )
            elif name == CHART:
                passed = checks[(name, size)]
                target = f"cached: p95 ≤ {MAX_CACHED_CHART_RATIO}× floor {mark(passed)}"
                summary.append(
                    (
                        f"Cached chart at {label}: p95 ≤ 2× floor",
                        ratio(result["p95_ms"], floor),
                        passed,
                    )
                )
            elif name == "chart cold":
                passed = checks[(name, size)]
                target = f"p95 < {MAX_COLD_CHART_MS} ms {mark(passed)}"
                summary.append(
                    (
                        f"Cold chart at {label}: under 150 ms (p95)",
                        f"{ms(result['p95_ms'])} ms",
                        passed,
                    )
                )
            if size == "large":
                same = q == q_small
                target += f"; queries = {small_label} {mark(same)}"
                passed = passed is not False and same
                if name != "chart cold":
                    summary.append(
                        (
                            f"{name.capitalize()}: queries the same at {small_label} and "
                            f"{large_label}",
                            f"{q_small} → {q}",
                            same,
                        )
                    )
            display = {
                CHART: "chart image, cached (patient soreness SVG)",
                "chart cold": "chart image, cold (new patient each request)",
            }.get(name, name)
            rows.append(
                [
                    display,
                    label,
                    result["ok"],
                    ms(result["p50_ms"]),
                    ms(result["p95_ms"]),
                    ms(floor),
                    ratio(result["p95_ms"], floor),
                    q,
                    errors(result),
                    target,
                    mark(passed),
                ]
            )
    lines += table(
        [
            "page",
            "reports",
            "n",
            "p50 ms",
            "p95 ms",
            "floor p95 ms",
            "p95 / floor",
            "queries",
            "errors",
            "target",
            "",
        ],
        rows,
    )
    counts_small, counts_large = small["fixtures"]["counts"], large["fixtures"]["counts"]
    lines += [
        f"Data: {small_label} = {counts_small['reports']:,} reports "
        f"({counts_small['patients']:,} patients, {counts_small['sessions']:,} sessions); "
        f"{large_label} = {counts_large['reports']:,} reports ({counts_large['patients']:,} patients, "
        f"{counts_large['sessions']:,} sessions, {counts_large['follow_ups']:,} follow-ups), "
        f"{counts_large['clinic_reports']:,} of them in the measured clinic. Built by "
        "`manage.py seed_scale`; the patient page and charts show a patient with "
        f"{large['fixtures']['patient_sessions']} sessions.",
        "",
    ]

    # -- Reminders ---------------------------------------------------------------
    lines += [
        "## Reminder job",
        "",
        "`manage.py send_due_reminders` (send, then mark missed) in its own process; "
        "email through Django's dummy backend, text messages through "
        "`tracker.reminders.sms.FileBackend`. Peak memory is the process's maximum resident set.",
        "",
    ]
    rows = []
    smallest = reminders[0]
    for run in reminders:
        target, passed = "", None
        if run is reminders[-1]:
            fast = run["seconds"] < MAX_REMINDER_SECONDS
            growth = (run["peak_rss_mb"] - smallest["peak_rss_mb"]) / smallest["peak_rss_mb"]
            flat = growth <= MAX_REMINDER_MEMORY_GROWTH
            all_sent = run["sent"] == run["due"]
            passed = fast and flat and all_sent
            target = (
                f"< {MAX_REMINDER_SECONDS} s {mark(fast)}; memory +{growth * 100:.0f} % "
                f"for {run['due'] // max(smallest['due'], 1)}× the follow-ups "
                f"(≤ {MAX_REMINDER_MEMORY_GROWTH * 100:.0f} %) {mark(flat)}"
            )
            summary += [
                (
                    f"Reminders: {run['due']:,} follow-ups in under a minute",
                    f"{run['seconds']} s",
                    fast,
                ),
                (
                    "Reminders: memory does not grow with the count",
                    f"{smallest['peak_rss_mb']} → {run['peak_rss_mb']} MB",
                    flat,
                ),
            ]
        rows.append(
            [
                f"{run['due']:,}",
                f"{run['sent']:,}" if run["sent"] is not None else "—",
                run["seconds"],
                f"{run['due'] / run['seconds']:,.0f}" if run["seconds"] else "—",
                run["peak_rss_mb"],
                target,
                mark(passed),
            ]
        )
    lines += table(
        ["due follow-ups", "sent", "seconds", "per second", "peak RSS MB", "target", ""], rows
    )

    # -- FHIR bulk export ----------------------------------------------------------
    if exports:
        lines += [
            "## FHIR bulk export",
            "",
            (
                "`manage.py export_fhir --clinic ID OUTDIR` for every clinic of each database, "
                "each in its own process: NDJSON files of every resource type written to disk. "
                "Seconds and output are summed over the clinics; peak memory is the largest "
                "process's maximum resident set."
            ),
            "",
        ]
        small_run, large_run = exports["small"], exports["large"]
        growth = (large_run["peak_rss_mb"] - small_run["peak_rss_mb"]) / max(
            small_run["peak_rss_mb"], 1
        )
        flat = growth <= MAX_EXPORT_MEMORY_GROWTH
        rows = []
        for label, run in ((small_label, small_run), (large_label, large_run)):
            rows.append(
                [
                    label,
                    run["clinics"],
                    f"{run['reports']:,}",
                    f"{run['largest_clinic_reports']:,} in {run['largest_clinic_seconds']} s",
                    run["seconds"],
                    f"{run['reports'] / run['seconds']:,.0f}" if run["seconds"] else "—",
                    run["megabytes"],
                    run["peak_rss_mb"],
                ]
            )
        lines += table(
            [
                "database",
                "clinics",
                "reports",
                "largest clinic",
                "seconds",
                "reports per second",
                "output MB",
                "peak RSS MB",
            ],
            rows,
        )
        lines += [
            (
                f"Memory: {small_run['peak_rss_mb']} → {large_run['peak_rss_mb']} MB "
                f"(+{growth * 100:.0f} %, target ≤ {MAX_EXPORT_MEMORY_GROWTH * 100:.0f} %) "
                f"{mark(flat)}"
            ),
            "",
        ]
        summary.append(
            (
                "FHIR export: memory does not grow with the reports",
                f"{small_run['peak_rss_mb']} → {large_run['peak_rss_mb']} MB",
                flat,
            )
        )

    # -- Bytes -------------------------------------------------------------------
    weight = large["weight"]
    first, repeat = weight["first_visit_bytes"], weight["repeat_visit_bytes"]
    page_status = weight["resources"][0].get("status")
    answered = page_status == 200  # the check-in form itself, not an error page
    ok_first = answered and first < FIRST_VISIT_BYTES
    ok_repeat = answered and repeat < REPEAT_VISIT_BYTES
    lines += [
        "## Patient check-in page: bytes sent",
        "",
        "Requested with `Accept-Encoding: gzip, br`, as a phone does; bytes on the wire "
        "(headers and body). First visit: the page and every same-origin file it makes "
        "the browser load. Repeat visit: only what the response headers do not let the "
        "browser keep for at least a day (read from each `Cache-Control`, not assumed), "
        "asked for again as a browser does: with `If-None-Match` / `If-Modified-Since` "
        "when the first answer gave an `ETag` / `Last-Modified`, so an unchanged file "
        "costs a bodiless 304. KB = 1,000 bytes.",
        "",
    ]
    if not answered:
        lines += [
            f"**The check-in page answered HTTP {page_status}, not the form: "
            "these bytes are not the page's.**",
            "",
        ]
    lines += table(
        ["visit", "bytes", "target", ""],
        [
            ["first", f"{first:,}", f"< {FIRST_VISIT_BYTES // 1000} KB", mark(ok_first)],
            ["repeat", f"{repeat:,}", f"< {REPEAT_VISIT_BYTES // 1000} KB", mark(ok_repeat)],
        ],
    )
    rows = []
    for r in weight["resources"]:
        if r.get("external"):
            rows.append([r["kind"], r["url"], "—", "—", "—", "external (not loaded here)", "—", ""])
            continue
        rows.append(
            [
                r["kind"],
                f"`{r['url']}`",
                r["status"],
                f"{r['header_bytes'] + r['body_bytes']:,}",
                r["encoding"],
                f"`{r['cache_control'] or '(none)'}`",
                "kept"
                if r["cached_for_repeat"]
                else f"asked again: {r['repeat_status']}, {r['repeat_bytes']:,} B"
                if "repeat_status" in r
                else "fetched again",
                "" if r["counted"] else "not counted",
            ]
        )
    lines += table(
        ["file", "url", "status", "bytes", "encoding", "Cache-Control", "repeat visit", ""], rows
    )
    summary += [
        ("Check-in page, first visit: under 60 KB", f"{first:,} B", ok_first),
        ("Check-in page, repeat visit: under 10 KB", f"{repeat:,} B", ok_repeat),
    ]

    # -- Phone ------------------------------------------------------------------
    if phone and "error" in phone:
        lines += [PHONE_HEADING, "", f"Not measured: `{phone['error']}`.", ""]
    elif phone:
        from bench.phone import section  # noqa: PLC0415 - Playwright is imported only there

        phone_lines, phone_summary = section(phone)
        lines += phone_lines
        summary += phone_summary

    # -- Known truth -------------------------------------------------------------
    if truth is not None:
        about = (
            f"`manage.py seed_known_truth --sessions {truth['sessions']} --seed 1 --check` "
            "in an empty database: a clinic drawn from set after-effect rates and soreness "
            "courses (`tracker/devdata/truth.py`), then every analytics figure against what "
            "was set. A figure passes when it lies in the range chance allows, all of "
            "them together but one run in 20 (`truth.recovered`)."
        )
        rates = [line for line in truth["checks"] if "the page's 95 % interval" in line]
        covered = sum("covers it" in line for line in rates)
        timing = (
            f"Built in {truth['build_seconds']} s; built and checked in "
            f"{truth['seconds']} s. {truth['summary']} The page's 95 % intervals hold "
            f"the set rate for {covered} of {len(rates)} rates (each misses one time in "
            "20 by design)."
        )
        lines += ["## Known truth", "", about, "", timing, "", "```", *truth["checks"], "```", ""]
        summary.append(
            (
                f"Known truth: the analytics recover {truth['sessions']:,} sessions",
                truth["summary"],
                truth["recovered"],
            )
        )
        if not truth["recovered"]:
            failures.append(f"known truth not recovered: {truth['summary']}")

    # -- Summary -----------------------------------------------------------------
    met = sum(1 for *_x, passed in summary if passed)
    missed = (
        ""
        if met == len(summary)
        else (
            " What the misses cost and why: [bench/README.md](README.md#where-the-targets-stand)."
        )
    )
    lines = (
        head
        + ["## Targets", "", f"{met} of {len(summary)} met.{missed}", ""]
        + table(["target", "measured", ""], [[t, f, mark(p)] for t, f, p in summary])
        + lines
    )

    # -- Machine -----------------------------------------------------------------
    lines += ["## Machine", ""]
    lines += table(
        ["", ""],
        [
            ["date", info["date"]],
            ["uname -a", f"`{info['uname']}`"],
            ["CPU", f"{info['cpu']}, {info['cores']} cores"],
            ["memory", info["memory"]],
            [
                "load average (1, 5, 15 min) at start / end",
                f"{info['load_start']} / {info['load_end']}",
            ],
            ["CPU used by other work during the run", info.get("other_cpu", "unknown")],
            ["Python", info["python"]],
            ["Django", info["django"]],
            [
                "gunicorn",
                f"{info['gunicorn']}, {info['workers']} sync workers, "
                "`-c project/gunicorn.py`, DEBUG off",
            ],
            ["matplotlib", info["matplotlib"]],
            ["database", info["database"]],
            [
                "scale",
                f"{info['scale']} ({small_label} / {large_label} reports; large "
                f"database {info['large_cache']}"
                + (
                    f", built in {info['large_build_seconds']} s"
                    if info.get("large_build_seconds")
                    else ""
                )
                + ")",
            ],
            [
                "load driver",
                "bench/load.py: threads + http.client, in a second process on the same cores",
            ],
        ],
    )
    return "\n".join(lines).rstrip() + "\n", failures


def _int_keys(run: dict) -> dict:
    """JSON turned the client counts into strings; the tables want numbers."""
    run["floor"] = {int(k): v for k, v in run["floor"].items()}
    if "submissions" in run:
        run["submissions"] = {int(k): v for k, v in run["submissions"].items()}
    return run


def main():
    here = Path(__file__).resolve().parent
    raw_path = Path(sys.argv[1]) if len(sys.argv) > 1 else here / ".data" / "last-run" / "raw.json"
    output = Path(sys.argv[2]) if len(sys.argv) > 2 else here / "results.md"
    raw = json.loads(raw_path.read_text())
    tier = raw.get("tier")
    if tier is None:  # written before the tier was kept: a full run
        from bench.run import TIERS  # noqa: PLC0415

        tier = TIERS[raw["machine"].get("scale", "full")]
    text, _failures = render(
        raw["machine"],
        tier,
        _int_keys(raw["small"]),
        _int_keys(raw["large"]),
        raw["reminders"],
        raw.get("fhir_export"),
        raw.get("phone"),
        raw.get("truth"),
    )
    output.write_text(text)
    print(f"wrote {output}")


if __name__ == "__main__":
    main()

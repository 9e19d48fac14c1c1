"""The benchmark's tables: each figure beside the floor that fits it, its target and a mark,
on SQLite and on PostgreSQL side by side.

``python -m bench.report [raw.json] [results.md]`` writes the tables again from
a run's raw numbers (bench/.data/last-run/raw.json), without measuring.
"""

import json
import math
import re
import sys
from pathlib import Path

# Staff pages compared with the staff floor (signed in), at one client, by p50.
PAGES = ("dashboard", "patient page", "alert inbox", "analytics page")
CHART = "chart image"
MAX_PAGE_RATIO = 5  # p50 of a staff page at the large size, in staff floors
MAX_CACHED_CHART_RATIO = 2  # p50, in staff floors
MAX_CHECKIN_PAGE_RATIO = 3  # p50 of the patient's check-in page, in anonymous floors
MAX_ANALYTICS_COLD_MS = 300  # p50, the analytics page with nothing cached, large size
MAX_COLD_CHART_MS = (
    150  # p50, a chart with nothing cached (its clinic's counts stored by the hourly job)
)
MIN_SUBMIT_THROUGHPUT = 0.5  # of the write floor's requests/s, at 32 clients
MAX_REMINDER_SECONDS = 60
MAX_REMINDER_MEMORY_GROWTH = 0.15  # peak RSS at 10x the follow-ups, relative
FIRST_VISIT_BYTES = 60_000
REPEAT_VISIT_BYTES = 10_000
OK, MISS = "✓", "✗"
PHONE_HEADING = "## Patient pages on a phone"  # bench/phone.py's section
NAMES = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}
# Which page a profile of a scenario requests.
PAGE_OF = {"analytics cold": "analytics page", "chart cold": CHART}
DISPLAY = {
    CHART: "chart image, cached",
    "chart cold": (
        "chart image, nothing cached (new patient, cache emptied; "
        "the clinic's soreness counts as the hourly job stored them)"
    ),
    "analytics cold": "analytics page, nothing cached (cache emptied)",
    "check-in page": "patient's check-in page (anonymous)",
}


def size_label(reports: int) -> str:
    if reports >= 1_000_000 and reports % 1_000_000 == 0:
        return f"{reports // 1_000_000} M"
    if reports >= 1_000 and reports % 1_000 == 0:
        return f"{reports // 1_000} k"
    return f"{reports:,}"


def mark(passed: bool | None) -> str:
    return "" if passed is None else (OK if passed else MISS)


def ms(value) -> str:
    if value is None:
        return "—"
    if math.isinf(value):
        return "∞"
    return f"{value:.1f}" if value < 100 else f"{value:,.0f}"


def _ratio(value, base):
    if value is None or not base or math.isinf(value):
        return None if value is None or not base else math.inf
    return value / base


def ratio(value, base) -> str:
    r = _ratio(value, base)
    if r is None:
        return "—"
    if math.isinf(r):
        return "∞"
    return f"{r:.2f}×" if r < 10 else f"{r:.0f}×"


def errors(result) -> str:
    errs = result.get("errors") or {}
    text = "0" if not errs else ", ".join(f"{n}× {k}" for k, n in sorted(errs.items()))
    if result.get("hit_time_limit"):
        text += f"; time limit reached, {result['unsent']} not sent"
    return text


def replace_section(results: Path, heading: str, lines: list[str]) -> None:
    """Put ``lines`` (a section starting with ``heading``) into results.md in place of
    the previous one, or before "## Machine": for the parts that also run alone."""
    text = results.read_text() if results.exists() else "# Benchmark results\n"
    block = "\n".join(lines).rstrip() + "\n\n"
    pattern = re.compile(rf"^{re.escape(heading)}\n.*?(?=^## |\Z)", re.DOTALL | re.MULTILINE)
    if pattern.search(text):
        text = pattern.sub(lambda _m: block, text, count=1)
    elif "\n## Machine\n" in text:
        text = text.replace("\n## Machine\n", f"\n{block}## Machine\n", 1)
    else:
        text = text.rstrip() + "\n\n" + block
    results.write_text(text.rstrip() + "\n")


def table(header, rows) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return lines + [""]


def _ok(value, limit):
    return value is not None and value <= limit


# ---------------------------------------------------------------------------
# Targets of one database


def page_checks(small, large):
    """(name, size, figure, passed) of every latency target of pages and charts."""
    checks = []
    for name in PAGES:
        r = large["pages"][name]
        checks.append(
            (
                name,
                "large",
                r["p50_ms"],
                _ok(_ratio(r["p50_ms"], r["floor"]["p50_ms"]), MAX_PAGE_RATIO),
            )
        )
    for size, run in (("small", small), ("large", large)):
        r = run["pages"][CHART]
        checks.append(
            (
                CHART,
                size,
                r["p50_ms"],
                _ok(_ratio(r["p50_ms"], r["floor"]["p50_ms"]), MAX_CACHED_CHART_RATIO),
            )
        )
        r = run["pages"]["check-in page"]
        checks.append(
            (
                "check-in page",
                size,
                r["p50_ms"],
                _ok(_ratio(r["p50_ms"], r["floor"]["p50_ms"]), MAX_CHECKIN_PAGE_RATIO),
            )
        )
        r = run["pages"]["chart cold"]
        checks.append(("chart cold", size, r["p50_ms"], _ok(r["p50_ms"], MAX_COLD_CHART_MS)))
    r = large["pages"]["analytics cold"]
    checks.append(("analytics cold", "large", r["p50_ms"], _ok(r["p50_ms"], MAX_ANALYTICS_COLD_MS)))
    return checks


def submission_check(large):
    """(share of the write floor's throughput, passed) at 32 clients."""
    result = large["submissions"][32]
    share = _ratio(result["rps"], result["floor"]["rps"])
    return share, share is not None and share >= MIN_SUBMIT_THROUGHPUT


def profile_targets(small, large) -> list[tuple[str, str]]:
    """What missed a latency target: worth a profile."""
    missed = [(name, size) for name, size, _f, passed in page_checks(small, large) if not passed]
    if not submission_check(large)[1]:
        missed.append(("report submission", "large"))
    return missed


def targets(db, small_label, large_label) -> list[tuple[str, str, bool]]:
    """(target, measured, passed) of one database."""
    small, large = db["small"], db["large"]
    rows = []
    for name, size, _figure, passed in page_checks(small, large):
        run = small if size == "small" else large
        r = run["pages"][name]
        label = small_label if size == "small" else large_label
        if name in PAGES:
            target = f"{name.capitalize()} at {large_label}: p50 ≤ {MAX_PAGE_RATIO}× staff floor"
            figure = f"{ratio(r['p50_ms'], r['floor']['p50_ms'])} ({ms(r['p50_ms'])} ms)"
        elif name == CHART:
            target = f"Cached chart at {label}: p50 ≤ {MAX_CACHED_CHART_RATIO}× staff floor"
            figure = f"{ratio(r['p50_ms'], r['floor']['p50_ms'])} ({ms(r['p50_ms'])} ms)"
        elif name == "check-in page":
            target = f"Check-in page at {label}: p50 ≤ {MAX_CHECKIN_PAGE_RATIO}× anonymous floor"
            figure = f"{ratio(r['p50_ms'], r['floor']['p50_ms'])} ({ms(r['p50_ms'])} ms)"
        elif name == "chart cold":
            target = f"Chart with nothing cached at {label}: p50 ≤ {MAX_COLD_CHART_MS} ms"
            figure = f"{ms(r['p50_ms'])} ms"
        else:
            target = (
                f"Analytics with nothing cached at {large_label}: p50 ≤ {MAX_ANALYTICS_COLD_MS} ms"
            )
            figure = f"{ms(r['p50_ms'])} ms"
        rows.append((target, figure, passed))
    for name in (*PAGES, CHART):
        q_small = small["queries"][name]["queries"]
        q_large = large["queries"][name]["queries"]
        rows.append(
            (
                f"{name.capitalize()}: queries the same at {small_label} and {large_label}",
                f"{q_small} → {q_large}",
                q_small == q_large,
            )
        )
    share, passed = submission_check(large)
    rows.append(
        (
            "Submission at 32 clients: req/s ≥ 50 % of the write floor's",
            f"{share * 100:.0f} %" if share is not None else "—",
            passed,
        )
    )
    integrity = large["integrity"]
    rows.append(
        (
            "Submission: no report lost or duplicated",
            f"{integrity['lost']} lost, {integrity['duplicated']} duplicated",
            not integrity["lost"] and not integrity["duplicated"] and integrity["sent"] > 0,
        )
    )
    return rows


def comparison(runs, large_label) -> list[tuple[str, str, str, str, bool]]:
    """PostgreSQL against SQLite: (figure, SQLite, PostgreSQL, ratio, PostgreSQL as fast)."""
    sq, pg = runs["sqlite"]["large"], runs["postgresql"]["large"]
    rows = []
    for c in (1, 8, 32):
        a, b = sq["submissions"][c]["rps"], pg["submissions"][c]["rps"]
        rows.append(
            (
                f"Submissions at {c} client{'s' if c > 1 else ''}, req/s (higher is better)",
                f"{a:,}",
                f"{b:,}",
                f"{b / a:.2f}×" if a else "—",
                None if c == 1 else (b is not None and a is not None and b >= a),
            )
        )
    for name in (*PAGES, CHART, "check-in page", "analytics cold", "chart cold"):
        a, b = sq["pages"][name]["p50_ms"], pg["pages"][name]["p50_ms"]
        rows.append(
            (
                f"{DISPLAY.get(name, name).capitalize()}, p50 ms at {large_label} (lower is better)",
                ms(a),
                ms(b),
                ratio(b, a),
                b is not None and a is not None and b <= a,
            )
        )
    return rows


# ---------------------------------------------------------------------------


def render(raw) -> tuple[str, list[str]]:
    """The results page in Markdown, and the failures that must fail the run."""
    info, tier, runs = raw["machine"], raw["tier"], raw["databases"]
    reminders, phone, truth = raw.get("reminders"), raw.get("phone"), raw.get("truth")
    small_label, large_label = size_label(tier["small_reports"]), size_label(tier["large_reports"])
    databases = list(runs)
    failures = []
    lines = [
        "# Benchmark results",
        "",
        f"`{info.get('command', '')}make bench`, {info['date']}, {info['minutes']} min, "
        f"{' and '.join(NAMES[d] for d in databases)}, {small_label} and {large_label} reports"
        + (f" (left out: {', '.join(info['skipped'])})" if info.get("skipped") else "")
        + ". Written by `bench/run.py`; how to run it and read it: `bench/README.md`.",
        "",
        "Every figure is measured in the same gunicorn server as the **floor** that fits its "
        "kind of request: the **anonymous floor** (`ok`), the **staff floor** (the session "
        "and the signed-in user loaded, then `ok`) and the **write floor** (one row inserted "
        "in a transaction). A page and its floor take turns, ten requests each, from one "
        "client; submissions' write floor just before them at the same number of "
        "clients. Ratios are of "
        "medians (p50); p95 is shown beside. Failed requests count in the percentiles "
        "(an unanswered one as ∞).",
        "",
    ]

    # -- Targets ------------------------------------------------------------------
    per_db = {d: targets(runs[d], small_label, large_label) for d in databases}
    first = per_db[databases[0]]
    header = ["target", *(NAMES[d] for d in databases)]
    rows = []
    for i, (target, *_rest) in enumerate(first):
        rows.append([target] + [f"{per_db[d][i][1]} {mark(per_db[d][i][2])}" for d in databases])
    met = {d: sum(1 for *_x, p in per_db[d] if p) for d in databases}
    lines += [
        "## Targets",
        "",
        "; ".join(f"{NAMES[d]}: {met[d]} of {len(per_db[d])} met" for d in databases)
        + ". What the misses are made of: [bench/README.md](README.md#where-the-targets-stand).",
        "",
    ]
    lines += table(header, rows)
    for d in databases:
        integrity = runs[d]["large"]["integrity"]
        if integrity["lost"] or integrity["duplicated"]:
            failures.append(
                f"{NAMES[d]}: {integrity['lost']} report(s) lost, {integrity['duplicated']} duplicated"
            )
        if not integrity["sent"]:
            failures.append(f"{NAMES[d]}: no report was submitted")

    if "sqlite" in runs and "postgresql" in runs:
        rows = comparison(runs, large_label)
        lines += [
            "## PostgreSQL against SQLite",
            "",
            f"The same scenarios at {large_label} reports, in the same run. PostgreSQL "
            f"with fsync on ({info.get('postgresql_settings', '')}), each worker keeping its "
            "connection (`DATABASE_CONN_MAX_AGE`, health-checked).",
            "",
        ]
        lines += table(
            ["figure", "SQLite", "PostgreSQL", "PostgreSQL / SQLite", "PostgreSQL as fast"],
            [[*row[:4], mark(row[4])] for row in rows],
        )

    # -- Floors -----------------------------------------------------------------
    lines += [
        "## Floors",
        "",
        "`GET /bench/floor` (anonymous), `GET /bench/floor/staff` (signed in) and "
        "`POST /bench/floor/write` (one row inserted), views of `bench/urls.py`, which only "
        "`bench/settings.py` routes to. Measured when each server starts, and again with "
        "each scenario: in turns with a page, ten requests each; just before the "
        "submissions, at their number of clients (the ratios use these).",
        "",
    ]
    rows = []
    for d in databases:
        for size, label in (("small", small_label), ("large", large_label)):
            run = runs[d][size]
            measured = [(f"{k} floor, server start", 1, r) for k, r in run["floor"].items()]
            measured += [
                (f"{r['floor']['kind']} floor, with {DISPLAY.get(n, n)}", 1, r["floor"])
                for n, r in run["pages"].items()
            ]
            measured += [
                (f"write floor, before submissions at {c}", c, r["floor"])
                for c, r in sorted(run.get("submissions", {}).items())
            ]
            for when, c, r in measured:
                rows.append(
                    [
                        NAMES[d],
                        label,
                        when,
                        c,
                        f"{r['rps']:,}",
                        ms(r["p50_ms"]),
                        ms(r["p95_ms"]),
                        errors(r),
                    ]
                )
    lines += table(
        ["database", "data", "measured", "clients", "req/s", "p50 ms", "p95 ms", "errors"], rows
    )

    # -- Submissions --------------------------------------------------------------
    lines += [
        "## Patient report submission",
        "",
        'POST of a check-in (validated, saved, alerts evaluated) → 302 to its "done" '
        "page; each POST a different open check-in with a fresh idempotency key; one in "
        "20 sent again with the same body right after its answer (not counted in the "
        f"figures). At {large_label} reports. Throughput against the write floor measured "
        "just before at the same number of clients.",
        "",
    ]
    rows = []
    for d in databases:
        large = runs[d]["large"]
        for c, r in sorted(large["submissions"].items()):
            base = r["floor"]
            share = _ratio(r["rps"], base["rps"])
            resend = r.get("resend", {})
            rows.append(
                [
                    NAMES[d],
                    c,
                    r["ok"],
                    f"{r['rps']:,}",
                    f"{base['rps']:,}",
                    f"{share * 100:.0f} %" if share is not None else "—",
                    ms(r["p50_ms"]),
                    ms(r["p95_ms"]),
                    ms(base["p50_ms"]),
                    ms(base["p95_ms"]),
                    errors(r),
                    f"{resend.get('ok', 0)}/{resend.get('requests', 0)}",
                ]
            )
    lines += table(
        [
            "database",
            "clients",
            "reports",
            "req/s",
            "write floor req/s",
            "of floor",
            "p50 ms",
            "p95 ms",
            "floor p50 ms",
            "floor p95 ms",
            "errors",
            "resends ok",
        ],
        rows,
    )
    for d in databases:
        i = runs[d]["large"]["integrity"]
        lines += [
            f"Integrity ({NAMES[d]}): {i['sent']:,} check-ins sent, {i['acknowledged']:,} answered "
            f'with their "done" page, {i["stored"]:,} reports in the database; '
            f"**{i['lost']} lost, {i['duplicated']} duplicated** "
            f"{mark(not i['lost'] and not i['duplicated'])}. "
            f"{i['resends_answered_done']}/{i['resends']} resends of the same body were "
            'answered with the same "done" page and stored nothing new.'
            + (
                f' {i["stored_without_acknowledgement"]} stored without a "done" answer.'
                if i["stored_without_acknowledgement"]
                else ""
            ),
            "",
        ]

    # -- Pages --------------------------------------------------------------------
    lines += [
        "## Staff pages, the check-in page and the caches",
        "",
        f"One client (latency without queueing), signed in as a therapist of the first "
        f"scale clinic through the login form; up to {tier['page_requests']} requests or "
        f"{tier['page_seconds']} s per page after a warm-up that reaches every worker. "
        f"Nothing cached: the server's file cache emptied before each of "
        f"{tier['cold_requests']} analytics requests and {tier['cold_charts']} charts (each a "
        "new patient), with no warm-up. Queries: one request in-process "
        "(`django.test.Client` + `CaptureQueriesContext`) on the same database.",
        "",
    ]
    rows = []
    names = (*PAGES, CHART, "check-in page", "analytics cold", "chart cold")
    for name in names:
        for d in databases:
            for size, label in (("small", small_label), ("large", large_label)):
                run = runs[d][size]
                r = run["pages"][name]
                q = run["queries"].get(PAGE_OF.get(name, name), {}).get("queries", "—")
                if name == "chart cold":
                    q = run["queries"]["chart cold"]["queries"]
                rows.append(
                    [
                        DISPLAY.get(name, name),
                        NAMES[d],
                        label,
                        r["ok"],
                        ms(r["p50_ms"]),
                        ms(r["p95_ms"]),
                        r["floor"]["kind"],
                        ms(r["floor"]["p50_ms"]),
                        ratio(r["p50_ms"], r["floor"]["p50_ms"]),
                        q if name != "check-in page" else "—",
                        errors(r),
                    ]
                )
    lines += table(
        [
            "page",
            "database",
            "reports",
            "n",
            "p50 ms",
            "p95 ms",
            "floor",
            "floor p50 ms",
            "p50 / floor",
            "queries",
            "errors",
        ],
        rows,
    )
    for d in databases:
        cs, cl = runs[d]["small"]["fixtures"]["counts"], runs[d]["large"]["fixtures"]["counts"]
        meta = runs[d]["large"].get("meta", {})
        lines += [
            f"Data ({NAMES[d]}): {small_label} = {cs['reports']:,} reports; {large_label} = "
            f"{cl['reports']:,} reports ({cl['patients']:,} patients, {cl['sessions']:,} "
            f"sessions, {cl['follow_ups']:,} follow-ups), {cl['clinic_reports']:,} of them in "
            f"the measured clinic; {meta.get('cache', '')}"
            + (f", seeded in {meta['seconds']} s" if meta.get("seconds") else "")
            + ". Built by `manage.py seed_scale`.",
            "",
        ]

    # -- FHIR bulk export --------------------------------------------------------
    exports = {d: runs[d]["fhir_export"] for d in databases if runs[d].get("fhir_export")}
    if exports:
        lines += [
            "## FHIR bulk export",
            "",
            f"`manage.py export_fhir --clinic ID OUTDIR` for every clinic of the {large_label} "
            "database, each in its own process: NDJSON files of every resource type written "
            "to disk. Seconds and output summed over the clinics; peak memory is the largest "
            "process's maximum resident set.",
            "",
        ]
        rows = []
        for d, run in exports.items():
            rows.append(
                [
                    NAMES[d],
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

    summary = []
    # -- Reminders ---------------------------------------------------------------
    if reminders:
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
                        f"Reminders: {run['due']:,} follow-ups sent in under a minute",
                        f"{run['seconds']} s, {run['sent'] or 0:,} sent",
                        fast and all_sent,
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

    # -- Bytes -------------------------------------------------------------------
    large = runs[databases[0]]["large"]
    if "weight" in large:
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
                rows.append(
                    [r["kind"], r["url"], "—", "—", "—", "external (not loaded here)", "—", ""]
                )
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
            ["file", "url", "status", "bytes", "encoding", "Cache-Control", "repeat visit", ""],
            rows,
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

    # -- Machine -----------------------------------------------------------------
    if summary:
        met_other = sum(1 for *_x, p in summary if p)
        lines += ["## Other targets", "", f"{met_other} of {len(summary)} met.", ""]
        lines += table(["target", "measured", ""], [[t, f, mark(p)] for t, f, p in summary])
    lines += ["## Machine", ""]
    rows = [
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
        ["SQLite", info["database"]],
    ]
    if info.get("postgresql"):
        rows.append(["PostgreSQL", f"{info['postgresql']} ({info.get('postgresql_settings', '')})"])
    rows += [
        ["scale", f"{info['scale']} ({small_label} / {large_label} reports)"],
        [
            "load driver",
            "bench/load.py: threads + http.client, `Accept-Encoding: gzip`, in a second "
            "process on the same cores",
        ],
    ]
    lines += table(["", ""], rows)
    return "\n".join(lines).rstrip() + "\n", failures


def _int_keys(run: dict) -> dict:
    """JSON turned the client counts into strings; the tables want numbers."""
    if "submissions" in run:
        run["submissions"] = {int(k): v for k, v in run["submissions"].items()}
    return run


def main():
    here = Path(__file__).resolve().parent
    raw_path = Path(sys.argv[1]) if len(sys.argv) > 1 else here / ".data" / "last-run" / "raw.json"
    output = Path(sys.argv[2]) if len(sys.argv) > 2 else here / "results.md"
    raw = json.loads(raw_path.read_text())
    for db in raw["databases"].values():
        _int_keys(db["small"])
        _int_keys(db["large"])
    text, _failures = render(raw)
    output.write_text(text)
    print(f"wrote {output}")


if __name__ == "__main__":
    main()

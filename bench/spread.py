"""How far runs of the benchmark agree: ``python -m bench.spread RAW.json RAW.json ...``.

Prints a Markdown table of each ratio (p50 over its floor's p50; submissions'
throughput over the write floor's) and each median at the large size, one
column per run, and the spread: how far the largest and the smallest lie from
their middle value (±25 % is the aim for the ratios).
"""

import json
import sys

from bench import report


def figures(raw) -> dict:
    """{(database, figure): value} of one run."""
    out = {}
    for database, run in raw["databases"].items():
        large = run["large"]
        name = report.NAMES[database]
        for page in (*report.PAGES, report.CHART, "check-in page"):
            r = large["pages"][page]
            out[(name, f"{report.DISPLAY.get(page, page)}: p50 / floor")] = report._ratio(
                r["p50_ms"], r["floor"]["p50_ms"]
            )
        for page in (*report.PAGES, report.CHART, "check-in page", "analytics cold", "chart cold"):
            out[(name, f"{report.DISPLAY.get(page, page)}: p50 ms")] = large["pages"][page][
                "p50_ms"
            ]
        for clients, r in sorted(large["submissions"].items(), key=lambda kv: int(kv[0])):
            out[(name, f"submissions at {clients}: req/s")] = r["rps"]
            out[(name, f"submissions at {clients}: of the write floor")] = report._ratio(
                r["rps"], r["floor"]["rps"]
            )
    return out


def table(raws) -> list[str]:
    runs = [figures(raw) for raw in raws]
    rows = []
    for key in runs[0]:
        values = [run.get(key) for run in runs]
        known = [v for v in values if v]
        middle = (max(known) + min(known)) / 2 if known else None
        spread = (max(known) - middle) / middle if middle else None
        rows.append(
            [
                key[0],
                key[1],
                *(("—" if v is None else f"{v:,.2f}" if v < 10 else f"{v:,.0f}") for v in values),
                "—" if spread is None else f"±{spread * 100:.0f} %",
            ]
        )
    header = ["database", "figure", *(f"run {i + 1}" for i in range(len(raws))), "spread"]
    return report.table(header, rows)


def main():
    raws = [json.loads(open(path).read()) for path in sys.argv[1:]]
    print("\n".join(table(raws)))


if __name__ == "__main__":
    main()

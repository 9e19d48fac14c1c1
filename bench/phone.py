"""The patient's pages on a slow network: first paint, repeat paint, tap to confirmation.

    .venv/bin/python -m bench.phone      # alone, a few minutes: rewrites its section of results.md
    make bench                           # with everything else (bench/run.py calls measure())

The app runs as in the rest of the benchmark (gunicorn with project/gunicorn.py,
DEBUG off, whitenoise with hashed static files) on a small database of its
own. Debian's Chromium, with the browser tests' flags, plays a phone: a 390×844
touch screen, the page's CPU slowed 4× (CDP ``Emulation.setCPUThrottlingRate``),
and each network of ``NETWORKS`` emulated by CDP
``Network.emulateNetworkConditions``. Each run takes a fresh session whose
in-clinic check-in was answered a day ago (so its 24-hour check-in is open and
its "done" page has a soreness chart) in a fresh browser context:

1. **first visit**: the link opened with nothing cached and no service worker;
   first contentful paint, from the start of the navigation.
2. **repeat visit**: once the service worker holds the page and its files, the
   link opened again in a new tab; first contentful paint.
3. **tap to confirmation**: on that page, a tap on "I feel fine" until the frame
   that shows "Thank you — your answers were sent" (the first paint of a new
   document, or the next frame after check-in.js puts the page in place).
   The chart's first frame is recorded beside it.

Each figure is the median of ``RUNS`` runs, beside its floor: the round trips
that must happen one after another times the round-trip time, plus the bytes on
that path (as Chromium counted them, headers included) over the bandwidth.

CDP applies network conditions per target: the page's are not the service
worker's. The same conditions are therefore set on the worker's target too
(attached through ``Target.sendMessageToTarget``), so a page the worker fetches
pays the same latency and bandwidth; a run where the worker's request was not
seen under them is reported. What CDP emulation leaves out is listed in
bench/README.md.
"""

import argparse
import contextlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from bench import data
from bench.report import PHONE_HEADING as HEADING
from bench.report import replace_section

ROOT = data.ROOT
RESULTS = ROOT / "bench" / "results.md"
OUTPUT = data.DATA_DIR / "last-run" / "phone.json"

# WebPageTest's "3G Slow" and "3G Fast": kbit/s down and up, round-trip time in ms.
NETWORKS = {
    "Slow 3G": {"down_kbps": 400, "up_kbps": 400, "rtt_ms": 400},
    "Fast 3G": {"down_kbps": 1600, "up_kbps": 768, "rtt_ms": 150},
}
CPU_SLOWDOWN = 4
RUNS = 5
PHONE = {
    "viewport": {"width": 390, "height": 844},
    "is_mobile": True,
    "has_touch": True,
    "device_scale_factor": 2,
}
FIGURES = {  # key: (label, target in ms on Slow 3G)
    "first": ("first visit: first paint", 1400),
    "repeat": ("repeat visit: first paint", 900),
    "tap": ('tap "I feel fine" → confirmation', 1300),
}
FINE = "I feel fine — send these answers"
TIMEOUT_MS = 60_000

# In every document, before its own scripts: when it first painted, and when
# the confirmation and its chart were first on screen (timeOrigin-based, so
# comparable across the documents of one tab).
PROBE = """
(() => {
  const now = () => performance.timeOrigin + performance.now();
  const bench = window.__bench = {};
  new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      if (entry.name === "first-contentful-paint") {
        bench.fcp = performance.timeOrigin + entry.startTime;
      }
    }
  }).observe({ type: "paint", buffered: true });
  document.addEventListener("click", (event) => {
    if (event.target.closest && event.target.closest("form[data-offline-form] button")) {
      sessionStorage.setItem("bench:tap", String(now()));
    }
  }, true);
  const watch = () => {
    if (!bench.confirmedSeen && document.getElementById("thanks-heading")) {
      bench.confirmedSeen = true;
      requestAnimationFrame(() => { bench.confirmed = now(); });
    }
    const chart = document.querySelector("img.chart");
    if (chart && !bench.chartSeen) {
      bench.chartSeen = true;
      chart.decode().then(() => requestAnimationFrame(() => { bench.chart = now(); }), () => {});
    }
  };
  new MutationObserver(watch).observe(document, { childList: true, subtree: true });
})();
"""

# check-in.js is running (it marks the page; before load.js, it ran before the load event).
CHECK_IN_JS_READY = """() => document.documentElement.dataset.checkIn === "ready"
  || !document.querySelector("script[data-src]")"""

KEPT = """async () => {
  if (!navigator.serviceWorker.controller) return false;
  const files = [...document.querySelectorAll('link[rel~="stylesheet"], script[src]')];
  for (const url of [location.href, ...files.map((el) => el.href || el.src)]) {
    if (!(await caches.match(url))) return false;
  }
  return true;
}"""


def log(message: str) -> None:
    print(f"[{datetime.now():%H:%M:%S}] phone: {message}", flush=True)


# ---------------------------------------------------------------------------
# What went over the (emulated) network


class Phases:
    """When each phase of a run began (wall clock, ms): a request belongs to the phase its
    ``wallTime`` falls in, however late its event reaches this process."""

    def __init__(self):
        self.starts = []

    def begin(self, name):
        self.starts.append((time.time() * 1000, name))

    def of(self, wall_ms):
        current = None
        for start, name in self.starts:
            if wall_ms >= start:
                current = name
        return current


class Wire:
    """Requests seen by one target's Network domain."""

    def __init__(self, name, phases):
        self.name, self.phases, self.requests = name, phases, {}
        self.order = []

    def event(self, method, params):
        if method == "Network.requestWillBeSent":
            request_id = params["requestId"]
            entry = self.requests.get(request_id)
            if entry is not None and params.get("redirectResponse"):
                entry["hops"].append(params["redirectResponse"].get("encodedDataLength", 0))
            self.requests[request_id] = entry = entry or {
                "target": self.name,
                "wall": params.get("wallTime", 0) * 1000,
                "type": params.get("type", "Other"),
                "hops": [],
                "bytes": 0,
                "from_worker": False,
                "from_cache": False,
                "up": len(params["request"].get("postData") or ""),
            }
            # After a redirect: the request the browser now makes.
            entry["url"], entry["method"] = params["request"]["url"], params["request"]["method"]
            if request_id not in self.order:
                self.order.append(request_id)
        elif method == "Network.requestServedFromCache":
            if params["requestId"] in self.requests:
                self.requests[params["requestId"]]["from_cache"] = True
        elif method == "Network.responseReceived":
            entry = self.requests.get(params["requestId"])
            if entry is not None:
                response = params["response"]
                entry["status"] = response.get("status")
                entry["from_worker"] = bool(response.get("fromServiceWorker"))
                entry["from_cache"] |= bool(response.get("fromDiskCache"))
        elif method == "Network.loadingFinished":
            entry = self.requests.get(params["requestId"])
            if entry is not None:
                entry["bytes"] = int(params.get("encodedDataLength", 0))

    def in_phase(self, phase):
        return [
            self.requests[i]
            for i in self.order
            if self.phases.of(self.requests[i]["wall"]) == phase
        ]


def _network_part(entry, worker_entries, used):
    """What went over the network for one of the page's requests: itself, or, when
    the service worker answered it, the worker's own request for the same URL."""
    if entry["from_cache"]:
        return None
    if not entry["from_worker"]:
        return entry
    for candidate in worker_entries:
        if (
            id(candidate) not in used
            and candidate["url"] == entry["url"]
            and candidate["method"] == entry["method"]
        ):
            used.add(id(candidate))
            return candidate
    return None  # answered from the worker's cache


def critical_path(page: Wire, worker: Wire, phase: str, types: set[str]) -> dict:
    """Round trips and bytes of the page's requests of ``types`` in ``phase`` that went
    over the network: pages and fetches one after another (a redirect is one more round
    trip), the stylesheets a page names all at once (one round trip for them all)."""
    worker_entries = worker.in_phase(phase)
    used, trips, down, up, unseen = set(), 0, 0, 0, 0
    stylesheets = False
    for entry in page.in_phase(phase):
        if entry["type"] not in types:
            continue
        part = _network_part(entry, worker_entries, used)
        if part is None:
            if entry["from_worker"] and not entry["from_cache"] and entry["type"] == "Document":
                unseen += 1  # answered by the worker, but its network request was not seen
            continue
        if entry["type"] == "Stylesheet":
            trips += 0 if stylesheets else 1
            stylesheets = True
        else:
            trips += 1 + len(part["hops"])
        down += part["bytes"] + sum(part["hops"])
        up += part["up"]
    return {"round_trips": trips, "down_bytes": down, "up_bytes": up, "worker_unseen": unseen}


def floor_ms(path: dict, network: dict) -> float:
    return (
        path["round_trips"] * network["rtt_ms"]
        + path["down_bytes"] * 8 / network["down_kbps"]
        + path["up_bytes"] * 8 / network["up_kbps"]
    )


# ---------------------------------------------------------------------------
# Throttling


def conditions(network: dict) -> dict:
    return {
        "offline": False,
        "latency": network["rtt_ms"],
        "downloadThroughput": network["down_kbps"] * 1000 / 8,
        "uploadThroughput": network["up_kbps"] * 1000 / 8,
    }


def throttle_page(context, page, network, wire):
    cdp = context.new_cdp_session(page)
    for method in (
        "Network.requestWillBeSent",
        "Network.requestServedFromCache",
        "Network.responseReceived",
        "Network.loadingFinished",
    ):
        cdp.on(method, lambda params, method=method: wire.event(method, params))
    cdp.send("Network.enable")
    cdp.send("Network.emulateNetworkConditions", conditions(network))
    cdp.send("Emulation.setCPUThrottlingRate", {"rate": CPU_SLOWDOWN})
    return cdp


class WorkerThrottle:
    """The network conditions on the service worker's target, and its Network events."""

    def __init__(self, browser):
        self.session = browser.new_browser_cdp_session()
        self.wires = {}  # CDP session id -> Wire
        self.session.on("Target.receivedMessageFromTarget", self._message)
        self.counter = 0

    def _message(self, params):
        wire = self.wires.get(params["sessionId"])
        if wire is None:
            return
        message = json.loads(params["message"])
        if "method" in message:
            wire.event(message["method"], message.get("params", {}))

    def _send(self, session_id, method, params):
        self.counter += 1
        self.session.send(
            "Target.sendMessageToTarget",
            {
                "sessionId": session_id,
                "message": json.dumps({"id": self.counter, "method": method, "params": params}),
            },
        )

    def attach(self, origin: str, network: dict, wire: Wire) -> bool:
        """Throttle every running worker of ``origin``; False if none runs."""
        attached = False
        for target in self.session.send("Target.getTargets")["targetInfos"]:
            if target["type"] != "service_worker" or not target["url"].startswith(origin):
                continue
            session_id = self.session.send(
                "Target.attachToTarget", {"targetId": target["targetId"], "flatten": False}
            )["sessionId"]
            self.wires[session_id] = wire
            self._send(session_id, "Network.enable", {})
            self._send(session_id, "Network.emulateNetworkConditions", conditions(network))
            attached = True
        return attached

    def close(self):
        self.session.detach()


# ---------------------------------------------------------------------------
# One run


def _wait_until(page, predicate: str, timeout_ms: int = TIMEOUT_MS) -> bool:
    return page.evaluate(
        f"""async (timeout) => {{
            const check = {predicate};
            for (const end = Date.now() + timeout; Date.now() < end;) {{
                if (await check()) return true;
                await new Promise((resolve) => setTimeout(resolve, 50));
            }}
            return false;
        }}""",
        timeout_ms,
    )


def _first_paint_ms(page) -> float:
    page.wait_for_function("() => window.__bench && window.__bench.fcp", timeout=TIMEOUT_MS)
    return page.evaluate("window.__bench.fcp - performance.timeOrigin")


def one_run(browser, base: str, path: str, network: dict) -> dict:
    url = base + path
    context = browser.new_context(**PHONE)
    context.set_default_timeout(TIMEOUT_MS)
    context.add_init_script(PROBE)
    phases = Phases()
    page_wire, worker_wire = Wire("page", phases), Wire("worker", phases)
    workers = WorkerThrottle(browser)
    try:
        # 1. First visit: nothing cached, no worker yet.
        page = context.new_page()
        throttle_page(context, page, network, page_wire)
        phases.begin("first")
        page.goto(url, wait_until="load")
        first = _first_paint_ms(page)
        phases.begin(None)
        if not _wait_until(page, KEPT):
            raise RuntimeError("the service worker did not keep the check-in page")
        page.close()

        # 2. Repeat visit: a new tab; the worker holds the page's files.
        page = context.new_page()
        throttle_page(context, page, network, page_wire)
        throttled_worker = workers.attach(base, network, worker_wire)
        phases.begin("repeat")
        page.goto(url, wait_until="load")
        repeat = _first_paint_ms(page)
        page.wait_for_function("() => Boolean(navigator.serviceWorker.controller)")
        page.wait_for_function(CHECK_IN_JS_READY)

        # 3. Tap "I feel fine": until the confirmation's first frame.
        throttled_worker = workers.attach(base, network, worker_wire) and throttled_worker
        phases.begin("tap")
        page.get_by_role("button", name=FINE).click()
        page.wait_for_function(
            "() => window.__bench && window.__bench.confirmed && window.__bench.fcp",
            timeout=TIMEOUT_MS,
        )
        shown = page.evaluate("""() => ({
            tap: Number(sessionStorage.getItem("bench:tap")),
            shown: Math.max(window.__bench.confirmed, window.__bench.fcp),
        })""")
        phases.begin("after")
        try:
            page.wait_for_function("() => window.__bench.chart", timeout=15_000)
            chart = page.evaluate("window.__bench.chart") - shown["tap"]
        except Exception:  # noqa: BLE001 - a chart that never came is recorded as such
            chart = None
        if "/done/" not in page.url:
            raise RuntimeError(f"the tap ended on {page.url}, not a done page")
    finally:
        workers.close()
        context.close()

    # The page's "Fetch" is check-in.js's POST and the redirect it follows.
    paths = {
        "first": critical_path(page_wire, worker_wire, "first", {"Document", "Stylesheet"}),
        "repeat": critical_path(page_wire, worker_wire, "repeat", {"Document", "Stylesheet"}),
        "tap": critical_path(page_wire, worker_wire, "tap", {"Document", "Stylesheet", "Fetch"}),
    }
    return {
        "first": first,
        "repeat": repeat,
        "tap": shown["shown"] - shown["tap"],
        "chart": chart,
        "paths": paths,
        "worker_throttled": bool(throttled_worker),
    }


# ---------------------------------------------------------------------------
# The whole measurement


def _sessions(env: dict, count: int) -> list[str]:
    data.manage(env, "migrate", "--noinput", "-v", "0")
    done = subprocess.run(
        [sys.executable, "-m", "bench.tasks", "phone", str(count)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode:
        raise RuntimeError(f"bench.tasks phone failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])["paths"]


def checkout(revision: str, into: Path) -> Path:
    """The tree of ``revision`` (``git archive``), its static files collected, to serve beside
    this one. It must have the same migrations: both servers share one database."""
    archive = subprocess.run(
        ["git", "archive", "--format=tar", revision], cwd=ROOT, capture_output=True, check=True
    ).stdout
    into.mkdir(parents=True)
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive, check=True)
    ours, theirs = (sorted((tree / "tracker" / "migrations").glob("*.py")) for tree in (ROOT, into))
    if [p.name for p in ours] != [p.name for p in theirs] or any(
        a.read_bytes() != b.read_bytes() for a, b in zip(ours, theirs)
    ):
        raise RuntimeError(f"{revision} has other migrations: it cannot share this database")
    return into


def _tree_env(env: dict, root: Path, static_root: Path) -> dict:
    return {**env, "PYTHONPATH": str(root), "STATIC_ROOT": str(static_root)}


def _collectstatic(env: dict, root: Path) -> None:
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "-v", "0"],
        cwd=root,
        env={**env, "DATABASE_URL": "sqlite:///:memory:"},
        check=True,
    )


def measure(workdir: Path, static_root: Path, runs: int = RUNS, before: str | None = None) -> dict:
    """Every network of NETWORKS, ``runs`` runs each: the raw numbers and the medians.

    With ``before`` (a git revision), that revision's code is served too, from
    the same database, and measured in turns with this one (alternating which
    goes first): on a busy machine, both then share the same conditions.
    """
    from playwright.sync_api import sync_playwright  # noqa: PLC0415

    from bench.procs import Server  # noqa: PLC0415
    from tests.browser.conftest import CHROMIUM_ARGS  # noqa: PLC0415

    env = data.django_env(f"sqlite:///{workdir / 'phone.sqlite3'}", STATIC_ROOT=str(static_root))
    trees = {"after": (ROOT, env)}
    if before:
        root = checkout(before, workdir / "before")
        before_env = _tree_env(env, root, workdir / "before-static")
        _collectstatic(before_env, root)
        trees = {"before": (root, before_env), **trees}
    # A run, a warm-up per tree, and as many spares for runs taken again.
    paths = _sessions(env, (2 * runs * len(NETWORKS) + 1) * len(trees))
    load_start = os.getloadavg()
    measured = {label: {name: [] for name in NETWORKS} for label in trees}
    retaken = dict.fromkeys(trees, 0)
    with contextlib.ExitStack() as stack:
        bases = {}
        for label, (root, tree_env) in trees.items():
            server = stack.enter_context(Server(tree_env, workdir, f"phone-{label}", 2, root=root))
            bases[label] = f"http://127.0.0.1:{server.port}"
        playwright = stack.enter_context(sync_playwright())
        browser = playwright.chromium.launch(
            executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS
        )
        stack.callback(browser.close)
        for base in bases.values():
            # A warm-up: every gunicorn worker loads the views before anything is timed.
            one_run(browser, base, paths.pop(), next(iter(NETWORKS.values())))
        for name, network in NETWORKS.items():
            for run in range(runs):
                order = list(bases) if run % 2 == 0 else list(reversed(bases))
                for label in order:
                    result = one_run(browser, bases[label], paths.pop(), network)
                    if not _worker_under(result):
                        # A page the worker fetched outside the emulated network (a worker
                        # started again after it was attached): too fast to count.
                        log(f"{name} run {run + 1}: the worker's fetch was not seen; again")
                        retaken[label] += 1
                        result = one_run(browser, bases[label], paths.pop(), network)
                    measured[label][name].append(result)
                    log(
                        f"{name} run {run + 1}{f' ({label})' if before else ''}: first "
                        f"{result['first']:.0f} ms, repeat {result['repeat']:.0f} ms, "
                        f"tap {result['tap']:.0f} ms"
                    )
    phone = {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "runs": runs,
        "cpu_slowdown": CPU_SLOWDOWN,
        "networks": NETWORKS,
        "results": {name: summarize(measured["after"][name], NETWORKS[name]) for name in NETWORKS},
        "load_start": " ".join(f"{x:.2f}" for x in load_start),
        "load_end": " ".join(f"{x:.2f}" for x in os.getloadavg()),
        "retaken": retaken["after"],
    }
    if before:
        phone["before"] = {
            "label": before,
            "results": {
                name: summarize(measured["before"][name], NETWORKS[name]) for name in NETWORKS
            },
        }
    return phone


def _worker_under(result: dict) -> bool:
    """Whether every page the worker fetched went through the emulated network."""
    return result["worker_throttled"] and not any(
        path["worker_unseen"] for path in result["paths"].values()
    )


def summarize(measured: list[dict], network: dict) -> dict:
    out = {"runs": measured}
    for key in (*FIGURES, "chart"):
        values = [run[key] for run in measured if run[key] is not None]
        out[key] = round(statistics.median(values)) if values else None
    for key in FIGURES:
        floors = [floor_ms(run["paths"][key], network) for run in measured]
        middle = sorted(measured, key=lambda run: run[key])[len(measured) // 2]
        out[f"{key}_floor"] = round(statistics.median(floors))
        out[f"{key}_path"] = middle["paths"][key]
    out["worker_throttled"] = all(run["worker_throttled"] for run in measured)
    out["worker_unseen"] = sum(
        run["paths"][key]["worker_unseen"] for run in measured for key in FIGURES
    )
    return out


# ---------------------------------------------------------------------------
# The results' section


def _ms(value) -> str:
    return "—" if value is None else f"{value:,.0f} ms"


def section(phone: dict) -> tuple[list[str], list[tuple[str, str, bool]]]:
    """The Markdown section and its targets, as (target, measured, passed)."""
    lines = [
        HEADING,
        "",
        (
            f"Chromium as a phone: 390×844 touch screen, the page's CPU slowed "
            f"{phone['cpu_slowdown']}×, network emulated by CDP (the same conditions on the service "
            f"worker's target); each figure the median of {phone['runs']} runs, each a fresh session "
            "in a fresh browser context; the app under gunicorn as above, on a small database of "
            f"its own. Measured {phone['date']} (load average {phone['load_start']} at the start, "
            f"{phone['load_end']} at the end). **Floor**: round trips one after another × RTT + "
            "bytes on that path ÷ bandwidth (headers included). What each figure includes and what "
            "the emulation leaves out: `bench/README.md`."
        ),
        "",
    ]
    summary, rows = [], []
    for name, result in phone["results"].items():
        network = phone["networks"][name]
        label = (
            f"{name} ({network['down_kbps']:,}/{network['up_kbps']:,} kbit/s, "
            f"{network['rtt_ms']} ms RTT)"
        )
        for key, (figure, target) in FIGURES.items():
            path = result[f"{key}_path"]
            runs = ", ".join(f"{run[key]:,.0f}" for run in result["runs"])
            passed = None
            if name == "Slow 3G":
                passed = result[key] is not None and result[key] <= target
                summary.append(
                    (f"Phone, Slow 3G, {figure}: ≤ {target:,} ms", _ms(result[key]), passed)
                )
            rows.append(
                [
                    label,
                    figure,
                    _ms(result[key]),
                    runs,
                    _ms(result[f"{key}_floor"]),
                    path["round_trips"],
                    f"{path['down_bytes']:,}",
                    f"≤ {target:,} ms" if name == "Slow 3G" else "",
                    "" if passed is None else ("✓" if passed else "✗"),
                ]
            )
        rows.append(
            [
                label,
                "(the chart's first frame, after the tap)",
                _ms(result["chart"]),
                ", ".join(_ms(run["chart"]).removesuffix(" ms") for run in result["runs"]),
                "",
                "",
                "",
                "",
                "",
            ]
        )
    lines += [
        "| network | figure | median | runs (ms) | floor | round trips | bytes | target |  |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    lines.append("")
    unthrottled = [
        name
        for name, result in phone["results"].items()
        if not result["worker_throttled"] or result["worker_unseen"]
    ]
    if unthrottled:
        lines += [
            (
                f"**In {', '.join(unthrottled)}, a page the service worker fetched was not "
                "seen under the emulated network: those figures are too fast.**"
            ),
            "",
        ]
    if phone.get("retaken"):
        lines += [
            (
                f"{phone['retaken']} run(s) taken again: the service worker's own fetch of "
                "the page was not seen under the emulated network."
            ),
            "",
        ]
    if phone.get("before"):
        lines += _before_after(phone)
    return lines, summary


def _before_after(phone: dict) -> list[str]:
    before = phone["before"]
    lines = [
        (
            f"Beside the code of `{before['label']}`, served from the same database and "
            "measured in turns with it, in the same run (medians):"
        ),
        "",
        "| network | figure | before | after | floor before | floor after |",
        "|---|---|---|---|---|---|",
    ]
    for name, result in phone["results"].items():
        old = before["results"].get(name)
        if not old:
            continue
        for key, (figure, _target) in FIGURES.items():
            lines.append(
                f"| {name} | {figure} | {_ms(old[key])} | {_ms(result[key])} | "
                f"{_ms(old[f'{key}_floor'])} | {_ms(result[f'{key}_floor'])} |"
            )
        lines.append(
            f"| {name} | (the chart's first frame) | {_ms(old['chart'])} | "
            f"{_ms(result['chart'])} |  |  |"
        )
    return lines + [""]


def write_section(phone: dict, results: Path = RESULTS) -> None:
    """Put the section into results.md in place of the previous one."""
    replace_section(results, HEADING, section(phone)[0])


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=RUNS)
    parser.add_argument(
        "--before",
        metavar="REVISION",
        help="also serve this git revision and measure both in turns",
    )
    parser.add_argument("--output", default=str(RESULTS), help="the results page to update")
    parser.add_argument("--raw", default=str(OUTPUT), help="where to keep the raw numbers")
    args = parser.parse_args(argv)

    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="needle-phone-") as tmp:
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
        phone = measure(workdir, static_root, args.runs, args.before)
    raw = Path(args.raw)
    raw.parent.mkdir(parents=True, exist_ok=True)
    raw.write_text(json.dumps(phone, indent=1))
    write_section(phone, Path(args.output))
    print("\n".join(section(phone)[0]))
    log(f"wrote {args.output} and {raw} in {(time.monotonic() - started) / 60:.1f} min")
    return 0


if __name__ == "__main__":
    sys.exit(main())

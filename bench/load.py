"""The load driver: a second process that sends bounded HTTP traffic to 127.0.0.1.

Standard library only (threads + http.client, one keep-alive connection per
thread; gunicorn's sync workers close each connection, and http.client then
reconnects, so the connect is part of every latency, for the floor as for
every page). ``bench/run.py`` writes a JSON job on stdin and reads a JSON
result on stdout:

    {"port": 8123, "job": "load", "scenario": {...}}   -> rps, p50, p95, errors
    {"port": 8123, "job": "page_weight", "path": ...}  -> bytes of a page and its assets
    {"port": 8123, "job": "login", "username": ..., "password": ...} -> a session cookie
    {"port": 8123, "job": "image_src", "path": ..., "cookie": ..., "contains": ...}
        -> the address of the page's first image whose address contains ``contains``

A scenario is bounded twice: at most ``max_requests`` requests and at most
``time_limit`` seconds (``hit_time_limit`` and ``unsent`` say when the time
ran out first). Every request asks for gzip, as browsers and phones do. A
failed request counts in the percentiles: with the time it took when the
server answered with the wrong status, as infinitely slow when it never
answered (a network error or the client's timeout). Only 127.0.0.1 is ever
contacted.
"""

import gzip
import http.client
import json
import math
import os
import statistics
import sys
import threading
import time
from html.parser import HTMLParser
from urllib.parse import urlencode, urljoin, urlsplit

HOST = "127.0.0.1"
TIMEOUT = 60  # seconds for one request; a request that slow counts as an error
# What a browser sends; the app compresses what it answers (GZipMiddleware).
DEFAULT_HEADERS = {"Accept-Encoding": "gzip", "User-Agent": "needle-bench"}
# Requests of a floor and of the page it is compared with, in turns (``interleave``).
INTERLEAVE_BLOCK = 10


def percentile(values, q):
    """The q-th percentile (0-100) by linear interpolation; None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    position = (len(ordered) - 1) * q / 100
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    if position == low or ordered[high] == ordered[low]:
        return ordered[low]
    if math.isinf(ordered[high]):  # a request that never answered
        return math.inf
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def summary(latencies, seconds, errors, failed=()):
    """``latencies``: successful requests (s); ``failed``: failed ones (s, inf if unanswered).

    The percentiles are of every request sent; throughput counts successes only.
    """
    ms = [value * 1000 for value in latencies]
    every = ms + [value * 1000 for value in failed]
    return {
        "requests": len(latencies) + sum(errors.values()),
        "ok": len(latencies),
        "errors": errors,
        "seconds": round(seconds, 3),
        "rps": round(len(latencies) / seconds, 1) if seconds > 0 else None,
        "p50_ms": _round(percentile(every, 50)),
        "p95_ms": _round(percentile(every, 95)),
        "p99_ms": _round(percentile(every, 99)),
        "max_ms": _round(max(every) if every else None),
        "mean_ms": _round(statistics.fmean(ms) if ms else None),  # of the successes
    }


def _round(value):
    if value is None or math.isinf(value):
        return value
    return round(value, 2)


class Client:
    """One keep-alive connection, reopened whenever the server closes it."""

    def __init__(self, port, headers=None):
        self.port = port
        self.headers = {**DEFAULT_HEADERS, **(headers or {})}
        self.connection = None

    def request(self, method, path, body=None, headers=None):
        """(status, response headers, body bytes); raises on a network error."""
        for attempt in (1, 2):
            if self.connection is None:
                self.connection = http.client.HTTPConnection(HOST, self.port, timeout=TIMEOUT)
            all_headers = {**self.headers, **(headers or {})}
            if body is not None:
                all_headers.setdefault("Content-Type", "application/x-www-form-urlencoded")
            try:
                self.connection.request(method, path, body=body, headers=all_headers)
                response = self.connection.getresponse()
                data = response.read()
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError):
                # A kept-alive connection the server had already closed: reopen once.
                # Never for a POST, which may have been received: a second copy
                # would be a resend the benchmark did not ask for.
                self.close()
                if attempt == 2 or method != "GET":
                    raise
                continue
            if response.will_close:
                self.close()
            return response.status, response.getheaders(), data
        raise AssertionError("unreachable")

    def close(self):
        if self.connection is not None:
            self.connection.close()
            self.connection = None


# ---------------------------------------------------------------------------
# Load: many threads, a bounded list of requests


def run_load(port, scenario):
    """Send the scenario's requests from ``concurrency`` threads; return the summary.

    ``scenario``: ``concurrency``, ``max_requests``, ``time_limit`` (s),
    ``headers`` (e.g. the session cookie), ``expect`` (statuses that count as
    success), ``warmup`` (requests sent first, not measured) and either
    ``path`` (the same GET, ``max_requests`` times) or ``items``: a list of
    ``{"method", "path", "body", "resend"}`` sent once each; an item with
    ``resend`` is sent a second time, same body, right after its first answer.
    ``expect_location``: a redirect counts as success only if its Location
    contains this text. ``interleave``: a path (a floor) that the same client
    requests in turns with the items, INTERLEAVE_BLOCK of one, then as many of
    the other, timed apart (``interleaved`` in the result): the items and their
    floor meet the same seconds of the machine, and each is measured as it is
    alone, after a request like it. ``clear_cache_dir``: before each request
    (untimed), empty the server's file cache, so the request finds nothing
    cached (concurrency 1 only: another request would fill it in between).
    """
    concurrency = scenario["concurrency"]
    expect = set(scenario.get("expect", [200]))
    # For a check-in POST: a redirect is success only when it goes to the "done" page.
    expect_location = scenario.get("expect_location")
    headers = scenario.get("headers", {})
    items = scenario.get("items")
    if items is None:
        items = [{"method": "GET", "path": scenario["path"]}] * scenario["max_requests"]
    items = items[: scenario["max_requests"]]

    for warm in scenario.get("warmup", []):
        _warm_up(port, warm, headers)

    lock = threading.Lock()
    state = {"next": 0}
    latencies, resend_latencies, failed = [], [], []
    clear_cache_dir = scenario.get("clear_cache_dir")
    if clear_cache_dir and concurrency != 1:
        raise ValueError("clear_cache_dir needs concurrency 1")
    errors, resend_errors = {}, {}
    interleave = scenario.get("interleave")
    between = {"latencies": [], "failed": [], "errors": {}}
    outcomes = [None] * len(items)
    start_barrier = threading.Barrier(concurrency + 1)
    deadline_box = {}

    def take():
        with lock:
            index = state["next"]
            if index >= len(items) or time.perf_counter() > deadline_box["deadline"]:
                return None
            state["next"] = index + 1
            return index

    def send(client, item):
        started = time.perf_counter()
        try:
            status, response_headers, _body = client.request(
                item.get("method", "GET"), item["path"], body=item.get("body")
            )
        except Exception as error:  # noqa: BLE001 - every failure is counted, by kind
            return math.inf, type(error).__name__, None  # never answered
        location = dict((k.lower(), v) for k, v in response_headers).get("location")
        if expect_location and status in expect and expect_location not in (location or ""):
            status = f"{status} to {_redact(location or '')}"
        return time.perf_counter() - started, status, location

    def worker():
        client = Client(port, headers)
        mine, mine_resend, mine_failed, my_errors, my_resend_errors = [], [], [], {}, {}
        my_between = {"latencies": [], "failed": [], "errors": {}}
        start_barrier.wait()
        while (index := take()) is not None:
            item = items[index]
            if interleave and index % INTERLEAVE_BLOCK == 0:
                for _ in range(INTERLEAVE_BLOCK):
                    seconds, status, _location = send(client, {"path": interleave})
                    if status == 200:
                        my_between["latencies"].append(seconds)
                    else:
                        my_between["failed"].append(seconds)
                        errors_seen = my_between["errors"]
                        errors_seen[str(status)] = errors_seen.get(str(status), 0) + 1
            if clear_cache_dir:
                _clear_cache(clear_cache_dir)
            seconds, status, location = send(client, item)
            outcome = {"status": status, "location": location}
            if status in expect:
                mine.append(seconds)
            else:
                mine_failed.append(seconds)
                my_errors[str(status)] = my_errors.get(str(status), 0) + 1
            if item.get("resend"):
                seconds, status, location = send(client, item)
                outcome["resend_status"], outcome["resend_location"] = status, location
                if status in expect:
                    mine_resend.append(seconds)
                else:
                    my_resend_errors[str(status)] = my_resend_errors.get(str(status), 0) + 1
            outcomes[index] = outcome
        client.close()
        with lock:
            latencies.extend(mine)
            resend_latencies.extend(mine_resend)
            failed.extend(mine_failed)
            between["latencies"].extend(my_between["latencies"])
            between["failed"].extend(my_between["failed"])
            for key, count in my_between["errors"].items():
                between["errors"][key] = between["errors"].get(key, 0) + count
            for table, mine_table in ((errors, my_errors), (resend_errors, my_resend_errors)):
                for key, count in mine_table.items():
                    table[key] = table.get(key, 0) + count

    threads = [threading.Thread(target=worker, daemon=True) for _ in range(concurrency)]
    for thread in threads:
        thread.start()
    deadline_box["deadline"] = time.perf_counter() + scenario["time_limit"]
    started = time.perf_counter()
    start_barrier.wait()
    for thread in threads:
        thread.join(scenario["time_limit"] + 2 * TIMEOUT)
    seconds = time.perf_counter() - started

    result = summary(latencies, seconds, errors, failed)
    result["concurrency"] = concurrency
    result["sent_items"] = state["next"]
    result["planned"] = len(items)
    result["unsent"] = len(items) - state["next"]
    result["hit_time_limit"] = state["next"] < len(items)
    if any(item.get("resend") for item in items):
        result["resend"] = summary(resend_latencies, seconds, resend_errors)
    if interleave:
        # Its throughput is of the time spent on it alone (one client).
        spent = sum(between["latencies"]) + sum(t for t in between["failed"] if t != math.inf)
        result["interleaved"] = summary(
            between["latencies"], spent, between["errors"], between["failed"]
        )
    if scenario.get("return_outcomes"):
        result["outcomes"] = outcomes
    return result


def _clear_cache(folder):
    """Remove every entry of Django's file cache in ``folder`` (not its lock file)."""
    try:
        names = os.listdir(folder)
    except FileNotFoundError:
        return
    for name in names:
        if name.endswith(".djcache"):
            try:
                os.remove(os.path.join(folder, name))
            except FileNotFoundError:
                pass


def _warm_up(port, warm, headers):
    """``count`` requests for ``path`` from ``concurrency`` threads, unmeasured."""
    count, concurrency = warm["count"], warm.get("concurrency", 1)
    paths = warm.get("paths") or [warm["path"]] * count
    lock = threading.Lock()
    queue = list(paths)

    def worker():
        client = Client(port, headers)
        while True:
            with lock:
                if not queue:
                    break
                path = queue.pop()
            try:
                client.request(warm.get("method", "GET"), path, body=warm.get("body"))
            except Exception:  # noqa: BLE001 - a warm-up failure shows in the measured run
                client.close()
        client.close()

    threads = [threading.Thread(target=worker) for _ in range(concurrency)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


# ---------------------------------------------------------------------------
# Page weight: what a phone downloads on a first and on a repeat visit


class _Assets(HTMLParser):
    """Same-origin URLs a page makes the browser load (styles, scripts, icons, manifest)."""

    LOADED_RELS = {"stylesheet", "icon", "manifest", "apple-touch-icon", "preload", "modulepreload"}

    def __init__(self):
        super().__init__()
        self.found = []  # (kind, url)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "link" and attrs.get("href"):
            rels = set((attrs.get("rel") or "").lower().split())
            kind = next((rel for rel in sorted(rels) if rel in self.LOADED_RELS), None)
            if kind:
                self.found.append((kind, attrs["href"]))
        elif tag == "script" and attrs.get("src"):
            self.found.append(("script", attrs["src"]))
            if attrs.get("data-src"):  # load.js: the script it loads once the page has
                self.found.append(("script (after load)", attrs["data-src"]))
            if attrs.get("data-service-worker"):
                self.found.append(("service worker", attrs["data-service-worker"]))
        elif tag == "img" and attrs.get("src"):
            self.found.append(("img", attrs["src"]))


def _wire_bytes(status, headers, body):
    """Bytes on the wire: status line, headers and body as the server sent them."""
    head = len(f"HTTP/1.1 {status} XX\r\n") + sum(len(k) + len(v) + 4 for k, v in headers) + 2
    return head, len(body)


def _decoded(headers, body):
    """The body as a browser reads it: gzip undone (the page and manifest are parsed)."""
    encoding = dict((k.lower(), v) for k, v in headers).get("content-encoding", "identity")
    encoding = encoding.strip().lower()
    if encoding == "gzip":
        return gzip.decompress(body)
    if encoding in ("", "identity"):
        return body
    # Brotli is not in the standard library; nothing parsed here is sent as br today.
    raise RuntimeError(f"page_weight cannot read a body sent with Content-Encoding {encoding!r}")


def _reusable_without_request(headers) -> bool:
    """Whether a browser may reuse the response for a long time without asking again."""
    cache_control = dict((k.lower(), v) for k, v in headers).get("cache-control", "").lower()
    directives = {part.strip().split("=")[0]: part.strip() for part in cache_control.split(",")}
    if "no-cache" in directives or "no-store" in directives:
        return False
    max_age = directives.get("max-age", "max-age=0").split("=", 1)[1]
    try:
        return int(max_age) >= 24 * 60 * 60
    except ValueError:
        return False


def _revalidation_headers(headers) -> dict:
    """What a browser sends to ask whether its stored copy is still current.

    A response it may store (anything but ``no-store``) that carries an ETag
    or a Last-Modified is asked about with If-None-Match / If-Modified-Since
    once it is stale or marked ``no-cache``; the server may answer 304 with no
    body. Without a validator there is nothing to ask with: it is sent again.
    """
    lower = dict((k.lower(), v) for k, v in headers)
    cache_control = lower.get("cache-control", "").lower()
    if "no-store" in {part.strip().split("=")[0] for part in cache_control.split(",")}:
        return {}
    asked = {}
    if lower.get("etag"):
        asked["If-None-Match"] = lower["etag"]
    if lower.get("last-modified"):
        asked["If-Modified-Since"] = lower["last-modified"]
    return asked


def page_weight(port, path):
    """Every same-origin resource of the page, with its compressed size and caching.

    The browser's requests ask for gzip and brotli, as phones do. The service
    worker script is counted too: check-in.js registers it on the first
    visit, and browsers fetch it again on later visits to check for updates.
    Icons listed only in the web app manifest are fetched when the page is
    installed to a home screen; they are listed, not added to the visit.

    Repeat visit: what ``Cache-Control`` lets the browser keep for a day costs
    nothing; everything else is requested again as a browser would, with the
    stored copy's validators (a service worker's update check too: the spec
    fetches it with cache mode "no-cache", a conditional request), and what
    the server answers, a 304 or the whole file, is what is counted.
    """
    client = Client(port, {"Accept-Encoding": "gzip, br", "User-Agent": "needle-bench"})
    resources = []
    asked_again = {}  # id(resource) -> (target, revalidation headers)

    def fetch(kind, url, counted=True):
        parts = urlsplit(url)
        if parts.netloc and parts.netloc != f"{HOST}:{port}":
            resources.append({"kind": kind, "url": url, "external": True})
            return None
        target = parts.path + (f"?{parts.query}" if parts.query else "")
        status, headers, body = client.request("GET", target)
        head, size = _wire_bytes(status, headers, body)
        lower = dict((k.lower(), v) for k, v in headers)
        resources.append(
            {
                "kind": kind,
                "url": _redact(target),
                "status": status,
                "header_bytes": head,
                "body_bytes": size,
                "encoding": lower.get("content-encoding", "identity"),
                "cache_control": lower.get("cache-control", ""),
                "cached_for_repeat": _reusable_without_request(headers),
                "counted": counted,
            }
        )
        asked_again[id(resources[-1])] = (target, _revalidation_headers(headers))
        return _decoded(headers, body)

    html = fetch("page", path)
    parser = _Assets()
    parser.feed(html.decode("utf-8", "replace"))
    seen = set()
    for kind, url in parser.found:
        absolute = urljoin(path, url)
        if absolute in seen:
            continue
        seen.add(absolute)
        body = fetch(kind, absolute)
        if kind == "manifest" and body:
            for icon in json.loads(body).get("icons", []):
                icon_url = urljoin(absolute, icon["src"])
                if icon_url not in seen:
                    seen.add(icon_url)
                    fetch("manifest icon (install only)", icon_url, counted=False)
    counted = [r for r in resources if r.get("counted") and not r.get("external")]
    for r in counted:
        if r["cached_for_repeat"]:
            continue
        target, asked = asked_again[id(r)]
        if asked:
            status, headers, body = client.request("GET", target, headers=asked)
            head, size = _wire_bytes(status, headers, body)
            r["repeat_status"], r["repeat_bytes"] = status, head + size
        else:
            r["repeat_status"], r["repeat_bytes"] = r["status"], r["header_bytes"] + r["body_bytes"]
    client.close()
    return {
        "resources": resources,
        "first_visit_bytes": sum(r["header_bytes"] + r["body_bytes"] for r in counted),
        "repeat_visit_bytes": sum(r["repeat_bytes"] for r in counted if not r["cached_for_repeat"]),
        "external": [r["url"] for r in resources if r.get("external")],
    }


def _redact(path):
    """The page's own path holds a patient token: never print it."""
    if path.startswith("/f/") and path.count("/") >= 3 and not path.startswith("/f/sw.js"):
        return "/f/<token>/" + path.split("/", 3)[3]
    return path


# ---------------------------------------------------------------------------
# Signing in through the login form, as a browser does


class _CsrfField(HTMLParser):
    def __init__(self):
        super().__init__()
        self.token = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "input" and attrs.get("name") == "csrfmiddlewaretoken":
            self.token = attrs.get("value")


class _ImageSources(HTMLParser):
    def __init__(self):
        super().__init__()
        self.sources = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "img" and attrs.get("src"):
            self.sources.append(attrs["src"])


def image_src(port, path, cookie, contains):
    """The address of an image as the page at ``path`` asks for it (signed in with ``cookie``)."""
    client = Client(port, {"Cookie": cookie})
    status, headers, body = client.request("GET", path)
    client.close()
    if status != 200:
        raise SystemExit(f"{_redact(path)} answered {status}")
    images = _ImageSources()
    images.feed(_decoded(headers, body).decode("utf-8", "replace"))
    found = [src for src in images.sources if contains in src]
    if not found:
        raise SystemExit(f"no image with {contains!r} in {_redact(path)}")
    return {"src": found[0]}


def _cookies(headers) -> dict:
    jar = {}
    for name, value in headers:
        if name.lower() == "set-cookie":
            pair = value.split(";", 1)[0]
            key, _, val = pair.partition("=")
            jar[key.strip()] = val.strip()
    return jar


def login(port, username, password):
    """GET the login form (CSRF cookie and field), POST it; the Cookie header to reuse."""
    client = Client(port)
    status, headers, body = client.request("GET", "/accounts/login/")
    if status != 200:
        raise SystemExit(f"login form answered {status}")
    jar = _cookies(headers)
    field = _CsrfField()
    field.feed(_decoded(headers, body).decode("utf-8", "replace"))
    form = urlencode(
        {
            "csrfmiddlewaretoken": field.token,
            "username": username,
            "password": password,
            "next": "/",
        }
    )
    cookie = "; ".join(f"{k}={v}" for k, v in jar.items())
    status, headers, _body = client.request(
        "POST", "/accounts/login/", body=form, headers={"Cookie": cookie}
    )
    client.close()
    jar.update(_cookies(headers))
    if status != 302 or "sessionid" not in jar:
        raise SystemExit(f"signing in as {username} failed: HTTP {status}")
    return {"cookie": "; ".join(f"{k}={v}" for k, v in jar.items() if k == "sessionid")}


def main():
    job = json.load(sys.stdin)
    port = job["port"]
    if job["job"] == "load":
        result = run_load(port, job["scenario"])
    elif job["job"] == "page_weight":
        result = page_weight(port, job["path"])
    elif job["job"] == "login":
        result = login(port, job["username"], job["password"])
    elif job["job"] == "image_src":
        result = image_src(port, job["path"], job["cookie"], job["contains"])
    else:
        raise SystemExit(f"unknown job {job['job']!r}")
    json.dump(result, sys.stdout)


if __name__ == "__main__":
    main()

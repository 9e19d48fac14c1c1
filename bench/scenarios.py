"""What is measured against one database: the floors, the staff pages, the
patient's check-in page, the caches emptied, and check-ins posted under load.

Every figure is compared with the floor that fits its kind of request, measured
in the same server: for a page (one client), by the same client in turns with
it, ten requests of each, so that the page and its floor meet the same
seconds of a shared machine; for submissions, just before them at the same
number of clients:

- staff pages and the cached chart: the **staff floor** (signed in: the session
  and the user loaded, then ``ok``);
- the patient's check-in page: the **anonymous floor** (``ok``, nothing loaded);
- check-in submissions: the **write floor** (one row inserted in a transaction).
"""

from bench.procs import Server, driver, load, log, page_weight, task

CONCURRENCY = (1, 8, 32)
RESEND_EVERY = 20  # one submission in 20 (5 %) is sent twice with the same body
ANONYMOUS, STAFF, WRITE = "anonymous", "staff", "write"
FLOOR_PATHS = {ANONYMOUS: "/bench/floor", STAFF: "/bench/floor/staff", WRITE: "/bench/floor/write"}
STAFF_PAGES = ("dashboard", "patient page", "alert inbox", "analytics page", "chart image")
CHART_IMAGE = "soreness.svg"  # how the patient page's chart is told from its other images


def cache_dir(env: dict) -> str:
    """The folder of the server's file cache (production's default, shared by its workers)."""
    return env["CACHE_URL"].removeprefix("file://")


def floor(port: int, kind: str, concurrency: int, requests: int, cookie: str = "") -> dict:
    """One floor at ``concurrency`` clients: ``requests`` requests (30 s at most)."""
    path = FLOOR_PATHS[kind]
    scenario = {
        "concurrency": concurrency,
        "max_requests": requests,
        "time_limit": 30,
        "headers": {"Cookie": cookie} if kind == STAFF else {},
    }
    if kind == WRITE:
        scenario["items"] = [
            {"method": "POST", "path": path, "body": f"key=floor-{i}"} for i in range(requests)
        ]
        scenario["warmup"] = [
            {"path": path, "count": 50, "concurrency": 4, "method": "POST", "body": "key=warm"}
        ]
    else:
        scenario["path"] = path
        scenario["warmup"] = [{"path": path, "count": 50, "concurrency": 4}]
    result = load(port, scenario)
    result["kind"] = kind
    return result


def with_floor(port, kind, scenario, floor_requests, cookie="") -> dict:
    """The scenario, with the floor of ``kind``.

    At one client the floor and the scenario take turns, ten requests each
    (``interleave``): other work on a small machine comes and goes within
    seconds, and a floor measured in turns with the page meets what the page
    meets. At more clients (submissions, whose floor is a throughput) it is
    measured just before, at the same number of clients.
    """
    if scenario["concurrency"] == 1 and kind != WRITE:
        path = FLOOR_PATHS[kind]
        scenario = {
            **scenario,
            "interleave": path,
            "warmup": [*scenario.get("warmup", []), {"path": path, "count": 50, "concurrency": 4}],
        }
        result = load(port, scenario)
        beside = result.pop("interleaved")
    else:
        beside = floor(port, kind, scenario["concurrency"], floor_requests, cookie)
        result = load(port, scenario)
    result["floor"] = {
        "kind": kind,
        **{k: beside[k] for k in ("rps", "p50_ms", "p95_ms", "errors", "ok", "requests")},
    }
    return result


def staff_pages(port, fx, tier, workers, env) -> dict:
    """Each page at one client: latency without queueing. Warm-up at one request per
    worker and more, so every worker has loaded templates (and the caches are filled)."""
    cookie = fx["cookie"]
    headers = {"Cookie": cookie}
    adjacent = tier["floor_requests"] // 2
    results = {}
    for name in STAFF_PAGES:
        path = fx["pages"][name]
        if name == "chart image":
            # As the patient page asks for it: its address carries the page's key,
            # so the view the page has recorded is not recorded again.
            path = driver(
                port,
                "image_src",
                path=fx["pages"]["patient page"],
                cookie=cookie,
                contains=CHART_IMAGE,
            )["src"]
        results[name] = with_floor(
            port,
            STAFF,
            {
                "path": path,
                "concurrency": 1,
                "max_requests": tier["page_requests"],
                "time_limit": tier["page_seconds"],
                "headers": headers,
                "warmup": [{"path": path, "count": 4 * workers, "concurrency": workers}],
            },
            adjacent,
            cookie,
        )
    # The patient's check-in page: anonymous, its link the only secret.
    path = fx["checkin_page"]
    results["check-in page"] = with_floor(
        port,
        ANONYMOUS,
        {
            "path": path,
            "concurrency": 1,
            "max_requests": tier["page_requests"],
            "time_limit": tier["page_seconds"],
            "warmup": [{"path": path, "count": 4 * workers, "concurrency": workers}],
        },
        adjacent,
    )
    # Without its cache: the file cache emptied before each request, so every
    # request computes the clinic's figures from the database (no warm-up).
    analytics = fx["pages"]["analytics page"]
    results["analytics cold"] = with_floor(
        port,
        STAFF,
        {
            "path": analytics,
            "concurrency": 1,
            "max_requests": tier["cold_requests"],
            "time_limit": 300,
            "headers": headers,
            "clear_cache_dir": cache_dir(env),
        },
        adjacent,
        cookie,
    )
    # Truly cold charts: a patient no worker has drawn, and the clinic's typical
    # course not cached either (the cache is emptied before each request).
    cold = [
        f"/patients/{pk}/soreness.svg" for pk in fx["chart_cold_patients"][: tier["cold_charts"]]
    ]
    results["chart cold"] = with_floor(
        port,
        STAFF,
        {
            "items": [{"path": path} for path in cold],
            "concurrency": 1,
            "max_requests": len(cold),
            "time_limit": 300,
            "headers": headers,
            "clear_cache_dir": cache_dir(env),
        },
        adjacent,
        cookie,
    )
    return results


def submissions(port, items, tier) -> dict:
    """Check-ins posted at 1, 8 and 32 clients; each item once, 5 % of them twice;
    the write floor at the same number of clients just before each."""
    results, start = {}, 0
    for concurrency in CONCURRENCY:
        count = tier["submissions"][concurrency]
        batch = [
            {
                "method": "POST",
                "path": it["path"],
                "body": it["body"],
                "resend": (start + i) % RESEND_EVERY == 0,
            }
            for i, it in enumerate(items[start : start + count])
        ]
        result = with_floor(
            port,
            WRITE,
            {
                "items": batch,
                "concurrency": concurrency,
                "max_requests": count,
                "time_limit": 120,
                "expect": [302],
                "expect_location": "/done/",
                "return_outcomes": True,
                "warmup": [
                    {"paths": [it["path"] for it in items[-16:]], "count": 16, "concurrency": 4}
                ],
            },
            max(count, tier["floor_requests"] // 2),
        )
        result["keys"] = [it["key"] for it in items[start : start + count]]
        results[concurrency] = result
        start += count
    return results


def check_submissions(env, clinic, results) -> dict:
    """Compare what the clients were told with what the database holds."""
    sent, acknowledged, resends_ok, resends = [], [], 0, 0
    for result in results.values():
        for key, outcome in zip(result["keys"], result.pop("outcomes")):
            if outcome is None:
                continue
            sent.append(key)
            if outcome["status"] == 302 and "/done/" in (outcome["location"] or ""):
                acknowledged.append(key)
            if "resend_status" in outcome:
                resends += 1
                resends_ok += outcome["resend_status"] == 302 and "/done/" in (
                    outcome["resend_location"] or ""
                )
        result.pop("keys")
    stored = task(env, "verify", {"clinic": clinic, "keys": acknowledged})
    unacknowledged = task(env, "verify", {"clinic": clinic, "keys": sent})
    lost = stored["missing_count"]
    # Stored but never sent, or more than one report per key or per check-in.
    duplicated = (
        unacknowledged["unexpected"]
        + (stored["reports"] - stored["distinct_keys"])
        + stored["follow_ups_with_two_reports"]
    )
    return {
        "sent": len(sent),
        "acknowledged": len(acknowledged),
        "stored": stored["reports"],
        "lost": lost,
        "duplicated": duplicated,
        "stored_without_acknowledgement": stored["unexpected"],
        "resends": resends,
        "resends_answered_done": resends_ok,
    }


def measure(label, env, workdir, tier, workers, *, checkins=0) -> dict:
    """Everything measured against one database: one server, then in-process queries."""
    log(f"{label}: fixtures (staff login, pages{', fresh check-ins' if checkins else ''})")
    fx = task(env, "fixtures", {"checkins": checkins, "cold_charts": tier["cold_charts"]})
    out = {"fixtures": {k: v for k, v in fx.items() if k not in ("cookie", "checkins")}}
    with Server(env, workdir, label.replace(" ", ""), workers) as server:
        log(f"{label}: gunicorn on 127.0.0.1:{server.port} with {workers} workers")
        # Signed in through the login form, as a therapist does; the session is reused.
        fx["cookie"] = driver(
            server.port, "login", username=fx["username"], password=fx["password"]
        )["cookie"]
        floors = {
            kind: floor(server.port, kind, 1, tier["floor_requests"], fx["cookie"])
            for kind in (ANONYMOUS, STAFF, WRITE)
        }
        for kind, result in floors.items():
            log(
                f"{label}: {kind} floor {result['rps']} req/s, p50 {result['p50_ms']} ms "
                f"at 1 client"
            )
        pages = staff_pages(server.port, fx, tier, workers, env)
        for name, result in pages.items():
            log(
                f"{label}: {name}: p50 {result['p50_ms']} ms, p95 {result['p95_ms']} ms"
                f" ({result['ok']} ok, errors {result['errors'] or 0}); "
                f"{result['floor']['kind']} floor p50 {result['floor']['p50_ms']} ms"
            )
        out.update(floor=floors, pages=pages)
        if checkins:
            items = fx["checkins"]["items"]
            weight_path = items[-1]["path"]  # never submitted: its check-in is open
            out["submissions"] = submissions(server.port, items[:-16], tier)
            # An open check-in never posted (only its page was fetched), for a profile.
            out["profile_checkin"] = {"path": items[-2]["path"], "body": items[-2]["body"]}
            for concurrency, result in out["submissions"].items():
                log(
                    f"{label}: submissions at {concurrency}: {result['rps']} req/s "
                    f"(write floor {result['floor']['rps']}), p50 {result['p50_ms']} ms, "
                    f"errors {result['errors'] or 0}"
                )
            out["weight"] = page_weight(server.port, weight_path)
        out["floor_end"] = floor(server.port, ANONYMOUS, 1, tier["floor_requests"])
    log(f"{label}: queries per request (in-process, test client)")
    out["queries"] = task(env, "queries", {"pages": fx["pages"]})
    if checkins:
        out["integrity"] = check_submissions(env, fx["checkins"]["clinic"], out["submissions"])
    return out

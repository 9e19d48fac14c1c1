"""``make screenshots``: the README's pictures of the demo, taken in Chromium.

    .venv/bin/python docs/make_screenshots.py

A fresh demo database in a temporary folder (``migrate``, ``seed_demo``, as
``make run`` makes it), served by ``runserver`` on a free port of 127.0.0.1
with DEBUG on; then Debian's Chromium, with the browser tests' flags, signs
in as the demo staff and takes:

- ``therapist.png``: the session page of a check-in open now (QR code and link), 1280×800;
- ``patient.png``: that check-in on the patient's phone, 390×844;
- ``lead.png``: the clinic lead's analytics, 1280×800.

Each is reduced to a 256-colour palette, which keeps it a few tens of KB.
"""

import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from PIL import Image
from playwright.sync_api import expect, sync_playwright

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.browser.conftest import CHROMIUM_ARGS  # noqa: E402

OUT = ROOT / "docs" / "screenshots"
PASSWORD = "needle-demo-2026"  # the demo staff's, from fixtures/demo.json
DESKTOP = {"viewport": {"width": 1280, "height": 800}}
PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}
TIMEOUT_MS = 15_000


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def manage(env, *arguments, **options):
    return subprocess.run(
        [sys.executable, "manage.py", *arguments], cwd=ROOT, env=env, check=True, **options
    )


def wait_for(url: str, server: subprocess.Popen) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            sys.exit("runserver stopped before answering.")
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            time.sleep(0.25)
    sys.exit(f"{url} did not answer within 60 s.")


def save(page, name: str) -> None:
    path = OUT / f"{name}.png"
    page.screenshot(path=str(path), animations="disabled")
    with Image.open(path) as image:
        small = image.convert("RGB").quantize(colors=256, dither=Image.Dither.NONE)
    small.save(path, optimize=True)
    width, height = small.size
    print(f"  {path.relative_to(ROOT)}  {width}×{height}  {path.stat().st_size // 1024} KB")


def sign_in(browser, base: str, username: str):
    context = browser.new_context(**DESKTOP)
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    page.goto(f"{base}/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()
    return page


def charts_drawn(page) -> None:
    page.wait_for_function(
        "() => [...document.querySelectorAll('img.chart')]"
        ".every(img => img.complete && img.naturalWidth > 0)"
    )


def take(browser, base: str) -> None:
    therapist = sign_in(browser, base, "ana")
    therapist.locator("#open li a").first.click()
    expect(therapist.locator(".qr svg")).to_be_visible()
    charts_drawn(therapist)
    save(therapist, "therapist")
    link = therapist.locator("#link-url").input_value()

    phone = browser.new_context(**PHONE)
    phone.set_default_timeout(TIMEOUT_MS)
    patient = phone.new_page()
    patient.goto(link)
    if patient.locator("html").get_attribute("lang") != "en":
        patient.get_by_role("button", name="English").click()  # the patient's own switch
    expect(patient.locator("form[novalidate]")).to_be_visible()
    save(patient, "patient")

    lead = sign_in(browser, base, "lena")
    lead.goto(f"{base}/analytics/")
    charts_drawn(lead)
    save(lead, "lead")


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryDirectory(prefix="needle-screenshots-") as folder:
        env = {
            **os.environ,
            "DEBUG": "1",
            "DATABASE_URL": f"sqlite:///{folder}/demo.sqlite3",
            "SITE_URL": base,
            "ALLOWED_HOSTS": "127.0.0.1",
            "EMAIL_BACKEND": "django.core.mail.backends.dummy.EmailBackend",
        }
        manage(env, "migrate", "--noinput", "--verbosity", "0")
        manage(env, "seed_demo")
        with open(Path(folder) / "runserver.log", "w") as log:
            server = subprocess.Popen(
                [sys.executable, "manage.py", "runserver", "--noreload", f"127.0.0.1:{port}"],
                cwd=ROOT,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
            try:
                wait_for(f"{base}/healthz", server)
                with sync_playwright() as playwright:
                    browser = playwright.chromium.launch(
                        executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS
                    )
                    try:
                        take(browser, base)
                    finally:
                        browser.close()
            finally:
                server.terminate()
                server.wait(10)


if __name__ == "__main__":
    main()

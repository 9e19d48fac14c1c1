"""Browser tests: Debian's Chromium driven by Playwright against Django's live server.

Fixtures are here; the functions the tests share are in pages.py. Data is
built with plain ORM calls and the services, not the shared factories.
"""

import os
import urllib.request
from datetime import timedelta
from pathlib import Path

import pytest

from tests.browser.pages import DESKTOP, PASSWORD, PHONE, new_page, record_session, save_screenshot

# The Playwright fixture starts an event loop before the test database is made;
# without this Django raises SynchronousOnlyOperation.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def pytest_collection_modifyitems(config, items):
    here = Path(__file__).resolve().parent
    for item in items:
        if here in Path(str(item.fspath)).resolve().parents:
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def live_server(live_server):
    """pytest-django's live server (one per xdist worker), with the app's views imported.

    Otherwise the first request imports them, matplotlib among them: seconds on
    a busy machine, inside the first page's timeout (pages.TIMEOUT_MS).
    """
    from django.urls import get_resolver

    get_resolver().url_patterns  # noqa: B018  (importing is the point)
    return live_server


@pytest.fixture(scope="session")
def base_url(pytestconfig):
    """Where pytest-playwright's pages resolve relative URLs: none, unless --base-url is given.

    pytest-playwright's own fallback for this fixture is turned off in
    pyproject.toml (pytest 10 refuses how it is defined). Every test here uses
    the live server's full URLs.
    """
    return pytestconfig.getoption("--base-url", default=None)


@pytest.fixture(scope="session")
def playwright(playwright):
    """pytest-playwright's, closing the database connections made while it ran.

    While Playwright's event loop runs in this thread, asgiref's Local (which
    holds Django's connections) sees a running loop and keeps this thread's
    connections apart from those made before it: every test after the first
    browser test of a process uses a second connection. Closed here, before
    the loop stops; left open, PostgreSQL refused to drop the test database
    ("being accessed by other users").
    """
    from django.db import connections

    yield playwright
    connections.close_all()


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {
        **browser_type_launch_args,
        "executable_path": "/usr/bin/chromium",
        "args": CHROMIUM_ARGS,
    }


@pytest.fixture
def phone_page(new_context):
    """A page on a 390×844 touch phone (iPhone 12–15 size)."""
    return new_page(new_context, PHONE)


@pytest.fixture
def desktop_page(new_context):
    """A page in a 1280×800 desktop window."""
    return new_page(new_context, DESKTOP)


@pytest.fixture
def make_page(new_context):
    """Make another page at PHONE or DESKTOP size (e.g. for a second viewport)."""
    return lambda options: new_page(new_context, options)


@pytest.fixture
def screenshot():
    """Save a screenshot of a page as screenshots/<name>.png; returns the path."""
    return save_screenshot


# ---- Data ---------------------------------------------------------------------------


@pytest.fixture
def clinic(transactional_db):
    from tracker.models import Clinic

    return Clinic.objects.create(
        name="Harbourside Physiotherapy",
        time_zone="Europe/London",
        phone="020 7946 0000",
        emergency_number="999",
    )


@pytest.fixture
def therapist(clinic, django_user_model):
    from tracker.choices import Role
    from tracker.models import Membership

    user = django_user_model.objects.create_user(
        username="ana",
        password=PASSWORD,
        first_name="Ana",
        last_name="Ruiz",
        email="ana@harbourside.example",
    )
    Membership.objects.create(user=user, clinic=clinic, role=Role.THERAPIST)
    return user


@pytest.fixture
def patient(clinic):
    from tracker.models import Patient

    return Patient.objects.create(
        clinic=clinic,
        display_name="Maria Lopez",
        reference="HP-0042",
        year_of_birth=1984,
        email="maria@example.com",
    )


@pytest.fixture
def recorded_session(patient, therapist):
    """A session a few minutes ago, away from the chest wall: the in-clinic check-in is open."""
    return record_session(
        patient=patient,
        therapist=therapist,
        sites=[
            {
                "muscle": "gluteus_medius",
                "side": "left",
                "insertions": 4,
                "technique": "deep_pistoning",
                "twitch_band": "1-2",
            },
            {
                "muscle": "piriformis",
                "side": "left",
                "insertions": 2,
                "technique": "deep_static",
                "twitch_band": "none",
            },
        ],
    )


@pytest.fixture(scope="session")
def warm_live_server(live_server):
    """The live server, past its first request.

    That request imports the URLconf and every view (matplotlib with them):
    seconds on a busy machine, which must not count against the first test's
    TIMEOUT_MS or its timings.
    """
    urllib.request.urlopen(f"{live_server.url}/f/sw.js", timeout=120).read()  # no database
    return live_server


@pytest.fixture
def patient_url(warm_live_server, recorded_session):
    """The patient's check-in link for ``recorded_session``, on the live server."""
    from tracker.security import tokens

    token = tokens.token_for(recorded_session.access_links.get().nonce)
    return f"{warm_live_server.url}/f/{token}/"


def _link_with_first_check_in_answered(live_server, patient, therapist, *, hours_ago):
    """The link of a session ``hours_ago``, its in-clinic check-in answered then."""
    import uuid

    from tracker import services
    from tracker.security import tokens

    session = record_session(
        patient=patient,
        therapist=therapist,
        minutes_ago=hours_ago * 60,
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
        follow_up=session.follow_ups.get(time_point=0),
        idempotency_key=uuid.uuid4(),
        answers={
            "soreness": 4,
            "twitching": "none",
            "bruising": "none",
            "interference": "not_at_all",
            "after_effects": [],
            "red_flags": [],
        },
        now=session.performed_at + timedelta(minutes=5),
    )
    token = tokens.token_for(session.access_links.get().nonce)
    return f"{live_server.url}/f/{token}/"


@pytest.fixture
def second_check_in_url(warm_live_server, patient, therapist):
    """A session a day ago whose in-clinic check-in was answered: the 24-hour one is open,
    and its "done" page will have a soreness chart."""
    return _link_with_first_check_in_answered(warm_live_server, patient, therapist, hours_ago=24)


@pytest.fixture
def between_check_ins_url(warm_live_server, patient, therapist):
    """A session 14 hours ago whose in-clinic check-in was answered: nothing is open
    until the 24-hour check-in opens at 22 hours."""
    return _link_with_first_check_in_answered(warm_live_server, patient, therapist, hours_ago=14)

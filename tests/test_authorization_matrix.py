"""Who may open what: every URL the app answers, tried by everyone who might ask.

The URLs come from Django's resolver, so a new URL without a row in MATRIX
fails ``test_every_url_has_a_row`` (and a row whose URL is gone fails it too).
Each row gives the status expected for each kind of visitor:

- ``anon``: nobody signed in;
- ``therapist_a`` / ``lead_a``: a therapist / a lead of clinic A, which owns
  the patient, session X and the alert the URL names;
- ``therapist_b``: a therapist of clinic B, who must not learn that A's
  objects exist (404, not 403);
- ``link_x``: a phone that has opened session X's patient link, asking for the
  page of session Y (clinic B) where the URL names an object; patient-link
  URLs carry no id, only a token, so for those rows it uses X's token.

Patient-link rows are requested with session X's token by everyone (the token
is the only key; a staff login adds nothing). What X's token shows, and that
made-up tokens open nothing, are checked below the matrix. The Django admin is
one row ("admin:index"): it has its own staff check. POST-only views are
tried with POST. Outside someone's scope is 404, a page that needs a login
sends the anonymous to the login page.
"""

import re
import uuid
from dataclasses import dataclass

import pytest
from django.contrib.auth.models import AnonymousUser
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from tests.factories import (
    ClinicFactory,
    MembershipFactory,
    PatientFactory,
    UserFactory,
    answers,
    make_session,
)
from tests.url_walk import named_routes
from tracker import alerts, services
from tracker.choices import Role, TimePoint
from tracker.models import (
    Alert,
    AuditAction,
    AuditEvent,
    Clinic,
    FollowUp,
    NeedlingSession,
    Patient,
    SymptomReport,
)
from tracker.security import audit, tokens

# The columns of MATRIX, in order.
ROLES = ("anon", "therapist_a", "therapist_b", "lead_a", "link_x")

# fmt: off
MATRIX = {
    # Outside the app's own pages
    "healthz":                  {"anon": 200, "therapist_a": 200, "therapist_b": 200, "lead_a": 200, "link_x": 200},
    # 503: the minute job has not run in a test (tests/test_job_watchdog.py).
    "healthz_jobs":             {"anon": 503, "therapist_a": 503, "therapist_b": 503, "lead_a": 503, "link_x": 503},
    "admin:index":              {"anon": 302, "therapist_a": 302, "therapist_b": 302, "lead_a": 302, "link_x": 302},
    # Signing in and out (django.contrib.auth.urls)
    "login":                    {"anon": 200, "therapist_a": 200, "therapist_b": 200, "lead_a": 200, "link_x": 200},
    "logout":                   {"method": "POST", "anon": 302, "therapist_a": 302, "therapist_b": 302, "lead_a": 302, "link_x": 302},
    "password_change":          {"anon": 302, "therapist_a": 200, "therapist_b": 200, "lead_a": 200, "link_x": 302},
    "password_change_done":     {"anon": 302, "therapist_a": 200, "therapist_b": 200, "lead_a": 200, "link_x": 302},
    "password_reset":           {"anon": 200, "therapist_a": 200, "therapist_b": 200, "lead_a": 200, "link_x": 200},
    "password_reset_done":      {"anon": 200, "therapist_a": 200, "therapist_b": 200, "lead_a": 200, "link_x": 200},
    "password_reset_confirm":   {"anon": 200, "therapist_a": 200, "therapist_b": 200, "lead_a": 200, "link_x": 200},
    "password_reset_complete":  {"anon": 200, "therapist_a": 200, "therapist_b": 200, "lead_a": 200, "link_x": 200},
    # The patient's link pages: session X's token for everyone
    "patient:service_worker":   {"anon": 200, "therapist_a": 200, "therapist_b": 200, "lead_a": 200, "link_x": 200},
    "patient:manifest":         {"anon": 200, "therapist_a": 200, "therapist_b": 200, "lead_a": 200, "link_x": 200},
    "patient:check_in":         {"anon": 200, "therapist_a": 200, "therapist_b": 200, "lead_a": 200, "link_x": 200},
    "patient:done":             {"anon": 200, "therapist_a": 200, "therapist_b": 200, "lead_a": 200, "link_x": 200},
    "patient:stop_reminders":   {"anon": 200, "therapist_a": 200, "therapist_b": 200, "lead_a": 200, "link_x": 200},
    "patient:set_language":     {"method": "POST", "anon": 302, "therapist_a": 302, "therapist_b": 302, "lead_a": 302, "link_x": 302},
    "patient:warning":          {"method": "POST", "anon": 302, "therapist_a": 302, "therapist_b": 302, "lead_a": 302, "link_x": 302},
    "patient:soreness_chart":   {"anon": 200, "therapist_a": 200, "therapist_b": 200, "lead_a": 200, "link_x": 200},
    # Staff pages: clinic A's patient, session X, alert, clinic
    "tracker:home":             {"anon": 302, "therapist_a": 200, "therapist_b": 200, "lead_a": 200, "link_x": 302},
    "tracker:alert_list":       {"anon": 302, "therapist_a": 200, "therapist_b": 200, "lead_a": 200, "link_x": 302},
    "tracker:alert_acknowledge": {"method": "POST", "anon": 302, "therapist_a": 302, "therapist_b": 404, "lead_a": 302, "link_x": 302},
    "tracker:alerts_acknowledge": {"method": "POST", "anon": 302, "therapist_a": 302, "therapist_b": 302, "lead_a": 302, "link_x": 302},
    "tracker:patient_list":     {"anon": 302, "therapist_a": 200, "therapist_b": 200, "lead_a": 200, "link_x": 302},
    "tracker:patient_create":   {"anon": 302, "therapist_a": 200, "therapist_b": 200, "lead_a": 200, "link_x": 302},
    "tracker:patient_detail":   {"anon": 302, "therapist_a": 200, "therapist_b": 404, "lead_a": 200, "link_x": 302},
    "tracker:patient_edit":     {"anon": 302, "therapist_a": 200, "therapist_b": 404, "lead_a": 200, "link_x": 302},
    "tracker:patient_chart":    {"anon": 302, "therapist_a": 200, "therapist_b": 404, "lead_a": 200, "link_x": 302},
    "tracker:visit_summary":    {"anon": 302, "therapist_a": 200, "therapist_b": 404, "lead_a": 200, "link_x": 302},
    "tracker:session_create":   {"anon": 302, "therapist_a": 200, "therapist_b": 404, "lead_a": 200, "link_x": 302},
    "tracker:patient_export":   {"anon": 302, "therapist_a": 200, "therapist_b": 404, "lead_a": 200, "link_x": 302},
    "tracker:patient_fhir":     {"anon": 302, "therapist_a": 200, "therapist_b": 404, "lead_a": 200, "link_x": 302},
    "tracker:patient_record":   {"anon": 302, "therapist_a": 200, "therapist_b": 404, "lead_a": 200, "link_x": 302},
    "tracker:patient_erase":    {"anon": 302, "therapist_a": 404, "therapist_b": 404, "lead_a": 200, "link_x": 302},
    "tracker:session_detail":   {"anon": 302, "therapist_a": 200, "therapist_b": 404, "lead_a": 200, "link_x": 302},
    "tracker:session_chart":    {"anon": 302, "therapist_a": 200, "therapist_b": 404, "lead_a": 200, "link_x": 302},
    "tracker:link_replace":     {"method": "POST", "anon": 302, "therapist_a": 302, "therapist_b": 404, "lead_a": 302, "link_x": 302},
    # Any member of staff of the session's clinic may correct it, or mark it entered in error
    "tracker:session_correct":  {"anon": 302, "therapist_a": 200, "therapist_b": 404, "lead_a": 200, "link_x": 302},
    "tracker:session_enter_in_error": {"anon": 302, "therapist_a": 200, "therapist_b": 404, "lead_a": 200, "link_x": 302},
    "tracker:link_send":        {"method": "POST", "anon": 302, "therapist_a": 302, "therapist_b": 404, "lead_a": 302, "link_x": 302},
    "tracker:link_card":        {"anon": 302, "therapist_a": 200, "therapist_b": 404, "lead_a": 200, "link_x": 302},
    # The signed-in user's own two-step sign-in; verify sends anyone with nothing to verify on
    "tracker:staff_settings":   {"anon": 302, "therapist_a": 200, "therapist_b": 200, "lead_a": 200, "link_x": 302},
    "tracker:two_step":         {"anon": 302, "therapist_a": 200, "therapist_b": 200, "lead_a": 200, "link_x": 302},
    "tracker:two_step_verify":  {"anon": 302, "therapist_a": 302, "therapist_b": 302, "lead_a": 302, "link_x": 302},
    "tracker:audit_list":       {"anon": 302, "therapist_a": 404, "therapist_b": 404, "lead_a": 200, "link_x": 302},
    "tracker:audit_csv":        {"anon": 302, "therapist_a": 404, "therapist_b": 404, "lead_a": 200, "link_x": 302},
    # The clinic lead's own pages: settings and staff of clinic A (404 to anyone else)
    "tracker:clinic_home":      {"anon": 302, "therapist_a": 404, "therapist_b": 404, "lead_a": 302, "link_x": 302},
    "tracker:clinic_settings":  {"anon": 302, "therapist_a": 404, "therapist_b": 404, "lead_a": 200, "link_x": 302},
    "tracker:clinic_staff":     {"anon": 302, "therapist_a": 404, "therapist_b": 404, "lead_a": 200, "link_x": 302},
    "tracker:staff_member":     {"method": "POST", "anon": 302, "therapist_a": 404, "therapist_b": 404, "lead_a": 302, "link_x": 302},
    # An invited member of staff sets their password: the signed link is the key (a made-up one here)
    "tracker:invitation":       {"anon": 200, "therapist_a": 200, "therapist_b": 200, "lead_a": 200, "link_x": 200},
    "tracker:analytics_home":   {"anon": 302, "therapist_a": 302, "therapist_b": 302, "lead_a": 302, "link_x": 302},
    "tracker:analytics":        {"anon": 302, "therapist_a": 200, "therapist_b": 404, "lead_a": 200, "link_x": 302},
    "tracker:analytics_chart":  {"anon": 302, "therapist_a": 200, "therapist_b": 404, "lead_a": 200, "link_x": 302},
    "tracker:analytics_csv":    {"anon": 302, "therapist_a": 200, "therapist_b": 404, "lead_a": 200, "link_x": 302},
    # FHIR: the check-in Questionnaire is public (questions only); a clinic's export is for its leads
    "tracker:fhir_questionnaire": {"anon": 200, "therapist_a": 200, "therapist_b": 200, "lead_a": 200, "link_x": 200},
    "tracker:clinic_fhir_export": {"anon": 302, "therapist_a": 404, "therapist_b": 404, "lead_a": 200, "link_x": 302},
}
# fmt: on

# What a POST-only view is sent.
POST_DATA = {
    "logout": {},
    "patient:set_language": {"language": "es"},
    "patient:warning": {
        "key": "5f0e6a52-3b1c-4d5e-9f70-0a1b2c3d4e5f",
        "red_flags": ["rf_infection"],
    },
    "tracker:alert_acknowledge": {"outcome": "advised", "note": "Called the patient: fine."},
    "tracker:alerts_acknowledge": {"outcome": "advised", "alerts": ["1"]},
    "tracker:link_replace": {},
    "tracker:staff_member": {"action": "role"},
    "tracker:link_send": {"channel": "email"},
}


# ---------------------------------------------------------------------------
# The URLs the resolver knows


def test_every_url_has_a_row():
    patterns = named_routes()
    unnamed = [route for name, route in patterns if name is None]
    assert unnamed == [], "Give these URL patterns a name and a MATRIX row"
    names = {name for name, _route in patterns}
    assert sorted(names - set(MATRIX)) == [], "URLs with no row in MATRIX"
    assert sorted(set(MATRIX) - names) == [], "MATRIX rows whose URL no longer exists"


def test_every_row_is_complete():
    for name, row in MATRIX.items():
        assert set(row) - {"method"} == set(ROLES), name
        assert row.get("method", "GET") in {"GET", "POST"}, name
        assert (row.get("method") == "POST") == (name in POST_DATA), name


# ---------------------------------------------------------------------------
# The world the URLs are built in


@dataclass
class World:
    clinic: object
    patient: object
    session: object
    alert: object
    token: str
    membership: object = None


def _red_flag_report(session):
    follow_up = session.follow_ups.get(time_point=TimePoint.IN_CLINIC)
    services.submit_report(
        follow_up=follow_up,
        idempotency_key=uuid.uuid4(),
        answers=answers(soreness=7, red_flags=["rf_breathing"]),
        now=follow_up.opens_at,
    )
    return Alert.objects.get(session=session, rule="red_flag")


@pytest.fixture
def people(db):
    """Clinic A (therapist, lead, session X with an answered check-in and an alert) and B (session Y)."""
    therapist_a = MembershipFactory(
        clinic=ClinicFactory(name="Harbourside Physio", phone="020 7946 0101")
    )
    clinic_a = therapist_a.clinic
    lead_a = MembershipFactory(clinic=clinic_a, role=Role.LEAD)
    therapist_b = MembershipFactory(
        clinic=ClinicFactory(name="Hilltop Sports Clinic", phone="0161 496 0202")
    )
    clinic_b = therapist_b.clinic

    session_x = make_session(patient=PatientFactory(clinic=clinic_a), therapist=therapist_a.user)
    alert_x = _red_flag_report(session_x)
    session_y = make_session(patient=PatientFactory(clinic=clinic_b), therapist=therapist_b.user)
    [alert_y] = alerts.evaluate_missed(session_y.follow_ups.get(time_point=TimePoint.IN_CLINIC))

    def world(clinic, session, alert, membership):
        token = tokens.token_for(session.access_links.get().nonce)
        return World(clinic, session.patient, session, alert, token, membership)

    return {
        "users": {
            "therapist_a": therapist_a.user,
            "therapist_b": therapist_b.user,
            "lead_a": lead_a.user,
        },
        "x": world(clinic_a, session_x, alert_x, therapist_a),
        "y": world(clinic_b, session_y, alert_y, therapist_b),
    }


# The object a "<int:pk>" names, by the path segment before it.
PK_OWNERS = {"patients": "patient", "sessions": "session", "alerts": "alert"}


def _url(name, route, world):
    kwargs = {}
    for segment, kind, kwarg in re.findall(r"(?:([\w.-]+)/)?<(?:(\w+):)?(\w+)>", route):
        if kwarg == "pk":
            assert segment in PK_OWNERS, f"{name}: say in PK_OWNERS what {segment}/<pk> names"
            kwargs[kwarg] = getattr(world, PK_OWNERS[segment]).pk
        elif kwarg == "clinic_id":
            kwargs[kwarg] = world.clinic.pk
        elif kwarg == "membership_id":
            kwargs[kwarg] = world.membership.pk
        elif kwarg == "chart":
            kwargs[kwarg] = "rates"
        elif kwarg == "time_point":
            kwargs[kwarg] = TimePoint.IN_CLINIC
        elif kwarg == "token" and name.startswith("patient:"):
            kwargs[kwarg] = world.token
        elif name in ("password_reset_confirm", "tracker:invitation"):
            kwargs[kwarg] = {"uidb64": "MQ", "token": "set-password"}[kwarg]
        else:
            raise AssertionError(f"{name}: teach _url how to fill <{kind}:{kwarg}>")
    return reverse(name, kwargs=kwargs)


def _client(role, people):
    client = Client()
    if role in people["users"]:
        client.force_login(people["users"][role])
    elif role == "link_x":
        # A phone that has used X's link: whatever that page gave it, it keeps.
        # (X's link as it is now: a row before may have replaced it.)
        link = people["x"].session.access_links.usable_at(timezone.now()).get()
        assert client.get(reverse("patient:check_in", args=[link.token])).status_code == 200
    return client


def _ask(client, name, url):
    if MATRIX[name].get("method") == "POST":
        return client.post(url, POST_DATA[name])
    return client.get(url)


@pytest.mark.parametrize("name", sorted(MATRIX))
def test_matrix(name, people):
    routes = dict(named_routes())
    route = routes[name]
    expected = {role: MATRIX[name][role] for role in ROLES}
    got = {}
    for role in ROLES:
        # The link holder asks for Y's page where the URL names an object (none does for
        # patient pages: their token is X's, the only key that phone has).
        world = people["y"] if role == "link_x" and not name.startswith("patient:") else people["x"]
        url = "/admin/" if name == "admin:index" else _url(name, route, world)
        response = _ask(_client(role, people), name, url)
        got[role] = response.status_code
        if (
            response.status_code == 302
            and role in ("anon", "link_x")
            and name.startswith("tracker:")
        ):
            # Nothing about the object leaks: the anonymous go to the login page.
            assert response["Location"].startswith(reverse("login")), (name, role)
    assert got == expected, name


# ---------------------------------------------------------------------------
# A patient link reaches its own session and nothing else


def test_xs_link_shows_xs_clinic_and_check_ins_only(client, people):
    x, y = people["x"], people["y"]
    for name in ("patient:check_in", "patient:done", "patient:stop_reminders"):
        route = dict(named_routes())[name]
        page = client.get(_url(name, route, x)).content.decode()
        assert x.clinic.name in page, name
        assert y.clinic.name not in page and y.clinic.phone not in page, name
    # X's in-clinic check-in was answered (soreness 7), Y's not: each link shows its own.
    assert client.get(reverse("patient:done", args=[x.token, 0])).status_code == 200
    assert client.get(reverse("patient:done", args=[y.token, 0])).status_code == 404
    x_chart = client.get(reverse("patient:soreness_chart", args=[x.token])).content
    y_chart = client.get(reverse("patient:soreness_chart", args=[y.token])).content
    assert b"No check-ins answered yet" not in x_chart and b"No check-ins answered yet" in y_chart


@pytest.mark.parametrize(
    "token",
    [
        "made-up",
        tokens.token_for(tokens.new_nonce()),
        "A" * 43,
    ],
    ids=["made-up", "well-formed-but-unknown", "right-length"],
)
def test_tokens_that_are_no_link_open_nothing(client, people, token):
    fake = World(
        people["x"].clinic, people["x"].patient, people["x"].session, people["x"].alert, token
    )
    token_routes = [
        (n, r) for n, r in named_routes() if n.startswith("patient:") and "<str:token>" in r
    ]
    assert len(token_routes) >= 5
    for name, route in token_routes:
        response = _ask(client, name, _url(name, route, fake))
        assert response.status_code == 404, name
        assert people["x"].clinic.name not in response.content.decode(), name


# ---------------------------------------------------------------------------
# The scoping functions every view starts from


def test_each_scoping_function_keeps_to_the_users_clinics(people):
    x, y = people["x"], people["y"]
    for world in (x, y):
        audit.record_event(user=None, ip=None, action=AuditAction.VIEW, patient=world.patient)
    clinic_of = {
        Clinic: "pk",
        Patient: "clinic",
        NeedlingSession: "patient__clinic",
        FollowUp: "session__patient__clinic",
        SymptomReport: "follow_up__session__patient__clinic",
        Alert: "session__patient__clinic",
        AuditEvent: "clinic",
    }
    users = {**people["users"], "anon": AnonymousUser()}
    # Which clinics each kind of user reaches through each model's for_user.
    expected = {
        "anon": set(),
        "therapist_a": {x.clinic.pk},
        "therapist_b": {y.clinic.pk},
        "lead_a": {x.clinic.pk},
    }
    for model, path in clinic_of.items():
        assert model.objects.filter(**{path: x.clinic.pk}).exists(), model  # something to hide
        for role, user in users.items():
            seen = set(model.objects.for_user(user).values_list(path, flat=True))
            if model is AuditEvent and role.startswith("therapist"):
                assert seen == set(), (model.__name__, role)  # the trail is for leads only
            elif model is SymptomReport and role == "therapist_b":
                assert seen == set(), (model.__name__, role)  # Y has no report yet
            else:
                assert seen == expected[role], (model.__name__, role)
    assert set(Clinic.objects.led_by(users["lead_a"])) == {x.clinic}
    assert not Clinic.objects.led_by(users["therapist_a"]).exists()
    assert set(Patient.objects.led_by(users["lead_a"])) == {x.patient}
    assert not Patient.objects.led_by(users["therapist_a"]).exists()


# ---------------------------------------------------------------------------
# No browser or proxy keeps a page that shows patient data: staff pages (the
# ``tracker`` namespace and the admin) and the patient's link pages answer
# ``Cache-Control: no-store, private``; the few pages that show no patient
# data are named in ``STORABLE``. A new URL is in one group or the other.

# Pages without patient data: signing in and out, the health check, the
# patient pages' service worker and manifest (the same for every patient).
STORABLE = {
    "healthz",
    "healthz_jobs",
    "login",
    "logout",
    "password_change",
    "password_change_done",
    "password_reset",
    "password_reset_done",
    "password_reset_confirm",
    "password_reset_complete",
    "patient:service_worker",
    "patient:manifest",
    "tracker:fhir_questionnaire",
}


def _kept_from_stores(response) -> bool:
    directives = {part.strip() for part in response.get("Cache-Control", "").split(",")}
    return {"no-store", "private"} <= directives


def test_every_url_is_checked():
    names = {name for name, _route in named_routes()}
    checked = {name for name in names if name.startswith(("tracker:", "patient:", "admin:"))}
    assert names - checked - STORABLE == set()
    assert STORABLE <= names


@pytest.mark.parametrize(
    "name",
    sorted(n for n in MATRIX if n.startswith(("tracker:", "patient:")) and n not in STORABLE),
)
def test_pages_with_patient_data_are_never_stored(name, people):
    client = Client()
    client.force_login(people["users"]["lead_a"])  # a lead of clinic A sees every page
    url = _url(name, dict(named_routes())[name], people["x"])
    if MATRIX[name].get("method") == "POST":
        response = client.post(url, POST_DATA[name])
    else:
        response = client.get(url)
    assert response.status_code in (200, 302), response.status_code
    assert _kept_from_stores(response), (name, response.get("Cache-Control"))


def test_a_refused_staff_page_is_not_stored_either(people):
    client = Client()
    client.force_login(people["users"]["therapist_b"])
    response = client.get(reverse("tracker:patient_detail", args=[people["x"].patient.pk]))
    assert response.status_code == 404 and _kept_from_stores(response)


def test_admin_pages_are_never_stored(people):
    client = Client()
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    x = people["x"]
    for url in (
        reverse("admin:index"),
        reverse("admin:tracker_patient_changelist"),
        reverse("admin:tracker_patient_change", args=[x.patient.pk]),
        reverse("admin:tracker_needlingsession_change", args=[x.session.pk]),
    ):
        response = client.get(url)
        assert response.status_code == 200 and _kept_from_stores(response), url


@pytest.mark.parametrize("name", ["patient:service_worker", "patient:manifest"])
def test_pages_without_patient_data_keep_their_own_caching(name, people):
    """The patient pages' service worker and manifest are revalidated or kept a day, not refetched."""
    response = Client().get(_url(name, dict(named_routes())[name], people["x"]))
    assert response.status_code == 200
    assert "no-store" not in response.get("Cache-Control", "")

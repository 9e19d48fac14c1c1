"""Random and hostile input to every form and URL parameter (hypothesis).

Each example posts values a person or a script could send: oversized text,
odd Unicode, negative and huge numbers, words where numbers belong, fields
missing or sent twice. Whatever comes in, the app answers below 500, stores
nothing partial or invalid, and where a person could have made the mistake,
the page says what to fix.

Each example runs inside a savepoint that is rolled back afterwards, so every
example starts from the same rows (the fixtures are made once per test).
"""

import contextlib
import uuid
import xml.etree.ElementTree as ET
from datetime import date, datetime
from urllib.parse import quote, urlsplit
from zoneinfo import ZoneInfo

import pytest
from django.core.cache import cache
from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from django.test import Client
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.factories import answers
from tracker import alerts, services
from tracker.choices import (
    AfterEffect,
    BruiseBand,
    Interference,
    Muscle,
    RedFlag,
    ReminderChannel,
    Side,
    Technique,
    TimePoint,
    TwitchBand,
    TwitchingFelt,
)
from tracker.forms.patient import FEELING_FINE
from tracker.models import (
    AccessLink,
    Alert,
    FollowUp,
    Membership,
    NeedledSite,
    NeedlingSession,
    Patient,
    SymptomReport,
)

pytestmark = pytest.mark.django_db

EXAMPLES = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

# ---------------------------------------------------------------------------
# Strategies

# Any character a browser could send (lone surrogates cannot be encoded as UTF-8 at all).
ANY_TEXT = st.text(st.characters(exclude_categories=["Cs"]), max_size=60)
NASTY = st.sampled_from(
    [
        "",
        " ",
        "\x00",
        "\x00abc",
        "A" * 5000,
        "A" * 100_000,
        "-1",
        "-0",
        "0",
        "11",
        "1e309",
        "NaN",
        "inf",
        "-inf",
        "9" * 40,
        "-" + "9" * 40,
        "٣",
        "０",
        "0x10",
        "1.5",
        "1,5",
        " 5 ",
        "<script>alert(1)</script>",
        "'; DROP TABLE tracker_patient;--",
        "\u202egnp.exe",
        "😀" * 300,
        "\r\n",
        "None",
        "null",
        "true",
        "[]",
        "{}",
        "%00",
        "../../etc/passwd",
        "2026-02-30",
        "2026-13-01",
        "9999-12-31T23:59",
        "0001-01-01T00:00",
        "1969-12-31",
        "=cmd|' /C calc'!A0",
        "#",
        "#-1",
        "#99999999999999999999",
        "e\u0301",
        "\ufeff",
        "ǅ",
    ]
)
NUMBER = st.integers(min_value=-(10**20), max_value=10**20).map(str)
HOSTILE = st.one_of(ANY_TEXT, NASTY, NUMBER)
# The ends of the calendar and the edges of the range the app accepts (2000 to 2999).
EXTREME_DAYS = st.one_of(
    st.sampled_from(
        [
            "0001-01-01",
            "0001-01-02",
            "9999-12-31",
            "9999-12-30",
            "1999-12-31",
            "2000-01-01",
            "2999-12-31",
            "3000-01-01",
        ]
    ),
    st.dates(min_value=date(1, 1, 1), max_value=date(9999, 12, 31)).map(date.isoformat),
)
EXTREME_MOMENTS = st.one_of(
    st.sampled_from(
        [
            "0001-01-01T00:00",
            "9999-12-31T23:59",
            "1999-12-31T23:59",
            "2000-01-01T00:00",
            "2999-12-31T23:59",
        ]
    ),
    st.datetimes(min_value=datetime(1, 1, 1), max_value=datetime(9999, 12, 31, 23, 59)).map(
        lambda moment: moment.isoformat(timespec="minutes")
    ),
)
# Ids past what any database column holds (a bigint ends at 19 digits).
HUGE_ID = st.integers(min_value=0, max_value=10**40).map(str)
HUGE_PATIENT_NUMBER = HUGE_ID.map(lambda number: f"#{number}")
# Text matplotlib would read as mathematics, were it not told to draw text as written.
MATHTEXT = st.one_of(
    st.sampled_from(
        [
            r"Jo $\frac$",
            "$x^2$",
            "$$",
            "Ana $",
            r"$\sqrt{$",
            "a$b$c$d",
            r"$\$",
            r"Dr $\mathrm{X}$ Lee",
        ]
    ),
    st.lists(st.sampled_from([*"$\\{}^_ abÑ", r"\frac", r"\sqrt"]), min_size=1, max_size=12).map(
        "".join
    ),
)


def field(valid):
    """A form field's value: valid, hostile, sent twice or more, or missing (None)."""
    one = st.one_of(valid, HOSTILE)
    return st.one_of(valid, valid, HOSTILE, st.lists(one, min_size=2, max_size=3), st.none())


def form(**fields):
    """A dict of posted values; missing fields are left out."""
    return st.fixed_dictionaries(fields).map(
        lambda data: {name: value for name, value in data.items() if value is not None}
    )


def choice(choices):
    return st.sampled_from([str(value) for value in choices.values])


def some_of(choices, extra=()):
    return st.lists(st.sampled_from([*choices.values, *extra]), max_size=4, unique=True)


# ---------------------------------------------------------------------------
# What must always hold in the database


def assert_invariants():
    # A report only for an answered check-in, within the scale.
    assert not SymptomReport.objects.filter(follow_up__answered_at__isnull=True).exists()
    assert not SymptomReport.objects.filter(Q(soreness__lt=0) | Q(soreness__gt=10)).exists()
    # A session is never left without its sites, its check-ins or its link.
    sessions = NeedlingSession.objects.annotate(
        has_site=Exists(NeedledSite.objects.filter(session=OuterRef("pk"))),
        has_follow_up=Exists(FollowUp.objects.filter(session=OuterRef("pk"))),
        has_link=Exists(AccessLink.objects.filter(session=OuterRef("pk"))),
    )
    assert not sessions.filter(
        Q(has_site=False) | Q(has_follow_up=False) | Q(has_link=False)
    ).exists()
    assert not NeedledSite.objects.filter(Q(insertions__lt=1) | Q(insertions__gt=99)).exists()
    # An acknowledged alert says who and what.
    assert not Alert.objects.filter(
        acknowledged_at__isnull=False, acknowledged_by__isnull=True
    ).exists()
    assert not Alert.objects.filter(acknowledged_at__isnull=False, note="").exists()
    # Every patient row passes its own validation.
    for patient in Patient.objects.all():
        patient.full_clean()


def counts():
    return {
        model.__name__: model.objects.count()
        for model in (Patient, NeedlingSession, NeedledSite, FollowUp, SymptomReport, AccessLink)
    }


@contextlib.contextmanager
def rolled_back():
    """Run one example in a savepoint, check the invariants, then undo it."""
    with transaction.atomic():
        yield
        assert_invariants()
        transaction.set_rollback(True)


def assert_fine(response):
    assert response.status_code < 500, response.status_code


def assert_local_redirect(response, prefix="/"):
    location = urlsplit(response["Location"])
    assert not location.scheme and not location.netloc, response["Location"]
    assert location.path.startswith(prefix), response["Location"]


# ---------------------------------------------------------------------------
# The world the forms act on


@pytest.fixture
def world(clinic_a, therapist_a, lead_a, patient_a, session_a, link_token):
    patient_a.reference = "HP-0042"
    patient_a.email = "p@example.org"
    patient_a.save()
    alert = alerts.evaluate_missed(session_a.follow_ups.get(time_point=TimePoint.IN_CLINIC))[0]
    staff = Client()
    staff.force_login(therapist_a.user)
    lead = Client()
    lead.force_login(lead_a.user)
    return {
        "staff": staff,
        "lead": lead,
        "patient": patient_a,
        "session": session_a,
        "alert": alert,
        "token": link_token,
        "clinic": clinic_a,
        "lead_user": lead_a.user,
    }


# ---------------------------------------------------------------------------
# The patient's forms

CHECK_IN = form(
    key=field(st.uuids().map(str)),
    soreness=field(st.integers(0, 10).map(str)),
    twitching=field(choice(TwitchingFelt)),
    bruising=field(choice(BruiseBand)),
    bruise_growing=field(st.just("on")),
    bruise_elsewhere=field(st.just("on")),
    interference=field(choice(Interference)),
    after_effects=st.one_of(some_of(AfterEffect, ["none"]), field(ANY_TEXT)),
    red_flags=st.one_of(some_of(RedFlag, ["none"]), field(ANY_TEXT)),
    note=field(ANY_TEXT),
)


@EXAMPLES
@given(data=CHECK_IN)
def test_check_in_form(world, data):
    url = reverse("patient:check_in", args=[world["token"]])
    with rolled_back():
        before = counts()
        response = Client().post(url, data)
        assert_fine(response)
        if response.status_code == 302:
            assert_local_redirect(response, url)
            report = SymptomReport.objects.get(idempotency_key=data["key"])
            assert 0 <= report.soreness <= 10
        else:
            assert counts() == before
            assert response.status_code == 200
            page = response.content.decode()
            assert "Some answers are missing" in page  # and each field says what is wrong


@EXAMPLES
@given(
    changes=st.dictionaries(
        st.sampled_from(["key", *FEELING_FINE]),
        st.one_of(HOSTILE, st.lists(HOSTILE, max_size=3)),
        max_size=3,
    )
)
def test_feeling_fine_button(world, changes):
    url = reverse("patient:check_in", args=[world["token"]])
    data = {"key": str(uuid.uuid4()), **FEELING_FINE, **changes}
    with rolled_back():
        before = counts()
        response = Client().post(url, data)
        assert_fine(response)
        if response.status_code != 302:
            assert counts() == before


@EXAMPLES
@given(data=form(language=field(st.sampled_from(["en", "es"])), next=field(ANY_TEXT)))
def test_language_switch(world, data):
    token = world["token"]
    with rolled_back():
        response = Client().post(reverse("patient:set_language", args=[token]), data)
        assert_fine(response)
        if response.status_code == 302:
            assert_local_redirect(response, f"/f/{token}/")
        else:
            assert response.status_code == 400
        world["patient"].refresh_from_db()
        assert world["patient"].language in ("en", "es")


@EXAMPLES
@given(
    data=form(action=field(st.sampled_from(["stop", "resume"]))),
    channel=st.sampled_from(ReminderChannel.values),
    email=st.sampled_from(["", "p@example.org"]),
)
def test_stop_reminders(world, data, channel, email):
    token = world["token"]
    Patient.objects.filter(pk=world["patient"].pk).update(reminder_channel=channel, email=email)
    with rolled_back():
        response = Client().post(reverse("patient:stop_reminders", args=[token]), data)
        assert_fine(response)
        patient = Patient.objects.get(pk=world["patient"].pk)
        if patient.reminders_consent:
            # Only turned on again with somewhere to send them.
            assert patient.reminder_channel == ReminderChannel.EMAIL and patient.email


# ---------------------------------------------------------------------------
# Staff forms


def _sites(draw_rows):
    rows = {}
    for index, row in enumerate(draw_rows):
        for name, value in row.items():
            if value is not None:
                rows[f"sites-{index}-{name}"] = value
    return rows


SITE_ROW = st.fixed_dictionaries(
    {
        "muscle": field(choice(Muscle)),
        "side": field(choice(Side)),
        "insertions": field(st.integers(1, 99).map(str)),
        "technique": field(choice(Technique)),
        "twitch_band": field(choice(TwitchBand)),
        "notes": field(ANY_TEXT),
    }
)
SESSION_FORM = st.tuples(
    form(
        performed_at=field(st.one_of(st.just("2026-01-15T10:30"), EXTREME_MOMENTS)),
        pre_pain=field(st.integers(0, 10).map(str)),
        chest_wall_area=field(st.just("on")),
        anticoagulants=field(st.just("on")),
        lung_condition=field(st.just("on")),
        notes=field(ANY_TEXT),
        confirm_not_asked=field(st.just("on")),
        not_asked_warned=field(st.sampled_from(["", "24", "24,48"])),
    ),
    st.lists(SITE_ROW, max_size=3),
    form(
        **{
            "sites-TOTAL_FORMS": field(st.integers(0, 4).map(str)),
            "sites-INITIAL_FORMS": field(st.just("0")),
            "sites-MIN_NUM_FORMS": field(st.just("0")),
            "sites-MAX_NUM_FORMS": field(st.just("20")),
        }
    ),
)


@settings(
    max_examples=50,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(parts=SESSION_FORM)
def test_record_session_form(world, parts):
    session_fields, rows, management = parts
    data = {**session_fields, **_sites(rows), **management}
    url = reverse("tracker:session_create", args=[world["patient"].pk])
    with rolled_back():
        before = counts()
        response = world["staff"].post(url, data)
        assert_fine(response)
        if response.status_code == 302:
            assert_local_redirect(response, "/sessions/")
            assert counts()["NeedlingSession"] == before["NeedlingSession"] + 1
        else:
            assert counts() == before
            page = response.content.decode()
            assert (
                "invalid-feedback" in page or "alert-danger" in page or "alert alert-block" in page
            )


CORRECTION_FORM = st.tuples(
    form(
        chest_wall_area=field(st.just("on")),
        anticoagulants=field(st.just("on")),
        lung_condition=field(st.just("on")),
        notes=field(ANY_TEXT),
    ),
    st.lists(
        st.tuples(SITE_ROW, field(st.one_of(st.just("own"), HUGE_ID))),
        max_size=3,
    ),
    form(
        **{
            "sites-TOTAL_FORMS": field(st.integers(0, 4).map(str)),
            "sites-INITIAL_FORMS": field(st.sampled_from(["0", "1", "2"])),
        }
    ),
)


@settings(
    max_examples=50,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(parts=CORRECTION_FORM)
def test_session_correction_form(world, parts):
    session_fields, rows, management = parts
    session = world["session"]
    own = str(session.sites.get().pk)
    data = {**session_fields, **management}
    for index, (row, site_id) in enumerate(rows):
        data.update(_sites([{**row, "id": own if site_id == "own" else site_id}]).items())
        data = {key.replace("sites-0-", f"sites-{index}-"): value for key, value in data.items()}
    url = reverse("tracker:session_correct", args=[session.pk])
    with rolled_back():
        before = counts()
        response = world["staff"].post(url, data)
        assert_fine(response)
        if response.status_code == 302:
            assert_local_redirect(response, "/sessions/")
        else:
            assert counts() == before
        # Only this session's sites, never another's; none removed.
        assert NeedledSite.objects.filter(session=session).count() >= 1


@EXAMPLES
@given(data=form(reason=field(ANY_TEXT)))
def test_entered_in_error_form(world, data):
    session = world["session"]
    url = reverse("tracker:session_enter_in_error", args=[session.pk])
    with rolled_back():
        response = world["staff"].post(url, data)
        assert_fine(response)
        session.refresh_from_db()
        if response.status_code == 302:
            assert session.entered_in_error_at is not None
            assert session.entered_in_error_reason.strip()
        else:
            assert session.entered_in_error_at is None
            assert "invalid-feedback" in response.content.decode()


ZONES = [
    "Europe/London",
    "Pacific/Kiritimati",
    "Pacific/Pago_Pago",
    "Asia/Tokyo",
    "America/New_York",
]


@EXAMPLES
@given(zone=st.sampled_from(ZONES), performed_at=EXTREME_MOMENTS)
def test_session_dates_at_the_ends_of_the_calendar_in_any_zone(world, zone, performed_at):
    """A date the time-zone arithmetic cannot take is a message beside the field, not an error."""
    type(world["clinic"]).objects.filter(pk=world["clinic"].pk).update(time_zone=zone)
    url = reverse("tracker:session_create", args=[world["patient"].pk])
    data = {
        "performed_at": performed_at,
        "pre_pain": "3",
        "sites-TOTAL_FORMS": "1",
        "sites-INITIAL_FORMS": "0",
        "sites-0-muscle": "deltoid",
        "sites-0-side": "left",
        "sites-0-insertions": "2",
        "sites-0-technique": "superficial",
        "sites-0-twitch_band": "none",
    }
    with rolled_back():
        before = counts()
        response = world["staff"].post(url, data)
        assert_fine(response)
        if response.status_code == 302:
            session = NeedlingSession.objects.latest("pk")
            assert 2000 <= session.performed_at.astimezone(ZoneInfo(zone)).year <= 2999
        else:
            assert counts() == before
            errors = response.context["form"].errors
            assert set(errors) == {"performed_at"}, errors
            assert "invalid-feedback" in response.content.decode()


def _drawn(svg: bytes) -> list[str]:
    return [
        "".join(t.itertext()) for t in ET.fromstring(svg).iter("{http://www.w3.org/2000/svg}text")
    ]


@EXAMPLES
@given(first=MATHTEXT, last=MATHTEXT, username=MATHTEXT, patient_name=MATHTEXT)
def test_names_with_dollar_signs_reach_every_chart(world, first, last, username, patient_name):
    """Every free text that reaches a chart (staff names label the therapist chart) is drawn as written."""
    session, clinic = world["session"], world["clinic"]
    therapist = session.therapist
    with rolled_back():
        cache.clear()  # the analytics results and charts of another example
        therapist.first_name, therapist.last_name, therapist.username = first, last, username
        therapist.save()
        Patient.objects.filter(pk=world["patient"].pk).update(display_name=patient_name)
        follow_up = session.follow_ups.get(time_point=TimePoint.IN_CLINIC)
        services.submit_report(
            follow_up=follow_up,
            idempotency_key=uuid.uuid4(),
            answers=answers(soreness=4),
            now=follow_up.opens_at,
        )
        urls = [
            reverse("tracker:patient_chart", args=[world["patient"].pk]),
            reverse("tracker:session_chart", args=[session.pk]),
            reverse("patient:soreness_chart", args=[world["token"]]),
            *(
                reverse("tracker:analytics_chart", args=[clinic.pk, chart])
                for chart in (
                    "rates",
                    "soreness-by-muscle",
                    "soreness-by-therapist",
                    "settled",
                    "completion",
                )
            ),
        ]
        for url in urls:
            response = (Client() if url.startswith("/f/") else world["staff"]).get(url)
            assert response.status_code == 200, url
        label = f"{first} {last}".strip() or username
        response = world["staff"].get(
            reverse("tracker:analytics_chart", args=[clinic.pk, "soreness-by-therapist"])
        )
        assert label in _drawn(response.content)
        cache.clear()


PATIENT_FORM = form(
    clinic=field(st.just("CLINIC")),
    display_name=field(st.just("Jo Bloggs")),
    reference=field(st.sampled_from(["", "HP-1", "HP-0042"])),
    year_of_birth=field(st.integers(1900, 2026).map(str)),
    email=field(st.sampled_from(["", "jo@example.org"])),
    phone=field(st.sampled_from(["", "+447700900123"])),
    language=field(st.sampled_from(["en", "es"])),
    reminder_channel=field(choice(ReminderChannel)),
    reminders_consent=field(st.just("on")),
)


@EXAMPLES
@given(data=PATIENT_FORM)
def test_add_patient_form(world, data):
    data = {k: (str(world["clinic"].pk) if v == "CLINIC" else v) for k, v in data.items()}
    with rolled_back():
        before = counts()
        response = world["staff"].post(reverse("tracker:patient_create"), data)
        assert_fine(response)
        if response.status_code == 302:
            assert counts()["Patient"] == before["Patient"] + 1
        else:
            assert counts() == before
            form = response.context["form"]
            hidden = {bound.name for bound in form.hidden_fields()}  # not a person's mistake
            if set(form.errors) - hidden:
                assert "invalid-feedback" in response.content.decode()


@EXAMPLES
@given(data=form(note=field(st.just("Called the patient.")), next=field(ANY_TEXT)))
def test_acknowledge_alert_form(world, data):
    url = reverse("tracker:alert_acknowledge", args=[world["alert"].pk])
    with rolled_back():
        response = world["staff"].post(url, data)
        assert_fine(response)
        assert response.status_code == 302
        assert_local_redirect(response)
        alert = Alert.objects.get(pk=world["alert"].pk)
        if alert.acknowledged_at is None:
            # The inbox says why: a note is needed.
            assert response.wsgi_request._messages._queued_messages


@EXAMPLES
@given(data=form(confirm=field(st.sampled_from(["HP-0042", " hp-0042 ", "Someone else"]))))
def test_erase_confirmation_form(world, data):
    patient = world["patient"]
    url = reverse("tracker:patient_erase", args=[patient.pk])
    with rolled_back():
        response = world["lead"].post(url, data)
        assert_fine(response)
        patient = Patient.objects.get(pk=patient.pk)
        typed = data.get("confirm")
        if isinstance(typed, list):
            typed = typed[-1]  # a field sent twice: Django reads the last
        matches = isinstance(typed, str) and " ".join(typed.split()).casefold() == "hp-0042"
        assert patient.is_erased == matches
        if not matches:
            assert patient.reference == "HP-0042"
            assert "invalid-feedback" in response.content.decode()


@EXAMPLES
@given(data=form(username=field(st.just("ana")), password=field(ANY_TEXT), next=field(ANY_TEXT)))
def test_sign_in_form(world, data):
    with rolled_back():
        response = Client().post(reverse("login"), data)
        assert_fine(response)
        if response.status_code == 302:
            assert_local_redirect(response)


@EXAMPLES
@given(
    data=form(code=field(st.integers(0, 999_999).map(lambda n: f"{n:06d}")), next=field(ANY_TEXT))
)
def test_two_step_set_up_form(world, data):
    with rolled_back():
        response = world["staff"].post(reverse("tracker:two_step"), data)
        assert_fine(response)
        if response.status_code != 302:
            assert "invalid-feedback" in response.content.decode()
        else:
            assert_local_redirect(response)


# ---------------------------------------------------------------------------
# The lead's clinic pages

CLINIC_SETTINGS = form(
    time_zone=field(st.sampled_from(["Europe/Madrid", "America/Chicago", "UTC"])),
    phone=field(st.just("020 7946 0101")),
    emergency_number=field(st.sampled_from(["999", "112"])),
    settled_max=field(st.integers(0, 10).map(str)),
    soreness_threshold=field(st.integers(0, 10).map(str)),
    soreness_72h_threshold=field(st.integers(0, 10).map(str)),
    urgent_contacts=field(st.just("STAFF")),
    escalation_minutes=field(st.integers(0, 300).map(str)),
    quiet_hours_start=field(st.sampled_from(["21:00", "00:00", "7:5", "24:00"]) | ANY_TEXT),
    quiet_hours_end=field(st.sampled_from(["08:00", "21:00", "23:59"])),
    require_2fa_for_leads=field(st.just("on")),
)


def _clinic_row(clinic):
    from tracker.models import Clinic

    row = Clinic.objects.filter(pk=clinic.pk).values().get()
    return row, sorted(
        Clinic.objects.get(pk=clinic.pk).urgent_contacts.values_list("pk", flat=True)
    )


@EXAMPLES
@given(data=CLINIC_SETTINGS)
def test_clinic_settings_form(world, data):
    clinic = world["clinic"]
    staff_id = str(world["lead_user"].pk)
    data = {k: (staff_id if v == "STAFF" else v) for k, v in data.items()}
    url = reverse("tracker:clinic_settings", args=[clinic.pk])
    with rolled_back():
        before = _clinic_row(clinic)
        response = world["lead"].post(url, data)
        assert_fine(response)
        if response.status_code == 302:
            from tracker.models import Clinic

            Clinic.objects.get(pk=clinic.pk).full_clean()
        else:
            assert _clinic_row(clinic) == before
            assert "invalid-feedback" in response.content.decode()


INVITE = form(
    first_name=field(st.just("Nora")),
    last_name=field(st.just("Quinn")),
    email=field(st.sampled_from(["nora@example.org", "NORA@example.org"])),
    role=field(st.sampled_from(["therapist", "lead"])),
)


@EXAMPLES
@given(data=INVITE, action=field(st.sampled_from(["role", "deactivate", "reactivate", "resend"])))
def test_staff_forms(world, data, action):
    from django.contrib.auth import get_user_model

    clinic = world["clinic"]
    members = get_user_model().objects.count
    with rolled_back():
        before = members()
        response = world["lead"].post(reverse("tracker:clinic_staff", args=[clinic.pk]), data)
        assert_fine(response)
        if response.status_code == 302:
            assert members() == before + 1
        else:
            assert members() == before
            assert "invalid-feedback" in response.content.decode()
        for membership in Membership.objects.filter(clinic=clinic):
            posted = {"action": action, f"m{membership.pk}-role": data.get("role", "x")}
            url = reverse("tracker:staff_member", args=[clinic.pk, membership.pk])
            response = world["lead"].post(url, {k: v for k, v in posted.items() if v is not None})
            assert response.status_code == 302
        # The clinic keeps an active lead, whatever was sent.
        assert Membership.objects.filter(clinic=clinic, role="lead", user__is_active=True).exists()


# ---------------------------------------------------------------------------
# Filters in the query string

QUERY_VALUE = st.one_of(HOSTILE, EXTREME_DAYS, HUGE_ID, HUGE_PATIENT_NUMBER)
QUERY = st.dictionaries(
    st.sampled_from(
        [
            "date_from",
            "date_to",
            "therapist",
            "muscle",
            "technique",
            "state",
            "severity",
            "page",
            "q",
            "mine",
            "user",
            "action",
            "patient",
        ]
    ),
    st.one_of(QUERY_VALUE, st.lists(QUERY_VALUE, min_size=2, max_size=3)),
    max_size=5,
)


@EXAMPLES
@given(query=QUERY)
def test_list_and_filter_pages_take_any_query_string(world, query):
    clinic = world["clinic"].pk
    staff_pages = [
        reverse("tracker:home"),
        reverse("tracker:alert_list"),
        reverse("tracker:patient_list"),
        reverse("tracker:analytics", args=[clinic]),
        reverse("tracker:analytics_chart", args=[clinic, "rates"]),
        reverse("tracker:analytics_csv", args=[clinic, "completion"]),
    ]
    lead_pages = [
        reverse("tracker:audit_list"),
        reverse("tracker:audit_csv"),
        reverse("tracker:clinic_settings", args=[clinic]),
        reverse("tracker:clinic_staff", args=[clinic]),
    ]
    with rolled_back():
        for client, urls in [(world["staff"], staff_pages), (world["lead"], lead_pages)]:
            for url in urls:
                response = client.get(url, query)
                assert response.status_code in (200, 400), (url, response.status_code)
                if response.streaming:
                    b"".join(response.streaming_content)


# ---------------------------------------------------------------------------
# Parameters in the path

PK_ROUTES = [
    "/patients/{}/",
    "/patients/{}/soreness.svg",
    "/patients/{}/summary/",
    "/patients/{}/sessions/new/",
    "/patients/{}/export.json",
    "/patients/{}/erase/",
    "/sessions/{}/",
    "/sessions/{}/soreness.svg",
    "/clinics/{}/analytics/",
    "/clinics/{}/analytics/rates.svg",
    "/clinics/{}/analytics/rates.csv",
    "/clinics/{}/settings/",
    "/clinics/{}/staff/",
]


@EXAMPLES
@given(value=st.one_of(ANY_TEXT, NASTY, NUMBER, st.integers(0, 10**30).map(str)))
def test_ids_in_the_path_are_a_page_or_a_404(world, value):
    segment = quote(value, safe="")
    with rolled_back():
        for route in PK_ROUTES:
            response = world["lead"].get(route.format(segment))
            assert response.status_code in (200, 301, 404), (route, value, response.status_code)
        response = world["lead"].post(f"/alerts/{segment}/acknowledge/", {"note": "x"})
        assert response.status_code in (302, 404)
        response = world["lead"].get(f"/clinics/{world['clinic'].pk}/analytics/{segment}.svg")
        assert response.status_code in (200, 404)
        response = world["lead"].post(f"/clinics/{world['clinic'].pk}/staff/{segment}/", {})
        assert response.status_code in (301, 302, 404)
        response = Client().get(f"/invitation/{segment}/{segment}/")
        assert response.status_code in (200, 301, 404)


@EXAMPLES
@given(
    token=st.one_of(ANY_TEXT, NASTY, st.text(min_size=200, max_size=3000)),
    time_point=st.one_of(st.integers(-5, 10**25).map(str), ANY_TEXT),
)
def test_tokens_in_the_path_open_nothing(world, token, time_point):
    segment = quote(token, safe="")
    with rolled_back():
        for path in [
            f"/f/{segment}/",
            f"/f/{segment}/reminders/",
            f"/f/{segment}/soreness.svg",
            f"/f/{segment}/done/{quote(time_point, safe='')}/",
        ]:
            response = Client().get(path)
            assert response.status_code in (301, 404), (path, response.status_code)
        response = Client().post(f"/f/{segment}/language/", {"language": "es"})
        assert response.status_code in (301, 404)
        # The real link with a junk check-in number.
        response = Client().get(f"/f/{world['token']}/done/{quote(time_point, safe='')}/")
        assert response.status_code in (200, 404)


# ---------------------------------------------------------------------------
# A staff form posted without its CSRF token


def test_staff_posts_without_a_csrf_token_are_refused(world, therapist_a, lead_a):
    session, patient, alert = world["session"], world["patient"], world["alert"]
    posts = [
        (
            therapist_a.user,
            reverse("tracker:patient_create"),
            {"display_name": "X", "clinic": world["clinic"].pk},
        ),
        (therapist_a.user, reverse("tracker:session_create", args=[patient.pk]), {"pre_pain": "3"}),
        (therapist_a.user, reverse("tracker:alert_acknowledge", args=[alert.pk]), {"note": "Done"}),
        (therapist_a.user, reverse("tracker:link_replace", args=[session.pk]), {}),
        (therapist_a.user, reverse("tracker:two_step"), {"action": "remove"}),
        (therapist_a.user, reverse("password_change"), {}),
        (therapist_a.user, reverse("logout"), {}),
        (lead_a.user, reverse("tracker:patient_erase", args=[patient.pk]), {"confirm": "HP-0042"}),
        (
            lead_a.user,
            reverse("tracker:clinic_settings", args=[world["clinic"].pk]),
            {"time_zone": "UTC", "emergency_number": "911"},
        ),
        (
            lead_a.user,
            reverse("tracker:clinic_staff", args=[world["clinic"].pk]),
            {"first_name": "N", "last_name": "Q", "email": "n@example.org", "role": "lead"},
        ),
        (
            lead_a.user,
            reverse("tracker:staff_member", args=[world["clinic"].pk, therapist_a.pk]),
            {"action": "deactivate"},
        ),
    ]
    before = counts()
    for user, url, data in posts:
        client = Client(enforce_csrf_checks=True)
        client.force_login(user)
        response = client.post(url, data)
        assert response.status_code == 403, url
        assert "CSRF verification failed" in response.content.decode(), url
    assert counts() == before
    assert not Alert.objects.filter(acknowledged_at__isnull=False).exists()
    assert not Patient.objects.filter(erased_at__isnull=False).exists()
    assert AccessLink.objects.get(session=session).revoked_at is None
    therapist_a.user.refresh_from_db()
    world["clinic"].refresh_from_db()
    assert therapist_a.user.is_active and world["clinic"].time_zone == "Europe/London"
    assert not Membership.objects.filter(user__email="n@example.org").exists()


def test_a_huge_site_count_builds_no_huge_page(world):
    """TOTAL_FORMS is the client's to write: one post must not make the server build 1000 rows."""
    url = reverse("tracker:session_create", args=[world["patient"].pk])
    before = counts()
    response = world["staff"].post(
        url,
        {
            "performed_at": "2026-01-15T10:30",
            "pre_pain": "3",
            "sites-TOTAL_FORMS": "1000000",
            "sites-INITIAL_FORMS": "0",
            "sites-0-muscle": "deltoid",
            "sites-0-side": "left",
            "sites-0-insertions": "2",
            "sites-0-technique": "superficial",
            "sites-0-twitch_band": "none",
        },
    )
    assert response.status_code == 200
    assert "Please submit at most 20 forms" in response.content.decode()
    assert len(response.context["sites"].forms) == 20
    assert counts() == before


def test_a_nul_character_anywhere_is_refused_politely(world):
    """PostgreSQL refuses NUL in any text: it must never reach a query (SQLite would take it)."""
    clinic = world["clinic"].pk
    for client, url, query in [
        (world["staff"], reverse("tracker:patient_list"), {"q": "a\x00b"}),
        (world["staff"], reverse("tracker:alert_list"), {"state": "\x00", "severity": "\x00"}),
        (
            world["staff"],
            reverse("tracker:analytics", args=[clinic]),
            {"muscle": "\x00", "date_from": "\x00"},
        ),
        (world["lead"], reverse("tracker:audit_list"), {"patient": "a\x00", "user": "\x00"}),
    ]:
        response = client.get(url, query)
        assert response.status_code == 200, url
    token = world["token"]
    assert Client().get(f"/f/{token}%00/").status_code == 404
    response = Client().post(
        reverse("patient:check_in", args=[token]), {"key": "\x00", "note": "\x00"}
    )
    assert response.status_code == 200
    response = Client().post(reverse("login"), {"username": "ana\x00", "password": "x\x00"})
    assert response.status_code == 200

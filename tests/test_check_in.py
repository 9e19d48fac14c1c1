"""The patient's check-in page: validation, idempotency, links that do not work."""

import functools
import html
import re
import threading
import uuid
from datetime import datetime, timedelta
from urllib.parse import unquote

import pytest
from django.db import OperationalError, connection, transaction
from django.urls import reverse
from django.utils import translation
from django.utils.functional import empty

from tests.factories import answer, make_session, site
from tracker import services
from tracker.choices import Muscle, TimePoint
from tracker.forms.patient import FEELING_FINE, CheckInForm
from tracker.models import AccessLink, Alert, Clinic, NeedlingSession, Patient, SymptomReport
from tracker.security import tokens

pytestmark = pytest.mark.django_db


def _url(token):
    return reverse("patient:check_in", args=[token])


def _valid_post(**overrides):
    return {
        "key": str(uuid.uuid4()),
        "soreness": "3",
        "twitching": "mild",
        "bruising": "none",
        "interference": "a_little",
        "after_effects": ["headache"],
        "red_flags": ["none"],
        "local_reaction": "no",
        "pgic": "3",
        "note": "Fine, a bit stiff.",
        **overrides,
    }


def test_page_shows_clinic_date_and_open_check_in(client, session_a, link_token):
    response = client.get(_url(link_token))
    assert response.status_code == 200
    page = response.content.decode()
    assert session_a.patient.clinic.name in page
    assert "How do you feel right after the session?" in page
    assert page.count('type="radio" name="soreness"') == 11
    assert session_a.patient.display_name not in page  # the link page names no one
    assert response["Cache-Control"].startswith("max-age=0")


def test_valid_report_is_stored_and_confirmed(client, session_a, link_token):
    response = client.post(_url(link_token), _valid_post(), follow=True)
    assert response.status_code == 200
    assert "your answers were sent" in response.content.decode()
    report = SymptomReport.objects.get()
    assert (report.soreness, report.twitching, report.headache, report.bleeding) == (
        3,
        "mild",
        True,
        False,
    )
    assert report.follow_up.time_point == TimePoint.IN_CLINIC
    assert report.follow_up.answered_at == report.submitted_at


def test_resend_of_the_same_submission_stores_one_report(client, session_a, link_token):
    data = _valid_post()
    first = client.post(_url(link_token), data)
    second = client.post(_url(link_token), data)
    assert SymptomReport.objects.count() == 1
    assert first.status_code == second.status_code == 302
    assert first["Location"] == second["Location"]


def test_concurrent_resend_through_the_service_returns_the_same_report(session_a):
    follow_up = session_a.follow_ups.get(time_point=TimePoint.IN_CLINIC)
    key = uuid.uuid4()
    answers = {"soreness": 2, "twitching": "none", "bruising": "none", "interference": "not_at_all"}
    first, created_first = services.submit_report(
        follow_up=follow_up, idempotency_key=key, answers=answers
    )
    again, created_again = services.submit_report(
        follow_up=follow_up, idempotency_key=key, answers=answers
    )
    assert (created_first, created_again) == (True, False)
    assert first.pk == again.pk


def test_a_key_already_stored_for_another_check_in_stores_nothing_new(session_a, time_machine):
    answers = {"soreness": 2, "twitching": "none", "bruising": "none", "interference": "not_at_all"}
    key = uuid.uuid4()
    in_clinic = session_a.follow_ups.get(time_point=TimePoint.IN_CLINIC)
    first, _ = services.submit_report(follow_up=in_clinic, idempotency_key=key, answers=answers)
    day_after = session_a.follow_ups.get(time_point=TimePoint.H24)
    time_machine.move_to(day_after.due_at, tick=False)

    again, created = services.submit_report(
        follow_up=day_after, idempotency_key=key, answers=answers
    )

    assert (again.pk, created) == (first.pk, False)
    assert SymptomReport.objects.count() == 1
    day_after.refresh_from_db()
    assert day_after.answered_at is None  # still open for its own answer


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("soreness", "", "Choose a number from 0 to 10."),
        ("soreness", "11", "Select a valid choice"),
        ("soreness", "-1", "Select a valid choice"),
        ("twitching", "", "Choose none, mild or strong."),
        ("bruising", "huge", "Select a valid choice"),
        ("red_flags", "rf_made_up", "Select a valid choice"),
        ("red_flags", [], "Tick any warning sign you have, or “None of these”."),
        ("red_flags", ["none", "rf_cough"], "untick one of them"),
        ("after_effects", [], "or “None of these”"),
        ("interference", "", "Choose how much"),
        ("note", "x" * 1001, "at most 1000 characters"),
    ],
)
def test_bad_input_is_shown_beside_the_field_and_nothing_is_stored(
    client, session_a, link_token, field, value, message
):
    response = client.post(_url(link_token), _valid_post(**{field: value}))
    assert response.status_code == 200
    form = response.context["form"]
    assert list(form.errors) == [field]
    assert message in " ".join(form.errors[field])
    assert f'id="{field}-error"' in response.content.decode()
    assert not SymptomReport.objects.exists()


def test_missing_idempotency_key_is_refused(client, session_a, link_token):
    data = _valid_post()
    del data["key"]
    response = client.post(_url(link_token), data)
    assert response.status_code == 200 and "key" in response.context["form"].errors
    assert not SymptomReport.objects.exists()


# --- A warning sign sent with answers missing --------------------------------------------


def test_a_warning_sign_with_answers_missing_reaches_the_clinic_at_once(
    client, session_a, link_token, django_capture_on_commit_callbacks, mailoutbox
):
    """A patient short of breath may tick the sign, press send and call for help
    rather than answer the rest: the clinic is told all the same, and only once
    however often the phone sends it again; nothing of the answers is stored."""
    session_a.therapist.email = "therapist@clinic.example"
    session_a.therapist.save()
    incomplete = _valid_post(red_flags=["rf_breathing"])
    del incomplete["soreness"]
    for _attempt in range(2):
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(_url(link_token), incomplete)
        assert response.status_code == 200 and "soreness" in response.context["form"].errors
        page = response.content.decode()
        assert "Your clinic has been told about the warning sign you ticked." in page
        # What to do first, above the questions left unanswered.
        call_now = '<h2 class="h4 text-danger">Call 999 now</h2>'
        assert page.index(call_now) < page.index("Some answers are missing")
    assert not SymptomReport.objects.exists()
    alert = Alert.objects.get()
    assert (alert.rule, alert.severity, alert.report, alert.session) == (
        "red_flag",
        "urgent",
        None,
        session_a,
    )
    assert alert.facts["flags"] == ["rf_breathing"]
    assert alert.follow_up.time_point == TimePoint.IN_CLINIC
    assert len(mailoutbox) == 1  # the urgent alert's first step, sent once

    # The rest of the answers, sent later, complete the same alert.
    complete = _valid_post(red_flags=["rf_breathing", "rf_cough"])
    assert client.post(_url(link_token), complete).status_code == 302
    alert = Alert.objects.get()
    assert alert.report == SymptomReport.objects.get()
    assert alert.facts["flags"] == ["rf_breathing", "rf_cough"]


def test_answers_missing_without_a_warning_sign_tell_the_clinic_nothing(
    client, session_a, link_token
):
    for red_flags in (["none"], []):
        incomplete = _valid_post(red_flags=red_flags)
        del incomplete["soreness"]
        page = client.post(_url(link_token), incomplete).content.decode()
        assert "Some answers are missing" in page
        assert "Your clinic has been told" not in page
    assert not Alert.objects.exists()


def test_a_warning_sign_ticked_with_none_of_these_still_reaches_the_clinic(
    client, session_a, link_token
):
    """Without JavaScript nothing unticks "None of these": a sign ticked beside
    it is refused as an answer, but the clinic is told of it."""
    contradictory = _valid_post(red_flags=["none", "rf_cough"])
    response = client.post(_url(link_token), contradictory)
    assert "red_flags" in response.context["form"].errors
    assert not SymptomReport.objects.exists()
    assert Alert.objects.get().facts["flags"] == ["rf_cough"]


def test_a_warning_sign_in_spanish_reaches_the_clinic_and_says_so(client, session_a, link_token):
    session_a.patient.language = "es"
    session_a.patient.save()
    incomplete = _valid_post(red_flags=["rf_infection"])
    del incomplete["interference"]
    page = client.post(_url(link_token), incomplete).content.decode()
    assert "Hemos avisado a su clínica de la señal de alarma que ha marcado." in page
    # Infection alone: a doctor today, not the emergency number.
    assert '<h2 class="h4">Vea a un médico o llame a la clínica hoy</h2>' in page
    assert '<h2 class="h4 text-danger">' not in page
    assert Alert.objects.get().facts["flags"] == ["rf_infection"]


def test_a_warning_sign_for_a_check_in_already_answered_opens_nothing_more(session_a):
    """The report's own alerts were raised with it."""
    answer(session_a, TimePoint.IN_CLINIC)
    follow_up = session_a.follow_ups.get(time_point=TimePoint.IN_CLINIC)
    late = services.report_warning_signs(
        follow_up=follow_up, flags=["rf_breathing"], now=follow_up.due_at
    )
    assert late is None
    assert not Alert.objects.exists()


def test_red_flag_shows_emergency_guidance_first(client, session_a, link_token):
    response = client.post(_url(link_token), _valid_post(red_flags=["rf_breathing"]), follow=True)
    page = response.content.decode()
    assert "Call 999 now" in page
    assert page.index("Call 999 now") < page.index(session_a.patient.clinic.phone)
    assert "What is normal" not in page  # no reassurance beside an emergency
    assert SymptomReport.objects.get().rf_breathing


def test_answered_check_in_is_not_asked_again(client, session_a, link_token):
    client.post(_url(link_token), _valid_post())
    response = client.get(_url(link_token))
    assert response.context["form"] is None
    assert "Your 24-hour check-in opens on" in response.content.decode()


def test_a_new_submission_after_the_answer_stores_nothing_more(client, session_a, link_token):
    client.post(_url(link_token), _valid_post())
    response = client.post(_url(link_token), _valid_post(soreness="9"))
    assert response.status_code == 200
    assert list(SymptomReport.objects.values_list("soreness", flat=True)) == [3]


def test_next_check_in_opens_by_the_clock(client, session_a, link_token, hours_after):
    hours_after(23)
    response = client.get(_url(link_token))
    assert response.context["open_follow_up"].time_point == TimePoint.H24
    client.post(_url(link_token), _valid_post(soreness="1"))
    assert SymptomReport.objects.get().follow_up.time_point == TimePoint.H24


@pytest.mark.parametrize("token", ["not-a-token", "A" * 43, "x"])
def test_unknown_token_is_a_plain_404(client, session_a, token):
    response = client.get(_url(token))
    assert response.status_code == 404
    assert "Please contact your clinic" in response.content.decode()


def test_expired_link_is_a_404_that_gives_the_clinics_phone(
    client, session_a, link_token, hours_after
):
    hours_after(7 * 24 + 1)
    response = client.get(_url(link_token))
    assert response.status_code == 404
    page = response.content.decode()
    assert "have closed" in page and session_a.patient.clinic.phone in page
    assert client.post(_url(link_token), _valid_post()).status_code == 404
    assert not SymptomReport.objects.exists()


def test_revoked_link_is_a_404(client, session_a, link_token):
    AccessLink.objects.update(revoked_at=session_a.performed_at + timedelta(minutes=1))
    response = client.get(_url(link_token))
    assert response.status_code == 404
    assert "replaced" in response.content.decode()


def test_tokens_are_long_random_and_stored_only_as_a_hash(session_a, link_token):
    link = session_a.access_links.get()
    assert len(link_token) >= 43  # 256 bits in URL-safe base64
    assert link.token_hash == tokens.hash_token(link_token)
    assert link_token not in {link.nonce, link.token_hash}
    other = services.issue_access_link(session=session_a)
    assert tokens.token_for(other.nonce) != link_token
    assert link.expires_at == session_a.performed_at + timedelta(days=7)


def test_confirmation_page_for_an_unanswered_check_in_is_a_404(client, session_a, link_token):
    response = client.get(reverse("patient:done", args=[link_token, 24]))
    assert response.status_code == 404


def test_feeling_fine_records_an_explicit_answer_to_every_question(client, session_a, link_token):
    page = client.get(_url(link_token)).content.decode()
    assert "I feel fine" in page
    response = client.post(
        _url(link_token), {"key": str(uuid.uuid4()), **FEELING_FINE}, follow=True
    )
    assert "your answers were sent" in response.content.decode()
    report = SymptomReport.objects.get()
    assert (report.soreness, report.twitching, report.bruising, report.interference) == (
        0,
        "none",
        "none",
        "not_at_all",
    )
    assert not report.after_effects and not report.has_red_flag


def test_bruise_details_are_dropped_without_a_bruise(client, session_a, link_token):
    client.post(_url(link_token), _valid_post(bruise_growing="on"))
    assert not SymptomReport.objects.get().bruise_growing


def test_late_check_in_can_still_be_answered(client, session_a, link_token, hours_after):
    hours_after(24 + 5)  # due at 24 h, late from 26 h, closes at 36 h
    follow_up = session_a.follow_ups.get(time_point=TimePoint.H24)
    assert follow_up.state_at(session_a.performed_at + timedelta(hours=29)) == "late"
    client.post(_url(link_token), _valid_post())
    assert SymptomReport.objects.get().follow_up == follow_up


def test_after_submitting_the_patient_sees_their_soreness_so_far(
    client, session_a, link_token, hours_after
):
    client.post(_url(link_token), _valid_post(soreness="5"))
    hours_after(24)
    response = client.post(_url(link_token), _valid_post(soreness="2"), follow=True)
    page = response.content.decode()
    assert "5/10 right after the session, 2/10 at 24 hours" in page
    assert "It is easing" in page
    # The chart comes inside the page: no second request on a slow network.
    chart = _chart_in(page)
    assert "Your soreness since the session" in chart and chart.startswith("<?xml")
    assert reverse("patient:soreness_chart", args=[link_token]) not in page
    assert "Your 48-hour check-in opens on" in page
    # Still served on its own, for a chart opened in a tab of its own.
    alone = client.get(reverse("patient:soreness_chart", args=[link_token]))
    assert alone["Content-Type"] == "image/svg+xml" and alone.content.decode() == chart


def _chart_in(page: str) -> str:
    """The SVG of the page's chart image, from its data: URI."""
    src = html.unescape(re.search(r'<img class="[^"]*chart[^"]*" src="([^"]+)"', page).group(1))
    prefix = "data:image/svg+xml,"
    assert src.startswith(prefix)
    return unquote(src.removeprefix(prefix))


def test_the_done_page_with_its_chart_takes_two_queries(
    client, session_a, link_token, hours_after, django_assert_num_queries
):
    client.post(_url(link_token), _valid_post(soreness="5"))
    hours_after(24)
    client.post(_url(link_token), _valid_post(soreness="2"))
    done = reverse("patient:done", args=[link_token, 24])
    client.get(done)  # the chart drawn and cached
    # 1. the link with its session, patient, clinic, and the session's
    # follow-ups with their reports; 2. the chart's points (its cache key).
    # The lookup limits are counted in the cache.
    with django_assert_num_queries(2):
        response = client.get(done)
    assert "data:image/svg+xml," in response.content.decode()


def test_soreness_chart_needs_a_valid_token(client, session_a):
    assert client.get(reverse("patient:soreness_chart", args=["nope"])).status_code == 404


def test_a_browser_sending_no_referrer_can_post_without_a_csrf_cookie(session_a, link_token):
    """Patient pages send no referrer, so browsers post with ``Origin: null``."""
    from django.test import Client

    browser = Client(enforce_csrf_checks=True, HTTP_ORIGIN="null")
    page = browser.get(_url(link_token))
    assert page["Referrer-Policy"] == "no-referrer"
    assert not page.cookies  # nothing to track the patient by
    response = browser.post(_url(link_token), _valid_post())
    assert response.status_code == 302
    assert SymptomReport.objects.count() == 1


def test_unknown_links_send_no_referrer_either(client):
    assert client.get(_url("unknown"))["Referrer-Policy"] == "no-referrer"


def test_a_patient_on_blood_thinners_is_told_what_bruising_is_too_much(
    client, session_a, link_token
):
    assert "bleeding are more likely" not in client.get(_url(link_token)).content.decode()
    session_a.anticoagulants = True
    session_a.save()
    page = client.get(_url(link_token)).content.decode()
    assert "medicine that thins the blood, so bruising and bleeding are more likely" in page
    assert "10 minutes of firm pressure" in page


# --- The unanswered questions, kept rendered -------------------------------------


def _questions(page: str) -> str:
    """The answer form of a check-in page, without its per-page key."""
    form = page[page.index('<form method="post" id="answers" novalidate') :]
    return re.sub(r'name="key" value="[^"]*"', 'name="key"', form)


def test_the_questions_kept_rendered_are_those_rendered_afresh(client, session_a, link_token):
    first = client.get(_url(link_token))
    assert "patient/_questions.html" in [template.name for template in first.templates]
    again = client.get(_url(link_token))
    # Kept: neither the questions drawn again nor the form made to draw them.
    assert "patient/_questions.html" not in [template.name for template in again.templates]
    assert again.context["form"]._wrapped is empty
    afresh, kept = first.content.decode(), again.content.decode()
    assert _questions(kept) == _questions(afresh)
    assert kept.count('type="radio" name="soreness"') == 11


def _without_keys(page: str) -> str:
    return re.sub(r'name="key" value="[^"]*"', 'name="key"', page)


def test_what_many_patients_share_is_kept_and_follows_what_it_is_drawn_from(
    client, patient_a, therapist_a, frozen_now
):
    """The parts of the page kept for a clinic's patients (what is normal, what to do
    about a warning sign, the messages shown offline) change with the clinic's
    numbers and the session, and are otherwise the page drawn afresh."""
    zone = patient_a.clinic.zone
    frozen_now(datetime(2026, 3, 10, 0, 30, tzinfo=zone))
    session = make_session(
        patient=patient_a,
        therapist=therapist_a.user,
        performed_at=datetime(2026, 3, 10, 0, 20, tzinfo=zone),
    )
    url = _url(tokens.token_for(session.access_links.get().nonce))
    afresh = _without_keys(client.get(url).content.decode())
    assert _without_keys(client.get(url).content.decode()) == afresh
    assert afresh.count("Tuesday 10 March") == 2  # the heading, and what to say when calling

    clinic = patient_a.clinic
    # One change at a time: each must show, though the rest of the page is kept.
    for column, old, new in [
        ("name", clinic.name, "Riverside Sports Clinic"),
        ("phone", clinic.phone, "020 7946 0123"),
        ("emergency_number", clinic.emergency_number, "911"),
    ]:
        Clinic.objects.filter(pk=clinic.pk).update(**{column: new})
        page = _without_keys(client.get(url).content.decode())
        assert old not in page and page.count(new) == afresh.count(old) > 0, column
    for changes, shown in [
        ({"anticoagulants": True}, "medicine that thins the blood"),
        ({"performed_at": datetime(2026, 3, 9, 23, 50, tzinfo=zone)}, "Monday 9 March"),
    ]:
        assert shown not in page
        NeedlingSession.objects.filter(pk=session.pk).update(**changes)
        page = _without_keys(client.get(url).content.decode())
        assert shown in page
    assert page.count("Monday 9 March") == 2


def test_the_kept_page_names_its_own_check_in(client, patient_a, therapist_a, time_machine):
    """With 72 h asked of everyone, the 24- and 48-hour check-ins ask the same
    questions; each page still says which check-in it is."""
    clinic = patient_a.clinic
    clinic.fixed_72h = True
    clinic.save()
    session = make_session(patient=patient_a, therapist=therapist_a.user)
    url = _url(tokens.token_for(session.access_links.get().nonce))
    for hours in (24, 48):
        time_machine.move_to(session.performed_at + timedelta(hours=hours), tick=False)
        for _view in range(2):  # drawn, then kept
            page = client.get(url).content.decode()
            assert f"It is time for your {hours}-hour check-in." in page


def test_an_answer_sent_back_shows_its_errors_and_choices_after_questions_were_kept(
    client, session_a, link_token
):
    client.get(_url(link_token))  # the questions are now kept rendered
    response = client.post(_url(link_token), _valid_post(soreness="", twitching="mild"))
    page = response.content.decode()
    assert 'id="soreness-error"' in page
    assert re.search(r'name="twitching" value="mild" id="[^"]+" checked', page)
    assert not re.search(
        r'name="twitching" value="mild" id="[^"]+" checked',
        client.get(_url(link_token)).content.decode(),
    )


def test_each_kind_of_session_gets_its_own_warning_question(client, session_a, link_token):
    chest = make_session(patient=session_a.patient, sites=[site(muscle=Muscle.PECTORALIS_MAJOR)])
    chest_token = tokens.token_for(chest.access_links.get().nonce)
    for _round in range(2):
        assert (
            "Important: do you have any of these warning signs now?"
            in client.get(_url(chest_token)).content.decode()
        )
        assert "Important: do you have" not in client.get(_url(link_token)).content.decode()


def test_a_forms_choices_are_its_own():
    """The in-clinic check-in's own wording of a warning sign stays in its own form,
    though forms share their choices' lists until one replaces them."""
    in_clinic = CheckInForm(time_point=TimePoint.IN_CLINIC).fields["red_flags"]
    later = CheckInForm(time_point=TimePoint.H24).fields["red_flags"]
    faint = "Fainting or feeling faint since the needling"
    assert faint in [str(label) for _value, label in in_clinic.choices]
    assert faint in [str(label) for _value, label in in_clinic.widget.choices]
    assert faint not in [str(label) for _value, label in later.choices]
    assert faint not in [str(label) for _value, label in later.widget.choices]
    assert later.choices == CheckInForm.base_fields["red_flags"].choices


def test_the_questions_digest_changes_with_what_the_questions_show():
    def digest(**kwargs):
        return CheckInForm(**kwargs).questions_digest

    assert digest(time_point=TimePoint.H24) == digest(time_point=TimePoint.H24)
    kinds = {
        digest(time_point=TimePoint.IN_CLINIC),
        digest(time_point=TimePoint.H24),
        digest(time_point=TimePoint.H48, last_planned=True),
    }
    assert len(kinds) == 3
    with translation.override("es"):
        assert digest(time_point=TimePoint.H24) not in kinds
        # Each process works a digest out once: the one kept is the one worked out afresh.
        form = CheckInForm(time_point=TimePoint.H48, last_planned=True)
        assert form.questions_digest == form._questions_digest() != digest(time_point=TimePoint.H48)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks: PostgreSQL")
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    ("locked_elsewhere", "waits"),
    [("clinic", False), ("patient", True), ("session", True)],
)
def test_a_check_in_waits_for_its_patient_and_session_never_for_its_clinic(
    session_a, locked_elsewhere, waits
):
    """A lead saving the clinic's settings, or another patient's check-in, holds no
    check-in up; erasing the patient or marking the session does."""
    follow_up = session_a.follow_ups.get(time_point=TimePoint.IN_CLINIC)
    row = {
        "clinic": Clinic.objects.filter(pk=session_a.clinic_id),
        "patient": Patient.objects.filter(pk=session_a.patient_id),
        "session": NeedlingSession.objects.filter(pk=session_a.pk),
    }[locked_elsewhere]
    holding, done = threading.Event(), threading.Event()

    def hold_the_row():
        try:
            with transaction.atomic():
                list(row.select_for_update())
                holding.set()
                done.wait(10)
        finally:
            connection.close()

    elsewhere = threading.Thread(target=hold_the_row)
    elsewhere.start()
    try:
        assert holding.wait(10)
        with connection.cursor() as cursor:
            cursor.execute("SET lock_timeout = '1s'")
        answers = {"soreness": 2, "twitching": "none", "bruising": "none"}
        submit = functools.partial(
            services.submit_report,
            follow_up=follow_up,
            idempotency_key=uuid.uuid4(),
            answers={**answers, "interference": "not_at_all"},
        )
        if waits:
            with pytest.raises(OperationalError, match="lock timeout"):
                submit()
            assert not SymptomReport.objects.exists()
        else:
            _report, created = submit()
            assert created
    finally:
        done.set()
        elsewhere.join()
        with connection.cursor() as cursor:
            cursor.execute("RESET lock_timeout")

"""English and Spanish for everything a patient sees: pages, switch, reminders, catalogue.

The language comes from the patient's record (``Patient.language``), never
from the browser, and the patient can switch it on every page with a plain
POST that stores the choice on the patient (patient pages set no cookie).
"""

import ast
import json
import re
import uuid
from pathlib import Path

import pytest
from django.conf import settings as conf
from django.core import mail
from django.core.management import call_command
from django.urls import reverse
from django.utils import translation
from django.utils.translation.template import templatize

from tests.factories import PatientFactory, make_session
from tracker import reminders
from tracker.choices import (
    CHECK_IN_NAMES,
    AfterEffect,
    BruiseBand,
    Interference,
    RedFlag,
    ReminderChannel,
    TimePoint,
    TwitchingFelt,
)
from tracker.forms.patient import CheckInForm
from tracker.security import tokens

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parent.parent
PO = ROOT / "tracker" / "locale" / "es" / "LC_MESSAGES" / "django.po"
MO = PO.with_suffix(".mo")

# Where the words a patient reads come from.
PATIENT_TEMPLATES = sorted((ROOT / "templates" / "patient").glob("*.html")) + sorted(
    (ROOT / "templates" / "reminders").glob("*.txt")
)
# Files that only patients read. choices.py and forms.py also hold staff words, so their
# patient ones (CheckInForm and the patient's choices) are checked at run time instead.
PATIENT_SOURCES = (
    "templates/patient/",
    "templates/reminders/",
    "tracker/views/patient.py",
    "tracker/views/reminders.py",
    "tracker/reminders.py",
)
PATIENT_CHOICES = [
    TwitchingFelt,
    BruiseBand,
    Interference,
    AfterEffect,
    RedFlag,
    TimePoint,
    ReminderChannel,
]


@pytest.fixture(autouse=True)
def compiled_catalogue(settings):
    """The Spanish catalogue compiled from the committed .po (``make test`` does it first too)."""
    if not MO.exists() or MO.stat().st_mtime < PO.stat().st_mtime:
        call_command("compilemessages", locale=["es"], ignore_patterns=[".venv"], verbosity=0)
        # Assigning a translation setting makes Django drop the catalogues it loaded.
        settings.LOCALE_PATHS = list(conf.LOCALE_PATHS)


def _url(token, name="check_in", *args):
    return reverse(f"patient:{name}", args=[token, *args])


def _answers(**overrides):
    return {
        "key": str(uuid.uuid4()),
        "soreness": "3",
        "twitching": "mild",
        "bruising": "none",
        "interference": "a_little",
        "after_effects": ["none"],
        "red_flags": ["none"],
        "local_reaction": "no",
        "pgic": "3",
        **overrides,
    }


@pytest.fixture
def spanish(patient_a):
    patient_a.language = "es"
    patient_a.save()
    return patient_a


# --- Pages in the patient's language --------------------------------------------


def test_spanish_patients_check_in_page_is_in_spanish(client, spanish, session_a, link_token):
    # The browser asks for English: the patient's record decides, not the phone.
    response = client.get(_url(link_token), headers={"accept-language": "en"})
    page = response.content.decode()
    assert response.status_code == 200
    assert '<html lang="es">' in page
    assert response["Content-Language"] == "es"
    for spanish_text in [
        "Su sesión de punción seca del",
        "¿Cómo se siente justo después de la sesión?",
        "¿Cuántas molestias tiene ahora en la zona donde se pusieron las agujas?",
        "0 significa sin molestias; 10, las peores molestias que pueda imaginar.",
        "no el dolor por el que vino",
        "Espasmos o calambres en el músculo",
        "Como una pelota de golf (2,5–5 cm)",
        "¿Tiene ahora alguna de estas señales de alarma?",
        "Falta de aire que no tenía antes, dolor en el pecho o dolor al respirar hondo",
        "Tos seca nueva, o toser sangre",
        "temperatura superior a 38 °C",
        "Me siento bien: enviar estas respuestas",
        "Enviar mis respuestas",
        "Qué es normal después de la punción seca",
    ]:
        assert spanish_text in page, spanish_text
    assert re.search(r"del \w+ \d{1,2} de \w+", page)  # "del jueves 27 de noviembre"
    for english_text in ["Send my answers", "How sore", "warning signs", "Your needling session"]:
        assert english_text not in page, english_text


def test_the_questions_are_kept_rendered_per_language(client, session_a, link_token):
    english = session_a.patient
    spanish_session = make_session(
        patient=PatientFactory(clinic=english.clinic, language="es"), therapist=session_a.therapist
    )
    spanish_token = tokens.token_for(spanish_session.access_links.get().nonce)
    for _round in range(2):  # rendered, then kept
        page = client.get(_url(link_token)).content.decode()
        assert "How sore is the needled area right now?" in page
        assert "¿Cuántas molestias" not in page
        page = client.get(_url(spanish_token)).content.decode()
        assert "¿Cuántas molestias tiene ahora en la zona donde se pusieron las agujas?" in page
        assert "How sore" not in page and "warning signs" not in page


def test_english_patient_gets_english_whatever_the_browser_asks(client, session_a, link_token):
    response = client.get(_url(link_token), headers={"accept-language": "es"})
    page = response.content.decode()
    assert '<html lang="en">' in page and response["Content-Language"] == "en"
    assert "How sore is the needled area right now?" in page and "Send my answers" in page
    assert "Enviar mis respuestas" not in page


def test_spanish_validation_messages(client, spanish, session_a, link_token):
    answers = _answers(soreness="", red_flags=["none", "rf_cough"])
    page = client.post(_url(link_token), answers).content.decode()
    assert "Faltan algunas respuestas." in page
    assert "Elija un número del 0 al 10." in page
    assert "Ha marcado “Nada de esto” y algo más" in page


def test_spanish_confirmation_after_submitting(client, spanish, session_a, link_token):
    response = client.post(_url(link_token), _answers(), follow=True)
    page = response.content.decode()
    assert '<html lang="es">' in page
    assert "Gracias: sus respuestas se han enviado" in page
    assert "Su cuestionario en la clínica: molestias de 3 sobre 10." in page
    assert "Su cuestionario de las 24 horas se abre el" in page
    assert "your answers were sent" not in page


def test_spanish_emergency_page(client, spanish, session_a, link_token):
    answers = _answers(red_flags=["rf_breathing", "rf_cough"])
    response = client.post(_url(link_token), answers, follow=True)
    page = response.content.decode()
    assert '<html lang="es">' in page
    assert "Llame ahora al 999" in page
    assert 'href="tel:999">Llamar al 999</a>' in page
    assert "Qué decir" in page and "Me hicieron punción seca" in page
    assert (
        "Ahora tengo: Falta de aire que no tenía antes, dolor en el pecho o dolor al respirar hondo; "
        "Tos seca nueva"
    ) in page
    assert "Call 999" not in page


def test_spanish_soreness_chart_and_its_description(
    client, spanish, session_a, link_token, hours_after
):
    client.post(_url(link_token), _answers(soreness="5"))
    hours_after(24)
    response = client.post(_url(link_token), _answers(soreness="3"), follow=True)
    done = " ".join(response.content.decode().split())
    assert (
        'alt="Gráfico de sus molestias por la punción, de 0 a 10, según las horas desde la sesión.'
        in done
    )
    assert (
        "Sus molestias hasta ahora: 5/10 justo después de la sesión, 3/10 a las 24 horas." in done
    )
    svg = client.get(_url(link_token, "soreness_chart")).content.decode()
    assert "Sus molestias desde la sesión" in svg
    # The chart's own words too: its axes.
    assert "Horas desde la sesión" in svg and "Molestias (0–10)" in svg
    assert "Hours since the session" not in svg


def test_spanish_reminder_settings_page(client, spanish, session_a, link_token):
    spanish.email, spanish.reminder_channel = "r@example.com", ReminderChannel.EMAIL
    spanish.reminders_consent = True
    spanish.save()
    page = client.get(_url(link_token, "stop_reminders")).content.decode()
    assert "Le enviamos un recordatorio (Correo electrónico)" in page
    assert "Desactivar los recordatorios" in page


def test_closed_link_speaks_the_patients_language(
    client, spanish, session_a, link_token, hours_after
):
    hours_after(8 * 24)
    response = client.get(_url(link_token))
    assert response.status_code == 404
    page = response.content.decode()
    assert '<html lang="es">' in page and "Los cuestionarios de esta sesión se han cerrado" in page


def test_unknown_link_speaks_english_and_spanish(client, session_a):
    response = client.get(_url("not-a-token"), headers={"accept-language": "es"})
    page = response.content.decode()
    assert response.status_code == 404
    assert '<html lang="en">' in page and '<div lang="es"' in page
    assert "This link is not valid" in page and "Este enlace no es válido" in page
    assert "call emergency services now" in page and "llame ahora a emergencias" in page
    assert 'action="/f/' not in page  # no language switch: there is nobody to store it on


# --- Switching on the page ------------------------------------------------------


def test_patient_pages_offer_the_other_language_named_in_itself(
    client, spanish, session_a, link_token
):
    action = f'action="{_url(link_token, "set_language")}"'
    page = client.get(_url(link_token)).content.decode()
    assert action in page
    assert 'name="language" value="en" lang="en">English</button>' in page
    assert 'value="es"' not in page.split(action)[1].split("</form>")[0]  # not the current one
    spanish.language = "en"
    spanish.save()
    page = client.get(_url(link_token)).content.decode()
    assert 'name="language" value="es" lang="es">Español</button>' in page
    assert f'name="next" value="{_url(link_token)}"' in page


def test_switching_stores_the_choice_on_the_patient(client, patient_a, session_a, link_token):
    response = client.post(_url(link_token, "set_language"), {"language": "es"})
    assert response.status_code == 302 and response["Location"] == _url(link_token)
    assert not response.cookies  # patient pages set no cookie
    patient_a.refresh_from_db()
    assert patient_a.language == "es"
    page = client.get(_url(link_token)).content.decode()
    assert '<html lang="es">' in page and "Enviar mis respuestas" in page

    client.post(_url(link_token, "set_language"), {"language": "en"})
    patient_a.refresh_from_db()
    assert patient_a.language == "en"
    assert "Send my answers" in client.get(_url(link_token)).content.decode()


def test_switching_returns_to_the_page_of_the_same_link(client, patient_a, session_a, link_token):
    next_url = _url(link_token, "stop_reminders")
    response = client.post(_url(link_token, "set_language"), {"language": "es", "next": next_url})
    assert response["Location"] == next_url


@pytest.mark.parametrize(
    "next_url",
    [
        "https://evil.example/f/",
        "//evil.example/",
        "/accounts/login/",
        "/f/another-token/",
        "/f/\\evil.example",
        "",
    ],
)
def test_switching_never_redirects_elsewhere(client, patient_a, session_a, link_token, next_url):
    response = client.post(_url(link_token, "set_language"), {"language": "es", "next": next_url})
    assert response.status_code == 302 and response["Location"] == _url(link_token)


@pytest.mark.parametrize("suffix", ["x/", "/\\evil.example", "/\r\nSet-Cookie: a=b"])
def test_switching_to_a_link_lookalike_path_goes_to_the_check_in(
    client, patient_a, session_a, link_token, suffix
):
    # Another token that starts like this one, or a path a browser or a header could misread.
    next_url = _url(link_token).rstrip("/") + suffix
    response = client.post(_url(link_token, "set_language"), {"language": "es", "next": next_url})
    assert response["Location"] == _url(link_token)


@pytest.mark.parametrize("language", ["fr", "", "es-x-evil", "EN"])
def test_switching_refuses_unknown_languages(client, patient_a, session_a, link_token, language):
    response = client.post(_url(link_token, "set_language"), {"language": language})
    assert response.status_code == 400
    patient_a.refresh_from_db()
    assert patient_a.language == "en"


def test_switching_needs_a_post_and_a_known_link(client, patient_a, session_a, link_token):
    assert client.get(_url(link_token, "set_language")).status_code == 405
    assert client.post(_url("not-a-token", "set_language"), {"language": "es"}).status_code == 404
    patient_a.refresh_from_db()
    assert patient_a.language == "en"


def test_switching_on_a_closed_link_changes_nothing(
    client, patient_a, session_a, link_token, hours_after
):
    hours_after(8 * 24)
    assert client.post(_url(link_token, "set_language"), {"language": "es"}).status_code == 404
    patient_a.refresh_from_db()
    assert patient_a.language == "en"


# --- Reminders --------------------------------------------------------------------


def test_spanish_patients_reminders_are_in_spanish(
    patient_a, session_a, hours_after, settings, tmp_path
):
    settings.SMS_BACKEND = "tracker.reminders.sms.FileBackend"
    settings.SMS_FILE_PATH = str(tmp_path / "sms.jsonl")
    patient_a.language, patient_a.email = "es", "rosa@example.com"
    patient_a.reminder_channel, patient_a.reminders_consent = ReminderChannel.EMAIL, True
    patient_a.save()
    hours_after(24)
    reminders.run()
    [message] = mail.outbox
    clinic = patient_a.clinic.name
    assert message.subject == f"Su cuestionario de las 24 horas ya está abierto ({clinic})"
    assert (
        "Su cuestionario de las 24 horas ya está abierto. Le llevará menos de un minuto:"
    ) in message.body
    assert "Para dejar de recibir estos recordatorios:" in message.body
    assert "check-in" not in message.body

    # The same patient by text message, at the next check-in.
    patient_a.reminder_channel, patient_a.phone = ReminderChannel.SMS, "+34600000000"
    patient_a.save()
    hours_after(48)
    reminders.run()
    [line] = Path(settings.SMS_FILE_PATH).read_text(encoding="utf-8").splitlines()
    body = json.loads(line)["body"]
    assert body.startswith(f"{clinic}: Su cuestionario de las 48 horas ya está abierto: ")
    assert "Dejar de recibir recordatorios:" in body


def test_reminders_follow_the_language_the_patient_switched_to(
    client, patient_a, session_a, link_token, hours_after
):
    patient_a.email, patient_a.reminder_channel = "rosa@example.com", ReminderChannel.EMAIL
    patient_a.reminders_consent = True
    patient_a.save()
    client.post(_url(link_token, "set_language"), {"language": "es"})
    hours_after(24)
    reminders.run()
    assert mail.outbox[0].subject.startswith("Su cuestionario de las 24 horas")


def test_english_patients_reminders_stay_english(patient_a, session_a, hours_after):
    patient_a.email, patient_a.reminder_channel = "ann@example.com", ReminderChannel.EMAIL
    patient_a.reminders_consent = True
    patient_a.save()
    hours_after(24)
    with translation.override("es"):  # whatever the process happens to be using
        reminders.run()
    assert mail.outbox[0].subject.startswith("Your 24-hour check-in is open")


# --- The catalogue is complete for everything a patient reads ----------------------


def _po_entries(text):
    """(references, flags, msgctxt, msgid, [msgstr...]) of each entry: enough PO for this."""
    entries = []
    for block in text.strip().split("\n\n"):
        refs, flags, fields, key = [], set(), {}, None
        for line in block.splitlines():
            if line.startswith("#:"):
                refs += line[2:].split()
            elif line.startswith("#,"):
                flags |= {flag.strip() for flag in line[2:].split(",")}
            elif line.startswith("#"):
                continue
            elif line.startswith('"'):
                fields[key] += ast.literal_eval(line)
            else:
                key, _space, value = line.partition(" ")
                fields[key] = ast.literal_eval(value)
        if "msgid" in fields:
            strings = [v for k, v in fields.items() if k.startswith("msgstr")]
            entries.append((refs, flags, fields.get("msgctxt"), fields["msgid"], strings))
    return entries


def test_catalogue_translates_every_patient_string_and_leaves_nothing_fuzzy():
    entries = _po_entries(PO.read_text(encoding="utf-8"))
    header, entries = entries[0], entries[1:]
    assert "fuzzy" not in header[1] and "Language: es" in header[4][0]
    patient_entries = [e for e in entries if any(ref.startswith(PATIENT_SOURCES) for ref in e[0])]
    assert len(patient_entries) > 60  # a guard against a parser that finds nothing
    untranslated = [
        msgid for _refs, _flags, _ctxt, msgid, strings in patient_entries if not all(strings)
    ]
    fuzzy = [msgid for refs, flags, _ctxt, msgid, strings in entries if "fuzzy" in flags]
    assert untranslated == [] and fuzzy == []


def test_catalogue_holds_every_string_of_the_patient_templates():
    """A string added to a patient template without ``makemessages`` fails here."""
    entries = _po_entries(PO.read_text("utf-8"))
    in_catalogue = {(ctxt, msgid) for _refs, _flags, ctxt, msgid, _strings in entries}
    literal = r"u'(?:[^'\\]|\\.)*'"
    call = re.compile(rf"\b(gettext|pgettext|ngettext|npgettext)\(({literal}(?:, {literal})*)")
    missing = []
    for template in PATIENT_TEMPLATES:
        source = templatize(template.read_text("utf-8"), origin=str(template))
        for function, arguments in call.findall(source):
            strings = ast.literal_eval(f"({arguments},)")
            with_context = function.startswith(("pgettext", "npgettext"))
            key = (strings[0], strings[1]) if with_context else (None, strings[0])
            if key not in in_catalogue:
                missing.append((template.name, key))
    assert missing == []


def test_every_patient_choice_and_question_reads_differently_in_spanish():
    labels = [label for choices in PATIENT_CHOICES for label in choices.labels]
    labels += list(CHECK_IN_NAMES.values())
    form = CheckInForm(last_planned=True)
    for field in form.fields.values():
        labels += [field.label, field.help_text, *field.error_messages.values()]
        labels += [label for _value, label in getattr(field, "choices", [])]
    labels = [label for label in labels if label and not str(label).isdigit()]
    # The same word in both languages.
    labels = [label for label in labels if str(label) != "No"]
    same = []
    for label in labels:
        with translation.override("en"):
            english = str(label)
        with translation.override("es"):
            spanish = str(label)
        if spanish == english:
            same.append(english)
    assert same == []

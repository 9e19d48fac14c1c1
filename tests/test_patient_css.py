"""The patient pages' stylesheet: the rules of Bootstrap and app.css they use, and no others.

``tracker/static/tracker/css/patient.css`` is built by ``tools/patient_css.py``
(``make patient-css``) and committed. These tests fail when a patient template
or check-in.js starts using a class the file lacks, or when the file is not
what a new build of today's sources gives.
"""

import pytest
from django.urls import reverse

from tools import patient_css
from tools.patient_css import Vocabulary

REGENERATE = f"regenerate it: {patient_css.COMMAND}"


def test_every_class_the_patient_pages_use_is_in_their_stylesheet():
    used = patient_css.patient_vocabulary()
    missing = patient_css.missing_classes(used, patient_css.OUTPUT.read_text())
    assert not missing, f"patient.css has no rule for {', '.join(missing)}: {REGENERATE}"


def test_a_class_new_to_a_template_is_reported_missing():
    used = patient_css.patient_vocabulary()
    patient_css.read_template('<p class="text-warning fw-semibold">', used, "new.html")
    assert patient_css.missing_classes(used, patient_css.OUTPUT.read_text()) == ["text-warning"]


def test_the_committed_stylesheet_is_a_fresh_build():
    fresh = patient_css.build()
    assert fresh == patient_css.OUTPUT.read_text(), f"patient.css is stale: {REGENERATE}"


def test_the_stylesheet_names_its_command_and_keeps_bootstraps_licence():
    text = patient_css.OUTPUT.read_text()
    assert text.startswith('@charset "UTF-8";/*!')
    assert patient_css.COMMAND in text[:400]
    assert "Licensed under MIT" in text[:600]
    # No source map: the file has none, and a reference to one fails collectstatic.
    assert "sourceMappingURL" not in text


def test_the_warning_boxes_check_in_js_shows_are_styled():
    css = patient_css.OUTPUT.read_text()
    selectors = set(patient_css.selectors_in(css))
    for selector in (
        "[hidden]",
        ".alert",
        ".alert-danger",
        ".alert-warning",
        ".btn-danger",
        ".border-2",
        ".offline-banner",
        ".offline-banner-sending",
    ):
        assert selector in selectors, selector


# ---- How the build decides -------------------------------------------------------------


def _built(css, template):
    vocabulary = Vocabulary()
    patient_css.read_template(template, vocabulary, "test.html")
    return patient_css.serialize(
        patient_css.prune(patient_css.subset(patient_css.parse(css), vocabulary))
    )


def test_a_rule_is_kept_only_for_selectors_the_pages_can_match():
    css = ".a,.z{color:red}.z .a{color:blue}.a>p{margin:0}.a>ul{margin:0}.a:not(.z){top:0}"
    assert _built(css, '<div class="a"><p>') == ".a{color:red}.a>p{margin:0}.a:not(.z){top:0}"


def test_both_branches_of_a_template_condition_count():
    css = ".b{color:red}.c{color:blue}.d{color:green}"
    template = '<p class="{% if x %}b{% else %}c{% endif %}">'
    assert _built(css, template) == ".b{color:red}.c{color:blue}"


def test_attribute_selectors_need_the_attribute_and_its_value():
    css = "[hidden]{display:none}[type=button]{cursor:pointer}[type=date]{x:1}[role=button]{y:1}"
    template = '<div hidden></div><input type="button">'
    assert _built(css, template) == "[hidden]{display:none}[type=button]{cursor:pointer}"
    # A value the template computes may be any value.
    assert "[type=date]" in _built(css, '<input type="{{ kind }}">')


def test_custom_properties_nothing_reads_are_dropped():
    css = (
        ":root{--unused:1px;--font:sans-serif;--body:var(--font)}"
        ".a{--pad:1rem;--spare:2rem;padding:var(--pad);font-family:var(--body)}"
    )
    assert _built(css, '<p class="a">') == (
        ":root{--font:sans-serif;--body:var(--font)}"
        ".a{--pad:1rem;padding:var(--pad);font-family:var(--body)}"
    )


def test_empty_at_rules_and_idle_keyframes_are_dropped():
    css = (
        "@media (min-width:576px){.z{top:0}.a{top:1px}}@media print{.z{top:0}}"
        "@keyframes spin{to{transform:rotate(1turn)}}@keyframes fade{to{opacity:0}}"
        ".a{animation:fade 1s}"
    )
    assert _built(css, '<p class="a">') == (
        "@media (min-width:576px){.a{top:1px}}@keyframes fade{to{opacity:0}}.a{animation:fade 1s}"
    )


def test_strings_and_comments_do_not_confuse_the_reader():
    rules = '.a::before{content:"} {;"}.a{background:url("data:x;y{}")}'
    assert _built("/* a } comment */" + rules, '<p class="a">') == rules


@pytest.mark.parametrize(
    "template",
    [
        '<p class="btn-{{ tone }}">',
        '<p class="btn-{% if x %}primary{% endif %}">',
    ],
)
def test_a_class_name_put_together_in_a_template_stops_the_build(template):
    with pytest.raises(ValueError, match="computed class name"):
        patient_css.read_template(template, Vocabulary(), "test.html")


def test_a_class_name_put_together_in_the_script_stops_the_build():
    with pytest.raises(ValueError, match="computed class name"):
        patient_css.read_script('banner.className = "alert alert-" + kind;', Vocabulary(), "x.js")


# ---- Which pages load it -----------------------------------------------------------------


@pytest.mark.django_db
def test_patient_pages_load_only_their_stylesheet(client, link_token):
    page = client.get(reverse("patient:check_in", args=[link_token])).content.decode()
    assert "tracker/css/patient.css" in page
    assert "bootstrap.min.css" not in page and "tracker/css/app.css" not in page


@pytest.mark.django_db
def test_staff_pages_keep_all_of_bootstrap(client, therapist_a):
    client.force_login(therapist_a.user)
    page = client.get(reverse("tracker:home")).content.decode()
    assert "bootstrap.min.css" in page and "tracker/css/app.css" in page
    assert "patient.css" not in page

from django import template
from django.utils.html import escape, format_html_join
from django.utils.safestring import mark_safe

from tracker import fragments, phones
from tracker.alerts.describe import describe
from tracker.models import ATTEMPT_OUTCOMES, Outcome

register = template.Library()


@register.filter
def state_at(follow_up, moment):
    """The follow-up's state at ``moment`` (see FollowUp.state_at)."""
    return follow_up.state_at(moment)


@register.filter
def alert_text(alert):
    """The alert's facts in words, in the reader's language (see tracker.alerts.describe)."""
    return describe(alert)


@register.filter
def alert_cards_key(cards):
    """What a list of alert cards is kept rendered under: a digest of its cards' keys."""
    return fragments.digest([card.key for card in cards])


@register.simple_tag(takes_context=True)
def acknowledge_form_inputs(context, cards):
    """The request's own part of each open alert's form, which the kept cards leave
    out: its CSRF token and the page to come back to, tied to the form by its id."""
    token = escape(context.get("csrf_token"))
    back = escape(context["request"].get_full_path())
    # Both escaped once here, not once per card; a card's id is a number.
    return mark_safe(
        "".join(
            f'<input type="hidden" name="csrfmiddlewaretoken" value="{token}" '
            f'form="acknowledge-{card.pk}"><input type="hidden" name="next" value="{back}" '
            f'form="acknowledge-{card.pk}">'
            for card in cards
            if not card.acknowledged_at
        )
    )


@register.filter
def tel_href(phone: str) -> str:
    """A ``tel:`` address: the number's digits and a leading +, nothing else."""
    return "tel:" + "".join(ch for ch in phone if ch.isdigit() or ch == "+")


@register.filter
def phone_display(phone: str) -> str:
    """A stored number as people read it: +44 7700 900123 (as stored if it does not parse)."""
    return phones.readable(phone) if phone else phone


@register.simple_tag
def alert_outcome_options(*, closing_only=False):
    """The <option>s of what can be recorded about an alert; ``closing_only`` leaves out the
    attempts. Made once per page and written into every alert's form."""
    return format_html_join(
        "",
        '<option value="{}">{}</option>',
        (
            (value, label)
            for value, label in Outcome.choices
            if not (closing_only and value in ATTEMPT_OUTCOMES)
        ),
    )

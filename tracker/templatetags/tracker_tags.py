from django import template

register = template.Library()


@register.filter
def state_at(follow_up, moment):
    """The follow-up's state at ``moment`` (see FollowUp.state_at)."""
    return follow_up.state_at(moment)

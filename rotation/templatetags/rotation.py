from django import template
from django.template.defaultfilters import floatformat
from django.utils import formats

from rotation.services import format_local

register = template.Library()


@register.filter
def team_time(value, team):
    """A UTC instant as the team reads it: "lundi 7 décembre 10:00" (a year if not this one)."""
    if value is None:
        return ""
    return format_local(team, value)


@register.filter
def team_date(value, team):
    if value is None:
        return ""
    return formats.date_format(team.local(value), "D j F Y H:i")


@register.filter
def days(value):
    """A timedelta as a number of days with one decimal, written the active language's way.

    Rounded (floatformat): number_format truncates, so two hours would read "0,0 j"."""
    if value is None:
        return ""
    return floatformat(value.total_seconds() / 86400, 1)

import re

from django import template
from django.urls import Resolver404, resolve
from django.utils.html import escape, format_html
from django.utils.safestring import mark_safe
from django.utils.timesince import timesince
from django.utils.translation import gettext as _

register = template.Library()

SPARK_WIDTH, SPARK_HEIGHT, SPARK_POINTS = 80, 20, 48
# Where a long word of a title may break: after the separators of code names and URLs
# ("ActionController::|InvalidAuthenticityToken:"), and inside a run longer than LONGEST_RUN.
_AFTER_SEPARATOR = re.compile(r"(?<=[:./_\-#(,?&=])(?![:./_\-#(,?&=])")
_WORDS = re.compile(r"\s+|\S+")
# About 250 px of a bold title: the narrowest the title column gets (the detail open, 1024 px).
LONGEST_RUN = 30


def _count(value):
    # Sentry's stats come as [timestamp, count] pairs; other sources give bare counts.
    if isinstance(value, (list, tuple)) and len(value) == 2:
        value = value[1]
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return max(0.0, float(value))


@register.simple_tag
def sparkline(counts):
    """A server-side SVG of recent event counts; nothing when there are fewer than two."""
    if not isinstance(counts, list):
        return ""
    values = [v for v in map(_count, counts[-SPARK_POINTS:]) if v is not None]
    if len(values) < 2:
        return ""
    peak = max(values) or 1.0
    step = SPARK_WIDTH / (len(values) - 1)
    # Whole pixels: half the bytes of fractional coordinates, and the board draws one per row.
    points = " ".join(
        f"{round(i * step)},{round(SPARK_HEIGHT - 1 - v / peak * (SPARK_HEIGHT - 2))}"
        for i, v in enumerate(values)
    )
    return format_html(
        '<svg class="sparkline" viewBox="0 0 {w} {h}" width="{w}" height="{h}" role="img" '
        'aria-label="{label}"><polyline points="{points}"/></svg>',
        w=SPARK_WIDTH,
        h=SPARK_HEIGHT,
        label=_("Recent events, peak %(peak)d") % {"peak": peak},
        points=points,
    )


@register.filter
def breakable(value):
    """The text, escaped, with <wbr> where a long code name or URL may break. The board's titles
    then never break inside a word (overflow-wrap: break-word leaves their narrowest width to
    these breaks), and a token with none breaks every LONGEST_RUN characters, not the page."""
    html = []
    for word in _WORDS.findall(str(value)):
        if len(word) <= LONGEST_RUN:  # fits the column: left whole
            html.append(escape(word))
            continue
        pieces = (
            piece[start : start + LONGEST_RUN]
            for piece in _AFTER_SEPARATOR.split(word)
            for start in range(0, len(piece), LONGEST_RUN)
        )
        html.append("<wbr>".join(escape(piece) for piece in pieces))
    return mark_safe("".join(html))  # noqa: S308 (each piece is escaped)


@register.filter
def http_url(value):
    """`value` if it is an http(s) URL, else "": upstream URLs never become javascript: links."""
    value = str(value or "")
    return value if value.startswith(("https://", "http://")) else ""


@register.filter
def issue_url(value):
    """The link of the issue Bug opened or Lier linked: an http(s) URL (GitHub's), or the path
    of a demo-tracker issue, a page of this Vigie (any other path gives "")."""
    value = str(value or "")
    if value.startswith("/"):
        try:
            return value if resolve(value).view_name == "triage:demo-issue" else ""
        except Resolver404:
            return ""
    return http_url(value)


@register.filter
def ago(value):
    """The time since `value` in its largest unit ("3 jours", not "3 jours, 4 heures"): the
    board's column stays one short line; the exact time is the element's title."""
    return timesince(value, depth=1)

from django.urls import NoReverseMatch, reverse
from django.utils.functional import SimpleLazyObject
from django.utils.translation import gettext_lazy as _

# (label, url name) in display order; an app that has no page yet is left out.
NAVIGATION = [
    (_("Board"), "triage:board"),
    (_("Rotation"), "rotation:calendar"),
    (_("Monitors"), "monitors:overview"),
    (_("Incidents"), "monitors:incidents"),
    (_("History"), "rotation:history"),
]


def _entries():
    entries = []
    for label, name in NAVIGATION:
        try:
            entries.append({"label": label, "url": reverse(name)})
        except NoReverseMatch:
            continue
    return entries


def navigation(request):
    return {"navigation": SimpleLazyObject(_entries)}

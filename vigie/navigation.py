"""The main navigation: entries registered by the apps in their AppConfig.ready().

    from vigie import navigation
    navigation.register(_("Board"), "triage:board", order=10)

An entry whose URL name does not resolve (an app without that page yet) is left out, as is one
whose `visible(request)` returns false.
"""

from dataclasses import dataclass

from django.urls import NoReverseMatch, reverse


@dataclass(frozen=True)
class Entry:
    label: str
    url_name: str
    order: int
    visible: object = None


ENTRIES = {}


def register(label, url_name, order, visible=None):
    """Add (or replace, by URL name) an entry; entries are shown by increasing `order`."""
    ENTRIES[url_name] = Entry(label, url_name, order, visible)


def entries(request):
    shown = []
    for entry in sorted(ENTRIES.values(), key=lambda e: e.order):
        if entry.visible is not None and not entry.visible(request):
            continue
        try:
            shown.append({"label": entry.label, "url": reverse(entry.url_name)})
        except NoReverseMatch:
            continue
    return shown

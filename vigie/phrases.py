"""Messages written once, in English, and read later in each reader's language.

A check's outcome is written by a worker, which has no reader; a page shows it afterwards to
people who may read French or English. A `Phrase` is the English text (what is stored, logged
and answered by the API) that also keeps its msgid and parameters, so a page can say it again
with gettext: `said()` is the stored form, `spoken()` reads it back in the active language.
Mark each msgid with gettext_noop where it is written, for makemessages."""

from django.utils.translation import gettext, ngettext


class Phrase(str):
    """`plural`: the English plural form, chosen (and translated with ngettext) by the
    `count` parameter."""

    def __new__(cls, msgid, plural=None, **params):
        english = plural if plural is not None and params.get("count") != 1 else msgid
        self = super().__new__(cls, english % params if params else english)
        self.msgid, self.plural, self.params = msgid, plural, params
        return self

    @classmethod
    def read(cls, stored, english):
        """`english` as stored beside its said() form `stored`, as a Phrase again (a check's
        message carried into a rule's incident); `english` itself when nothing was said."""
        if not isinstance(stored, dict) or not isinstance(stored.get("id"), str):
            return english
        phrase = str.__new__(cls, english)
        phrase.msgid, phrase.plural = stored["id"], stored.get("plural")
        phrase.params = stored.get("params") or {}
        return phrase

    def said(self):
        """JSON-able: {"id": msgid, "params": {...}}, a Phrase parameter nested the same way."""
        params = {
            name: value.said() if isinstance(value, Phrase) else value
            for name, value in self.params.items()
        }
        stored = {"id": self.msgid, "params": params}
        if self.plural is not None:
            stored["plural"] = self.plural
        return stored


def said(text):
    """The stored form of `text` when it is a Phrase, else None."""
    return text.said() if isinstance(text, Phrase) else None


def spoken(stored, fallback=""):
    """`stored` (from said()) in the active language; `fallback` (the English as stored) when
    there is nothing to translate or the stored form does not fit its translation."""
    if not isinstance(stored, dict) or not isinstance(stored.get("id"), str):
        return fallback
    params = {
        name: spoken(value, "") if isinstance(value, dict) else value
        for name, value in (stored.get("params") or {}).items()
    }
    try:
        if isinstance(stored.get("plural"), str):
            return ngettext(stored["id"], stored["plural"], params["count"]) % params
        return gettext(stored["id"]) % params if params else gettext(stored["id"])
    except (KeyError, TypeError, ValueError):
        return fallback

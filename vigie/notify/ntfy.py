"""ntfy: the text POSTed to `server/topic`, with Title, Priority and Click headers.

HTTP headers are Latin-1 on the wire; ntfy decodes RFC 2047 encoded words, so a French title
("…décembre") is sent as `=?utf-8?b?...?=` and arrives intact."""

import base64

from .base import Transport, TransportError
from .chat import post

PRIORITIES = {"critical": "5", "warning": "4", "info": "3"}


def header_value(text):
    """ASCII as is; anything else as an RFC 2047 encoded word."""
    if text.isascii():
        return text
    return "=?utf-8?b?" + base64.b64encode(text.encode()).decode() + "?="


class NtfyTransport(Transport):
    # The topic is the password of an ntfy channel.
    secret_keys = ("url",)

    def send(self, config, message, *, key):
        url = config.get("url")
        if not url:
            raise TransportError("no ntfy topic URL configured", permanent=True)
        text = message.text or message.subject
        headers = {
            "Content-Type": "text/plain; charset=utf-8",
            "Title": header_value(message.subject),
            "Priority": PRIORITIES[message.severity],
        }
        if message.url:
            headers["Click"] = message.url
        post(url, name="ntfy", data=text.encode(), headers=headers)

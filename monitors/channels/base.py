"""The contract every notification channel follows: one `send(channel, message)`."""

from dataclasses import dataclass


class TransportError(Exception):
    """A message that did not go out. `permanent`: retrying will not help (bad URL, gone)."""

    def __init__(self, message, *, permanent=False):
        super().__init__(message)
        self.permanent = permanent


@dataclass(frozen=True)
class Message:
    """What is said, independent of the channel: a short line, optional details and a link."""

    subject: str
    text: str = ""
    url: str = ""

    def as_plain_text(self):
        lines = [self.subject]
        if self.text:
            lines += ["", self.text]
        if self.url:
            lines += ["", self.url]
        return "\n".join(lines)


class Transport:
    def send(self, channel, message):
        raise NotImplementedError

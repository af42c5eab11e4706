"""Slack incoming webhooks: `{"text": ...}` with mrkdwn links `<url|label>`."""

from .chat import ChatTransport


class SlackTransport(ChatTransport):
    name = "Slack webhook"

    def payload(self, message):
        text = f"*{message.subject}*"
        if message.text:
            text += f"\n{message.text}"
        if message.url:
            text += f"\n<{message.url}|{message.url}>"
        return {"text": text}

"""Mattermost incoming webhooks: `{"text": ...}` in Markdown, posted as "Vigie"."""

from .chat import ChatTransport


class MattermostTransport(ChatTransport):
    name = "Mattermost webhook"

    def payload(self, message):
        text = f"**{message.subject}**"
        if message.text:
            text += f"\n{message.text}"
        if message.url:
            text += f"\n{message.url}"
        return {"text": text, "username": "Vigie"}

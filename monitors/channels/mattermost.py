"""Mattermost incoming webhooks: `{"text": ...}` in Markdown, posted as "Vigie"."""

from .webhook import WebhookTransport


class MattermostTransport(WebhookTransport):
    def payload(self, message):
        text = f"**{message.subject}**"
        if message.text:
            text += f"\n{message.text}"
        if message.url:
            text += f"\n{message.url}"
        return {"text": text, "username": "Vigie"}

"""PagerDuty Events API v2: trigger, acknowledge and resolve one alert by its `dedup_key`.

PagerDuty deduplicates on `dedup_key`: a retry of a trigger whose answer was lost does not
open a second alert. The incident key (`Message.dedup_key`) is used when given, so the
acknowledge and resolve of an incident reach the alert its trigger opened."""

from django.conf import settings

from .base import Transport, TransportError
from .chat import post

EVENTS_URL = "https://events.pagerduty.com/v2/enqueue"
# PagerDuty's limits: summary 1024 characters, dedup_key 255.
SUMMARY_MAX, DEDUP_KEY_MAX = 1024, 255


class PagerDutyTransport(Transport):
    secret_keys = ("routing_key",)

    def body(self, config, message, *, key):
        body = {
            "routing_key": config["routing_key"],
            "event_action": message.event,
            "dedup_key": (message.dedup_key or key)[:DEDUP_KEY_MAX],
        }
        if message.event == "trigger":
            body["payload"] = {
                "summary": message.subject[:SUMMARY_MAX],
                "source": settings.VIGIE_BASE_URL,
                "severity": message.severity,
            }
            if message.text:
                body["payload"]["custom_details"] = {"details": message.text}
            if message.url:
                body["links"] = [{"href": message.url, "text": "Vigie"}]
        return body

    def send(self, config, message, *, key):
        if not config.get("routing_key"):
            raise TransportError("no PagerDuty routing key configured", permanent=True)
        post(
            config.get("url") or EVENTS_URL,
            name="PagerDuty",
            json=self.body(config, message, key=key),
        )

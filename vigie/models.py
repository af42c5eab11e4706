from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Heartbeat(models.Model):
    """The last time a background process proved it was alive by doing work."""

    name = models.CharField(_("name"), max_length=50, unique=True)
    at = models.DateTimeField(_("at"))

    class Meta:
        verbose_name = _("heartbeat")
        verbose_name_plural = _("heartbeats")

    def __str__(self):
        return f"{self.name} @ {self.at:%Y-%m-%d %H:%M:%S}"

    @classmethod
    def beat(cls, name):
        cls.objects.update_or_create(name=name, defaults={"at": timezone.now()})

    @classmethod
    def last(cls, name):
        """When it last beat, or None if it never did."""
        return cls.objects.filter(name=name).values_list("at", flat=True).first()


class NotificationQuerySet(models.QuerySet):
    def claimable(self, now):
        """Due pending rows, and rows whose sender's lease ran out (a worker killed mid-send)."""
        return self.filter(
            models.Q(state=Notification.State.PENDING, next_attempt_at__lte=now)
            | models.Q(state=Notification.State.SENDING, claimed_until__lte=now)
        )

    def stuck_since(self, now):
        """When the oldest due pending row became due, or None."""
        return (
            self.filter(state=Notification.State.PENDING, next_attempt_at__lte=now)
            .order_by("next_attempt_at")
            .values_list("next_attempt_at", flat=True)
            .first()
        )


class Notification(models.Model):
    """The outbox: one message to one destination, sent by the worker, retried with backoff.

    `config` keeps the destination's settings as stored (`${VAR}` references unresolved)."""

    class State(models.TextChoices):
        PENDING = "pending", _("pending")
        SENDING = "sending", _("sending")
        SENT = "sent", _("sent")
        FAILED = "failed", _("failed")

    class Severity(models.TextChoices):
        CRITICAL = "critical", _("critical")
        WARNING = "warning", _("warning")
        INFO = "info", _("info")

    class Event(models.TextChoices):
        TRIGGER = "trigger", _("trigger")
        ACKNOWLEDGE = "acknowledge", _("acknowledge")
        RESOLVE = "resolve", _("resolve")

    key = models.CharField(_("idempotency key"), max_length=255, unique=True)
    group = models.CharField(_("group"), max_length=100, blank=True, db_index=True)
    kind = models.CharField(_("kind"), max_length=20)
    config = models.JSONField(_("configuration"), default=dict)
    label = models.CharField(_("recipient"), max_length=200, blank=True)
    subject = models.CharField(_("subject"), max_length=500)
    text = models.TextField(_("text"), blank=True)
    url = models.CharField(_("link"), max_length=500, blank=True)
    severity = models.CharField(_("severity"), max_length=10, choices=Severity)
    event = models.CharField(_("event"), max_length=12, choices=Event, default=Event.TRIGGER)
    dedup_key = models.CharField(_("deduplication key"), max_length=255, blank=True)
    state = models.CharField(_("state"), max_length=10, choices=State, default=State.PENDING)
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt at"), default=timezone.now)
    claimed_until = models.DateTimeField(_("claimed until"), null=True, blank=True)
    last_error = models.TextField(_("last error"), blank=True)
    # The last attempt found Vigie's own settings missing (TransportError.configuration):
    # /health names it, since no receiver will ever report it.
    misconfigured = models.BooleanField(_("misconfigured"), default=False)
    # Structured facts for receivers that read JSON (the webhook): Message.details.
    details = models.JSONField(_("details"), default=dict, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)

    objects = NotificationQuerySet.as_manager()

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["state", "next_attempt_at"], name="notification_due")]

    def __str__(self):
        return f"{self.subject} → {self.label or self.kind}"

    @classmethod
    def enqueue(cls, destination, message, *, key, group=""):
        notification, _created = cls.objects.get_or_create(
            key=key,
            defaults={
                "group": group,
                "kind": destination.kind,
                "config": destination.config,
                "label": destination.label,
                "subject": message.subject,
                "text": message.text,
                "url": message.url,
                "severity": message.severity,
                "event": message.event,
                "dedup_key": message.dedup_key,
                "details": message.details,
            },
        )
        return notification

    def destination(self):
        from vigie.notify import Destination

        return Destination(self.kind, self.config, self.label)

    def message(self):
        from vigie.notify import Message

        return Message(
            subject=self.subject,
            text=self.text,
            url=self.url,
            severity=self.severity,
            event=self.event,
            dedup_key=self.dedup_key,
            details=self.details,
        )

from django.db import models
from django.utils.translation import gettext_lazy as _

from vigie.notify import Destination, severities_at_most


class ChannelQuerySet(models.QuerySet):
    def hearing(self, severity):
        """Enabled channels whose `min_severity` lets a message of `severity` through."""
        return self.filter(enabled=True, min_severity__in=severities_at_most(severity))


class Channel(models.Model):
    """Where a team hears about handovers and alerts: a chat, a webhook, PagerDuty, ntfy, email.

    `url`, `secret` and `routing_key` are secrets (whoever has them posts as Vigie): never shown
    back. They may hold `${VAR}` references, resolved from the environment at send time."""

    class Kind(models.TextChoices):
        SLACK = "slack", "Slack"
        MATTERMOST = "mattermost", "Mattermost"
        EMAIL = "email", _("email")
        WEBHOOK = "webhook", _("JSON webhook")
        PAGERDUTY = "pagerduty", "PagerDuty"
        NTFY = "ntfy", "ntfy"

    class Severity(models.TextChoices):
        CRITICAL = "critical", _("critical")
        WARNING = "warning", _("warning")
        INFO = "info", _("info")

    team = models.ForeignKey("rotation.Team", on_delete=models.CASCADE, related_name="channels")
    kind = models.CharField(_("kind"), max_length=20, choices=Kind)
    name = models.CharField(_("name"), max_length=100)
    url = models.CharField(_("URL"), max_length=500, blank=True)
    secret = models.CharField(_("signing secret"), max_length=200, blank=True)
    routing_key = models.CharField(_("routing key"), max_length=200, blank=True)
    address = models.EmailField(_("email address"), blank=True)
    min_severity = models.CharField(
        _("minimum severity"), max_length=10, choices=Severity, default=Severity.INFO
    )
    enabled = models.BooleanField(_("enabled"), default=True)

    objects = ChannelQuerySet.as_manager()

    class Meta:
        verbose_name = _("channel")
        verbose_name_plural = _("channels")
        ordering = ["team", "name"]

    def __str__(self):
        return self.name

    def destination(self):
        config = {
            self.Kind.SLACK: {"url": self.url},
            self.Kind.MATTERMOST: {"url": self.url},
            self.Kind.NTFY: {"url": self.url},
            self.Kind.WEBHOOK: {"url": self.url, "secret": self.secret},
            self.Kind.PAGERDUTY: {"routing_key": self.routing_key, "url": self.url},
            self.Kind.EMAIL: {"to": self.address},
        }[self.kind]
        return Destination(self.kind, config, label=f"{self.name} (#{self.pk})")


def team_destinations(team, severity):
    """Registered in vigie.notify.TEAM_DESTINATIONS: the team's channels hearing `severity`."""
    channels = Channel.objects.filter(team=team).hearing(severity)
    return [channel.destination() for channel in channels]

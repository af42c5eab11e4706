import structlog
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

logger = structlog.get_logger(__name__)


class Channel(models.Model):
    """Where a team hears about handovers and alerts: a chat webhook or an email address."""

    class Kind(models.TextChoices):
        SLACK = "slack", "Slack"
        MATTERMOST = "mattermost", "Mattermost"
        EMAIL = "email", _("email")

    team = models.ForeignKey("rotation.Team", on_delete=models.CASCADE, related_name="channels")
    kind = models.CharField(_("kind"), max_length=20, choices=Kind)
    name = models.CharField(_("name"), max_length=100)
    # The webhook URL is a secret (whoever has it posts in the channel): never shown back.
    url = models.URLField(_("webhook URL"), max_length=500, blank=True)
    address = models.EmailField(_("email address"), blank=True)
    enabled = models.BooleanField(_("enabled"), default=True)
    last_error = models.TextField(_("last error"), blank=True)
    last_error_at = models.DateTimeField(_("last error at"), null=True, blank=True)
    last_sent_at = models.DateTimeField(_("last sent at"), null=True, blank=True)

    class Meta:
        verbose_name = _("channel")
        verbose_name_plural = _("channels")
        ordering = ["team", "name"]

    def __str__(self):
        return self.name

    def notify(self, message):
        """Send one message; a failure is recorded on the row and returned, never raised."""
        from monitors.channels import TransportError, send

        try:
            send(self, message)
        except TransportError as exc:
            self.last_error, self.last_error_at = str(exc), timezone.now()
            self.save(update_fields=["last_error", "last_error_at"])
            logger.warning("channel_failed", channel=self.pk, permanent=exc.permanent)
            return exc
        self.last_error, self.last_sent_at = "", timezone.now()
        self.save(update_fields=["last_error", "last_sent_at"])
        return None


def notify_team(team, message):
    """Send to every enabled channel of the team; one failing does not stop the others.

    Returns the errors (one per failed channel)."""
    errors = []
    for channel in Channel.objects.filter(team=team, enabled=True):
        error = channel.notify(message)
        if error is not None:
            errors.append(error)
    return errors

"""The "Compte Sentry" of a member's profile, checked when saved: M'attribuer assigns it."""

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from triage.models import Source
from triage.sources import backend_for
from triage.sources.base import SourceError


def check_sentry_account(user, account):
    """Refuse an account that no Sentry organisation of the user's sources knows. A Sentry
    that cannot be asked right now does not block the profile."""
    answered = []
    for source in Source.objects.visible_to(user).filter(kind="sentry", enabled=True):
        try:
            if backend_for(source).has_member(account):
                return
        except SourceError:
            continue
        answered.append(source.organization or source.name)
    if answered:
        raise ValidationError(
            _("Sentry knows no member %(account)s in %(organizations)s.")
            % {"account": account, "organizations": ", ".join(answered)}
        )

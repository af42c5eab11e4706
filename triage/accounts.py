"""The upstream accounts of a member's profile ("Compte Sentry"…), one per account the source
backends assign (their `assign_account`), checked when saved: M'attribuer assigns them."""

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from triage.models import Source
from triage.sources import REGISTRY, backend_class, backend_for
from triage.sources.base import SourceError


def _assigning(key):
    """The kinds whose backend assigns the account `key` names."""
    return [
        kind for kind in REGISTRY if getattr(backend_class(kind).assign_account, "key", None) == key
    ]


def profile_accounts():
    """The accounts a profile asks for: each registered backend's `assign_account`, once."""
    accounts = {}
    for kind in REGISTRY:
        account = backend_class(kind).assign_account
        if account is not None:
            accounts.setdefault(account.key, account)
    return list(accounts.values())


def check_account(user, key, account):
    """Refuse an account that none of the user's sources assigning it knows. A source that
    cannot be asked right now, or cannot tell, does not block the profile."""
    trackers, answered = set(), []
    sources = Source.objects.visible_to(user).filter(kind__in=_assigning(key), enabled=True)
    for source in sources:
        backend = backend_for(source)
        try:
            known = backend.has_member(account)
        except SourceError:
            continue
        if known:
            return
        if known is not None:
            trackers.add(str(backend.label))
            answered.append(source.organization or source.name)
    if answered:
        raise ValidationError(
            _("%(tracker)s knows no member %(account)s in %(organizations)s.")
            % {
                "tracker": ", ".join(sorted(trackers)),
                "account": account,
                "organizations": ", ".join(answered),
            }
        )

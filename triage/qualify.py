"""Qualifying an item: one click that spans the local row, the upstream and GitHub.

The rules: the local state only changes to what the upstream confirmed; every attempt is an
Action row (who, when, what, parameters, the upstream's answer); a write-back that fails leaves
the item marked "failed" with its error so the board offers a retry; and a double click, two
tabs or a retry after a timeout never opens a second GitHub issue. What each action does is in
`triage.actions`.
"""

from dataclasses import dataclass
from datetime import timedelta

from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from rotation.models import Membership
from triage import github
from triage.actions import ACTIONS, NeedsConfirmation, QualifyError
from triage.models import Action, Item
from triage.sources import backend_for
from triage.sources.base import SourceError

__all__ = [
    "NeedsConfirmation",
    "Outcome",
    "QualifyError",
    "can_qualify",
    "offered_actions",
    "qualify_item",
    "qualifying_team_ids",
]

# A claim older than this belongs to a request that died: its item may be written again.
STALE_CLAIM = timedelta(minutes=5)


@dataclass
class Outcome:
    item: Item
    ok: bool
    message: str = ""


def qualifying_team_ids(user):
    """Teams whose sources `user` may qualify (None: every source, for superusers)."""
    if user.is_superuser:
        return None
    memberships = Membership.objects.filter(user=user).select_related("team")
    return {m.team_id for m in memberships if m.active}


def can_qualify(user, source, team_ids=None):
    if not user.is_authenticated:
        return False
    if user.is_superuser:
        return True
    if team_ids is None:
        team_ids = qualifying_team_ids(user)
    return source.team_id is not None and source.team_id in team_ids


def offered_actions(source, kind=Item.Kind.ISSUE):
    """The board's buttons for items of `kind` from `source`: what its backend can write back
    among what that kind of item takes, and undo."""
    try:
        backend = backend_for(source)
    except LookupError:
        return ()
    offered = [name for name, action in ACTIONS.items() if action.offered_by(backend, kind)]
    return (*offered, "undo")


def qualify_item(item, user, action, params=None, idempotency_key=""):
    """Apply one board action to `item` and write it back upstream. Returns an Outcome.

    Raises PermissionDenied for users outside the source's team, QualifyError for a request
    refused before any write (bad threshold, nothing to undo, a write already running).
    """
    if not can_qualify(user, item.source):
        raise PermissionDenied(_("Only members of the source's team can qualify its items."))
    if action not in (*ACTIONS, "retry"):
        raise QualifyError(_("Unknown action."))
    if action not in ("undo", "retry") and action not in offered_actions(item.source, item.kind):
        raise QualifyError(_("This source does not offer that qualification."))
    params = params or {}
    # One key per rendering of the board; the item and the button make it one per click.
    key = f"{item.pk}:{action}:{idempotency_key}"[:100] if idempotency_key else None
    if key and (done := Action.objects.filter(idempotency_key=key).first()):
        # A replay of a click already handled (double click, resent request).
        item.refresh_from_db()
        if done.upstream_ok is None:
            return Outcome(item, False, _("This click is already being handled."))
        return Outcome(item, done.upstream_ok, _("Already done."))

    if action == "retry":
        failed = item.actions.filter(upstream_ok=False).order_by("-created_at", "-pk").first()
        if item.writeback_state != Item.Writeback.FAILED or failed is None:
            raise QualifyError(_("Nothing to retry."))
        action, params = failed.action, failed.params
    chosen = ACTIONS[action]
    params = chosen.clean(item, user, params)

    _claim(item)
    try:
        with transaction.atomic():
            record = Action.objects.create(
                item=item, user=user, action=action, params=params, idempotency_key=key
            )
    except IntegrityError:
        # The same click arrived twice at once: the other request does the work.
        _release(item)
        raise QualifyError(_("This click is already being handled.")) from None
    except BaseException:
        # Whatever else failed (a value the database refused, a bug), the item is not left
        # claimed for STALE_CLAIM.
        _release(item)
        raise
    try:
        response, fields, message = chosen.write(item, params, record)
    except (SourceError, github.GitHubError) as exc:
        return _failed(item, record, chosen, exc)
    except Exception as exc:
        # A bug or an unwrapped upstream error: the row says so and frees the item; the error
        # still reaches Vigie's own error reporting.
        error = SourceError(
            gettext_noop("unexpected error (%(type)s)"), params={"type": type(exc).__name__}
        )
        _failed(item, record, chosen, error)
        raise

    record.upstream_ok = True
    record.upstream_response = response
    record.save(update_fields=["upstream_ok", "upstream_response"])
    if action == "undo":
        Action.objects.filter(pk=item.actions.latest_undoable().pk).update(undone=True)
    now = timezone.now()
    if "qualification" in fields:
        fields.update(
            qualified_by=user if fields["qualification"] else None,
            qualified_at=now if fields["qualification"] else None,
            came_back=False,
        )
    fields.update(
        writeback_state=Item.Writeback.NONE, writeback_failure={}, writeback_started_at=None
    )
    for name, value in fields.items():
        setattr(item, name, value)
    item.save(update_fields=list(fields))
    if backend_for(item.source).demo:
        message = _("%(message)s (demo).") % {"message": message.rstrip(".")}
    return Outcome(item, True, message)


def _claim(item):
    """Take the item for one write-back, or refuse: another tab or click holds it."""
    now = timezone.now()
    free = ~Q(writeback_state=Item.Writeback.PENDING) | Q(
        writeback_started_at__lt=now - STALE_CLAIM
    )
    claimed = Item.objects.filter(free, pk=item.pk).update(
        writeback_state=Item.Writeback.PENDING, writeback_started_at=now
    )
    if claimed != 1:
        item.refresh_from_db()
        raise QualifyError(_("A write-back of this item is already running; wait for it."))


def _release(item):
    Item.objects.filter(pk=item.pk).update(
        writeback_state=item.writeback_state, writeback_started_at=None
    )


def _failed(item, record, action, exc):
    if isinstance(exc, github.GitHubError):
        exc = SourceError(str(exc), permanent=exc.permanent)
    failure = {"action": action.name, "error": exc.facts()}
    record.upstream_ok = False
    record.upstream_response = {
        "error": str(exc),
        "failure": failure,
        "permanent": exc.permanent,
        "github_issue_url": item.github_issue_url,
    }
    record.save(update_fields=["upstream_ok", "upstream_response"])
    item.writeback_state = Item.Writeback.FAILED
    item.writeback_failure = failure
    item.writeback_started_at = None
    item.save(update_fields=["writeback_state", "writeback_failure", "writeback_started_at"])
    return Outcome(item, False, item.writeback_error)

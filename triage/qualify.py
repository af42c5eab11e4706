"""Qualifying an item: one click that spans the local row, the upstream and GitHub.

The rules: the local state only changes to what the upstream confirmed; every attempt is an
Action row (who, when, what, parameters, the upstream's answer); a write-back that fails leaves
the item marked "failed" with its error so the board offers a retry; and a double click, two
tabs or a retry after a timeout never opens a second GitHub issue. What each action does is in
`triage.actions`.
"""

from dataclasses import dataclass
from datetime import timedelta

import structlog
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, gettext_noop

from rotation.models import Membership
from triage import github
from triage.actions import ACTIONS, NeedsConfirmation, QualifyError
from triage.models import Action, Item, QualificationRule, RuleHit
from triage.sources import backend_for
from triage.sources.base import SourceError
from vigie import http

__all__ = [
    "NeedsConfirmation",
    "Outcome",
    "QualifyError",
    "can_qualify",
    "offered_actions",
    "qualify_item",
    "qualify_items",
    "qualifying_team_ids",
]

logger = structlog.get_logger(__name__)

# A claim older than this belongs to a request that died: its item may be written again.
STALE_CLAIM = timedelta(minutes=5)


@dataclass
class Outcome:
    item: Item
    ok: bool
    message: str = ""
    error: SourceError | None = None  # why the write-back failed, when it did


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


# Seconds a click (or the bulk bar) has for its calls upstream, retries included: within the
# web worker's timeout (gunicorn's 30 s), a hanging upstream fails the click rather than the
# worker, and the row offers Réessayer.
WEB_BUDGET = 20
GONE = gettext_lazy("Deleted upstream: there is nothing left to write there.")


def qualify_item(item, user, action, params=None, idempotency_key="", *, team_ids=None):
    """Apply one board action to `item` and write it back upstream. Returns an Outcome.

    Raises PermissionDenied for users outside the source's team, QualifyError for a request
    refused before any write (bad threshold, nothing to undo, a write already running).
    `team_ids`: the user's qualifying_team_ids(), when the caller already has them.
    """
    if not can_qualify(user, item.source, team_ids):
        raise PermissionDenied(_("Only members of the source's team can qualify its items."))
    if action not in (*ACTIONS, "retry"):
        raise QualifyError(_("Unknown action."))
    if item.is_gone:
        raise QualifyError(GONE)
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
    if action == "undo" and item.rule_id is not None and not item.actions.undoable().exists():
        # Pre-qualified by a rule and nothing confirmed upstream since: taken back locally.
        return _undo_rule(item, user, key)
    chosen = ACTIONS[action]
    params = chosen.clean(item, user, params)
    was_expected = item.qualification == Item.Qualification.EXPECTED
    outcome = _write(item, user, action, chosen, params, key)
    if outcome.ok:
        _keep_memory(outcome.item, user, action, params, was_expected)
    return outcome


def reapply(item, rule):
    """The vigie's memory at work (triage.memory): the Attendu of `rule` written upstream again
    by Vigie itself, through the board's own write path (claim, an Action row with no user,
    read-back, failure marked on the item). The item keeps who qualified it and its rule marker.
    Raises QualifyError when a write-back of the item is already running."""
    params = {"ignoreCount": rule.threshold_count, "ignoreWindow": rule.threshold_window}
    return _write(item, None, "expected", ACTIONS["expected"], params, None)


def _keep_memory(item, user, action, params, was_expected):
    """An Attendu by hand is remembered on the item's fingerprint; another qualification of an
    Attendu by hand, or its undo, retires that memory: the vigie no longer expects it."""
    if action == "expected":
        QualificationRule.objects.remember(
            item, params["ignoreCount"], params["ignoreWindow"], user
        )
    elif was_expected and (ACTIONS[action].qualification or params.get("undoes") == "expected"):
        if action == "undo":
            RuleHit.objects.filter(
                item=item, rule__fingerprint=item.fingerprint, undone_at__isnull=True
            ).update(undone_at=timezone.now(), undone_by=user)
        QualificationRule.objects.forget(item, user)


def _write(item, user, action, chosen, params, key):
    """Claim the item, log the attempt, write upstream, and keep what the upstream confirmed.
    `user` None: Vigie's own write, which leaves the qualification's author and rule as they
    are."""
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
    if "qualification" in fields and user is None:
        fields.update(came_back=False, breach={})
    elif "qualification" in fields:
        fields.update(
            qualified_by=user if fields["qualification"] else None,
            qualified_at=now if fields["qualification"] else None,
            came_back=False,
            breach={},
            rule=None,  # qualified by hand now, no longer by a rule
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


def _undo_rule(item, user, key):
    """Take back a rule's pre-qualification: unqualified again, the hit marked undone and the
    undo logged. Local only, as the pre-qualification was: nothing to write upstream."""
    rule_id, qualification, name = item.rule_id, item.qualification, item.rule.name
    memory = item.rule.is_memory
    now = timezone.now()
    with transaction.atomic():
        # Conditional: of two clicks at once, one takes it back and the other finds nothing.
        taken = Item.objects.filter(pk=item.pk, rule_id=rule_id).update(
            qualification=Item.Qualification.UNQUALIFIED,
            qualification_params={},
            qualified_by=None,
            qualified_at=None,
            rule=None,
            came_back=False,
            breach={},
            # A memory's write upstream that failed or waits: nothing left to write.
            writeback_state=Item.Writeback.NONE,
            writeback_failure={},
        )
        if taken != 1:
            raise QualifyError(_("Nothing to undo."))
        RuleHit.objects.filter(item=item, rule_id=rule_id, undone_at__isnull=True).update(
            undone_at=now, undone_by=user
        )
        Action.objects.create(
            item=item,
            user=user,
            action="undo",
            params={"undoes": qualification, "rule": rule_id},
            idempotency_key=key,
            upstream_ok=True,
            upstream_response={"local": True},
        )
        if memory:
            QualificationRule.objects.forget(item, user)
    item.refresh_from_db()
    message = _("Pre-qualification by the rule %(rule)s undone: unqualified again.")
    return Outcome(item, True, message % {"rule": name})


def qualify_items(items, user, action, params=None, idempotency_key=""):
    """The bulk bar: `action` applied to each of `items` exactly as its row's button would (its
    own claim, Action row, upstream read-back and idempotency key), one Outcome per item. An item
    that fails or is refused does not stop the others: a source that is down fails its own items
    only, each with its reason. Once a source did not answer (after vigie.http's retries), its
    other items are not sent: 20 items would each spend those retries again, past the web
    worker's timeout, for the same answer."""
    team_ids = qualifying_team_ids(user)
    outcomes = []
    down = {}  # source pk -> what it answered, for the sources that did not answer
    for item in items:
        if item.source_id in down:
            message = _(
                "Not sent: %(source)s did not answer for another item just before (%(error)s). "
                "Select it again to retry."
            ) % {"source": item.source.name, "error": down[item.source_id]}
            outcomes.append(Outcome(item, False, message))
            continue
        try:
            outcome = qualify_item(item, user, action, params, idempotency_key, team_ids=team_ids)
        except (PermissionDenied, QualifyError) as exc:
            outcome = Outcome(item, False, str(exc))
        except Exception:
            # A bug on one item: the others are still written; qualify_item already marked this
            # one failed, and the error reaches Vigie's own error reporting.
            logger.exception("bulk_qualify_crashed", item=item.pk, action=action)
            outcome = Outcome(item, False, item.writeback_error or _("Unexpected error."))
        if unanswered(outcome.error):
            down[item.source_id] = outcome.error
        outcomes.append(outcome)
    return outcomes


def unanswered(error):
    """The source itself failed, not this item: its credentials were refused, or a call still
    failed after vigie.http's retries (no connection, timeout, 5xx, 429)."""
    if error is None:
        return False
    return error.auth or (not error.permanent and isinstance(error.__context__, http.UpstreamError))


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
    # `permanent`: the sync's memory does not try again what the upstream refused for good.
    failure = {"action": action.name, "error": exc.facts(), "permanent": exc.permanent}
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
    return Outcome(item, False, item.writeback_error, error=exc)

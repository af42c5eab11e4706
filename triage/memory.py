"""The vigie's memory at work in the sync: the Attendu thresholds Vigie keeps on fingerprints
(QualificationRule with a `fingerprint`) applied to what each batch brought, then the ignores
written upstream again, a bounded number per sync.

Per batch (`recall`), for the items of a fingerprint Vigie remembers:
- a new item (the upstream forgot the old issue, a new id came) is pre-qualified Attendu by the
  memory rule, with its "by rule" marker, and waits for its ignore upstream;
- an item qualified Attendu whose own count over the rule's window reached the threshold comes
  back, with that count (`Item.breach`), whether the upstream reopened it or still ignores it
  (a job source, whose "ignored" is Vigie's own);
- one the upstream reopened under the threshold stays out of "to qualify" and waits for its
  ignore upstream, when Vigie's count can be trusted: its history covers the window (Vigie's
  count is then an upper bound: events are dated by the sync that saw them), or the upstream
  only holds a shorter window than the vigie's (Sentry's week for a month: the upstream is
  then a detector asked to reopen early, and Vigie judges on what it saw, which undercounts
  for the first weeks after the Attendu). Otherwise the upstream, which holds the vigie's exact
  threshold, is trusted: it came back.

After the batches (`reapply`): the items waiting for their ignore are written upstream through
the board's own write path (triage.qualify.reapply), at most WRITES_PER_SYNC per sync, the rest
at the next one. A write that fails marks the item as the board would (its error, Retry) and is
tried again at the next sync, unless the upstream refused it for good; once the source did not
answer, the others wait for the next sync.
"""

import structlog
from django.db import transaction
from django.db.models import Q

from triage import qualify
from triage.models import (
    COUNT_HISTORY,
    Item,
    ItemCount,
    QualificationRule,
    RuleHit,
    fingerprint,
)

logger = structlog.get_logger(__name__)

# Upstream writes one sync makes for the memory (each is a write and a read-back): a sync of
# 1,000 items makes 20 at most, the next syncs the rest.
WRITES_PER_SYNC = 20
# Candidates read per sync for those writes (most are written, a few belong to no memory).
CANDIDATES = 200


def recall(source, backend, batch, *, since, at):
    """Apply the memory rules of `source`'s team to `batch` (ItemData just upserted at `at`;
    new items are those first mirrored at or after `since`). Returns how many new items it
    pre-qualified.

    Queries: one for the memory rules of the batch's fingerprints; when some match, one read of
    their items and one of their counts, then the writes (one per rule that pre-qualified, the
    hits, those that came back, those that did not) in a transaction.
    """
    if source.team_id is None:
        return 0
    by_id = {
        data.external_id: fingerprint(source.pk, data.kind, data.title, data.origin, data.payload)
        for data in batch
    }
    memories = QualificationRule.objects.memories_of(source.team_id, by_id.values())
    if not memories:
        return 0
    covered = {eid: memories[fp] for eid, fp in by_id.items() if fp in memories}
    reopened = {data.external_id for data in batch if data.upstream_status in Item.REOPENED}
    rows = Item.objects.filter(source=source, external_id__in=list(covered)).values(
        "pk", "external_id", "qualification", "rule_id", "mirrored_at", "qualified_at", "breach"
    )
    new, known = {}, []
    for row in rows:
        rule = covered[row["external_id"]]
        if row["mirrored_at"] >= since and not row["qualification"] and row["rule_id"] is None:
            new.setdefault(rule, []).append(row["pk"])
        elif row["qualification"] == Item.Qualification.EXPECTED and not row["breach"]:
            known.append((row, rule))
    counted = ItemCount.objects.events_since({row["pk"]: at - rule.window for row, rule in known})
    back, quiet = {}, []
    for row, rule in known:
        count = counted.get(row["pk"], 0)
        if count >= rule.threshold_count:
            back[row["pk"]] = {
                "count": count,
                "window": rule.threshold_window,
                "threshold": rule.threshold_count,
            }
        elif row["external_id"] in reopened and _trusted(row, rule, backend, at):
            quiet.append(row["pk"])
    if not (new or back or quiet):
        return 0
    with transaction.atomic():
        for rule, pks in new.items():
            Item.objects.filter(pk__in=pks).update(
                qualification=Item.Qualification.EXPECTED,
                qualification_params={},
                qualified_by=None,
                qualified_at=at,
                rule=rule,
            )
        if new:
            RuleHit.objects.bulk_create(
                RuleHit(rule=rule, item_id=pk, at=at) for rule, pks in new.items() for pk in pks
            )
        if back:
            Item.objects.bulk_update(
                [Item(pk=pk, came_back=True, breach=breach) for pk, breach in back.items()],
                ["came_back", "breach"],
            )
        if quiet:
            Item.objects.filter(pk__in=quiet).update(came_back=False)
    return sum(len(pks) for pks in new.values())


def _trusted(row, rule, backend, at):
    """Whether Vigie's count under the threshold outweighs the upstream's reopening."""
    since = at - rule.window
    # A memory pre-qualified it when new: its samples start from 0. Else they are kept from
    # COUNT_HISTORY before the Attendu.
    complete = row["rule_id"] == rule.pk or (
        row["qualified_at"] is not None and row["qualified_at"] - COUNT_HISTORY <= since
    )
    longest = backend.max_ignore_window
    return complete or (longest is not None and rule.threshold_window > longest)


def reapply(source):
    """Write the ignore upstream again for the items of `source` its memory holds Attendu and
    the upstream shows open, at most WRITES_PER_SYNC; returns how many the upstream confirmed."""
    if source.team_id is None:
        return 0
    waiting = list(
        Item.objects.filter(
            source=source,
            qualification=Item.Qualification.EXPECTED,
            came_back=False,
            upstream_status__in=Item.REOPENED,
        )
        # A rule written by hand pre-qualifies in Vigie only: its items are not the memory's.
        .filter(Q(rule__isnull=True) | ~Q(rule__fingerprint=""))
        .exclude(writeback_state=Item.Writeback.PENDING)
        .select_related("source", "source__team")
        # The items not tried yet first: one that fails does not hold back the others.
        .order_by("writeback_state", "pk")[:CANDIDATES]
    )
    memories = QualificationRule.objects.memories_of(
        source.team_id, [item.fingerprint for item in waiting]
    )
    written = attempts = 0
    for item in waiting:
        rule = memories.get(item.fingerprint)
        if rule is None or item.writeback_failure.get("permanent"):
            # No memory of it, or refused for good: the board shows why and offers Retry.
            continue
        if attempts == WRITES_PER_SYNC:
            break
        attempts += 1
        try:
            outcome = qualify.reapply(item, rule)
        except qualify.QualifyError:
            continue  # a vigie's write of this item is running: theirs wins
        except Exception:
            # A bug on one item: qualify marked it failed; the sync and the others go on.
            logger.exception("memory_reapply_crashed", source=source.name, item=item.pk)
            continue
        if outcome.ok:
            written += 1
        elif qualify.unanswered(outcome.error):
            logger.warning("memory_reapply_source_down", source=source.name, item=item.pk)
            break
    return written

"""Mirror each source into triage.Item: incrementally, idempotently, one sync per source at once.

The first sync of a source mirrors every unresolved item; later ones read newest `last_seen`
first and stop past the high-water mark, and a periodic reconcile asks the upstream about the
items that did not show up (resolved or ignored directly upstream). Only upstream fields are
ever written: the vigie's qualification stays local. A failure is recorded on the source and
its SyncRun; nothing local is deleted.
"""

import functools
import hashlib
import operator
from datetime import datetime, timedelta
from itertools import batched

import structlog
from django.db import connection, models, transaction
from django.db.models.constants import OnConflict
from django.utils import timezone, translation
from django.utils.translation import gettext_noop

from triage import memory
from triage.models import Item, ItemCount, Source, SyncRun
from triage.rules import SyncRules
from triage.signals import sync_finished
from triage.sources import backend_for
from triage.sources.base import DATA_FIELDS, SourceError, render_facts
from vigie.logging import redact_text

logger = structlog.get_logger(__name__)

# The longest a sync may run (its task's timeout): a first mirror of a large organisation is long.
SYNC_TIMEOUT = timedelta(minutes=15)
# Events can be ingested a little out of order: re-read this much before the high-water mark.
OVERLAP = timedelta(minutes=1)
RECONCILE_EVERY = timedelta(hours=1)
# The window of a job source's totals (a failure rate over the last hour, seed 004).
TOTALS_WINDOW = timedelta(hours=1)
BATCH_SIZE = 100
INTERNAL_ERROR = gettext_noop("internal error: %(type)s")


def sync_source(source_pk):
    """Sync one source now. Returns its SyncRun, or None when another sync holds the source."""
    started = timezone.now()
    claimed = (
        Source.objects.filter(pk=source_pk)
        .claimable(started)
        .update(sync_started_at=started, sync_heartbeat_at=started)
    )
    if claimed != 1:
        logger.info("sync_skipped_already_running", source_pk=source_pk)
        return None
    source = Source.objects.get(pk=source_pk)
    previous_success = source.last_success_at
    run = SyncRun(source=source, started_at=started)
    backend = None
    try:
        backend = backend_for(source)
        _mirror(source, backend, run)
    except SourceError as exc:
        _record_failure(source, run, exc, exc.facts())
    except LookupError as exc:
        _record_failure(source, run, exc, {"text": str(exc)})
    except Exception as exc:
        # A bug of ours, not the upstream's: keep the source's record straight, and report it.
        logger.exception("sync_crashed", source=source.name)
        failure = {"code": INTERNAL_ERROR, "params": {"type": exc.__class__.__name__}}
        _record_failure(source, run, exc, failure)
    finally:
        if backend is not None:
            run.requests, run.skipped = backend.requests, backend.skipped
        run.finished_at = timezone.now()
        run.save()
        Source.objects.filter(pk=source_pk, sync_started_at=started).update(sync_started_at=None)
    source.refresh_from_db()
    # Robust: a receiver failing (an alert rule) never makes the sync itself fail.
    for receiver, error in sync_finished.send_robust(
        Source, source=source, run=run, previous_success=previous_success
    ):
        if error is not None:
            logger.error(
                "sync_finished_receiver_failed",
                source=source.name,
                receiver=getattr(receiver, "__qualname__", repr(receiver)),
                error=repr(error),
            )
    return run


def _mirror(source, backend, run):
    mark = source.high_water_mark
    newest = mark
    seen = set()
    # The first mirror's counts are history, not events that just happened.
    first = source.last_success_at is None
    # Loaded once: the new items of every batch are matched against them in memory.
    rules = SyncRules(source, backend)
    for batch in batched(backend.fetch(since=mark - OVERLAP if mark else None), BATCH_SIZE):
        created, updated, unchanged = upsert(source, batch, at=run.started_at, first=first)
        # The vigie's memory first: a new item of an error it remembers is its own.
        run.prequalified += memory.recall(
            source, backend, batch, since=run.started_at, at=run.started_at
        )
        if created:
            run.prequalified += rules.prequalify(batch, since=run.started_at)
        run.created += created
        run.updated += updated
        run.unchanged += unchanged
        seen.update(data.external_id for data in batch)
        stamps = [d.last_seen for d in batch if d.last_seen] + ([newest] if newest else [])
        newest = max(stamps, default=None)
        _beat(source, run)
    now = timezone.now()
    totals = backend.totals(now - TOTALS_WINDOW)
    if totals is not None:
        since = (now - TOTALS_WINDOW).isoformat()
        run.totals = {"since": since, "finished": totals[0], "failed": totals[1]}
    ItemCount.objects.prunable(source, now).delete()
    reconciled = source.last_reconciled_at
    if reconciled is None or now - reconciled >= RECONCILE_EVERY:
        run.updated += reconcile(source, backend, exclude=seen)
        reconciled = now
    run.reapplied = memory.reapply(source)
    Source.objects.filter(pk=source.pk).update(
        state=Source.State.OK,
        last_failure={},
        last_success_at=now,
        high_water_mark=newest,
        last_reconciled_at=reconciled,
        consecutive_failures=0,
        auth_error_fingerprint="",
        next_sync_at=now + timedelta(minutes=source.sync_interval_minutes),
    )
    logger.info(
        "source_synced",
        source=source.name,
        created=run.created,
        updated=run.updated,
        unchanged=run.unchanged,
        prequalified=run.prequalified,
        skipped=backend.skipped,
        requests=backend.requests,
    )


def _beat(source, run):
    """Renew the claim: a sync that stops beating (its worker killed) frees the source."""
    held = Source.objects.filter(pk=source.pk, sync_started_at=run.started_at).update(
        sync_heartbeat_at=timezone.now()
    )
    if not held:
        # Stalled past the lease: another sync took over. Both write the same upstream data.
        logger.warning("sync_claim_lost", source=source.name)


def _record_failure(source, run, exc, failure):
    """`failure`: facts (SourceError.facts()), shown in each reader's language; the run and the
    logs keep them worded in English, for operators."""
    with translation.override(None):
        message = redact_text(render_facts(failure))
    now = timezone.now()
    failures = source.consecutive_failures + 1
    source.consecutive_failures = failures
    wait = getattr(exc, "retry_after", None)
    auth = getattr(exc, "auth", False)
    Source.objects.filter(pk=source.pk).update(
        state=Source.State.AUTH_ERROR if auth else Source.State.ERROR,
        last_failure=failure,
        last_error_at=now,
        consecutive_failures=failures,
        auth_error_fingerprint=source.config_fingerprint() if auth else "",
        next_sync_at=now + (timedelta(seconds=wait) if wait else source.backoff()),
    )
    run.error = message
    logger.warning("source_sync_failed", source=source.name, error=message, auth=auth)


def digest(data):
    """What identifies one upstream version of an item. A repr, not sorted JSON: cheaper, and
    an upstream serialising keys in another order only costs one needless write."""
    return _digest(_upstream_values(data))


# The ItemData's upstream values as a tuple, in DATA_FIELDS' order (one C call).
_upstream_values = operator.attrgetter(*DATA_FIELDS)


def _digest(values):
    return hashlib.sha1(repr(values).encode(), usedforsecurity=False).hexdigest()


def upsert(source, batch, *, at=None, first=False):
    """Write one batch of ItemData in bulk; returns (created, updated, unchanged).

    Two queries when something changed (read the batch's digests, upsert), one otherwise, a
    third when items came back, and two more when event counts moved (an ItemCount per item
    at `at`, from 0 for an item new since the first mirror).
    """
    batch = list({data.external_id: data for data in reversed(batch)}.values())
    existing = {
        row[0]: row[1:]
        for row in Item.objects.filter(
            source=source, external_id__in=[d.external_id for d in batch]
        ).values_list(
            "external_id", "upstream_digest", "qualification", "qualified_at", "tally", "rule"
        )
    }
    rows, came_back, created, moved = [], [], 0, {}
    for data in batch:
        values = _upstream_values(data)
        signature = _digest(values)
        known = existing.get(data.external_id)
        previous = (data.tally if first else 0) if known is None else known[3]
        if data.tally != previous:
            moved[data.external_id] = (data.tally, previous)
        if known is None:
            created += 1
        elif known[0] == signature:
            continue
        elif known[4] is None and _came_back(data, qualification=known[1], qualified_at=known[2]):
            came_back.append(data.external_id)
        rows.append((data.external_id, *values, signature))
    if rows:
        with transaction.atomic():
            _ItemWriter(connection).write(source, rows)
            if came_back:
                Item.objects.filter(source=source, external_id__in=came_back).update(came_back=True)
            if moved:
                ids = Item.objects.filter(source=source, external_id__in=list(moved))
                ItemCount.objects.bulk_create(
                    ItemCount(item_id=pk, at=at or timezone.now(), count=moved[eid][0],
                              previous=moved[eid][1])
                    for pk, eid in ids.values_list("pk", "external_id")
                )  # fmt: skip
    return created, len(rows) - created, len(batch) - len(rows)


class _ItemWriter:
    """The batch's upsert as one prepared INSERT … ON CONFLICT run for every row (executemany),
    each value adapted by its own field: what bulk_create does, without compiling every field
    of every row, which cost more CPU than downloading the pages (bench/sync.py).

    Columns a sync never writes take the model's defaults (on creation only), so a field added
    to Item needs nothing here.
    """

    # The columns a sync writes, in a row's order.
    WRITTEN = ("external_id", *DATA_FIELDS, "upstream_digest")

    def __init__(self, connection):
        self.connection = connection
        ops = connection.ops
        meta = Item._meta
        written = [meta.get_field(name) for name in self.WRITTEN]
        # Then the batch's constants: the source, the local fields' defaults.
        self.constant = [f for f in meta.concrete_fields if not f.primary_key and f not in written]
        self.adapters = [self._adapter(field) for field in written]
        fields = written + self.constant
        conflict = ops.on_conflict_suffix_sql(
            fields,
            OnConflict.UPDATE,
            [meta.get_field(name).column for name in Item.UPSTREAM_FIELDS],
            [meta.get_field(name).column for name in ("source", "external_id")],
        )
        self.sql = (
            f"{ops.insert_statement(on_conflict=OnConflict.UPDATE)} "
            f"{ops.quote_name(meta.db_table)} "
            f"({', '.join(ops.quote_name(f.column) for f in fields)}) "
            f"VALUES ({', '.join(['%s'] * len(fields))}) {conflict}"
        )

    def _adapter(self, field):
        """The field's own adaptation, short-cut for the values a backend gives (text,
        numbers, aware datetimes, JSON): the field's checks are for anything else."""
        ops = self.connection.ops
        prepare = functools.partial(field.get_db_prep_save, connection=self.connection)
        if isinstance(field, models.JSONField):
            encoder = field.encoder
            return lambda value: ops.adapt_json_value(value, encoder) if value is not None else None
        if isinstance(field, models.DateTimeField):
            adapt = ops.adapt_datetimefield_value
            return lambda value: (
                adapt(value)
                if type(value) is datetime and value.tzinfo is not None
                else prepare(value)
            )
        return lambda value: value if type(value) in (str, int) else prepare(value)

    def write(self, source, rows):
        """`rows`: the WRITTEN values of each item."""
        template = Item(source=source)
        constants = [
            f.get_db_prep_save(f.pre_save(template, add=True), self.connection)
            for f in self.constant
        ]
        adapters = self.adapters
        params = [
            [adapt(v) for adapt, v in zip(adapters, row, strict=True)] + constants for row in rows
        ]
        with self.connection.cursor() as cursor:
            cursor.executemany(self.sql, params)


def _came_back(data, *, qualification, qualified_at):
    """Silenced or finished by the vigie, open again upstream afterwards (a new occurrence,
    a request reopened). Not asked of an item a rule pre-qualified: the rule silenced nothing
    upstream, so its new occurrences are what the rule expects."""
    return (
        qualification in Item.SILENCING
        and data.upstream_status in Item.REOPENED
        and (qualified_at is None or (data.last_seen is not None and data.last_seen > qualified_at))
    )


def reconcile(source, backend, *, exclude=()):
    """Ask the upstream about items still open locally that the sync did not see; returns how
    many changed. Items the upstream no longer shows are kept as they are."""
    exclude = set(exclude)
    local = {
        external_id: status
        for external_id, status in Item.objects.filter(source=source)
        .exclude(upstream_status__in=Item.FINISHED_UPSTREAM)
        .values_list("external_id", "upstream_status")
        if external_id not in exclude
    }
    if not local:
        return 0
    changed = {}
    for external_id, status in backend.reconcile(list(local)).items():
        if local.get(external_id) not in (None, status):
            changed.setdefault(status, []).append(external_id)
    for status, external_ids in changed.items():
        for chunk in batched(external_ids, 500):
            Item.objects.filter(source=source, external_id__in=chunk).update(upstream_status=status)
    return sum(len(ids) for ids in changed.values())

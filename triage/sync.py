"""Mirror each source into triage.Item: incrementally, idempotently, one sync per source at once.

The first sync of a source mirrors every unresolved item; later ones read newest `last_seen`
first and stop past the high-water mark, and a periodic reconcile asks the upstream about the
items that did not show up (resolved or ignored directly upstream). Only upstream fields are
ever written: the vigie's qualification stays local. A failure is recorded on the source and
its SyncRun; nothing local is deleted.
"""

import functools
import hashlib
import json
import operator
import weakref
from datetime import datetime, timedelta
from itertools import batched

import orjson
import psycopg
import structlog
from django.db import DEFAULT_DB_ALIAS, connections, models, transaction
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
# How often a sync renews its claim: well within the lease, however slow a page, but not after
# every batch (on a first mirror, one more write per 100 items).
BEAT_EVERY = Source.CLAIM_LEASE / 10
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
    beaten = run.started_at  # the claim's first heartbeat
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
        if (now := timezone.now()) - beaten >= BEAT_EVERY:
            _beat(source, run, now)
            beaten = now
    run.prequalified += rules.retry()
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


def _beat(source, run, now):
    """Renew the claim: a sync that stops beating (its worker killed) frees the source."""
    held = Source.objects.filter(pk=source.pk, sync_started_at=run.started_at).update(
        sync_heartbeat_at=now
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
    """What identifies one upstream version of an item: the SHA-1 of the JSON of the values the
    sync writes, its JSON fields as their stored text (serialised once, for both). An upstream
    serialising keys in another order only costs one needless write. Changing this function
    rewrites every item once, at its next sync (the test pins it)."""
    return _digest(_upstream_row(data))


# The ItemData's upstream values as a tuple, in DATA_FIELDS' order (one C call).
_upstream_values = operator.attrgetter(*DATA_FIELDS)
# Where its JSON fields are in that tuple.
_JSON_AT = tuple(
    i
    for i, name in enumerate(DATA_FIELDS)
    if isinstance(Item._meta.get_field(name), models.JSONField)
)


def _upstream_row(data):
    """The ItemData's upstream values, its JSON fields as the text the database stores."""
    values = list(_upstream_values(data))
    for i in _JSON_AT:
        values[i] = _json_text(values[i])
    return values


def _json_text(value):
    """JSON text as Django's JSONField would write it (json.dumps), in a tenth of its CPU; the
    database reads back the same values (non-ASCII as is rather than escaped)."""
    try:
        return orjson.dumps(value).decode()
    except TypeError:  # orjson's refusals: integers beyond 64 bits, keys that are not text
        return json.dumps(value)


def _digest(values):
    return hashlib.sha1(orjson.dumps(values), usedforsecurity=False).hexdigest()


def upsert(source, batch, *, at=None, first=False):
    """Write one batch of ItemData in bulk; returns (created, updated, unchanged).

    Two queries when something changed (read the batch's digests, upsert), one otherwise, a
    third when items came back, and two more when event counts moved (an ItemCount per item
    at `at`, from 0 for an item new since the first mirror).
    """
    batch = list({data.external_id: data for data in reversed(batch)}.values())
    writer = _ItemWriter.of(connections[DEFAULT_DB_ALIAS])
    existing = writer.known(source, [data.external_id for data in batch])
    rows, came_back, created, moved = [], [], 0, {}
    for data in batch:
        values = _upstream_row(data)
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
            writer.write(source, rows)
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
    """The batch's upsert as one INSERT … ON CONFLICT, each value adapted by its own field:
    what bulk_create does, without compiling every field of every row, which cost more CPU
    than downloading the pages (bench/sync.py). On SQLite a prepared statement run for every
    row (executemany, in C); on PostgreSQL one statement a batch, a column an array (UNNEST, as
    bulk_create does there), bound on the server in binary: no row's JSON escaped in Python.

    Columns a sync never writes take the model's defaults (on creation only), so a field added
    to Item needs nothing here. The read of what the batch's items already are (`known`) is a
    plain query on the same cursor, for the same reason.
    """

    # The columns a sync writes, in a row's order.
    WRITTEN = ("external_id", *DATA_FIELDS, "upstream_digest")
    # What upsert reads of the items a batch already has, the external id first.
    KNOWN = ("external_id", "upstream_digest", "qualification", "qualified_at", "tally", "rule")
    # One a connection (each thread has its own): the statement is built once.
    _of = weakref.WeakKeyDictionary()

    @classmethod
    def of(cls, connection):
        writer = cls._of.get(connection)
        if writer is None:
            writer = cls._of[connection] = cls(connection)
        return writer

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
        self.unnest = connection.vendor == "postgresql"
        if self.unnest:
            # Each array of its column's type without length (no truncation, as bulk_create
            # does), the constants once.
            types = [f.db_type(connection).split("(")[0] for f in fields]
            arrays = ", ".join(f"(%b)::{t}[]" for t in types[: len(written)])
            scalars = "".join(f", (%s)::{t}" for t in types[len(written) :])
            values = f"SELECT *{scalars} FROM UNNEST({arrays})"  # noqa: S608 (the model's types)
        else:
            values = f"VALUES ({', '.join(['%s'] * len(fields))})"
        self.sql = (
            f"{ops.insert_statement(on_conflict=OnConflict.UPDATE)} "
            f"{ops.quote_name(meta.db_table)} "
            f"({', '.join(ops.quote_name(f.column) for f in fields)}) {values} {conflict}"
        )
        # What upsert compares a batch against, read as plain rows: through the ORM, the
        # lookup's preparation of each external id cost ten times the query (bench/sync.py).
        known = [meta.get_field(name) for name in self.KNOWN]
        self.known_sql = (
            f"SELECT {', '.join(ops.quote_name(f.column) for f in known)} "  # noqa: S608
            f"FROM {ops.quote_name(meta.db_table)} "
            f"WHERE {ops.quote_name(meta.get_field('source').column)} = %s "
            f"AND {ops.quote_name(meta.get_field('external_id').column)} IN "
        )
        # The database's values as the ORM would give them (SQLite's datetimes come as text).
        self.known_converters = []
        for i, field in enumerate(known[1:]):
            col = field.get_col(meta.db_table)
            converters = ops.get_db_converters(col) + col.get_db_converters(connection)
            if converters:
                self.known_converters.append((i, col, converters))

    def _adapter(self, field):
        """The field's own adaptation, and the types of the values it leaves as they are:
        text and numbers as a backend gives them (JSON comes as its text), for a column at a
        time; every datetime adapted. The field's checks are for anything else."""
        prepare = functools.partial(field.get_db_prep_save, connection=self.connection)
        if not isinstance(field, models.DateTimeField):
            return frozenset((str, int)), prepare
        adapt = self.connection.ops.adapt_datetimefield_value
        if self.connection.vendor == "sqlite":
            # SQLite's adaptation (naive text in the connection's time zone) without re-reading
            # the settings for every value: half the CPU of the row's values.
            zone = self.connection.timezone

            def adapt(value):
                return str(value.astimezone(zone).replace(tzinfo=None))

        return (
            frozenset(),
            lambda value: (
                adapt(value)
                if type(value) is datetime and value.tzinfo is not None
                else prepare(value)
            ),
        )

    def known(self, source, external_ids):
        """{external id: [its other KNOWN values]} of the items of `source` among these."""
        if not external_ids:
            return {}
        with self._cursor() as cursor:
            cursor.execute(
                f"{self.known_sql}({', '.join(['%s'] * len(external_ids))})",
                [source.pk, *external_ids],
            )
            rows = cursor.fetchall()
        known = {}
        for external_id, *values in rows:
            for i, col, converters in self.known_converters:
                for converter in converters:
                    values[i] = converter(values[i], col, self.connection)
            known[external_id] = values
        return known

    def write(self, source, rows):
        """`rows`: the WRITTEN values of each item, JSON fields as text (_upstream_row)."""
        template = Item(source=source)
        constants = [self._constant(f, f.pre_save(template, add=True)) for f in self.constant]
        columns = [list(column) for column in zip(*rows, strict=True)]
        for i, (kept, adapt) in enumerate(self.adapters):
            if not kept.issuperset(map(type, columns[i])):
                columns[i] = list(map(adapt, columns[i]))
        with self._cursor() as cursor:
            if self.unnest:
                cursor.execute(self.sql, constants + columns)
            else:
                cursor.executemany(
                    self.sql, [(*row, *constants) for row in zip(*columns, strict=True)]
                )

    def _constant(self, field, value):
        """JSON as text, like the upstream JSON: adapted as a JSONField adapts it, it would be
        serialised again for every row."""
        if isinstance(field, models.JSONField) and value is not None:
            return _json_text(value)
        return field.get_db_prep_save(value, self.connection)

    def _cursor(self):
        """Django's cursor, but on PostgreSQL one that binds the parameters on the server
        (Django's renders them into the SQL text, on the client), on the same connection and
        transaction, wrapped as Django wraps its own (query logging, database errors)."""
        connection = self.connection
        if connection.vendor != "postgresql":
            return connection.cursor()
        connection.ensure_connection()
        connection.validate_thread_sharing()
        cursor = psycopg.Cursor(connection.connection)
        if connection.queries_logged:
            return connection.make_debug_cursor(cursor)
        return connection.make_cursor(cursor)


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

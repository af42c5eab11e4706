"""django-q2: failed tasks, grouped by function, error class and message (ids taken out).

Without a DSN the source reads this Vigie's own tasks through the ORM, and **Relancer**
(`requeue`) queues the latest failed task of a group again. With a DSN (environment variable
named by `source.secret_env`) it reads another Django application's `django_q_task` table through
a read-only connection; those tasks cannot be requeued from here. django-q2 has no API to write
to, so the qualifications stay local.
"""

import base64
import io
import pickle
from dataclasses import dataclass

import structlog
from django.db.models import Count, Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django_q.models import Failure, Task
from django_q.tasks import async_task

from triage.sources.base import ItemData, SourceError
from triage.sources.jobs import (
    EXECUTION_ERROR_LENGTH,
    JobBackend,
    arguments_sample,
    group_id,
    normalise_message,
    read_only_connection,
)

logger = structlog.get_logger(__name__)

TRACEBACK_MARK = " : Traceback (most recent call last):"  # how django-q2's worker joins them
TRACEBACK_LINES = 12
FETCH_BATCH = 500


def split_error(result):
    """(error class, message, traceback lines) from a failed task's result, which django-q2
    stores as "<message> : <traceback>"."""
    message, marked, trace = result.partition(TRACEBACK_MARK)
    lines = [line for line in trace.splitlines() if line.strip()]
    if marked and lines:
        error_class = lines[-1].partition(":")[0].strip()
        return error_class, message, lines[-TRACEBACK_LINES:]
    # A timeout or a result written by something else: no traceback to read the class from.
    return "Error", result.strip().splitlines()[0] if result.strip() else "", []


class _SafeUnpickler(pickle.Unpickler):
    """Reads plain data only (str, numbers, lists, dicts…): another application's database
    must not be able to make Vigie import and call anything."""

    def find_class(self, module, name):
        raise pickle.UnpicklingError(f"refusing {module}.{name}")


def _unpickle(stored):
    """django-picklefield's column value (base64 pickle) from a foreign database, or None."""
    if stored is None:
        return None
    try:
        return _SafeUnpickler(io.BytesIO(base64.b64decode(stored))).load()
    except (ValueError, pickle.UnpicklingError, EOFError, TypeError) as exc:
        raise ValueError(f"unreadable pickled value ({exc})") from None


@dataclass
class _Group:
    func: str
    error_class: str
    message: str
    count: int = 0
    first_seen: object = None
    last_seen: object = None
    latest_id: str = ""
    latest_result: str = ""

    def add(self, task_id, stopped, result):
        self.count += 1
        if self.first_seen is None or stopped < self.first_seen:
            self.first_seen = stopped
        if self.last_seen is None or stopped >= self.last_seen:
            self.last_seen, self.latest_id, self.latest_result = stopped, task_id, result


@dataclass
class _Sample:
    """The latest failed task of a group: its arguments and its runs. django-q2 keeps one row
    per task, so of its attempts only the count and the last one's times are known."""

    arguments: object = None
    attempts: int = 0
    started: object = None
    stopped: object = None


class DjangoQBackend(JobBackend):
    label = "django-q2"
    open_label = _("Open in the Django admin")
    fields = ("base_url", "secret_env", "secret")
    credential = "dsn"
    secret_required = False  # without one: this Vigie's own tasks
    cli_help = "django-q2 failed tasks: this Vigie's, or another app's (--dsn-env)."

    cli_flags = {"base_url": "--admin-url"}

    @classmethod
    def add_arguments(cls, parser):
        parser.add_argument(
            "--admin-url", default="", help="The other application's Django admin root."
        )

    @classmethod
    def configure(cls, source, options):
        source.base_url = options["admin_url"].rstrip("/")
        source.environment = ""

    @classmethod
    def describe(cls, source):
        if not (source.secret_env or source.secret):
            return "this Vigie's own failed tasks"
        return super().describe(source)

    @property
    def can_requeue(self):
        """Only this Vigie's own tasks can be queued again (the board's Relancer)."""
        return not (self.source.secret_env or self.source.secret)

    # Mirror side.
    def fetch(self, *, since=None):
        self.skipped = 0
        groups = sorted(
            (g for g in self._groups(since).values() if since is None or g.last_seen > since),
            key=lambda g: g.last_seen,
            reverse=True,
        )
        if not groups:
            return
        latest_ids = [g.latest_id for g in groups]
        if self.can_requeue:
            samples = self._local_samples(latest_ids)
        else:
            samples = self._remote_samples(latest_ids)
        for group in groups:
            yield self._item(group, samples.get(group.latest_id) or _Sample())

    def reconcile(self, external_ids):
        """Groups with no failed task left (deleted from the admin) are "resolved"."""
        present = {self._external_id(g) for g in self._groups(None).values()}
        return {eid: "failed" if eid in present else "resolved" for eid in external_ids}

    def totals(self, since):
        if self.can_requeue:
            counts = Task.objects.filter(stopped__gte=since).aggregate(
                finished=Count("pk"), failed=Count("pk", filter=Q(success=False))
            )
            return counts["finished"], counts["failed"]
        with read_only_connection(self.source) as conn:
            return tuple(
                conn.execute(
                    "SELECT count(*), count(*) FILTER (WHERE NOT success) FROM django_q_task"
                    " WHERE stopped >= %(since)s",
                    {"since": since},
                ).fetchone()
            )

    def bug_report(self, item):
        func = item.payload.get("func", "")
        return super().bug_report(item) | {
            "function": func,
            "tags": {"function": func},
            "frames": item.payload.get("traceback", []),
        }

    # Relancer, for this Vigie's own tasks.
    def requeue(self, item):
        """Queue the latest failed task of the item's group again, with its stored function,
        arguments, hook and group. Returns the new task's id."""
        if not self.can_requeue:
            raise SourceError(
                "only this Vigie's own tasks can be requeued; requeue it in its application",
                permanent=True,
            )
        task = Failure.objects.filter(pk=item.payload.get("latest_task_id")).first()
        if task is None:
            raise SourceError("the failed task is gone (deleted from the admin)", permanent=True)
        options = {
            key: value for key, value in (("hook", task.hook), ("group", task.group)) if value
        }
        new_id = async_task(task.func, *(task.args or ()), q_options=options, **(task.kwargs or {}))
        logger.info("djangoq.requeued", task=task.pk, new_task=new_id, func=task.func)
        return {"task_id": new_id, "requeued": task.pk, "func": task.func}

    # Reading.
    def _groups(self, since):
        if self.can_requeue:
            return self._group(self._local_rows(since))
        return self._remote_groups(since)

    def _local_rows(self, since):
        failures = Failure.objects.order_by()
        if since is not None:
            funcs = set(failures.filter(stopped__gt=since).values_list("func", flat=True))
            if not funcs:
                return
            failures = failures.filter(func__in=funcs)
        rows = failures.values_list("id", "func", "stopped", "result")
        yield from rows.iterator(chunk_size=FETCH_BATCH)

    def _local_samples(self, task_ids):
        tasks = Task.objects.filter(pk__in=task_ids).only(
            "args", "kwargs", "attempt_count", "started", "stopped"
        )
        return {
            t.pk: _Sample(
                {"args": list(t.args or ()), "kwargs": t.kwargs or {}},
                t.attempt_count,
                t.started,
                t.stopped,
            )
            for t in tasks
        }

    def _remote_groups(self, since):
        with read_only_connection(self.source) as conn:
            found = conn.execute("SELECT to_regclass('django_q_task') IS NOT NULL").fetchone()[0]
            if not found:
                raise SourceError(
                    "no django_q_task table in that database (is django-q2 migrated there?)",
                    permanent=True,
                )
            query = "SELECT id, func, stopped, result FROM django_q_task WHERE NOT success"
            params = {}
            if since is not None:
                params["funcs"] = [
                    row[0]
                    for row in conn.execute(
                        "SELECT DISTINCT func FROM django_q_task WHERE NOT success"
                        " AND stopped > %(since)s",
                        {"since": since},
                    )
                ]
                if not params["funcs"]:
                    return {}
                query += " AND func = ANY(%(funcs)s)"
            with conn.cursor(name="vigie_djangoq_failures") as cursor:
                cursor.itersize = FETCH_BATCH
                cursor.execute(query, params)
                return self._group(self._decoded(cursor))

    def _decoded(self, rows):
        for task_id, func, stopped, stored in rows:
            try:
                result = _unpickle(stored)
            except ValueError as exc:
                result = exc
            yield task_id, func, stopped, result

    def _remote_samples(self, task_ids):
        samples = {}
        with read_only_connection(self.source) as conn:
            rows = conn.execute(
                "SELECT id, args, kwargs, attempt_count, started, stopped FROM django_q_task"
                " WHERE id = ANY(%s)",
                (task_ids,),
            )
            for task_id, args, kwargs, attempts, started, stopped in rows:
                try:
                    arguments = {"args": _unpickle(args), "kwargs": _unpickle(kwargs)}
                except ValueError:
                    arguments = {"args": "(not plain data: not shown)"}
                samples[task_id] = _Sample(arguments, attempts, started, stopped)
        return samples

    def _group(self, rows):
        groups, skipped = {}, []
        for task_id, func, stopped, result in rows:
            if not func or not isinstance(result, str) or stopped is None:
                skipped.append(task_id)
                continue
            error_class, message, _ = split_error(result)
            key = (func, error_class, normalise_message(message))
            if key not in groups:
                groups[key] = _Group(*key)
            groups[key].add(task_id, stopped, result)
        if skipped:
            self.skipped += len(skipped)
            logger.warning(
                "djangoq.unreadable_tasks_skipped",
                source=self.source.name,
                count=len(skipped),
                sample_task_ids=skipped[:5],
                reason="no function, no stop time, or a result that is not an error text",
            )
        return groups

    def _external_id(self, group):
        return group_id(group.func, group.error_class, group.message)

    def _permalink(self, task_id):
        if self.source.base_url:  # the Django admin's root of the application
            return f"{self.source.base_url.rstrip('/')}/django_q/failure/{task_id}/change/"
        if self.can_requeue:
            return reverse("admin:django_q_failure_change", args=[task_id])
        return ""

    def _item(self, group, sample):
        _, latest_message, trace = split_error(group.latest_result)
        title = f"{group.error_class}: {latest_message}" if latest_message else group.error_class
        return ItemData(
            external_id=self._external_id(group),
            kind="job",
            title=title[:500],
            origin=group.func,
            level="error",
            environment=self.source.environment,
            upstream_status="failed",
            first_seen=group.first_seen,
            last_seen=group.last_seen,
            tally=group.count,
            permalink=self._permalink(group.latest_id),
            payload={
                "func": group.func,
                "error_class": group.error_class,
                "message": group.message,
                "sample_error": latest_message[:2000],
                "latest_task_id": group.latest_id,
                "arguments": arguments_sample(sample.arguments),
                "traceback": trace,
                # A failed task ran at least once; a row written without attempt_count reads 0.
                "executions": max(sample.attempts or 0, 1),
                "recent_executions": [
                    {
                        "started_at": sample.started.isoformat() if sample.started else None,
                        "finished_at": group.last_seen.isoformat(),
                        "error": latest_message[:EXECUTION_ERROR_LENGTH],
                    }
                ],
                "first_seen": group.first_seen.isoformat(),
                "last_seen": group.last_seen.isoformat(),
                "count": group.count,
                "requeueable": self.can_requeue,
            },
        )

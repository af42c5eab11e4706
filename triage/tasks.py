"""Scheduled work of the triage app (plain functions taking pks, run by django-q2)."""

from django.utils import timezone
from django_q.tasks import async_task

from triage.models import Source
from triage.sync import SYNC_TIMEOUT


def sync_due_sources():
    """Every minute: queue one sync per source whose interval has elapsed.

    Each source is its own task, so a slow or failing source never holds up another. A source
    whose credentials were refused waits until its configuration changes (or an operator runs
    `manage.py sync`): retrying a bad token only fills the upstream's logs.
    """
    now = timezone.now()
    queued = []
    for source in Source.objects.due(now):
        if source.waits_for_new_configuration:
            continue
        # Push the next run forward first, so a busy worker is not handed duplicates; the sync
        # sets it again when it ends.
        Source.objects.filter(pk=source.pk).update(next_sync_at=now + source.backoff())
        async_task(
            "triage.sync.sync_source",
            source.pk,
            task_name=f"sync {source.name}",
            # A first mirror of a large organisation outlasts the cluster's default timeout.
            timeout=int(SYNC_TIMEOUT.total_seconds()),
        )
        queued.append(source.name)
    return queued

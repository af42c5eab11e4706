"""Mirror the releases the error trackers know, for the status page's "since release …"."""

import structlog

from triage.models import Release, Source
from triage.sources import backend_for
from triage.sources.base import SourceError

logger = structlog.get_logger(__name__)


def sync_releases():
    """Every few minutes: each enabled source whose upstream knows releases. A source failing
    keeps the releases already stored (the status page reads those) and never stops another.
    Returns the names of the sources mirrored."""
    done = []
    for source in Source.objects.filter(enabled=True):
        try:
            backend = backend_for(source)
        except LookupError:
            continue
        if not backend.has_releases or source.waits_for_new_configuration:
            continue
        try:
            store(source, backend.releases())
        except SourceError as exc:
            logger.warning("releases_fetch_failed", source=source.name, error=str(exc))
            continue
        except Exception:  # a bug of ours on one source must not hide the others' releases
            logger.exception("releases_sync_crashed", source=source.name)
            continue
        done.append(source.name)
    return done


def store(source, releases):
    """Upsert by version (a release deployed again moves), then keep the newest KEEP."""
    if releases:
        Release.objects.bulk_create(
            [
                Release(source=source, version=r.version, deployed_at=r.deployed_at)
                for r in releases
            ],
            update_conflicts=True,
            unique_fields=["source", "version"],
            update_fields=["deployed_at"],
        )
    keep = Release.objects.filter(source=source).order_by("-deployed_at", "-pk")[: Release.KEEP]
    Release.objects.filter(source=source).exclude(
        pk__in=list(keep.values_list("pk", flat=True))
    ).delete()

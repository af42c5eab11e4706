from django.core.management.base import BaseCommand, CommandError

from triage.models import Source
from triage.sync import sync_source


class Command(BaseCommand):
    help = (
        "Sync sources now and print what changed, one line per source. Exits non-zero when a "
        "source failed. Also retries a source stopped on an authentication error."
    )

    def add_arguments(self, parser):
        parser.add_argument("--source", help="Only this source (by name); default: all enabled.")

    def handle(self, *args, source=None, **options):
        if source:
            sources = list(Source.objects.filter(name=source))
            if not sources:
                known = ", ".join(Source.objects.values_list("name", flat=True)) or "none"
                raise CommandError(f"no source named {source!r} (known: {known})")
        else:
            sources = list(Source.objects.filter(enabled=True))
        failed, busy = [], []
        for each in sources:
            run = sync_source(each.pk)
            if run is None:
                busy.append(each.name)
                self.stdout.write(f"{each.name}: already syncing elsewhere, skipped")
            elif run.error:
                failed.append(each.name)
                self.stdout.write(f"{each.name}: error: {run.error}")
            else:
                self.stdout.write(
                    f"{each.name}: {run.created} new, {run.updated} updated, "
                    f"{run.unchanged} unchanged, {run.skipped} skipped, 0 errors "
                    f"({run.requests} requests)"
                    + (f", {run.prequalified} pre-qualified by rules" if run.prequalified else "")
                    + (f", {run.reapplied} ignores re-applied" if run.reapplied else "")
                )
        if failed:
            raise CommandError(f"{len(failed)} source(s) failed: {', '.join(failed)}")
        if busy:
            raise CommandError(
                f"{len(busy)} source(s) already syncing elsewhere: {', '.join(busy)}"
            )

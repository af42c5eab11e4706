from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.urls import reverse
from django.utils import translation

from monitors import config


class Command(BaseCommand):
    help = (
        "Monitors as code. `apply FILE` creates or updates channels, checks, maintenance "
        "windows and alert rules by name (idempotent; --dry-run prints the plan only; --prune "
        "deletes what the file no longer names, for the teams it names). `export` prints the "
        "configuration in the same format."
    )

    def add_arguments(self, parser):
        actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
        apply = actions.add_parser("apply", help="Apply a monitors file.")
        apply.add_argument("file")
        apply.add_argument("--dry-run", action="store_true")
        apply.add_argument("--prune", action="store_true")
        export = actions.add_parser("export", help="Print the configuration as YAML.")
        export.add_argument("--team", action="append", dest="teams", help="Only this team.")

    def handle(self, *args, action, **options):
        # One language on the operator's terminal, whatever LANGUAGE_CODE says.
        with translation.override("en"):
            self.run(action, options)

    def run(self, action, options):
        if action == "apply":
            self.apply(options["file"], dry_run=options["dry_run"], prune=options["prune"])
        else:
            text, warnings = config.export(options["teams"])
            for warning in warnings:
                self.stderr.write(warning)
            self.stdout.write(text, ending="")

    def apply(self, path, *, dry_run, prune):
        try:
            text = Path(path).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise CommandError(f"{path}: cannot read the file ({exc.__class__.__name__})") from None
        try:
            document = config.parse(text, filename=path)
            changes = config.apply(document, prune=prune, dry_run=dry_run)
        except config.ConfigError as exc:
            raise CommandError(f"{exc} (nothing applied)") from None
        for change in changes:
            self.stdout.write(str(change))
        if dry_run:
            self.stdout.write("dry run: nothing applied")
            return
        self.print_ping_urls(document)

    def print_ping_urls(self, document):
        from monitors.models import Check

        names = {
            (entry.team, entry.name)
            for entry in document.checks
            if entry.fields["kind"] == "heartbeat"
        }
        rows = Check.objects.filter(kind="heartbeat", team__slug__in={team for team, _ in names})
        for check in rows.select_related("team").order_by("team__slug", "name"):
            if (check.team.slug, check.name) in names:
                url = settings.VIGIE_BASE_URL.rstrip("/") + reverse(
                    "monitors:ping", args=[check.ping_token]
                )
                self.stdout.write(f"ping {check.team.slug}/{check.name}: {url}")

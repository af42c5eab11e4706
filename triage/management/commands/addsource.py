import re
import sys

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from rotation.models import Team
from triage.models import Source
from triage.sources.sentry import DEFAULT_URL

_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_REPOSITORY = re.compile(r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$")


class Command(BaseCommand):
    help = (
        "Add a source to mirror. The token is read from the environment variable named by "
        "--token-env (preferred) or from standard input with --token-stdin; it is never printed."
    )

    def add_arguments(self, parser):
        parser.add_argument("kind", choices=[Source.Kind.SENTRY])
        parser.add_argument("--name", required=True, help="Short name (a slug), e.g. prod.")
        parser.add_argument("--url", default=DEFAULT_URL, help="Sentry's base URL.")
        parser.add_argument("--org", required=True, help="Organisation slug.")
        parser.add_argument(
            "--project",
            action="append",
            required=True,
            dest="projects",
            help="Project id or slug; repeat for several.",
        )
        parser.add_argument("--environment", default="production")
        token = parser.add_mutually_exclusive_group(required=True)
        token.add_argument("--token-env", help="Environment variable holding the token.")
        token.add_argument(
            "--token-stdin", action="store_true", help="Read the token from standard input."
        )
        parser.add_argument("--github-repo", default="", help="owner/name receiving its bugs.")
        parser.add_argument("--team", help="Slug of the team that triages it.")
        parser.add_argument("--interval", type=int, default=5, help="Sync interval (minutes).")

    def handle(self, *args, **options):
        name = options["name"]
        if Source.objects.filter(name=name).exists():
            raise CommandError(f"a source named {name!r} already exists (edit it in the admin)")
        token_env = options["token_env"] or ""
        if token_env and not _ENV_NAME.match(token_env):
            # Not echoed back: it may well be the token itself, pasted in the wrong place.
            raise CommandError(
                "--token-env: not an environment variable name (letters, digits, _): give the "
                "name of the variable holding the token, not the token"
            )
        token = ""
        if options["token_stdin"]:
            token = sys.stdin.readline().strip()
            if not token:
                raise CommandError("--token-stdin: no token on standard input")
        repository = options["github_repo"]
        if repository and not _REPOSITORY.match(repository):
            raise CommandError(f"--github-repo: expected owner/name, got {repository!r}")
        team = None
        if options["team"]:
            team = Team.objects.filter(slug=options["team"]).first()
            if team is None:
                raise CommandError(f"--team: no team with the slug {options['team']!r}")
        if options["interval"] < 1:
            raise CommandError("--interval: at least 1 minute")
        source = Source(
            kind=options["kind"],
            name=name,
            team=team,
            base_url=options["url"].rstrip("/"),
            organization=options["org"],
            projects=options["projects"],
            environment=options["environment"],
            token_env=token_env,
            token=token,
            github_repository=repository,
            sync_interval_minutes=options["interval"],
        )
        try:
            source.full_clean()
        except ValidationError as exc:
            problems = "; ".join(
                f"{field}: {' '.join(str(m) for m in messages)}"
                for field, messages in exc.message_dict.items()
                if field != "token"
            )
            raise CommandError(problems or "invalid source") from None
        source.save()
        self.stdout.write(
            f"Added {source.kind} source {source.name!r}: {source.base_url}, organisation "
            f"{source.organization}, projects {', '.join(source.projects)}, environment "
            f"{source.environment or '(all)'}, synced every {source.sync_interval_minutes} min."
        )
        if token_env:
            self.stdout.write(f"Its token is read from ${token_env} at each sync.")
        self.stdout.write(f"Mirror it now with: manage.py sync --source {source.name}")

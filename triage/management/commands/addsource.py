import re
import sys

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.utils import translation

from rotation.models import Team
from triage.models import Source
from triage.sources import REGISTRY, backend_class
from triage.sources.base import ConfigurationError

_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_REPOSITORY = re.compile(r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$")
# The options every kind has, by the Source field each sets.
_FLAGS = {
    "name": "--name",
    "github_repository": "--github-repo",
    "team": "--team",
    "sync_interval_minutes": "--interval",
}


class Command(BaseCommand):
    help = (
        "Add a source to mirror, of one of the kinds below. A secret (token, database DSN) is "
        "read from the environment variable named by --token-env / --dsn-env (preferred) or "
        "from standard input with --token-stdin / --dsn-stdin; it is never printed."
    )

    def add_arguments(self, parser):
        kinds = parser.add_subparsers(dest="kind", required=True, metavar="KIND")
        for kind in REGISTRY:
            backend = backend_class(kind)
            if backend.cli_help is None:
                continue
            sub = kinds.add_parser(kind, help=backend.cli_help)
            backend.add_arguments(sub)
            _secret_arguments(sub, backend)
            sub.add_argument("--name", required=True, help="Short name (a slug), e.g. prod.")
            sub.add_argument("--github-repo", default="", help="owner/name receiving its bugs.")
            sub.add_argument("--team", help="Slug of the team that triages it.")
            sub.add_argument("--interval", type=int, default=5, help="Sync interval (minutes).")

    def handle(self, *args, **options):
        kind = options["kind"]
        name = options["name"]
        if Source.objects.filter(name=name).exists():
            raise CommandError(f"a source named {name!r} already exists (edit it in the admin)")
        backend = backend_class(kind)
        secret = backend.credential
        secret_env = options.get(f"{secret}_env") or ""
        if secret_env and not _ENV_NAME.match(secret_env):
            # Not echoed back: it may well be the secret itself, pasted in the wrong place.
            raise CommandError(
                f"--{secret}-env: not an environment variable name (letters, digits, _): give "
                f"the name of the variable holding the {secret}, not the {secret}"
            )
        stored = ""
        if options.get(f"{secret}_stdin"):
            stored = sys.stdin.readline().strip()
            if not stored:
                raise CommandError(f"--{secret}-stdin: nothing on standard input")
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
            kind=kind,
            name=name,
            team=team,
            secret_env=secret_env,
            secret=stored,
            github_repository=repository,
            sync_interval_minutes=options["interval"],
        )
        try:
            backend.configure(source, options)
        except ConfigurationError as exc:
            raise CommandError(str(exc)) from None
        try:
            source.full_clean()
        except ValidationError as exc:
            flags = {**_FLAGS, f"{secret}_env": f"--{secret}-env", **backend.cli_flags}
            # In English, as everything else this command says (the models' messages would
            # come in the site's language).
            with translation.override(None):
                problems = "; ".join(
                    f"{flags.get(field, field)}: {' '.join(str(m) for m in messages)}"
                    for field, messages in exc.message_dict.items()
                    if field != "secret"
                )
            raise CommandError(problems or "invalid source") from None
        source.save()
        description = f"{backend.describe(source)}, synced every {source.sync_interval_minutes} min"
        self.stdout.write(f"Added {source.kind} source {source.name!r}: {description}.")
        if secret_env:
            self.stdout.write(f"Its {secret} is read from ${secret_env} at each sync.")
        self.stdout.write(f"Mirror it now with: manage.py sync --source {source.name}")


def _secret_arguments(parser, backend):
    secret, what = backend.credential, f"the {backend.label} {backend.credential}"
    group = parser.add_mutually_exclusive_group(required=backend.secret_required)
    group.add_argument(f"--{secret}-env", help=f"Environment variable holding {what}.")
    group.add_argument(
        f"--{secret}-stdin", action="store_true", help=f"Read {what} from standard input."
    )

import re
import sys

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from rotation.models import Team
from triage.models import Source
from triage.sources.github import DEFAULT_LABEL, DEFAULT_ROADMAP_LABEL
from triage.sources.sentry import DEFAULT_URL

_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_REPOSITORY = re.compile(r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$")


class Command(BaseCommand):
    help = (
        "Add a source to mirror: sentry, goodjob, djangoq or github. A secret (token, database "
        "DSN) is read from the environment variable named by --token-env / --dsn-env "
        "(preferred) or from standard input with --token-stdin / --dsn-stdin; it is never printed."
    )

    def add_arguments(self, parser):
        kinds = parser.add_subparsers(dest="kind", required=True, metavar="KIND")
        sentry = kinds.add_parser("sentry", help="A Sentry organisation (SaaS or self-hosted).")
        sentry.add_argument("--url", default=DEFAULT_URL, help="Sentry's base URL.")
        sentry.add_argument("--org", required=True, help="Organisation slug.")
        sentry.add_argument(
            "--project",
            action="append",
            required=True,
            dest="projects",
            help="Project id or slug; repeat for several.",
        )
        sentry.add_argument("--environment", default="production")
        _secret_arguments(sentry, "token", "the API token", required=True)

        goodjob = kinds.add_parser("goodjob", help="GoodJob's discarded jobs (read-only DSN).")
        goodjob.add_argument(
            "--dashboard-url", default="", help="GoodJob dashboard root, for links to each job."
        )
        _secret_arguments(goodjob, "dsn", "the read-only PostgreSQL DSN", required=True)

        djangoq = kinds.add_parser(
            "djangoq", help="django-q2 failed tasks: this Vigie's, or another app's (--dsn-env)."
        )
        djangoq.add_argument(
            "--admin-url", default="", help="The other application's Django admin root."
        )
        _secret_arguments(djangoq, "dsn", "another app's read-only DSN", required=False)

        requests = kinds.add_parser(
            "github", help="Small requests: open GitHub issues carrying a label."
        )
        requests.add_argument(
            "--repo",
            action="append",
            required=True,
            dest="repositories",
            help="owner/name; repeat for several.",
        )
        requests.add_argument(
            "--label", default=DEFAULT_LABEL, help="Label of the vigie's requests (default: vigie)."
        )
        requests.add_argument(
            "--roadmap-label",
            default=DEFAULT_ROADMAP_LABEL,
            help="Label that replaces it on a request too big for the vigie (default: roadmap).",
        )
        requests.add_argument(
            "--api-url", default="", help="GitHub Enterprise API root (default: api.github.com)."
        )
        _secret_arguments(
            requests, "token", "a GitHub token (default: VIGIE_GITHUB_TOKEN)", required=False
        )

        for sub in (sentry, goodjob, djangoq, requests):
            sub.add_argument("--name", required=True, help="Short name (a slug), e.g. prod.")
            sub.add_argument("--github-repo", default="", help="owner/name receiving its bugs.")
            sub.add_argument("--team", help="Slug of the team that triages it.")
            sub.add_argument("--interval", type=int, default=5, help="Sync interval (minutes).")

    def handle(self, *args, **options):
        kind = options["kind"]
        name = options["name"]
        if Source.objects.filter(name=name).exists():
            raise CommandError(f"a source named {name!r} already exists (edit it in the admin)")
        secret = "token" if kind in (Source.Kind.SENTRY, Source.Kind.GITHUB) else "dsn"
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
            token_env=secret_env,
            token=stored,
            github_repository=repository,
            sync_interval_minutes=options["interval"],
        )
        if kind == Source.Kind.SENTRY:
            source.base_url = options["url"].rstrip("/")
            source.organization = options["org"]
            source.projects = options["projects"]
            source.environment = options["environment"]
        elif kind == Source.Kind.GITHUB:
            source.projects = _github_requests(source, options)
        else:
            url = options.get("dashboard_url") or options.get("admin_url") or ""
            source.base_url = url.rstrip("/")
            source.environment = ""
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
        self.stdout.write(f"Added {source.kind} source {source.name!r}: {_describe(source)}.")
        if secret_env:
            self.stdout.write(f"Its {secret} is read from ${secret_env} at each sync.")
        self.stdout.write(f"Mirror it now with: manage.py sync --source {source.name}")


def _github_requests(source, options):
    """Check the GitHub source's options, set its labels and API root; returns its repos."""
    for repository in options["repositories"]:
        if not _REPOSITORY.match(repository):
            raise CommandError(f"--repo: expected owner/name, got {repository!r}")
    labels = {"label": options["label"].strip(), "roadmap_label": options["roadmap_label"].strip()}
    if not all(labels.values()) or len({label.casefold() for label in labels.values()}) < 2:
        raise CommandError("--label and --roadmap-label: two different, non-empty labels")
    source.options = labels
    source.base_url = options["api_url"].rstrip("/")
    source.environment = ""
    return list(dict.fromkeys(options["repositories"]))


def _secret_arguments(parser, secret, what, required):
    group = parser.add_mutually_exclusive_group(required=required)
    group.add_argument(f"--{secret}-env", help=f"Environment variable holding {what}.")
    group.add_argument(
        f"--{secret}-stdin", action="store_true", help=f"Read {what} from standard input."
    )


def _describe(source):
    interval = f"synced every {source.sync_interval_minutes} min"
    if source.kind == Source.Kind.SENTRY:
        return (
            f"{source.base_url}, organisation {source.organization}, projects "
            f"{', '.join(source.projects)}, environment {source.environment or '(all)'}, {interval}"
        )
    if source.kind == Source.Kind.GITHUB:
        return (
            f"issues labelled {source.options['label']!r} in {', '.join(source.projects)} "
            f"({source.base_url or 'api.github.com'}), {interval}"
        )
    if source.kind == Source.Kind.DJANGOQ and not (source.token_env or source.token):
        return f"this Vigie's own failed tasks, {interval}"
    return f"{source.base_url or 'no dashboard link'}, {interval}"

"""GitHub small requests: open issues carrying a label (default `vigie`) in some repositories.

Each issue is one item of kind "request". The vigie takes it (**Je prends**: assign their
GitHub login), finishes it (**Fait**: close with a comment) or finds it too big (**Trop gros**:
swap the label for `roadmap`, with a comment). Every write is read back from GitHub: it answers
success to an assignment it silently ignored (a login without access to the repository).

Configuration on the source: `scopes` holds the repositories ("owner/name"), `options` the
labels (`label`, `roadmap_label`), `base_url` a GitHub Enterprise API root, and the token comes
from the variable named by `secret_env` (else the stored token, else `VIGIE_GITHUB_TOKEN`).
"""

import hashlib
import re
from collections import defaultdict

import structlog
from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop

from triage import github
from triage.sources.base import (
    ItemData,
    SourceBackend,
    SourceError,
    UpstreamState,
    scopes_of,
    secret_of,
)

logger = structlog.get_logger(__name__)

DEFAULT_LABEL = "vigie"
DEFAULT_ROADMAP_LABEL = "roadmap"
REPOSITORY = re.compile(r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$")
BODY_EXCERPT = 2000  # characters of the request's text kept for the board and the handover
# The detail panel: the whole body, and the first comments (two pages of GitHub's 100).
DETAIL_BODY = 65_536  # GitHub's own limit on an issue's body
DETAIL_COMMENTS = 200

# Upstream statuses: waiting for the vigie, closed, handed to the roadmap, label taken off.
OPEN, CLOSED, ROADMAP, UNLABELLED = "open", "closed", "roadmap", "unlabelled"


def _source_error(exc):
    return SourceError(
        str(exc), permanent=exc.permanent, auth=exc.auth, retry_after=exc.retry_after
    )


class GitHubRequestsBackend(SourceBackend):
    label = "GitHub"
    fields = ("base_url", "scopes", "secret_env", "secret")
    secret_required = False  # Vigie's own token (VIGIE_GITHUB_TOKEN) otherwise
    cli_help = "Small requests: open GitHub issues carrying a label."
    qualifications = ("take", "done", "too_big")
    can_comment = True
    can_detail = True
    open_label = _("Open on GitHub")
    comment_label = _("Comment posted on the GitHub request")
    scopes_label = _("repositories")
    scopes_help = _("GitHub repositories (owner/name): one per line, or separated by commas.")

    @classmethod
    def default_secret(cls):
        return settings.VIGIE_GITHUB_TOKEN

    cli_flags = {
        "scopes": "--repo",
        "label": "--label",
        "roadmap_label": "--roadmap-label",
        "base_url": "--api-url",
    }

    @classmethod
    def add_arguments(cls, parser):
        parser.add_argument(
            "--repo",
            action="append",
            required=True,
            dest="repositories",
            help="owner/name; repeat for several.",
        )
        parser.add_argument(
            "--label", default=DEFAULT_LABEL, help="Label of the vigie's requests (default: vigie)."
        )
        parser.add_argument(
            "--roadmap-label",
            default=DEFAULT_ROADMAP_LABEL,
            help="Label that replaces it on a request too big for the vigie (default: roadmap).",
        )
        parser.add_argument(
            "--api-url", default="", help="GitHub Enterprise API root (default: api.github.com)."
        )

    @classmethod
    def configure(cls, source, options):
        source.options = {
            "label": options["label"].strip(),
            "roadmap_label": options["roadmap_label"].strip(),
        }
        source.base_url = options["api_url"].rstrip("/")
        source.environment = ""
        source.scopes = list(dict.fromkeys(options["repositories"]))

    @classmethod
    def option_fields(cls):
        return {
            "label": forms.CharField(
                label=_("label of the vigie's requests"), initial=DEFAULT_LABEL, max_length=50
            ),
            "roadmap_label": forms.CharField(
                label=_("roadmap label"),
                initial=DEFAULT_ROADMAP_LABEL,
                max_length=50,
                help_text=_("It replaces the vigie's label on a request too big for the vigie."),
            ),
        }

    @classmethod
    def configuration_errors(cls, source):
        scopes = scopes_of(source)
        options = source.options if isinstance(source.options, dict) else {}
        label, roadmap = (str(options.get(name) or "").strip() for name in cls.option_fields())
        return {
            "scopes": not (scopes and all(REPOSITORY.match(repo) for repo in scopes))
            and _("GitHub repositories, as owner/name."),
            "label": not label and _("A GitHub label, e.g. vigie."),
            "roadmap_label": (not roadmap and _("A GitHub label, e.g. roadmap."))
            or (
                label.casefold() == roadmap.casefold()
                and _("Two different labels: the roadmap's replaces the vigie's.")
            ),
        }

    @classmethod
    def describe(cls, source):
        return (
            f"issues labelled {source.options['label']!r} in {', '.join(source.scopes)} "
            f"({source.base_url or 'api.github.com'})"
        )

    def __init__(self, source):
        super().__init__(source)
        options = source.options or {}
        self.label = str(options.get("label") or DEFAULT_LABEL)
        self.roadmap_label = str(options.get("roadmap_label") or DEFAULT_ROADMAP_LABEL)
        self._client = None

    # Plumbing -----------------------------------------------------------------------------

    @property
    def client(self):
        if self._client is None:
            # Without a token of its own the source uses Vigie's (VIGIE_GITHUB_TOKEN).
            token = secret_of(self.source, gettext_noop("GitHub token"), required=False)
            try:
                self._client = github.Client(
                    token=token or None, api_url=self.source.base_url or None
                )
            except github.GitHubError as exc:
                raise _source_error(exc) from None
        return self._client

    def _github(self, fn, *args, **kwargs):
        """Call the client; its errors become SourceErrors, its counters the SyncRun's."""
        try:
            return fn(*args, **kwargs)
        except github.GitHubError as exc:
            raise _source_error(exc) from None
        finally:
            self.requests, self.skipped = self.client.requests, self.client.skipped

    def repositories(self):
        repositories = [str(repo).strip() for repo in self.source.scopes or []]
        if not repositories:
            raise SourceError("no repository configured (owner/name)", permanent=True)
        for repo in repositories:
            if not REPOSITORY.match(repo):
                raise SourceError(f"not a repository (owner/name): {repo[:100]!r}", permanent=True)
        return repositories

    @staticmethod
    def locate(item):
        """(repository, number) of a request item, from its external id "owner/name#12"."""
        repo, _, number = item.external_id.rpartition("#")
        if not REPOSITORY.match(repo) or not number.isdigit():
            raise SourceError(f"not a GitHub issue id: {item.external_id[:100]!r}", permanent=True)
        return repo, int(number)

    def status_of(self, issue):
        if issue.state == "closed":
            return CLOSED
        if issue.has_label(self.label):
            return OPEN
        if issue.has_label(self.roadmap_label):
            return ROADMAP
        return UNLABELLED

    # Mirror side --------------------------------------------------------------------------

    def fetch(self, *, since=None):
        for repo in self.repositories():
            issues = self._github(self.client.labelled_issues, repo, self.label, since=since)
            while (issue := self._github(next, issues, None)) is not None:
                # GitHub lists pull requests with the issues; a labelled pull request is code
                # under review, not a request waiting for the vigie.
                if not issue.is_pull_request:
                    yield self._item(issue)

    def _item(self, issue):
        return ItemData(
            external_id=f"{issue.repo}#{issue.number}",
            kind="request",
            title=issue.title,
            origin=issue.repo,
            upstream_status=self.status_of(issue),
            first_seen=issue.created_at,
            last_seen=issue.updated_at,
            tally=issue.comments,
            permalink=issue.html_url,
            short_id=f"{issue.repo.partition('/')[2]}#{issue.number}",
            assignee=", ".join(issue.assignees)[:200],
            payload={
                "repo": issue.repo,
                "number": issue.number,
                "author": issue.author,
                "labels": issue.labels,
                "assignees": issue.assignees,
                "body": issue.body[:BODY_EXCERPT],
            },
        )

    def detail(self, item):
        """The request as GitHub has it now: its body (Markdown), labels, and comments with
        their author and date. Two requests, or more for a long discussion."""
        repo, number = self.locate(item)
        issue = self._github(self.client.issue, repo, number)
        comments = self._github(self.client.comments, repo, number, limit=DETAIL_COMMENTS)
        return {
            "body": issue.body[:DETAIL_BODY],
            "author": issue.author,
            "labels": issue.labels,
            "comments": [
                {
                    "author": comment.author,
                    "body": comment.body[:DETAIL_BODY],
                    "created_at": comment.created_at.isoformat() if comment.created_at else "",
                    "url": comment.html_url,
                }
                for comment in comments
            ],
            "first_seen": issue.created_at.isoformat() if issue.created_at else "",
            "last_seen": issue.updated_at.isoformat() if issue.updated_at else "",
        }

    def reconcile(self, external_ids):
        """Requests no longer in the labelled open list: closed, moved to the roadmap, or their
        label taken off. One listing per repository, then one read per request that left it;
        a request GitHub no longer shows (deleted, transferred) is left as it is."""
        wanted = defaultdict(set)
        for external_id in external_ids:
            repo, _, number = external_id.rpartition("#")
            if REPOSITORY.match(repo) and number.isdigit():
                wanted[repo].add(int(number))
        statuses = {}
        for repo, numbers in wanted.items():
            listing = self.client.labelled_issues(repo, self.label)
            listed = self._github(list, listing)
            open_numbers = {issue.number for issue in listed}
            for number in sorted(numbers):
                if number in open_numbers:
                    statuses[f"{repo}#{number}"] = OPEN
                    continue
                try:
                    issue = self._github(self.client.issue, repo, number)
                except SourceError as exc:
                    if not exc.permanent or exc.auth:
                        raise
                    logger.info("github_request_gone", repo=repo, number=number, error=str(exc))
                    continue
                statuses[f"{repo}#{number}"] = self.status_of(issue)
        return statuses

    # Write side ---------------------------------------------------------------------------

    def _confirmed(self, repo, number, check, refusal):
        """Read the issue back; raise `refusal` unless `check(issue)` holds."""
        issue = self._github(self.client.issue, repo, number)
        if not check(issue):
            raise SourceError(refusal, permanent=True)
        return UpstreamState(
            status=self.status_of(issue),
            details={
                "assignees": issue.assignees,
                "labels": issue.labels,
                "state_reason": issue.state_reason,
            },
            raw={"number": issue.number, "state": issue.state, "html_url": issue.html_url},
        )

    def _comment_once(self, repo, number, body, marker, retrying):
        """Post `body` (which holds `marker`) unless an earlier attempt already did."""
        if retrying and self._github(self.client.has_comment, repo, number, marker):
            return
        self._github(self.client.comment, repo, number, body)

    def comment(self, item, text, *, retrying=False):
        repo, number = self.locate(item)
        digest = hashlib.sha256(text.encode()).hexdigest()[:16]
        marker = f"<!-- vigie:comment:{digest} -->"
        self._comment_once(repo, number, f"{text}\n\n{marker}", marker, retrying)
        return {"marker": marker}

    def take(self, item, login, *, replacing=()):
        """Assign `login`; taking over from `replacing` (the vigie confirmed) unassigns them."""
        repo, number = self.locate(item)
        self._github(self.client.assign, repo, number, login)
        for previous in replacing:
            self._github(self.client.unassign, repo, number, previous)
        gone = {p.casefold() for p in replacing}
        return self._confirmed(
            repo,
            number,
            lambda issue: (
                login.casefold() in (a.casefold() for a in issue.assignees)
                and not gone & {a.casefold() for a in issue.assignees}
            ),
            f"GitHub did not assign @{login} to {repo}#{number}: it silently ignores a login "
            "that cannot be assigned (no access to the repository, or a typo on the profile)",
        )

    def finish(self, item, comment, *, marker, retrying):
        repo, number = self.locate(item)
        self._comment_once(repo, number, comment, marker, retrying)
        self._github(self.client.set_state, repo, number, "closed", "completed")
        return self._confirmed(
            repo, number, lambda i: i.state == "closed", f"{repo}#{number} is still open"
        )

    def hand_to_roadmap(self, item, comment, *, marker, retrying):
        repo, number = self.locate(item)
        self._comment_once(repo, number, comment, marker, retrying)
        self._github(self.client.relabel, repo, number, add=self.roadmap_label, remove=self.label)
        return self._confirmed(
            repo,
            number,
            lambda i: i.has_label(self.roadmap_label) and not i.has_label(self.label),
            f"{repo}#{number} did not get the label {self.roadmap_label!r} in place of "
            f"{self.label!r}",
        )

    def revert(self, item, action, params):
        """Take back a take / done / too big: unassign, reopen, or put the label back."""
        repo, number = self.locate(item)
        if action == "take":
            # Unassign the vigie and give the request back to whoever had it before.
            login = params.get("assignee", "")
            previous = params.get("previous", [])
            self._github(self.client.unassign, repo, number, login)
            for earlier in previous:
                self._github(self.client.assign, repo, number, earlier)
            wanted = {p.casefold() for p in previous}
            return self._confirmed(
                repo,
                number,
                lambda i: (
                    login.casefold() not in (a.casefold() for a in i.assignees)
                    and wanted <= {a.casefold() for a in i.assignees}
                ),
                f"@{login} is still assigned to {repo}#{number}, or its earlier assignees "
                "are not back",
            )
        if action == "done":
            self._github(self.client.set_state, repo, number, "open", "reopened")
            return self._confirmed(
                repo, number, lambda i: i.state == "open", f"{repo}#{number} is still closed"
            )
        if action == "too_big":
            self._github(
                self.client.relabel, repo, number, add=self.label, remove=self.roadmap_label
            )
            return self._confirmed(
                repo,
                number,
                lambda i: i.has_label(self.label),
                f"{repo}#{number} did not get the label {self.label!r} back",
            )
        raise SourceError(f"cannot undo {action!r} on a GitHub request", permanent=True)

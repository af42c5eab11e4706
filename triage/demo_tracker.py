"""The demo's issue tracker: where **Bug** and **Lier** go for the demo source, in place of
GitHub. The same three calls as `triage.github` (open, find by marker, read), written to the
DemoIssue table and shown at /demo/issues, so nothing leaves Vigie and the newcomer sees the
body GitHub would have received. Its issues are linked by path (DemoIssue.get_absolute_url), the
board's `issue_url` filter lets such a path through."""

from django.utils.translation import gettext_noop

from triage.github import Issue
from triage.models import DemoIssue
from triage.sources.base import SourceError


def open_issue(repo, title, body, labels=()):
    return DemoIssue.objects.create(repo=repo, title=title[:300], body=body).get_absolute_url()


def find_issue_by_marker(repo, marker):
    found = DemoIssue.objects.filter(repo=repo, body__contains=marker).order_by("pk").first()
    return found.get_absolute_url() if found else None


def read_issue(repo, number):
    found = DemoIssue.objects.filter(repo=repo, pk=number).first()
    if found is None:
        raise SourceError(
            gettext_noop("the demo tracker has no issue #%(number)s."),
            params={"number": number},
            permanent=True,
        )
    return Issue(
        repo=repo,
        number=found.pk,
        title=found.title,
        state="open",
        html_url=found.get_absolute_url(),
    )

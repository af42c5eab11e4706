"""The board's actions, one registry: what each is called, which items offer it, how its
parameters are cleaned, how it is written upstream and how it is taken back.

`triage.qualify` runs them (claim, Action row, failure); the board, the handover and the
undo rule read this registry rather than lists of their own. A backend says which of them it
can write (`SourceBackend.qualifications`, or a capability such as `can_requeue`).
"""

import math
from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop, pgettext_lazy

from rotation.models import Profile, display_name
from triage import github
from triage.issue_report import issue_body, issue_title
from triage.models import MAX_MEMORY_WINDOW, Item, window_label
from triage.sources import backend_for
from triage.sources.base import SourceError
from vigie.validators import BAD_CHARACTERS_MESSAGE, has_bad_characters

MAX_COMMENT = 2000  # characters of a free comment on a request
DEFAULT_IGNORE_COUNT = 10
DEFAULT_IGNORE_WINDOW = 10080  # minutes: a week
# The windows the board offers for Attendu (minutes), besides the team's default.
EXPECTED_WINDOWS = (60, 1440, 10080, MAX_MEMORY_WINDOW)


class QualifyError(Exception):
    """A request refused before anything is written, worded for the vigie."""


class NeedsConfirmation(QualifyError):
    """**Je prends** on a request someone else holds: asked again with `confirm` set."""


def _no_params(item, user, params):
    return {}


@dataclass(frozen=True)
class BoardAction:
    name: str
    label: Any  # lazy text: the button's label
    # (item, params, Action row) -> (what the Action keeps of the answer, Item fields, message)
    write: Any
    kinds: tuple = ()  # item kinds the board offers it on (none: offered another way)
    qualification: str | None = None  # what it sets on the item; None: not a qualification
    clean: Any = _no_params  # (item, user, raw params) -> the params written and logged
    undo: Any = None  # (item, params of the undo) -> like `write`, for a confirmed one
    needs: str = ""  # the backend capability it needs; else listed in backend.qualifications
    on_row: bool = True  # a button of its own on the board's rows (else on the detail only)
    bulk: bool = False  # also in the bulk bar above the list, applied to each selected row

    def offered_by(self, backend, kind):
        if kind not in self.kinds:
            return False
        if self.needs:
            return bool(getattr(backend, self.needs))
        return self.name in backend.qualifications


# Parameter cleaning ------------------------------------------------------------------------


def _expected_params(item, user, params):
    """The vigie's "Attendu" threshold: the team's default, or what the vigie picked, over any
    window up to MAX_MEMORY_WINDOW (a month). The upstream gets what it can hold
    (upstream_threshold); Vigie's memory counts the rest."""
    team = item.source.team
    count, window = params.get("ignoreCount"), params.get("ignoreWindow")
    count = team.expected_ignore_count if team and count in (None, "") else count
    window = team.expected_ignore_window if team and window in (None, "") else window
    try:
        count = int(count or DEFAULT_IGNORE_COUNT)
        window = int(window or DEFAULT_IGNORE_WINDOW)
    except (TypeError, ValueError):
        raise QualifyError(_("The threshold must be whole numbers.")) from None
    if count < 1 or window < 1:
        raise QualifyError(_("The threshold must be at least one occurrence in one minute."))
    if window > MAX_MEMORY_WINDOW:
        raise QualifyError(
            _("Vigie counts over at most %(max)s: pick a shorter window.")
            % {"max": window_label(MAX_MEMORY_WINDOW)}
        )
    return {"ignoreCount": count, "ignoreWindow": window}


def window_choices():
    """(minutes, label) the threshold's window suggests (the team's default is its value)."""
    return [(minutes, window_label(minutes)) for minutes in EXPECTED_WINDOWS]


def upstream_threshold(backend, count, window):
    """The statusDetails an upstream is given for the vigie's `count` in `window` minutes.

    Within the upstream's longest window (Sentry: 7 days), the same. Beyond it, the longest
    window, with the count divided by the number of such windows the vigie's covers, rounded
    up: 40 in 30 days is 8 in 7 days, since 5 weeks cover 30 days and 40 events in them put at
    least 8 in one week. So the upstream reopens the issue no later than the vigie's threshold
    is reached, often sooner: the sync then counts over the vigie's window and re-applies the
    ignore while under it (triage.memory). Never later, as the same count over a week would be:
    39 a week stays under 40 a week for ever, 160 in 30 days."""
    longest = backend.max_ignore_window
    if longest is None or window <= longest:
        return {"ignoreCount": count, "ignoreWindow": window}
    weeks = math.ceil(window / longest)
    return {"ignoreCount": math.ceil(count / weeks), "ignoreWindow": longest}


def _temporary_params(item, user, params):
    return {"ignoreCount": 1}


def github_login(user):
    """The GitHub login on `user`'s profile."""
    login = Profile.of(user).github_login
    if not login:
        raise QualifyError(
            _(
                "Add your GitHub login to your profile first (My watches, then My profile): "
                "it is who GitHub assigns."
            )
        )
    return login


def _take_params(item, user, params):
    """Who takes the request and whom they take it from (undo gives it back to them). A
    request assigned to someone else is only taken over once the vigie confirmed."""
    login = github_login(user)
    previous = [
        who
        for who in (part.strip() for part in item.assignee.split(","))
        if who and who.casefold() != login.casefold()
    ]
    # A retry replays a take that was confirmed: its parameters already name the previous.
    confirmed = params.get("confirm") or "previous" in params
    if previous and not confirmed:
        raise NeedsConfirmation(
            _("Already assigned to %(who)s: take it over? They will be unassigned.")
            % {"who": ", ".join(f"@{who}" for who in previous)}
        )
    return {"assignee": login, "previous": previous}


def free_comment(text):
    text = (text or "").strip()
    if has_bad_characters(text):
        raise QualifyError(str(BAD_CHARACTERS_MESSAGE))
    if len(text) > MAX_COMMENT:
        raise QualifyError(
            _("The comment is too long (%(length)s characters, at most %(max)s).")
            % {"length": len(text), "max": MAX_COMMENT}
        )
    return text


def _comment_params(item, user, params):
    return {"comment": free_comment(params.get("comment"))}


def _free_comment_params(item, user, params):
    text = free_comment(params.get("comment"))
    if not text:
        raise QualifyError(_("Write the comment first."))
    return {"comment": text}


def _link_params(item, user, params):
    found = github.parse_issue_reference(params.get("link"), item.source.github_repository)
    if found is None:
        wanted = _on_github(
            item,
            _("Give the GitHub issue's URL, or its number in %(repo)s."),
            _("Give the demo issue's number (its page in the demo tracker)."),
        )
        raise QualifyError(wanted % {"repo": item.source.github_repository or "owner/name"})
    repo, number = found
    return {"repo": repo, "number": number}


def _assign_params(item, user, params):
    account = Profile.of(user).sentry_account
    if not account:
        raise QualifyError(
            _on_github(
                item,
                _(
                    "Add your Sentry account to your profile first (My watches, then My "
                    "profile): it is who Sentry assigns."
                ),
                _(
                    "Add your Sentry account to your profile first (My watches, then My "
                    "profile): the demo assigns it as Sentry would."
                ),
            )
        )
    return {"account": account}


# Writing upstream -------------------------------------------------------------------------


def _confirmed(state):
    """What the Action row keeps of the state the upstream confirmed."""
    return {"status": state.status, "details": state.details, "raw": state.raw}


def _set_status(item, status, details, qualification):
    state = backend_for(item.source).set_status(item, status, details)
    if state.status != status:
        # Sentry's bulk update answers 200 even when it changed nothing: trust the read-back.
        raise SourceError(
            gettext_noop("%(source)s did not apply it: the issue is still %(status)s."),
            params={"source": item.source.name, "status": state.status or "?"},
        )
    fields = {
        "upstream_status": state.status,
        "qualification": qualification,
        "qualification_params": state.details if qualification else {},
    }
    return _confirmed(state), fields


def _write_temporary(item, params, record):
    response, fields = _set_status(item, "ignored", params, Item.Qualification.TEMPORARY)
    return response, fields, _("Ignored until the next occurrence.")


def _write_expected(item, params, record):
    upstream = upstream_threshold(
        backend_for(item.source), params["ignoreCount"], params["ignoreWindow"]
    )
    response, fields = _set_status(item, "ignored", upstream, Item.Qualification.EXPECTED)
    message = _("Ignored while under %(count)s occurrences in %(window)s.") % {
        "count": params["ignoreCount"],
        "window": window_label(params["ignoreWindow"]),
    }
    if upstream["ignoreWindow"] != params["ignoreWindow"]:
        message += " " + _(
            "%(source)s holds at most %(longest)s: it reopens at %(count)s in %(longest)s, "
            "and Vigie counts the rest and ignores it again while under the threshold."
        ) % {
            "source": item.source.name,
            "longest": window_label(upstream["ignoreWindow"]),
            "count": upstream["ignoreCount"],
        }
    if item.not_found_in_job:
        message += " " + str(Item.NOT_FOUND_IN_JOB_WARNING)
    return response, fields, message


def _write_resolved(item, params, record):
    response, fields = _set_status(item, "resolved", None, Item.Qualification.RESOLVED)
    return response, fields, _("Resolved.")


def _on_github(item, real, demo):
    """The message of a write that went to GitHub, or its twin for a demo source, which wrote
    nowhere (qualify_item adds "(demo)" to it)."""
    return demo if backend_for(item.source).demo else real


def _reopen(item, params):
    """Undo of a status qualification: the issue unresolved and unqualified again."""
    response, fields = _set_status(item, "unresolved", None, Item.Qualification.UNQUALIFIED)
    message = _("Back to unresolved and unqualified.")
    if item.github_issue_url:
        message += " " + _on_github(
            item,
            _("The GitHub issue stays open: close it on GitHub if needed."),
            _("The demo issue stays open."),
        )
    return response, fields, message


def _write_bug(item, params, record):
    repo = item.source.github_repository
    if not repo:
        raise SourceError(
            gettext_noop("the source %(source)s has no GitHub repository for bugs."),
            params={"source": item.source.name},
            permanent=True,
        )
    url = item.github_issue_url
    backend = backend_for(item.source)
    if not url:
        marker = github.marker_for(item)
        tracker = backend.issue_tracker
        # An earlier attempt may have opened the issue and lost the answer: look before opening.
        if item.actions.filter(action="bug").exclude(pk=record.pk).exists():
            url = tracker.find_issue_by_marker(repo, marker)
        if not url:
            report = backend.bug_report(item)
            url = tracker.open_issue(repo, issue_title(item), issue_body(item, report, marker))
        # Saved at once: if the comment below fails, the retry reuses this issue.
        Item.objects.filter(pk=item.pk).update(github_issue_url=url)
        item.github_issue_url = url
    # A retry after a lost answer may find the link already commented: never post it twice.
    answer = backend.comment(item, url, retrying=earlier_attempt(item, record))
    fields = {
        "qualification": Item.Qualification.BUG,
        "qualification_params": {},
        "github_issue_url": url,
    }
    message = _on_github(item, _("GitHub issue opened."), _("Issue opened in the demo tracker."))
    return {"github_issue_url": url, "comment": answer}, fields, message


def _write_link(item, params, record):
    issue = backend_for(item.source).issue_tracker.read_issue(params["repo"], params["number"])
    if issue.is_pull_request:
        raise SourceError(
            gettext_noop("%(repo)s#%(number)s is a pull request, not an issue."),
            params={"repo": params["repo"], "number": params["number"]},
            permanent=True,
        )
    Item.objects.filter(pk=item.pk).update(github_issue_url=issue.html_url)
    item.github_issue_url = issue.html_url
    retrying = earlier_attempt(item, record, repo=params["repo"], number=params["number"])
    answer = backend_for(item.source).comment(item, issue.html_url, retrying=retrying)
    fields = {
        "qualification": Item.Qualification.BUG,
        "qualification_params": {},
        "github_issue_url": issue.html_url,
    }
    message = _on_github(
        item,
        _("Linked to the GitHub issue %(repo)s#%(number)s."),
        _("Linked to the demo issue %(repo)s#%(number)s."),
    ) % {"repo": params["repo"], "number": params["number"]}
    return {"github_issue_url": issue.html_url, "comment": answer}, fields, message


def earlier_attempt(item, record, **params):
    """Whether an attempt of `record`'s action (with these params) since the last confirmed
    one is unconfirmed: it may have reached the upstream and lost the answer."""
    same = item.actions.filter(action=record.action).exclude(pk=record.pk)
    same = same.filter(**{f"params__{key}": value for key, value in params.items()})
    last = same.filter(upstream_ok=True).order_by("-pk").values_list("pk", flat=True).first()
    return same.exclude(upstream_ok=True).filter(pk__gt=last or 0).exists()


def _write_comment(item, params, record):
    who = display_name(record.user) if record.user else "Vigie"
    text = f"{params['comment']}\n\n— {who} (Vigie)"
    retrying = earlier_attempt(item, record, comment=params["comment"])
    answer = backend_for(item.source).comment(item, text, retrying=retrying)
    return {"comment": answer}, {}, _("Comment posted.")


def _write_assign(item, params, record):
    state = backend_for(item.source).assign(item, params["account"])
    assignee = state.details.get("assignee", "")
    if not assignee:
        # Read back rather than trusted: an account the upstream does not know assigns nobody.
        raise SourceError(
            gettext_noop("%(source)s did not assign it to %(account)s."),
            params={"source": item.source.name, "account": params["account"]},
            permanent=True,
        )
    message = _("Assigned to %(who)s.") % {"who": assignee}
    return _confirmed(state), {"assignee": assignee[:200]}, message


def _request_outcome(state, qualification, qualification_params, message):
    fields = {
        "upstream_status": state.status,
        "assignee": ", ".join(state.details.get("assignees", []))[:200],
        "qualification": qualification,
        "qualification_params": qualification_params,
    }
    return _confirmed(state), fields, message


def _write_take(item, params, record):
    state = backend_for(item.source).take(
        item, params["assignee"], replacing=params.get("previous", ())
    )
    message = _on_github(
        item, _("Assigned to @%(login)s on GitHub."), _("Assigned to @%(login)s.")
    ) % {"login": params["assignee"]}
    return _request_outcome(state, Item.Qualification.TAKEN, params, message)


def _request_comment(item, action, params, record, default):
    """The GitHub comment of a Fait / Trop gros: the vigie's words, or `default`, signed, with a
    hidden marker so that a retry after a lost answer does not post it twice."""
    succeeded = item.actions.filter(upstream_ok=True)
    last = succeeded.order_by("-pk").values_list("pk", flat=True).first() or 0
    retrying = (
        item.actions.filter(action=action, upstream_ok=False, pk__gt=last)
        .exclude(pk=record.pk)
        .exists()
    )
    marker = f"<!-- vigie:{action}:{item.source.name}:{item.external_id}:{succeeded.count()} -->"
    who = display_name(record.user) if record.user else "Vigie"
    body = f"{params.get('comment') or default}\n\n— {who} (Vigie)\n{marker}"
    return {"marker": marker, "retrying": retrying}, body


def _write_done(item, params, record):
    options, body = _request_comment(item, "done", params, record, _("Done during the watch."))
    state = backend_for(item.source).finish(item, body, **options)
    message = _on_github(item, _("Closed on GitHub."), _("Closed."))
    return _request_outcome(state, Item.Qualification.DONE, params, message)


def _write_too_big(item, params, record):
    default = _("Too big for the watch (more than a day of work): moved to the roadmap.")
    options, body = _request_comment(item, "too_big", params, record, default)
    backend = backend_for(item.source)
    state = backend.hand_to_roadmap(item, body, **options)
    message = _on_github(
        item,
        _("Moved to the roadmap on GitHub (label %(label)s)."),
        _("Moved to the roadmap (label %(label)s)."),
    ) % {"label": backend.roadmap_label}
    return _request_outcome(state, Item.Qualification.TOO_BIG, params, message)


def _revert_request(item, params):
    state = backend_for(item.source).revert(item, params["undoes"], params)
    message = _on_github(item, _("Undone on GitHub."), _("Undone."))
    return _request_outcome(state, Item.Qualification.UNQUALIFIED, {}, message)


def _write_requeue(item, params, record):
    # Not a qualification: the item keeps its state, the Action log keeps the new task's id.
    answer = backend_for(item.source).requeue(item)
    return answer, {}, _("Task queued again.")


def _undo_params(item, user, params):
    undone = item.actions.latest_undoable()
    if undone is None or not item.qualification:
        raise QualifyError(_("Nothing to undo."))
    return {"undoes": undone.action, **undone.params}


def _write_undo(item, params, record):
    return ACTIONS[params["undoes"]].undo(item, params)


ISSUE_KINDS = (Item.Kind.ISSUE, Item.Kind.JOB)
REQUEST = (Item.Kind.REQUEST,)

# In the board's order; French labels are the ones the team uses (Temporaire, Bug…).
ACTIONS = {
    action.name: action
    for action in [
        BoardAction(
            "temporary",
            pgettext_lazy("qualify button", "Temporary"),
            _write_temporary,
            kinds=ISSUE_KINDS,
            qualification=Item.Qualification.TEMPORARY,
            clean=_temporary_params,
            undo=_reopen,
            bulk=True,
        ),
        BoardAction(
            "bug",
            pgettext_lazy("qualify button", "Bug"),
            _write_bug,
            kinds=ISSUE_KINDS,
            qualification=Item.Qualification.BUG,
            undo=_reopen,
            bulk=True,
        ),
        BoardAction(
            "expected",
            pgettext_lazy("qualify button", "Expected"),
            _write_expected,
            kinds=ISSUE_KINDS,
            qualification=Item.Qualification.EXPECTED,
            clean=_expected_params,
            undo=_reopen,
            bulk=True,
        ),
        BoardAction(
            "resolved",
            pgettext_lazy("qualify button", "Resolved"),
            _write_resolved,
            kinds=(Item.Kind.ISSUE,),
            qualification=Item.Qualification.RESOLVED,
            undo=_reopen,
            bulk=True,
        ),
        BoardAction(
            "take",
            pgettext_lazy("qualify button", "I'll take it"),
            _write_take,
            kinds=REQUEST,
            qualification=Item.Qualification.TAKEN,
            clean=_take_params,
            undo=_revert_request,
        ),
        BoardAction(
            "done",
            pgettext_lazy("qualify button", "Done"),
            _write_done,
            kinds=REQUEST,
            qualification=Item.Qualification.DONE,
            clean=_comment_params,
            undo=_revert_request,
        ),
        BoardAction(
            "too_big",
            pgettext_lazy("qualify button", "Too big"),
            _write_too_big,
            kinds=REQUEST,
            qualification=Item.Qualification.TOO_BIG,
            clean=_comment_params,
            undo=_revert_request,
        ),
        BoardAction(
            "requeue",
            pgettext_lazy("qualify button", "Requeue"),
            _write_requeue,
            kinds=(Item.Kind.JOB,),
            needs="can_requeue",
        ),
        BoardAction(
            "link",
            pgettext_lazy("qualify button", "Link"),
            _write_link,
            kinds=ISSUE_KINDS,
            qualification=Item.Qualification.BUG,
            clean=_link_params,
            undo=_reopen,
            needs="can_link",
            on_row=False,
        ),
        BoardAction(
            "assign",
            pgettext_lazy("qualify button", "Assign to me"),
            _write_assign,
            kinds=(Item.Kind.ISSUE,),
            clean=_assign_params,
            needs="can_assign",
        ),
        BoardAction(
            "comment",
            pgettext_lazy("qualify button", "Comment"),
            _write_comment,
            kinds=(Item.Kind.ISSUE, Item.Kind.JOB, Item.Kind.REQUEST),
            clean=_free_comment_params,
            needs="can_comment",
            on_row=False,
        ),
        BoardAction(
            "undo",
            pgettext_lazy("qualify button", "Undo"),
            _write_undo,
            clean=_undo_params,
        ),
    ]
}
# The actions that set a qualification (and so can be undone, and count in the handover).
QUALIFICATIONS = tuple(name for name, action in ACTIONS.items() if action.qualification)
# The bulk bar's buttons, in the board's order.
BULK_ACTIONS = tuple(name for name, action in ACTIONS.items() if action.bulk)
# The small requests' ones: the handover lists them one by one.
REQUEST_ACTIONS = tuple(name for name in QUALIFICATIONS if ACTIONS[name].kinds == REQUEST)

"""Qualifying an item: one click that spans the local row, the upstream and GitHub.

The rules: the local state only changes to what the upstream confirmed; every attempt is an
Action row (who, when, what, parameters, the upstream's answer); a write-back that fails leaves
the item marked "failed" with its error so the board offers a retry; and a double click, two
tabs or a retry after a timeout never opens a second GitHub issue.
"""

import re
from dataclasses import dataclass
from datetime import timedelta

from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext_lazy

from rotation.models import Membership, Profile, display_name
from triage import github
from triage.models import Action, Item
from triage.sources import backend_for
from triage.sources.base import KIND_QUALIFICATIONS, SourceError

QUALIFICATIONS = {
    "temporary": Item.Qualification.TEMPORARY,
    "bug": Item.Qualification.BUG,
    "expected": Item.Qualification.EXPECTED,
    "resolved": Item.Qualification.RESOLVED,
    "take": Item.Qualification.TAKEN,
    "done": Item.Qualification.DONE,
    "too_big": Item.Qualification.TOO_BIG,
}
# The small requests' actions: written back by the backend's own verbs, undone one by one.
REQUEST_ACTIONS = ("take", "done", "too_big")
ACTIONS = (*QUALIFICATIONS, "requeue", "undo", "retry")
MAX_COMMENT = 2000  # characters of a free comment on a request
# Sentry refuses an ignore window longer than a week.
MAX_IGNORE_WINDOW = 10080
# A claim older than this belongs to a request that died: its item may be written again.
STALE_CLAIM = timedelta(minutes=5)
TOP_FRAMES = 10


class QualifyError(Exception):
    """A request refused before anything is written, worded for the vigie."""


@dataclass
class Outcome:
    item: Item
    ok: bool
    message: str = ""


def qualifying_team_ids(user):
    """Teams whose sources `user` may qualify (None: every source, for superusers)."""
    if user.is_superuser:
        return None
    memberships = Membership.objects.filter(user=user).select_related("team")
    return {m.team_id for m in memberships if m.active}


def can_qualify(user, source, team_ids=None):
    if not user.is_authenticated:
        return False
    if user.is_superuser:
        return True
    if team_ids is None:
        team_ids = qualifying_team_ids(user)
    return source.team_id is not None and source.team_id in team_ids


def offered_actions(source, kind=Item.Kind.ISSUE):
    """The board's buttons for items of `kind` from `source`: what its backend can write back
    among what that kind of item takes, and undo."""
    try:
        backend = backend_for(source)
    except LookupError:
        return ()
    wanted = KIND_QUALIFICATIONS.get(kind, ())
    offered = [a for a in QUALIFICATIONS if a in backend.qualifications and a in wanted]
    if getattr(backend, "can_requeue", False):
        offered.append("requeue")
    return (*offered, "undo")


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


def free_comment(text):
    text = (text or "").strip()
    if len(text) > MAX_COMMENT:
        raise QualifyError(
            _("The comment is too long (%(length)s characters, at most %(max)s).")
            % {"length": len(text), "max": MAX_COMMENT}
        )
    return text


def expected_threshold(team, count=None, window=None):
    """The "Attendu" statusDetails: the team's default, or what the vigie picked."""
    count = team.expected_ignore_count if team and count in (None, "") else count
    window = team.expected_ignore_window if team and window in (None, "") else window
    try:
        count, window = int(count or 10), int(window or MAX_IGNORE_WINDOW)
    except (TypeError, ValueError):
        raise QualifyError(_("The threshold must be whole numbers.")) from None
    if count < 1 or window < 1:
        raise QualifyError(_("The threshold must be at least one occurrence in one minute."))
    if window > MAX_IGNORE_WINDOW:
        raise QualifyError(
            _(
                "Sentry cannot ignore over more than 7 days (10080 minutes): "
                "pick a window of at most 10080 minutes."
            )
        )
    return {"ignoreCount": count, "ignoreWindow": window}


def qualify_item(item, user, action, params=None, idempotency_key=""):
    """Apply one board action to `item` and write it back upstream. Returns an Outcome.

    Raises PermissionDenied for users outside the source's team, QualifyError for a request
    refused before any write (bad threshold, nothing to undo, a write already running).
    """
    if not can_qualify(user, item.source):
        raise PermissionDenied(_("Only members of the source's team can qualify its items."))
    if action not in ACTIONS:
        raise QualifyError(_("Unknown action."))
    offered = offered_actions(item.source, item.kind)
    if action in (*QUALIFICATIONS, "requeue") and action not in offered:
        raise QualifyError(_("This source does not offer that qualification."))
    params = params or {}
    # One key per rendering of the board; the item and the button make it one per click.
    key = f"{item.pk}:{action}:{idempotency_key}"[:100] if idempotency_key else None
    if key and (done := Action.objects.filter(idempotency_key=key).first()):
        # A replay of a click already handled (double click, resent request).
        item.refresh_from_db()
        if done.upstream_ok is None:
            return Outcome(item, False, _("This click is already being handled."))
        return Outcome(item, done.upstream_ok, _("Already done."))

    if action == "retry":
        failed = item.actions.filter(upstream_ok=False).order_by("-created_at", "-pk").first()
        if item.writeback_state != Item.Writeback.FAILED or failed is None:
            raise QualifyError(_("Nothing to retry."))
        action, params = failed.action, failed.params
    if action == "expected":
        params = expected_threshold(
            item.source.team, params.get("ignoreCount"), params.get("ignoreWindow")
        )
    elif action == "temporary":
        params = {"ignoreCount": 1}
    elif action == "take":
        params = {"assignee": github_login(user)}
    elif action in ("done", "too_big"):
        params = {"comment": free_comment(params.get("comment"))}
    else:
        params = {}
    undone = None
    if action == "undo":
        undone = (
            item.actions.filter(upstream_ok=True, undone=False, action__in=QUALIFICATIONS)
            .order_by("-created_at", "-pk")
            .first()
        )
        if undone is None or not item.qualification:
            raise QualifyError(_("Nothing to undo."))
        if undone.action in REQUEST_ACTIONS:
            params = {"undoes": undone.action, **undone.params}

    _claim(item)
    try:
        with transaction.atomic():
            record = Action.objects.create(
                item=item, user=user, action=action, params=params, idempotency_key=key
            )
    except IntegrityError:
        # The same click arrived twice at once: the other request does the work.
        _release(item)
        raise QualifyError(_("This click is already being handled.")) from None
    try:
        response, fields, message = _WRITERS[action](item, params, record)
    except (SourceError, github.GitHubError) as exc:
        return _failed(item, record, action, exc)
    except Exception as exc:
        # A bug or an unwrapped upstream error: the row says so and frees the item; the error
        # still reaches Vigie's own error reporting.
        _failed(item, record, action, SourceError(_("unexpected error (%s)") % type(exc).__name__))
        raise

    record.upstream_ok = True
    record.upstream_response = response
    record.save(update_fields=["upstream_ok", "upstream_response"])
    if undone is not None:
        Action.objects.filter(pk=undone.pk).update(undone=True)
    now = timezone.now()
    if "qualification" in fields:
        fields.update(
            qualified_by=user if fields["qualification"] else None,
            qualified_at=now if fields["qualification"] else None,
        )
    fields.update(
        writeback_state=Item.Writeback.NONE,
        writeback_error="",
        writeback_started_at=None,
        came_back=False,
    )
    for name, value in fields.items():
        setattr(item, name, value)
    item.save(update_fields=list(fields))
    return Outcome(item, True, message)


def _claim(item):
    """Take the item for one write-back, or refuse: another tab or click holds it."""
    now = timezone.now()
    free = ~Q(writeback_state=Item.Writeback.PENDING) | Q(
        writeback_started_at__lt=now - STALE_CLAIM
    )
    claimed = Item.objects.filter(free, pk=item.pk).update(
        writeback_state=Item.Writeback.PENDING, writeback_started_at=now
    )
    if claimed != 1:
        item.refresh_from_db()
        raise QualifyError(_("A write-back of this item is already running; wait for it."))


def _release(item):
    Item.objects.filter(pk=item.pk).update(
        writeback_state=item.writeback_state, writeback_started_at=None
    )


def _failed(item, record, action, exc):
    label = BUTTONS.get(action, action)
    message = _("%(action)s: the write-back failed: %(error)s") % {
        "action": label,
        "error": str(exc),
    }
    record.upstream_ok = False
    record.upstream_response = {
        "error": str(exc),
        "permanent": exc.permanent,
        "github_issue_url": item.github_issue_url,
    }
    record.save(update_fields=["upstream_ok", "upstream_response"])
    item.writeback_state = Item.Writeback.FAILED
    item.writeback_error = message
    item.writeback_started_at = None
    item.save(update_fields=["writeback_state", "writeback_error", "writeback_started_at"])
    return Outcome(item, False, message)


def _set_status(item, status, details, qualification):
    state = backend_for(item.source).set_status(item, status, details)
    if state.status != status:
        # Sentry's bulk update answers 200 even when it changed nothing: trust the read-back.
        raise SourceError(
            _("%(source)s did not apply it: the issue is still %(status)s.")
            % {"source": item.source, "status": state.status or "?"}
        )
    response = _confirmed(state)
    fields = {
        "upstream_status": state.status,
        "qualification": qualification,
        "qualification_params": state.details if qualification else {},
    }
    return response, fields


def _write_temporary(item, params, record):
    response, fields = _set_status(item, "ignored", params, Item.Qualification.TEMPORARY)
    return response, fields, _("Ignored until the next occurrence.")


def _write_expected(item, params, record):
    response, fields = _set_status(item, "ignored", params, Item.Qualification.EXPECTED)
    message = _("Ignored while under %(count)s occurrences in %(window)s minutes.") % {
        "count": params["ignoreCount"],
        "window": params["ignoreWindow"],
    }
    if item.not_found_in_job:
        message += " " + str(Item.NOT_FOUND_IN_JOB_WARNING)
    return response, fields, message


def _write_resolved(item, params, record):
    response, fields = _set_status(item, "resolved", None, Item.Qualification.RESOLVED)
    return response, fields, _("Resolved.")


def _write_undo(item, params, record):
    if params.get("undoes") in REQUEST_ACTIONS:
        state = backend_for(item.source).revert(item, params["undoes"], params)
        return _request_outcome(state, Item.Qualification.UNQUALIFIED, {}, _("Undone on GitHub."))
    response, fields = _set_status(item, "unresolved", None, Item.Qualification.UNQUALIFIED)
    message = _("Back to unresolved and unqualified.")
    if item.github_issue_url:
        message += " " + _("The GitHub issue stays open: close it on GitHub if needed.")
    return response, fields, message


def _write_bug(item, params, record):
    repo = item.source.github_repository
    if not repo:
        raise github.GitHubError(
            _("the source %(source)s has no GitHub repository for bugs.") % {"source": item.source},
            permanent=True,
        )
    url = item.github_issue_url
    if not url:
        marker = github.marker_for(item)
        earlier = item.actions.filter(action="bug").exclude(pk=record.pk).exists()
        # An earlier attempt may have opened the issue and lost the answer: look before opening.
        if earlier:
            url = github.find_issue_by_marker(repo, marker)
        if not url:
            report = backend_for(item.source).bug_report(item)
            url = github.open_issue(repo, issue_title(item), issue_body(item, report, marker))
        # Saved at once: if the comment below fails, the retry reuses this issue.
        Item.objects.filter(pk=item.pk).update(github_issue_url=url)
        item.github_issue_url = url
    answer = backend_for(item.source).comment(item, url)
    fields = {
        "qualification": Item.Qualification.BUG,
        "qualification_params": {},
        "github_issue_url": url,
    }
    return {"github_issue_url": url, "comment": answer}, fields, _("GitHub issue opened.")


def _confirmed(state):
    """What the Action row keeps of the state the upstream confirmed."""
    return {"status": state.status, "details": state.details, "raw": state.raw}


def _request_outcome(state, qualification, qualification_params, message):
    response = _confirmed(state)
    fields = {
        "upstream_status": state.status,
        "assignee": ", ".join(state.details.get("assignees", []))[:200],
        "qualification": qualification,
        "qualification_params": qualification_params,
    }
    return response, fields, message


def _write_take(item, params, record):
    state = backend_for(item.source).take(item, params["assignee"])
    message = _("Assigned to @%(login)s on GitHub.") % {"login": params["assignee"]}
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
    return _request_outcome(state, Item.Qualification.DONE, params, _("Closed on GitHub."))


def _write_too_big(item, params, record):
    default = _("Too big for the watch (more than a day of work): moved to the roadmap.")
    options, body = _request_comment(item, "too_big", params, record, default)
    backend = backend_for(item.source)
    state = backend.hand_to_roadmap(item, body, **options)
    message = _("Moved to the roadmap on GitHub (label %(label)s).") % {
        "label": backend.roadmap_label
    }
    return _request_outcome(state, Item.Qualification.TOO_BIG, params, message)


def _write_requeue(item, params, record):
    # Not a qualification: the item keeps its state, the Action log keeps the new task's id.
    answer = backend_for(item.source).requeue(item)
    return answer, {}, _("Task queued again.")


_WRITERS = {
    "requeue": _write_requeue,
    "temporary": _write_temporary,
    "expected": _write_expected,
    "resolved": _write_resolved,
    "undo": _write_undo,
    "bug": _write_bug,
    "take": _write_take,
    "done": _write_done,
    "too_big": _write_too_big,
}
# The board's buttons, in order; French labels are the ones the team uses (Temporaire, Bug…).
BUTTONS = {
    "temporary": pgettext_lazy("qualify button", "Temporary"),
    "bug": pgettext_lazy("qualify button", "Bug"),
    "expected": pgettext_lazy("qualify button", "Expected"),
    "resolved": pgettext_lazy("qualify button", "Resolved"),
    "take": pgettext_lazy("qualify button", "I'll take it"),
    "done": pgettext_lazy("qualify button", "Done"),
    "too_big": pgettext_lazy("qualify button", "Too big"),
    "requeue": pgettext_lazy("qualify button", "Requeue"),
    "undo": pgettext_lazy("qualify button", "Undo"),
}


# The GitHub issue. Titles, culprits, tags and frames come from the monitored application, so
# anyone who can make it fail writes them: they go into code spans and blocks, never raw Markdown.


def md_code(text):
    """`text` as one inline code span, whatever backticks or newlines it holds."""
    text = " ".join(str(text).split())
    if not text:
        return "—"
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def md_block(lines):
    text = "\n".join(lines)
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"{fence}text\n{text}\n{fence}"


def _frame_line(frame):
    if not isinstance(frame, dict):
        return str(frame)
    where = frame.get("filename") or frame.get("module") or frame.get("abs_path") or "?"
    line = f"{where}:{frame.get('lineno') or '?'} in {frame.get('function') or '?'}"
    if frame.get("context_line"):
        line += f"\n    {frame['context_line'].strip()}"
    return line


def _when(value):
    return value.strftime("%Y-%m-%d %H:%M UTC") if value else "—"


def issue_title(item):
    prefix = f"[{item.short_id}] " if item.short_id else ""
    return (prefix + " ".join(item.title.split()))[:250]


def issue_body(item, report, marker):
    link = item.permalink if re.fullmatch(r"https?://[^\s<>()]+", item.permalink or "") else ""
    name = item.short_id or item.external_id
    source = f"[{md_code(name)}](<{link}>)" if link else md_code(name)
    lines = [
        marker,
        f"Opened from Vigie for {source} ({md_code(item.source.name)}).",
        "",
        f"- **Title:** {md_code(item.title)}",
        f"- **Culprit:** {md_code(item.culprit)}",
        f"- **Events:** {item.event_count} · **Users:** {item.user_count}",
        f"- **First seen:** {_when(item.first_seen)} · **Last seen:** {_when(item.last_seen)}",
        f"- **Environment:** {md_code(item.environment)}",
        f"- **Release:** {md_code(report.get('release') or '')}",
    ]
    tags = report.get("tags") or {}
    if isinstance(tags, list):  # Sentry's [{"key": …, "value": …}] shape
        tags = {tag.get("key"): tag.get("value") for tag in tags if isinstance(tag, dict)}
    if tags:
        lines += ["", "### Tags", ""]
        lines += [f"- {md_code(key)}: {md_code(value)}" for key, value in sorted(tags.items())]
    frames = report.get("frames") or []
    if frames:
        lines += ["", "### Stack trace (top frames)", ""]
        lines.append(md_block([_frame_line(frame) for frame in frames[:TOP_FRAMES]]))
    return "\n".join(lines) + "\n"

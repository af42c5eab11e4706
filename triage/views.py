import secrets

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Case, Count, F, IntegerField, Q, Value, When
from django.http import HttpResponseForbidden
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import trigger_client_event

from rotation.context_processors import current_watch
from triage import charts, detail, qualify
from triage.actions import ACTIONS, BULK_ACTIONS, window_choices
from triage.models import DemoIssue, Item, ItemQuerySet, Source
from vigie import http
from vigie.markdown import safe_markdown

# Sentry's own page size: three screens at 1366x768, and the board stays under 80 KiB of HTML
# (bench/board.py) as its rows get richer.
PER_PAGE = 25
# The bulk bar acts on the rows of one page; more in one request is not the board asking.
MAX_BULK = PER_PAGE
# The client event a write answers with: the counts line refreshes itself right away.
BOARD_CHANGED = "board-changed"
ITEM_PLACEHOLDER = "__item_pk__"  # in the buttons rendered once per source, the row's pk
TAKE_OVER = "take_over"  # the confirm step's action: "take", confirmed
LEVELS = ("fatal", "error", "warning", "info", "debug")
# state filter -> (label, condition); "todo" is what the vigie must look at, the default.
UNQUALIFIED = ItemQuerySet.UNQUALIFIED
STATES = {
    "todo": (_("to qualify"), ItemQuerySet.TO_QUALIFY),
    "unqualified": (_("unqualified"), UNQUALIFIED),
    "came_back": (_("came back"), Q(came_back=True)),
    "failed": (_("write-back failed"), Q(writeback_state=Item.Writeback.FAILED)),
    "qualified": (_("qualified"), ~Q(qualification="")),
    "by_rule": (_("pre-qualified by a rule"), Q(rule__isnull=False)),
    "all": (_("all"), Q()),
}
# Unqualified first, then the ignored items that came back, then the rest.
BOARD_ORDER = (
    Case(
        When(qualification="", came_back=False, then=Value(0)),
        When(came_back=True, then=Value(1)),
        default=Value(2),
        output_field=IntegerField(),
    ),
    F("last_seen").desc(nulls_last=True),
    "-pk",
)


def _filters(query):
    return {
        "source": query.get("source", ""),
        "level": query.get("level", "") if query.get("level") in LEVELS else "",
        "kind": query.get("kind", "") if query.get("kind") in Item.Kind.values else "",
        "state": query.get("state") if query.get("state") in STATES else "todo",
    }


def _team_ids(request):
    """The user's teams, from the memberships the page already loaded (None: a superuser)."""
    if request.user.is_superuser:
        return None
    return {membership.team_id for membership in current_watch(request).memberships}


def _scoped(filters, user, team_ids):
    """Items of the chosen source and level, whatever their state (the counts use these), among
    what the user may see."""
    items = Item.objects.visible_to(user, team_ids)
    if filters["source"]:
        items = items.filter(source__name=filters["source"])
    if filters["level"]:
        items = items.filter(level=filters["level"])
    if filters["kind"]:
        items = items.filter(kind=filters["kind"])
    return items


def _board_context(request):
    filters = _filters(request.GET)
    user = request.user
    team_ids = _team_ids(request)
    scoped = _scoped(filters, user, team_ids)
    condition = STATES[filters["state"]][1]
    summary = scoped.aggregate(
        # First: the aliases below shadow the fields of the same name in later filters.
        shown=Count("pk", filter=condition) if condition else Count("pk"),
        unqualified=Count("pk", filter=UNQUALIFIED),
        came_back=Count("pk", filter=Q(came_back=True)),
        failed=Count("pk", filter=Q(writeback_state=Item.Writeback.FAILED)),
    )
    # The page is chosen on the ids alone (a narrow sort over every item shown), and only its
    # rows are read whole, with their source, team and undo flag: still one query, and the
    # EXISTS of the undo flag runs once per row of the page, not once per item shown.
    paginator = Paginator(scoped.filter(condition).order_by(*BOARD_ORDER).values("pk"), PER_PAGE)
    # The counts' query already knows the page count: no second COUNT over the items.
    paginator.count = summary.pop("shown")
    page = paginator.get_page(request.GET.get("page"))
    page.object_list = (
        Item.objects.filter(pk__in=page.object_list)
        .select_related("source", "source__team", "rule")
        .with_undoable()
        # The raw upstream answer (big) and the source's token (a decryption per row): the
        # board shows neither.
        .defer("payload", "source__secret")
        .order_by(*BOARD_ORDER)
    )
    _prepare_rows(page, user, team_ids)
    # The bulk bar offers what at least one row of the page offers.
    bulk = {name for item in page for name in item.bulk_offered}
    sources = list(Source.objects.visible_to(user, team_ids).filter(enabled=True))
    return {
        "page": page,
        "filters": filters,
        "summary": summary,
        "sources": sources,
        "failing_sources": [
            s for s in sources if s.state in (Source.State.ERROR, Source.State.AUTH_ERROR)
        ],
        "levels": LEVELS,
        "kinds": Item.Kind.choices,
        "states": [(key, label) for key, (label, _condition) in STATES.items()],
        "key": secrets.token_urlsafe(16),
        "bulk_actions": [(name, str(ACTIONS[name].label)) for name in BULK_ACTIONS if name in bulk],
        "bulk_key": secrets.token_urlsafe(16),
        "expected_windows": window_choices(),
    }


def _prepare_rows(items, user, team_ids):
    """Who may qualify each row, and its buttons, rendered once per source and kind of item
    (they only depend on the source's backend and team) rather than once per row."""
    # Undo is per row (Item.can_be_undone), the other buttons per source and kind.
    buttons = [
        (name, str(action.label))
        for name, action in ACTIONS.items()
        if name != "undo" and action.on_row
    ]
    rendered = {}
    for item in items:
        # A deleted item keeps its history, but takes no action any more: it would fail.
        item.can_qualify = not item.is_gone and qualify.can_qualify(user, item.source, team_ids)
        key = (item.source_id, item.kind)
        if key not in rendered:
            offered = qualify.offered_actions(item.source, item.kind)
            html = render_to_string(
                "triage/board.html#actions",
                {
                    "buttons": buttons,
                    "offered": offered,
                    "team": item.source.team,
                    "request_comment_label": item.source.backend.request_comment_label,
                    "item_pk": ITEM_PLACEHOLDER,
                },
            )
            rendered[key] = html, tuple(name for name in BULK_ACTIONS if name in offered)
        html, bulk = rendered[key]
        # The bulk bar's actions this row takes: it gets a checkbox when there are some.
        item.bulk_offered = bulk if item.can_qualify else ()
        # The buttons name their row's item for screen readers (aria-describedby).
        item.actions_html = mark_safe(html.replace(ITEM_PLACEHOLDER, str(item.pk)))  # noqa: S308 (our own rendered template; the pk is an integer)


@require_GET
def board(request):
    context = _board_context(request)
    if request.htmx and request.htmx.target == "board":
        return render(request, "triage/board.html#board", context)
    return render(request, "triage/board.html", context)


def _shown(request):
    """The rows the board on screen shows (board.js sends their ids): only those get updates
    out of band, since htmx reports an error for each update whose row is not on the page."""
    values = request.GET.get("shown") or request.POST.get("shown") or ""
    return {int(v) for v in values.split(",") if v.isdigit()}


@require_GET
def board_counts(request):
    """The polled fragment: totals, failing sources, and each visible row's figures in place."""
    context = _board_context(request)
    shown = _shown(request)
    context["polled"] = [item for item in context["page"] if item.pk in shown]
    return render(request, "triage/board.html#poll", context)


def _detail_context(request, item, team_ids):
    loaded = detail.load(item)
    facts = loaded.facts
    return {
        "item": item,
        "detail": loaded,
        "facts": facts,
        "first_seen": detail.moment(facts.get("first_seen")) or item.first_seen,
        "last_seen": detail.moment(facts.get("last_seen")) or item.last_seen,
        "charts": charts.charts_for(item, facts),
        "actions": item.actions.select_related("user").order_by("-created_at", "-pk")[:50],
        "can_qualify": not item.is_gone
        and qualify.can_qualify(request.user, item.source, team_ids),
        "offered": qualify.offered_actions(item.source, item.kind),
        "key": secrets.token_urlsafe(16),
    }


@require_GET
def item_detail(request, pk):
    """The panel beside the board (HTMX), or a page of its own at the same shareable URL."""
    team_ids = _team_ids(request)
    visible = Item.objects.visible_to(request.user, team_ids).select_related(
        "source", "source__team", "rule"
    )
    item = get_object_or_404(visible, pk=pk)
    context = _detail_context(request, item, team_ids)
    if request.htmx:
        return render(request, "triage/item_detail.html#detail", context)
    return render(request, "triage/item_detail.html", context)


def _demo_issues(request):
    """The demo tracker's issues in the bug repositories of the sources the user may see."""
    sources = Source.objects.visible_to(request.user, _team_ids(request))
    return DemoIssue.objects.filter(repo__in=sources.values("github_repository"))


@require_GET
def demo_issues(request):
    """The demo's issue tracker: what **Bug** opened for the demo source instead of GitHub."""
    return render(request, "triage/demo_issues.html", {"issues": _demo_issues(request)[:200]})


@require_GET
def demo_issue(request, pk):
    """One of them, with its body as GitHub would have received it (Markdown), and rendered."""
    issue = get_object_or_404(_demo_issues(request), pk=pk)
    context = {
        "issue": issue,
        "opening": issue.opening(),
        "body_html": mark_safe(safe_markdown(issue.body)),  # noqa: S308 (sanitised by nh3)
    }
    return render(request, "triage/demo_issue.html", context)


@require_POST
def qualify_item(request, pk):
    item = get_object_or_404(Item.objects.select_related("source", "source__team"), pk=pk)
    params = {
        "ignoreCount": request.POST.get("ignore_count"),
        "ignoreWindow": request.POST.get("ignore_window"),
        "comment": request.POST.get("comment"),
        "link": request.POST.get("link"),
    }
    action = request.POST.get("action", "")
    if action == TAKE_OVER:  # the confirm step's button
        action, params["confirm"] = "take", True
    status = 200
    confirm = False
    try:
        with http.budget(qualify.WEB_BUDGET):
            outcome = qualify.qualify_item(
                item, request.user, action, params, request.POST.get("key", "")
            )
    except PermissionDenied as exc:
        if not request.htmx:
            return HttpResponseForbidden(str(exc))
        ok, message, status = False, str(exc), 403
    except qualify.NeedsConfirmation as exc:
        ok, message, confirm = False, str(exc), True
        if not request.htmx:
            context = {"item": item, "message": message, "key": request.POST.get("key", "")}
            return render(request, "triage/confirm_take.html", context)
    except qualify.QualifyError as exc:
        ok, message, status = False, str(exc), 422
    else:
        item, ok, message = outcome.item, outcome.ok, outcome.message
    if not request.htmx:
        messages.add_message(request, messages.SUCCESS if ok else messages.ERROR, message)
        return _back_to_board(request)
    _prepare_rows([item], request.user, qualify.qualifying_team_ids(request.user))
    context = {
        "item": item,
        "key": secrets.token_urlsafe(16),
        "flash": message,
        "flash_ok": ok,
        "confirm_take": confirm,
    }
    if request.htmx.target == "item-detail":
        # From the panel: the panel again, with the result, and its row on the board if shown.
        context |= _detail_context(request, item, _team_ids(request))
        context["row_shown"] = item.pk in _shown(request)
        template = "triage/item_detail.html#detail-result"
    else:
        template = "triage/board.html#item-row"
    response = render(request, template, context, status=status)
    return trigger_client_event(response, BOARD_CHANGED)


@require_POST
def qualify_items(request):
    """The bulk bar: one action on the selected rows, each answered on its own row."""
    action = request.POST.get("action", "")
    pks = list(dict.fromkeys(int(v) for v in request.POST.getlist("items") if v.isdigit()))
    if action not in BULK_ACTIONS:
        error = _("Unknown action.")
    elif not pks:
        error = _("Select at least one item first.")
    elif len(pks) > MAX_BULK:
        error = _("Select at most %(max)s items at once.") % {"max": MAX_BULK}
    else:
        error = None
    if error:
        if not request.htmx:
            messages.error(request, error)
            return _back_to_board(request)
        return render(request, "triage/board.html#bulk-result", {"summary": error}, status=422)

    # What the user may not see is not theirs to act on: left out, as if not sent.
    visible = Item.objects.visible_to(request.user, _team_ids(request))
    by_pk = visible.select_related("source", "source__team").in_bulk(pks)
    items = [by_pk[pk] for pk in pks if pk in by_pk]
    params = {
        "ignoreCount": request.POST.get("ignore_count"),
        "ignoreWindow": request.POST.get("ignore_window"),
    }
    # One budget for them all: the items of a source that hangs fail fast, not one by one.
    with http.budget(qualify.WEB_BUDGET):
        outcomes = qualify.qualify_items(
            items, request.user, action, params, request.POST.get("key", "")
        )
    summary = _bulk_summary(ACTIONS[action].label, outcomes)
    if not request.htmx:
        messages.add_message(
            request, messages.SUCCESS if all(o.ok for o in outcomes) else messages.ERROR, summary
        )
        for outcome in outcomes:
            if not outcome.ok:
                messages.error(request, f"{outcome.item.title[:80]}: {outcome.message}")
        return _back_to_board(request)

    # Read again in one query, with what the rows show (undo), rather than once per row.
    fresh = visible.select_related("source", "source__team").with_undoable().defer("payload")
    fresh = fresh.in_bulk([o.item.pk for o in outcomes])
    # A failed row stays selected: the same button again retries the ones that failed.
    rows = [
        {"item": fresh[o.item.pk], "ok": o.ok, "message": o.message, "selected": not o.ok}
        for o in outcomes
    ]
    team_ids = qualify.qualifying_team_ids(request.user)
    _prepare_rows([row["item"] for row in rows], request.user, team_ids)
    context = {
        "summary": summary,
        "rows": rows,
        "key": secrets.token_urlsafe(16),
        "bulk_key": secrets.token_urlsafe(16),
    }
    response = render(request, "triage/board.html#bulk-result", context)
    return trigger_client_event(response, BOARD_CHANGED)


def _bulk_summary(label, outcomes):
    done = sum(1 for outcome in outcomes if outcome.ok)
    failed = len(outcomes) - done
    summary = ngettext(
        "%(action)s: applied to %(done)s of %(total)s item.",
        "%(action)s: applied to %(done)s of %(total)s items.",
        done,
    ) % {"action": label, "done": done, "total": len(outcomes)}
    if failed:
        summary += " " + ngettext(
            "%(failed)s failed: see its row.", "%(failed)s failed: see their rows.", failed
        ) % {"failed": failed}
    return summary


def _back_to_board(request):
    """Without JavaScript: back to the board page the form was on."""
    back = request.headers.get("Referer", "")
    if url_has_allowed_host_and_scheme(back, {request.get_host()}, request.is_secure()):
        return redirect(back)
    return redirect(reverse("triage:board"))

"""The triage sections of a watch's handover snapshot (rotation.handover registers them).

Each returns rows `{"title", "url", "detail"}` for [start, end) on the team's sources; URLs come
from upstreams, so only http(s) ones are kept.
"""

from django.db.models import Count, Q
from django.utils.translation import gettext as _

from rotation.models import display_name
from triage.actions import ACTIONS, QUALIFICATIONS, REQUEST_ACTIONS
from triage.models import Action, Item, QualificationRule, RuleHit
from triage.templatetags.triage_board import http_url, issue_url

# A watch rarely leaves more; past this the snapshot says how many in its title.
MAX_ROWS = 200


def _actions(team, start, end):
    return Action.objects.filter(
        item__source__team=team, created_at__gte=start, created_at__lt=end, upstream_ok=True
    )


def qualified_items(team, start, end):
    counts = (
        _actions(team, start, end)
        .filter(action__in=QUALIFICATIONS, undone=False)
        .values("action")
        # No user: Vigie's memory wrote an Attendu upstream again (triage.memory).
        .annotate(n=Count("pk"), by_vigie=Count("pk", filter=Q(user__isnull=True)))
        .order_by("-n")
    )
    rows = []
    for row in counts:
        label = str(ACTIONS[row["action"]].label)
        if row["n"] > row["by_vigie"]:
            rows.append({"title": label, "detail": row["n"] - row["by_vigie"]})
        if row["by_vigie"]:
            title = _("%(action)s, ignored again upstream by Vigie's memory") % {"action": label}
            rows.append({"title": title, "detail": row["by_vigie"]})
    return rows


def qualified_by_rule(team, start, end):
    """What the team's local rules pre-qualified during the watch, rule by rule, and how much of
    it a vigie took back: the next vigie sees what was qualified without anyone looking."""
    hits = (
        RuleHit.objects.filter(rule__team=team, at__gte=start, at__lt=end)
        .values("rule", "rule__name", "rule__qualification")
        .annotate(n=Count("pk"), undone=Count("pk", filter=Q(undone_at__isnull=False)))
        .order_by("-n", "rule")
    )
    verdicts = dict(QualificationRule.Verdict.choices)
    rows = []
    for row in hits:
        detail = row["n"]
        if row["undone"]:
            detail = _("%(count)s (%(undone)s undone)") % {
                "count": row["n"],
                "undone": row["undone"],
            }
        label = verdicts.get(row["rule__qualification"], row["rule__qualification"])
        rows.append({"title": f"{row['rule__name']} → {label}", "detail": detail})
    return rows


def bugs_opened(team, start, end):
    actions = (
        _actions(team, start, end)
        .filter(action="bug")
        .select_related("item")
        .order_by("created_at")[:MAX_ROWS]
    )
    return [
        {
            "title": action.item.title[:200],
            "url": issue_url(action.upstream_response.get("github_issue_url")),
            "detail": action.item.short_id,
        }
        for action in actions
    ]


def unqualified_items(team, start, end):
    # What the next vigie inherits: the state when the watch ends, not what it was at its start.
    # The board's "to qualify": finished upstream (a request closed on GitHub) is left out.
    items = Item.objects.to_qualify().filter(source__team=team).order_by("-last_seen")
    items = items[:MAX_ROWS]
    return [_row(item) for item in items]


def discarded_jobs(team, start, end):
    items = Item.objects.filter(
        source__team=team, kind=Item.Kind.JOB, last_seen__gte=start, last_seen__lt=end
    ).order_by("-last_seen")[:MAX_ROWS]
    return [_row(item) for item in items]


def small_requests(team, start, end):
    """Requests the watch closed, sent to the roadmap or took (the latest of each, not undone)."""
    actions = (
        _actions(team, start, end)
        .filter(action__in=REQUEST_ACTIONS, undone=False)
        .select_related("item", "user")
        .order_by("-created_at")[:MAX_ROWS]
    )
    latest = {}
    for action in actions:
        latest.setdefault(action.item_id, action)
    return [
        {
            "title": action.item.title[:200],
            "url": http_url(action.item.permalink),
            "detail": " · ".join(
                filter(
                    None,
                    [
                        action.item.short_id,
                        str(ACTIONS[action.action].label),
                        display_name(action.user) if action.user else "",
                    ],
                )
            ),
        }
        for action in latest.values()
    ]


def _row(item):
    return {
        "title": item.title[:200],
        "url": http_url(item.permalink),
        "detail": f"{item.short_id} · {item.tally}",
    }

"""Demo data: a "demo" source with a few dozen realistic items, so the board is alive at once.

Offline and idempotent: items are added by external id and never overwritten, so what someone
qualified while trying the demo survives another `manage.py demo`.
"""

import random
from datetime import timedelta

from django.utils import timezone

from rotation.models import Membership, Team
from triage import demo_tracker, github
from triage.issue_report import issue_body, issue_title
from triage.models import Item, QualificationRule, Release, Source
from triage.rules import SyncRules
from triage.sources import backend_for

# (title, culprit, level, kind of occurrence pattern)
ISSUES = [
    (
        "ActiveRecord::RecordNotFound: Couldn't find Rdv with 'id'=48213",
        "RdvsController#show",
        "error",
    ),
    (
        "ActiveRecord::RecordNotFound: Couldn't find Lieu with 'id'=902",
        "Lieux::PublicController#show",
        "error",
    ),
    (
        "ActiveRecord::RecordNotFound: Couldn't find Agent with 'id'=77",
        "Admin::AgentsController#edit",
        "error",
    ),
    (
        "Net::ReadTimeout: Net::ReadTimeout with #<TCPSocket:(closed)>",
        "SmsSender::Brevo#send_sms",
        "error",
    ),
    ("Faraday::TimeoutError: execution expired", "FranceConnect::Client#userinfo", "warning"),
    (
        "Redis::CannotConnectError: Error connecting to Redis on redis:6379 (Errno::ECONNREFUSED)",
        "GoodJob::Notifier#listen",
        "fatal",
    ),
    (
        'PG::ConnectionBad: connection to server at "10.0.0.12", port 5432 failed',
        "ActiveRecord::ConnectionAdapters",
        "fatal",
    ),
    (
        "NoMethodError: undefined method `email' for nil",
        "Users::InvitationsController#create",
        "error",
    ),
    (
        "NoMethodError: undefined method `starts_at' for nil:NilClass",
        "Rdvs::CreateService#call",
        "error",
    ),
    (
        "ActionView::Template::Error: undefined local variable or method `motif'",
        "admin/rdvs/_rdv.html.slim",
        "error",
    ),
    (
        "ActionController::InvalidAuthenticityToken: Can't verify CSRF token authenticity.",
        "Users::SessionsController#create",
        "warning",
    ),
    (
        'ActionController::RoutingError: No route matches [GET] "/wp-login.php"',
        "ActionDispatch::DebugExceptions",
        "info",
    ),
    (
        "Pundit::NotAuthorizedError: not allowed to update? this Rdv",
        "Admin::RdvsController#update",
        "warning",
    ),
    (
        'Encoding::UndefinedConversionError: "\\xE2" from ASCII-8BIT to UTF-8',
        "Exports::RdvsCsv#generate",
        "error",
    ),
    (
        "ActiveRecord::StatementInvalid: PG::QueryCanceled: canceling statement due to "
        "statement timeout",
        "Stats::RdvsByMonth#compute",
        "error",
    ),
    ("Sidekiq::Shutdown", "Sidekiq::Processor#process", "warning"),
    (
        "Errno::ENOSPC: No space left on device @ io_write - /tmp/export.xlsx",
        "ExportJob#perform",
        "fatal",
    ),
    ("JSON::ParserError: unexpected token at '<html>'", "Webhooks::Sender#deliver", "error"),
    (
        "django.http.Http404: No Structure matches the given query.",
        "structures.views.detail",
        "info",
    ),
    (
        "django.db.utils.IntegrityError: duplicate key value violates unique constraint "
        '"users_email_key"',
        "accounts.services.create_user",
        "error",
    ),
    ("KeyError: 'departement'", "api.serializers.AddressSerializer.to_internal_value", "error"),
    (
        "requests.exceptions.ConnectTimeout: "
        "HTTPSConnectionPool(host='api-adresse.data.gouv.fr', port=443)",
        "geo.client.geocode",
        "warning",
    ),
    (
        "OperationalError: could not serialize access due to concurrent update",
        "rdv.tasks.close_past_rdvs",
        "error",
    ),
    (
        "TypeError: Cannot read properties of undefined (reading 'map')",
        "app/javascript/calendar.js in renderSlots",
        "error",
    ),
    ("ChunkLoadError: Loading chunk 42 failed.", "webpack/runtime/jsonp chunk loading", "warning"),
    ("Mailjet::ApiError: 401 Unauthorized", "Notifications::MailSender#deliver", "fatal"),
    ("Timeout::Error: execution expired", "Outlook::SyncEventJob#perform", "error"),
    ("ArgumentError: invalid date", "Admin::AgendasController#index", "error"),
    ("ZeroDivisionError: divided by 0", "Stats::Rates#no_show_rate", "error"),
    (
        "ActiveJob::DeserializationError: Error while trying to deserialize arguments",
        "GoodJob::JobPerformer",
        "error",
    ),
    # Titles and culprits come from the upstream, hence from anyone: the board must escape them.
    ("<script>alert(1)</script>", "SearchController#index <b>q</b>", "error"),
    ("<img src=x onerror=alert(1)>", "ProfilesController#update", "error"),
    (
        'ActionView::Template::Error: "><svg onload=alert(document.domain)>',
        "users/_form.html.erb",
        "error",
    ),
]

# index -> (qualification, upstream status, parameters, came back)
QUALIFIED = {
    3: (Item.Qualification.TEMPORARY, "ignored", {"ignoreCount": 1}, False),
    4: (Item.Qualification.TEMPORARY, "unresolved", {"ignoreCount": 1}, True),  # came back
    11: (Item.Qualification.EXPECTED, "ignored", {"ignoreCount": 10, "ignoreWindow": 10080}, False),
    18: (Item.Qualification.EXPECTED, "ignored", {"ignoreCount": 10, "ignoreWindow": 10080}, False),
    7: (Item.Qualification.BUG, "unresolved", {}, False),
    27: (Item.Qualification.RESOLVED, "resolved", {}, False),
}


# Discarded jobs, grouped as the GoodJob source groups them: (job class, error, queue, count).
JOBS = [
    (
        "SendRdvReminderJob",
        "ActiveRecord::RecordNotFound: Couldn't find Lieu with 'id'=?",
        "mailers",
        14,
    ),
    ("Outlook::SyncEventJob", "Timeout::Error: execution expired", "outlook_sync", 3),
    ("WebhookJob", "Faraday::ConnectionFailed: Failed to open TCP connection", "webhook", 41),
    ("Exports::AgentsCsvJob", "NoMethodError: undefined method `service' for nil", "exports", 1),
]


def _daily_counts(seed, today):
    """30 days of events for the detail's chart, oldest first, ending with today's."""
    rng = random.Random(seed)  # noqa: S311 (demo figures, not secrets)
    return [rng.choice([0, 0, 1, 2, 5, 13, 40]) for _ in range(29)] + [today]


def _jobs(source, existing, now):
    for index, (job_class, error, queue, count) in enumerate(JOBS):
        external_id = f"demo-job-{index + 1}"
        if external_id in existing:
            continue
        error_class = error.split(":")[0]
        yield Item(
            source=source,
            external_id=external_id,
            kind=Item.Kind.JOB,
            title=f"{job_class}: {error}",
            origin=job_class,
            level="error",
            environment="production",
            upstream_status="discarded",
            first_seen=now - timedelta(days=index + 2),
            last_seen=now - timedelta(hours=index * 5 + 1),
            tally=count,
            short_id=job_class,
            recent_counts=[0] * (23 - index) + [1] * index + [count % 5],
            payload={
                "daily_counts": _daily_counts(100 + index, count),
                "job_class": job_class,
                "error_class": error_class,
                "queue": queue,
                "arguments": [{"_aj_globalid": f"gid://rdv-solidarites/Rdv/{4821 + index}"}],
            },
        )


# Small requests, as the GitHub source mirrors them: (title, author, days open, comments, taken by).
REQUESTS = [
    ("Ajouter la colonne « motif » à l'export CSV des RDV", "conseillere-64", 3, 2, ""),
    ("Faute de frappe dans le mail de rappel : « rendez vous » sans tiret", "lea-b", 1, 0, ""),
    ("Le lien « Aide » du pied de page renvoie une 404", "support-rdvs", 5, 4, "sacha-demo"),
    ("Passer le délai du SMS de rappel à 48 h pour la Drôme", "agent-26", 2, 1, ""),
    ("Refaire entièrement la page de statistiques par territoire", "direction-produit", 12, 7, ""),
]
DEMO_REPOSITORY = "demo/rdv-solidarites"


def _requests(source, existing, now):
    for index, (title, author, days, comments, taken_by) in enumerate(REQUESTS):
        number = 101 + index
        external_id = f"{DEMO_REPOSITORY}#{number}"
        if external_id in existing:
            continue
        yield Item(
            source=source,
            external_id=external_id,
            kind=Item.Kind.REQUEST,
            title=title,
            origin=DEMO_REPOSITORY,
            environment="",
            upstream_status="open",
            first_seen=now - timedelta(days=days),
            last_seen=now - timedelta(hours=index * 7 + 2),
            tally=comments,
            permalink=f"https://github.com/{DEMO_REPOSITORY}/issues/{number}",
            short_id=f"rdv-solidarites#{number}",
            assignee=taken_by,
            payload={
                "repo": DEMO_REPOSITORY,
                "number": number,
                "author": author,
                "labels": ["vigie"],
                "assignees": [taken_by] if taken_by else [],
            },
            qualification=Item.Qualification.TAKEN if taken_by else Item.Qualification.UNQUALIFIED,
            qualification_params={"assignee": taken_by} if taken_by else {},
            qualified_at=now - timedelta(hours=20) if taken_by else None,
        )


# The team's rules, as a vigie writes them (seed 000: a RecordNotFound is expected from a web
# request coming from outside, a bug from a job; GoodJob's discarded job is left to qualify):
# (name, kind, matched on, tag key, match, pattern, qualification, retired).
RULES = [
    ("404 des liens venus du dehors", "issue", "exception_type", "", "contains",
     "ActiveRecord::RecordNotFound", "expected", False),
    ("Jeton CSRF expiré (formulaire resté ouvert)", "", "title", "", "regex",
     r"^ActionController::InvalidAuthenticityToken\b", "expected", False),
    ("Chargements JavaScript interrompus", "", "tag", "transaction", "regex",
     r"^webpack/", "temporary", False),
    ("Avertissements à revoir en fin de vigie", "issue", "level", "", "contains", "warning",
     "temporary", False),
    ("Timeouts Brevo (avant le changement de prestataire)", "", "origin", "", "contains",
     "SmsSender::Brevo", "temporary", True),
]  # fmt: skip


def _rules(team):
    """The demo team's rules, added by name (a rule a newcomer edited stays as edited)."""
    manager = (
        Membership.objects.filter(team=team, role=Membership.Role.MANAGER)
        .select_related("user")
        .first()
    )
    author = manager.user if manager else None
    now = timezone.now()
    for name, kind, field, tag_key, match, pattern, qualification, retired in RULES:
        QualificationRule.objects.get_or_create(
            team=team,
            name=name,
            defaults={
                "kind": kind,
                "field": field,
                "tag_key": tag_key,
                "match": match,
                "pattern": pattern,
                "qualification": qualification,
                "created_by": author,
                "retired_at": now if retired else None,
                "retired_by": author if retired else None,
            },
        )


def _open_demo_bugs(source):
    """The items the demo has as Bug already get their issue in the demo tracker, with the body
    Bug writes, so their GitHub link leads somewhere real."""
    backend = backend_for(source)
    for item in source.items.filter(qualification=Item.Qualification.BUG, github_issue_url=""):
        body = issue_body(item, backend.bug_report(item), github.marker_for(item))
        item.github_issue_url = demo_tracker.open_issue(
            source.github_repository, issue_title(item), body
        )
        item.save(update_fields=["github_issue_url"])


def load():
    team = Team.objects.filter(slug="demo").first()
    source, _ = Source.objects.get_or_create(
        name="demo",
        defaults={
            "kind": "demo",
            "team": team,
            "organization": "demo",
            "scopes": ["rdv-solidarites"],
            "github_repository": DEMO_REPOSITORY,
            "state": Source.State.OK,
        },
    )
    if source.team_id is not None:
        _rules(source.team)
    existing = set(source.items.values_list("external_id", flat=True))
    now = timezone.now()
    rng = random.Random(7)  # noqa: S311 (demo figures, not secrets)
    items = []
    for index, (title, culprit, level) in enumerate(ISSUES):
        # Draw for every issue, created or not, so each keeps the same figures.
        hours_ago = rng.randint(0, 72) if index % 4 else rng.randint(0, 2)
        counts = [rng.choice([0, 0, 1, 2, 3, 8, 21]) for _ in range(24)]
        external_id = f"demo-{index + 1}"
        if external_id in existing:
            continue
        last_seen = now - timedelta(hours=hours_ago, minutes=rng.randint(0, 59))
        qualification, status, params, came_back = QUALIFIED.get(
            index, (Item.Qualification.UNQUALIFIED, "unresolved", {}, False)
        )
        item = Item(
            source=source,
            external_id=external_id,
            title=title,
            origin=culprit,
            level=level,
            environment="production",
            upstream_status=status,
            first_seen=last_seen - timedelta(days=rng.randint(0, 40)),
            last_seen=last_seen,
            tally=sum(counts) + rng.randint(0, 5000),
            user_count=rng.randint(0, 300),
            permalink=f"https://sentry.example.org/organizations/demo/issues/{index + 1}/",
            short_id=f"RDV-SOLIDARITES-{index + 1:X}",
            recent_counts=counts,
            payload={
                "daily_counts": _daily_counts(index, sum(counts)),
                "release": "rdv-solidarites@2026.11.20",
                "tags": {
                    "environment": "production",
                    "release": "rdv-solidarites@2026.11.20",
                    "transaction": culprit,
                    "url": f"https://demo.rdv-solidarites.fr/rdvs/{index + 1}",
                    "browser": ("Firefox 133.0", "Chrome 131.0", "Safari 18.1")[index % 3],
                },
                # What the detail panel shows of a Sentry event, for a demo without Sentry.
                "frames": [
                    {
                        "filename": "app/controllers/rdvs_controller.rb",
                        "function": "show",
                        "lineno": 10 + index,
                        "in_app": True,
                        "context_line": "    @rdv = Rdv.find(params[:id])",
                    },
                    {"filename": "actionpack/metal.rb", "function": "dispatch", "lineno": 227},
                ],
                "breadcrumbs": [
                    {"category": "request", "message": f"GET /rdvs/{index + 1}"},
                    {"category": "query", "message": "SELECT rdvs.* FROM rdvs WHERE id = $1"},
                ],
            },
            qualification=qualification,
            qualification_params=params,
            qualified_at=now - timedelta(days=1) if qualification else None,
            came_back=came_back,
        )
        items.append(item)
    items += _jobs(source, existing, now)
    items += _requests(source, existing, now)
    Item.objects.bulk_create(items)
    # The new items go through the rules as a sync's would: some show "by rule …" at once.
    prequalified = SyncRules(source, backend_for(source)).prequalify(items, since=now)
    _open_demo_bugs(source)
    # What the status page reads as "since release …" (the demo incident opens after the last).
    for version, ago in (
        ("rdv-solidarites@2026.11.20", timedelta(days=13)),
        ("rdv-solidarites@2026.12.02", timedelta(minutes=30)),
    ):
        Release.objects.get_or_create(
            source=source, version=version, defaults={"deployed_at": now - ago}
        )
    total = len(existing) + len(items)
    return (
        f'source "demo": {len(items)} items added, {total} in all, '
        f"{prequalified} pre-qualified by rules"
    )

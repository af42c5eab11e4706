"""Demo data: a "demo" source with a few dozen realistic items, so the board is alive at once.

Offline and idempotent: items are added by external id and never overwritten, so what someone
qualified while trying the demo survives another `manage.py demo`.
"""

import random
import re
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.utils import timezone

from rotation.models import Membership, Profile, Team
from triage import demo_tracker, github
from triage.issue_report import issue_body, issue_title
from triage.models import Item, QualificationRule, Release, Source
from triage.rules import SyncRules
from triage.sources import backend_for
from triage.sources.demo import HOUR, DemoBackend, EventHistory
from vigie.management.commands.demo import DEMO_ADMIN

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


# What the demo's events hold, so that a detail reads like its error. The platform is told by
# the culprit (a Rails app, a Django service, the browser code). By exception type, the
# library frame that raised it (absent: the application's own line did).
RAISED = {
    "ActiveRecord::RecordNotFound": (
        "activerecord/lib/active_record/core.rb",
        "find",
        253,
        "raise RecordNotFound.new(\"Couldn't find #{name} with '#{primary_key}'=#{id}\", …)",
    ),
    "Net::ReadTimeout": ("net/protocol.rb", "rbuf_fill", 229, "raise Net::ReadTimeout.new(io)"),
    "Faraday::TimeoutError": (
        "faraday-net_http/lib/faraday/adapter/net_http.rb",
        "request_with_wrapped_block",
        92,
        "raise Faraday::TimeoutError, e",
    ),
    "Redis::CannotConnectError": (
        "redis-client/lib/redis_client/ruby_connection.rb",
        "connect",
        130,
        "raise CannotConnectError, error.message",
    ),
    "PG::ConnectionBad": (
        "activerecord/lib/active_record/connection_adapters/postgresql_adapter.rb",
        "new_client",
        57,
        "PG.connect(**conn_params)",
    ),
    "ActionController::InvalidAuthenticityToken": (
        "actionpack/lib/action_controller/metal/request_forgery_protection.rb",
        "handle_unverified_request",
        246,
        "raise ActionController::InvalidAuthenticityToken, warning_message",
    ),
    "ActionController::RoutingError": (
        "actionpack/lib/action_dispatch/middleware/debug_exceptions.rb",
        "call",
        33,
        'raise ActionController::RoutingError, "No route matches [#{method}] #{path.inspect}"',
    ),
    "Pundit::NotAuthorizedError": (
        "pundit/lib/pundit/authorization.rb",
        "authorize",
        84,
        "raise NotAuthorizedError, query: query, record: record, policy: policy",
    ),
    "ActiveRecord::StatementInvalid": (
        "activerecord/lib/active_record/connection_adapters/postgresql/database_statements.rb",
        "exec_query",
        55,
        "result = execute_and_clear(sql, name, binds)",
    ),
    "Sidekiq::Shutdown": ("sidekiq/lib/sidekiq/processor.rb", "process", 166, "raise Shutdown"),
    "JSON::ParserError": ("json/common.rb", "parse", 219, "Parser.new(source, **opts).parse"),
    "Mailjet::ApiError": (
        "mailjet/lib/mailjet/connection.rb",
        "handle_api_error",
        97,
        "raise Mailjet::ApiError.new(error.http_code, error.http_body, @adapter, url, params)",
    ),
    "Timeout::Error": ("timeout.rb", "timeout", 43, "raise Timeout::Error, message"),
    "ArgumentError": ("date/lib/date.rb", "parse", 2280, "Date._parse(string, comp)"),
    "ActiveJob::DeserializationError": (
        "activejob/lib/active_job/arguments.rb",
        "deserialize",
        42,
        "raise DeserializationError",
    ),
    "Faraday::ConnectionFailed": (
        "faraday-net_http/lib/faraday/adapter/net_http.rb",
        "perform_request",
        67,
        "raise Faraday::ConnectionFailed, e",
    ),
    "django.http.Http404": (
        "django/shortcuts.py",
        "get_object_or_404",
        90,
        'raise Http404("No %s matches the given query." % queryset.model._meta.object_name)',
    ),
    "django.db.utils.IntegrityError": (
        "django/db/backends/utils.py",
        "_execute",
        105,
        "return self.cursor.execute(sql, params)",
    ),
    "requests.exceptions.ConnectTimeout": (
        "requests/adapters.py",
        "send",
        688,
        "raise ConnectTimeout(e, request=request)",
    ),
    "OperationalError": (
        "django/db/backends/utils.py",
        "_execute",
        105,
        "return self.cursor.execute(sql, params)",
    ),
    "ChunkLoadError": (
        "webpack/runtime/jsonp chunk loading",
        "loadingEnded",
        27,
        'error.name = "ChunkLoadError";',
    ),
}
# The application's line, by title (an exception seen in several places) or exception type.
APP_LINES = {
    "ActiveRecord::RecordNotFound: Couldn't find Rdv with 'id'=48213": (
        "@rdv = Rdv.find(params[:id])"
    ),
    "ActiveRecord::RecordNotFound: Couldn't find Lieu with 'id'=902": "lieu = Lieu.find(lieu_id)",
    "ActiveRecord::RecordNotFound: Couldn't find Agent with 'id'=77": (
        "@agent = current_organisation.agents.find(params[:id])"
    ),
    "NoMethodError: undefined method `email' for nil": "invitation.invited_by.email",
    "NoMethodError: undefined method `starts_at' for nil:NilClass": (
        "starts_at = @creneau.starts_at"
    ),
    "NoMethodError: undefined method `service' for nil": "csv << [agent.service.name, …]",
    "ActionView::Template::Error: undefined local variable or method `motif'": ("td = motif.name"),
    "Net::ReadTimeout": 'response = http.post("/v3/transactionalSMS/sms", payload.to_json)',
    "Faraday::TimeoutError": 'response = connection.get("/api/v1/userinfo")',
    "Redis::CannotConnectError": "",
    "ActionController::InvalidAuthenticityToken": "",
    "Pundit::NotAuthorizedError": "authorize @rdv",
    "Encoding::UndefinedConversionError": 'file.write(csv.encode("UTF-8"))',
    "ActiveRecord::StatementInvalid": "rdvs.group_by_month(:starts_at).count",
    "Errno::ENOSPC": 'package.serialize("/tmp/export.xlsx")',
    "JSON::ParserError": "JSON.parse(response.body)",
    "Mailjet::ApiError": "Mailjet::Send.create(messages: [message])",
    "Timeout::Error": "Timeout.timeout(10) { client.update_event(rdv.outlook_id, payload) }",
    "ArgumentError": "@date = Date.parse(params[:date])",
    "ZeroDivisionError": "(rdvs.noshow.count * 100) / rdvs.past.count",
    "Faraday::ConnectionFailed": "connection.post(webhook.url, payload)",
    "django.http.Http404": "structure = get_object_or_404(Structure, pk=pk)",
    "django.db.utils.IntegrityError": "user = User.objects.create(email=email, **fields)",
    "KeyError": 'departement = data["departement"]',
    "requests.exceptions.ConnectTimeout": 'response = session.get(URL, params={"q": address})',
    "OperationalError": "Rdv.objects.filter(ends_at__lt=now).update(status=Rdv.Status.PAST)",
    "TypeError": "const rows = slots.map((slot) => renderSlot(slot));",
    "ChunkLoadError": 'const { Calendar } = await import("./calendar");',
}
# Calls to other services the event's breadcrumbs show, by exception type.
HTTP_CALLS = {
    "Net::ReadTimeout": "POST https://api.brevo.com/v3/transactionalSMS/sms",
    "Faraday::TimeoutError": "GET https://app.franceconnect.gouv.fr/api/v1/userinfo",
    "Faraday::ConnectionFailed": "POST https://webhooks.partenaire-departement.fr/rdv",
    "JSON::ParserError": "POST https://webhooks.partenaire-departement.fr/rdv [502]",
    "Mailjet::ApiError": "POST https://api.mailjet.com/v3.1/send [401]",
    "Timeout::Error": "PATCH https://graph.microsoft.com/v1.0/me/events/AAMkAGI2…",
    "requests.exceptions.ConnectTimeout": "GET https://api-adresse.data.gouv.fr/search/",
}
# The SQL query an error of the database comes from, by exception type.
QUERIES = {
    "django.http.Http404": (
        'SELECT "structures_structure".* FROM "structures_structure" '
        'WHERE "structures_structure"."id" = %s LIMIT 21'
    ),
    "django.db.utils.IntegrityError": (
        'INSERT INTO "accounts_user" ("email", "first_name", "last_name") VALUES (%s, %s, %s)'
    ),
    "OperationalError": 'UPDATE "rdv_rdv" SET "status" = %s WHERE "rdv_rdv"."ends_at" < %s',
    "ActiveRecord::StatementInvalid": (
        'SELECT COUNT(*), DATE_TRUNC(\'month\', "rdvs"."starts_at") FROM "rdvs" GROUP BY 2'
    ),
    "PG::ConnectionBad": "connect host=10.0.0.12 port=5432 dbname=rdv_solidarites",
}
# The exports read the organisation's appointments before writing the file.
QUERIES["Errno::ENOSPC"] = QUERIES["Encoding::UndefinedConversionError"] = (
    'SELECT "rdvs".* FROM "rdvs" WHERE "rdvs"."organisation_id" = $1'
)
# The frames under the application's, by platform and by where it runs.
OUTER_FRAMES = {
    ("ruby", "web"): [
        ("actionpack/lib/action_controller/metal/basic_implicit_render.rb", "send_action", 6),
        ("actionpack/lib/abstract_controller/base.rb", "process_action", 226),
        ("puma/lib/puma/request.rb", "handle_request", 99),
    ],
    ("ruby", "background"): [
        ("activejob/lib/active_job/execution.rb", "perform_now", 61),
        ("good_job/lib/good_job/job_performer.rb", "next", 33),
    ],
    ("python", "web"): [
        ("django/core/handlers/base.py", "_get_response", 197),
        ("django/core/handlers/exception.py", "inner", 55),
    ],
    ("python", "background"): [("django_q/worker.py", "worker", 97)],
    ("javascript", "web"): [("app/javascript/application.js", "onTurboLoad", 18)],
}
BROWSERS = ("Firefox 133.0", "Chrome 131.0", "Safari 18.1")
SITE = "https://demo.rdv-solidarites.fr"
# Gems whose code is the culprit: their frame is not the application's.
GEMS = ("GoodJob::", "ActiveRecord::", "ActionDispatch::", "Sidekiq::")


# Where a request or a task of the demo ran, for the culprits Rails' conventions do not name.
PATHS = {
    "FranceConnect::Client#userinfo": "GET /omniauth/franceconnect/callback",
    "Rdvs::CreateService#call": "POST /admin/organisations/12/rdvs",
    "Stats::RdvsByMonth#compute": "GET /stats/rdvs",
    "Stats::Rates#no_show_rate": "GET /admin/organisations/12/stats",
    "ActiveRecord::ConnectionAdapters": "GET /prendre_rdv",
    "ActionDispatch::DebugExceptions": "GET /wp-login.php",
    "structures.views.detail": "GET /structures/3187/",
    "accounts.services.create_user": "POST /api/v1/users/",
    "api.serializers.AddressSerializer.to_internal_value": "POST /api/v1/adresses/",
    "geo.client.geocode": "GET /api/v1/geocode/?q=12+rue+de+la+Paix",
    "app/javascript/calendar.js in renderSlots": "GET /admin/organisations/12/agenda",
    "webpack/runtime/jsonp chunk loading": "GET /admin/organisations/12/agenda",
}
# Culprits that run in a job or a task, not in a web request.
BACKGROUND = ("Job", "GoodJob::", "Sidekiq::", ".tasks.", "SmsSender::", "Exports::")
BACKGROUND += ("Webhooks::", "Notifications::")
# Rails' routes of a controller's actions: (verb and path template), "GET {path}" otherwise.
ROUTES = {
    "show": "GET {path}/{id}",
    "edit": "GET {path}/{id}/edit",
    "update": "PATCH {path}/{id}",
    "create": "POST {path}",
}


def _platform(culprit):
    if ".js" in culprit or culprit.startswith("webpack"):
        return "javascript"
    if "#" in culprit or "::" in culprit or culprit.endswith((".slim", ".erb")):
        return "ruby"
    return "python"


def _snake(name):
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name).lower()


def _app_frame(platform, culprit):
    """(filename, function) of the application's frame, None when the culprit is a gem's."""
    if platform == "javascript":
        # A chunk that fails to load is webpack's: the application's frame is its import.
        filename, _in, function = culprit.partition(" in ")
        return (filename, function) if function else ("app/javascript/application.js", "onLoad")
    if platform == "python":
        module, _dot, function = culprit.rpartition(".")
        return "/".join(module.split(".")[:2]) + ".py", function
    if culprit.endswith((".slim", ".erb")):
        return f"app/views/{culprit}", "_app_views_" + re.sub(r"\W", "_", culprit)
    if culprit.startswith(GEMS):
        return None
    owner, _sharp, method = culprit.partition("#")
    folder = "controllers" if owner.endswith("Controller") else "services"
    folder = "jobs" if owner.endswith("Job") else folder
    return f"app/{folder}/" + "/".join(_snake(p) for p in owner.split("::")) + ".rb", method


def _request_line(culprit, record_id):
    """The request of a web culprit: Rails' routes for a controller's action or a template."""
    if culprit in PATHS:
        return PATHS[culprit]
    if culprit.endswith((".slim", ".erb")):
        return "GET /" + culprit.rsplit("/", 1)[0]
    owner, _sharp, action = culprit.partition("#")
    path = "/" + "/".join(_snake(p) for p in owner.removesuffix("Controller").split("::"))
    return ROUTES.get(action, "GET {path}").format(path=path, id=record_id)


def _where(culprit):
    return "background" if any(mark in culprit for mark in BACKGROUND) else "web"


def _frames(title, culprit, seed):
    """The application's frame first, then the library's that raised, then the framework's."""
    kind = title.partition(": ")[0]
    platform = _platform(culprit)
    frames = []
    app = _app_frame(platform, culprit)
    if app:
        line = APP_LINES.get(title, APP_LINES.get(kind, ""))
        frame = {"filename": app[0], "function": app[1], "lineno": 12 + seed * 7 % 80}
        frames.append({**frame, "in_app": True, **({"context_line": line} if line else {})})
    if kind in RAISED:
        filename, function, lineno, line = RAISED[kind]
        frames.append({"filename": filename, "function": function, "lineno": lineno})
        frames[-1]["context_line"] = line
    return frames + [
        {"filename": filename, "function": function, "lineno": lineno}
        for filename, function, lineno in OUTER_FRAMES[platform, _where(culprit)]
    ]


def event_facts(title, culprit, last_seen, seed):
    """The latest event of a demo issue as the detail and Bug read it: its exception, frames,
    tags and breadcrumbs, all told by its title and culprit."""
    kind, _colon, value = title.partition(": ")
    platform, where = _platform(culprit), _where(culprit)
    record_id = (re.findall(r"'id'=(\d+)", title) or [str(1000 + seed * 37)])[0]
    tags = {
        "environment": "production",
        "release": "rdv-solidarites@2026.11.20",
        "transaction": culprit,
        "handled": "no",
        "runtime": {"ruby": "ruby 3.3.6", "python": "CPython 3.12.7"}.get(platform, "browser"),
    }
    crumbs = []
    if where == "web":
        request = _request_line(culprit, record_id)
        tags["url"] = SITE + request.split(" ", 1)[1]
        if platform != "python":
            tags["browser"] = BROWSERS[seed % 3]
        crumbs.append(("navigation" if platform == "javascript" else "request", request))
    else:
        task = culprit.partition("#")[0]
        crumbs.append(("task" if platform == "python" else "good_job", f"perform {task}"))
    if platform == "javascript":
        crumbs.append(("ui.click", "button.fc-next-button"))
        crumbs.append(("xhr", "GET /api/v1/creneaux?start=2026-12-07 [200]"))
    elif kind in HTTP_CALLS:
        crumbs.append(("http", HTTP_CALLS[kind]))
    else:
        crumbs.append(("sql.active_record" if platform == "ruby" else "query", _query(title)))
    return {
        "exception": {"type": kind, "value": value},
        "frames": _frames(title, culprit, seed),
        "tags": tags,
        "breadcrumbs": [
            {
                "timestamp": (last_seen - timedelta(seconds=3 * (len(crumbs) - i))).isoformat(
                    timespec="seconds"
                ),
                "category": category,
                "message": message,
            }
            for i, (category, message) in enumerate(crumbs)
        ],
    }


def _query(title):
    """The last SQL query before the error: the one that failed, or the row it looked for."""
    kind = title.partition(": ")[0]
    if kind in QUERIES:
        return QUERIES[kind]
    model = _snake((re.findall(r"find (\w+) with", title) or ["User"])[0])
    table = model + ("x" if model.endswith("eu") else "s")  # Rails' French plurals: lieux
    # A breadcrumb's text, shown and never run.
    return f'SELECT "{table}".* FROM "{table}" WHERE "{table}"."id" = $1 LIMIT $2'  # noqa: S608


def job_backtrace(job_class, error):
    """A discarded job's backtrace as GoodJob keeps it: "file:line:in `method'" lines."""
    frames = _frames(error, f"{job_class}#perform", len(job_class))
    return [f"{f['filename']}:{f['lineno']}:in `{f['function']}'" for f in frames]


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


def _trend(item, now):
    """The board's trend of a demo item: its last 24 hours by hour, as a sync would mirror it."""
    hour = now.replace(minute=0, second=0, microsecond=0)
    return [count for _start, count in EventHistory(item).counts(hour - 23 * HOUR, HOUR, 24)]


def _jobs(source, existing, now):
    for index, (job_class, error, queue, count) in enumerate(JOBS):
        external_id = f"demo-job-{index + 1}"
        if external_id in existing:
            continue
        last_seen = now - timedelta(hours=index * 5 + 1)
        item = Item(
            source=source,
            external_id=external_id,
            kind=Item.Kind.JOB,
            title=f"{job_class}: {error}",
            origin=job_class,
            level="error",
            environment="production",
            upstream_status="discarded",
            # A single discard was first seen when it was last seen.
            first_seen=last_seen - timedelta(days=index + 2) if count > 1 else last_seen,
            last_seen=last_seen,
            tally=count,
            short_id=job_class,
            payload={
                "job_class": job_class,
                "error_class": error.split(":")[0],
                "sample_error": error,
                "backtrace": job_backtrace(job_class, error),
                "queue": queue,
                "arguments": [{"_aj_globalid": f"gid://rdv-solidarites/Rdv/{4821 + index}"}],
            },
        )
        item.recent_counts = _trend(item, now)
        yield item


# Small requests, as the GitHub source mirrors them: (title, author, days open, comments, taken by,
# body in GitHub's Markdown).
REQUESTS = [
    (
        "Ajouter la colonne « motif » à l'export CSV des RDV",
        "conseillere-64",
        3,
        2,
        "",
        "Bonjour,\n\nDans l’export CSV des RDV (*Agenda → Exporter*), il manque le **motif** "
        "du rendez-vous. Nous le recopions à la main pour le bilan mensuel du département.\n\n"
        "- colonne souhaitée : `motif`, après `date`\n"
        "- même libellé que dans l’agenda\n\nMerci !",
    ),
    (
        "Faute de frappe dans le mail de rappel : « rendez vous » sans tiret",
        "lea-b",
        1,
        0,
        "",
        "Le mail de rappel envoyé la veille dit :\n\n> Votre rendez vous a lieu demain à 9 h 30\n\n"
        "Il faudrait écrire **rendez-vous**, avec un tiret.",
    ),
    (
        "Le lien « Aide » du pied de page renvoie une 404",
        "support-rdvs",
        5,
        4,
        "sacha-demo",
        "Depuis la mise en production du 2 décembre, le lien **Aide** du pied de page mène à "
        "une page 404.\n\n1. Ouvrir n’importe quelle page agent\n2. Cliquer sur « Aide » en bas\n"
        "3. Page introuvable\n\nAncienne adresse : `https://aide.rdv-solidarites.fr/`",
    ),
    (
        "Passer le délai du SMS de rappel à 48 h pour la Drôme",
        "agent-26",
        2,
        1,
        "",
        "Les usagers de la Drôme nous demandent d’être prévenus **deux jours** avant, pas la "
        "veille : beaucoup viennent de loin.\n\nDélai actuel : 24 h. Souhaité : 48 h, pour "
        "l’organisation *Drôme — Insertion* seulement.",
    ),
    (
        "Refaire entièrement la page de statistiques par territoire",
        "direction-produit",
        12,
        7,
        "",
        "## Contexte\n\nLa page de statistiques par territoire ne répond plus aux besoins des "
        "départements.\n\n## Attendu\n\n- filtres par service et par motif\n- export\n"
        "- graphiques par mois\n\nÀ cadrer avec l’équipe : plusieurs semaines de travail.",
    ),
]
DEMO_REPOSITORY = "demo/rdv-solidarites"
# What the team answers on a request, in order: a request with N comments has the first N.
REQUEST_COMMENTS = [
    ("camille", "Merci, bien reçu : c’est pour la vigie de cette semaine."),
    ("{author}", "Merci ! Pour info, c’est **bloquant** pour notre bilan du mois."),
    ("dominique", "Je regarde. Est-ce que cela concerne toutes les organisations ?"),
    ("{author}", "Oui, toutes celles du département."),
    ("camille", "Reproduit en recette, correctif en cours."),
    ("{author}", "Super, merci pour la réactivité."),
    ("yanis", "À cadrer en atelier produit : trop gros pour la vigie."),
]


def _requests(source, existing, now):
    for index, (title, author, days, comments, taken_by, body) in enumerate(REQUESTS):
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
            # No permalink: the demo repository is not on GitHub.
            short_id=f"rdv-solidarites#{number}",
            assignee=taken_by,
            payload={
                "repo": DEMO_REPOSITORY,
                "number": number,
                "author": author,
                "body": body,
                "labels": ["vigie"],
                "assignees": [taken_by] if taken_by else [],
                "comments": [
                    {
                        "author": who.format(author=author),
                        # Between the request and its last activity, oldest first.
                        "created_at": (
                            now - timedelta(days=days) + (position + 1) * timedelta(hours=3)
                        ).isoformat(),
                        "body": text,
                    }
                    for position, (who, text) in enumerate(REQUEST_COMMENTS[:comments])
                ],
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


def _profiles(team):
    """The demo's admin and members can M'attribuer and Je prends at once: each gets a Sentry
    account (their email: the demo backend assigns any account, as Sentry assigns a member)
    and a GitHub login, unless they wrote their own. No Sentry source is asked: the profile's
    check asks the team's Sentry sources, and the demo has none."""
    users = get_user_model().objects.filter(username=DEMO_ADMIN)
    if team is not None:
        users = users | get_user_model().objects.filter(memberships__team=team)
    key = DemoBackend.assign_account.key
    for user in users.distinct():
        profile = Profile.of(user)
        account = profile.account(key) or user.email or user.get_username()
        login = profile.github_login or f"{user.get_username()}-demo"
        if (account, login) != (profile.account(key), profile.github_login):
            profile.accounts = {**profile.accounts, key: account}
            profile.github_login = login
            profile.save(update_fields=["accounts", "github_login"])


def load():
    team = Team.objects.filter(slug="demo").first()
    _profiles(team)
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
        minutes_ago = rng.randint(0, 59)
        days, per_day = rng.randint(1, 40), rng.choice([0.2, 1, 2, 5, 12, 40, 120])
        users = rng.randint(1, 300)
        external_id = f"demo-{index + 1}"
        if external_id in existing:
            continue
        last_seen = now - timedelta(hours=hours_ago, minutes=minutes_ago)
        tally = max(2, round(days * per_day))
        qualification, status, params, came_back = QUALIFIED.get(
            index, (Item.Qualification.UNQUALIFIED, "unresolved", {}, False)
        )
        event = event_facts(title, culprit, last_seen, index)
        item = Item(
            source=source,
            external_id=external_id,
            title=title,
            origin=culprit,
            level=level,
            environment="production",
            upstream_status=status,
            first_seen=last_seen - timedelta(days=days, hours=index % 5),
            last_seen=last_seen,
            tally=tally,
            # A job has no user; a web error's users are at most its events.
            user_count=0 if "url" not in event["tags"] else min(users, tally),
            # No permalink: there is no Sentry behind the demo, and a link must lead somewhere.
            short_id=f"RDV-SOLIDARITES-{index + 1:X}",
            payload={"release": "rdv-solidarites@2026.11.20", **event},
            qualification=qualification,
            qualification_params=params,
            qualified_at=now - timedelta(days=1) if qualification else None,
            came_back=came_back,
        )
        item.recent_counts = _trend(item, now)
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

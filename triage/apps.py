from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TriageConfig(AppConfig):
    name = "triage"
    verbose_name = _("Triage")

    def ready(self):
        from rotation import forms, handover, reports
        from vigie import health, metrics, navigation, schedules

        navigation.register(_("Board"), "triage:board", order=10)
        forms.register_account_check("sentry_account", "triage.accounts.check_sentry_account")
        schedules.declare("triage.sync_due_sources", "triage.tasks.sync_due_sources", 1)
        schedules.declare("triage.sync_releases", "triage.releases.sync_releases", 10)
        health.register(
            "sources",
            "triage.health.check_sources",
            label=_("Sources"),
            template="triage/health.html#sources",
        )
        health.register(
            "sync_claims",
            "triage.health.check_sync_claims",
            label=_("Running syncs"),
            template="triage/health.html#sync-claims",
        )
        metrics.register_gauges("triage.health.source_gauges")
        reports.register_items_handled("triage.reports.items_handled")
        handover.register(
            "qualified", "triage.handover.qualified_items", _("Items qualified, by action")
        )
        handover.register(
            "qualified_by_rule", "triage.handover.qualified_by_rule", _("Items qualified by rule")
        )
        handover.register("bugs", "triage.handover.bugs_opened", _("Bugs opened"))
        handover.register(
            "unqualified", "triage.handover.unqualified_items", _("Items left unqualified")
        )
        handover.register("discarded_jobs", "triage.handover.discarded_jobs", _("Discarded jobs"))
        handover.register(
            "small_requests", "triage.handover.small_requests", _("Small requests handled")
        )

"""Alert rule figures: the rules evaluated after a sync over 10,000 mirrored items.

    uv run python bench/rules.py            # SQLite in a temporary directory
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/vigie_bench uv run python bench/rules.py

A scripted backend (no network) mirrors 8,000 issues and 2,000 job groups, then a second sync
moves every count: most by one event, 10 issues by 25 (spikes), 20 new issues, job groups by
enough to pass the discarded-jobs threshold. Timed: what `sync_finished` runs after that sync
(new issue, spike, discarded jobs, stale source) and the tick's time-based rules (backlog,
stale, nobody on watch, checks), incidents opened included. Target (issue 11): under 1 s.
On a shared machine, read the load average too: the minimum is the least disturbed run.
"""

import os
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import _django  # noqa: E402

ISSUES, JOBS, SPIKES, NEW = 8_000, 2_000, 10, 20
ROUNDS = 5


def items(round_, first_seen):
    from triage.sources.base import ItemData

    bump = 0 if round_ == 0 else 1
    for n in range(ISSUES):
        extra = 25 * round_ if n < SPIKES else 0
        yield ItemData(
            external_id=f"i{n}",
            title=f"Error {n}",
            short_id=f"APP-{n:X}",
            upstream_status="unresolved",
            environment="production",
            first_seen=first_seen,
            last_seen=first_seen + timedelta(minutes=round_),
            tally=100 + round_ * bump + extra,
        )
    if round_:
        for n in range(NEW):
            yield ItemData(external_id=f"new{round_}-{n}", title=f"New {n}", tally=1)
    for n in range(JOBS):
        yield ItemData(
            external_id=f"j{n}",
            kind="job",
            title=f"Job {n}",
            upstream_status="discarded",
            first_seen=first_seen,
            tally=10 + round_ * 3,
        )


def main():
    _django.setup()
    import time_machine
    from django.db import connection
    from django.db.models import Count
    from django.test.utils import CaptureQueriesContext

    from monitors import rules
    from monitors.models import AlertRule, Incident
    from rotation.models import Team
    from triage.models import Source
    from triage.signals import sync_finished
    from triage.sources import REGISTRY
    from triage.sources.demo import DemoBackend
    from triage.sync import sync_source

    state = {"round": 0}
    t0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)

    class Scripted(DemoBackend):
        def fetch(self, *, since=None):
            return items(state["round"], t0 - timedelta(days=3))

    sys.modules[__name__].Scripted = Scripted
    REGISTRY["demo"] = f"{__name__}.Scripted"
    sync_finished.disconnect(dispatch_uid="monitors.rules.after_sync")  # timed by hand below

    team = Team.objects.create(slug="bench", name="Bench")
    source = Source.objects.create(kind="demo", name="bench", team=team)
    for name, kind, params in [
        ("new", "new_issue", {}),
        ("spike", "event_spike", {"events": 10, "window": 300}),
        ("jobs", "discarded_jobs", {"count": 20, "window": 3600}),
        ("stale", "source_stale", {"after": 1800}),
        ("backlog", "unqualified_backlog", {"older_than": 86400}),
        ("watch", "nobody_on_watch", {}),
    ]:
        AlertRule.objects.create(
            team=team,
            name=name,
            kind=kind,
            source=source if kind in rules.NEEDS_SOURCE else None,
            params=rules.validate_params(kind, params),
            created_at=t0 - timedelta(days=1),
            action_interval=60,  # every round opens its incidents again
        )
    with time_machine.travel(t0, tick=False):
        sync_source(source.pk)
        previous = Source.objects.get(pk=source.pk).last_success_at

    after_sync, timed, queries, causes_only = [], [], [], []
    for round_ in range(1, ROUNDS + 1):
        state["round"] = round_
        at = t0 + timedelta(minutes=5 * round_)
        with time_machine.travel(at, tick=True):
            run = sync_source(source.pk)
            source.refresh_from_db()
            Incident.objects.all().update(state="resolved", resolved_at=at)
            bound = AlertRule.objects.filter(kind__in=rules.AFTER_SYNC).select_related("source")
            start = time.perf_counter()
            for rule in bound:  # what fires, without opening anything
                evaluated_at = rule.evaluated_at
                rules.causes(rule, at, previous_success=previous, started=run.started_at)
                AlertRule.objects.filter(pk=rule.pk).update(evaluated_at=evaluated_at)
            causes_only.append(time.perf_counter() - start)
            start = time.perf_counter()
            with CaptureQueriesContext(connection) as captured:
                rules.after_sync(Source, source=source, run=run, previous_success=previous)
            after_sync.append(time.perf_counter() - start)
            queries.append(len(captured.captured_queries))
            start = time.perf_counter()
            rules.evaluate_timed()
            timed.append(time.perf_counter() - start)
            previous = source.last_success_at
    last = Incident.objects.filter(opened_at__gte=t0 + timedelta(minutes=5 * ROUNDS))
    opened = ", ".join(
        f"{row['rule__kind']} {row['n']}"
        for row in last.values("rule__kind").annotate(n=Count("pk")).order_by("rule__kind")
    )
    load = os.getloadavg()[0]
    print(f"{ISSUES + JOBS} mirrored items, {len(rules.EVALUATORS)} rule types, {ROUNDS} syncs")
    print(
        f"after a sync:  p50 {statistics.median(after_sync) * 1000:6.1f} ms  "
        f"min {min(after_sync) * 1000:6.1f} ms  max {max(after_sync) * 1000:6.1f} ms  "
        f"({statistics.median(queries):.0f} queries)"
    )
    print(
        f"  of which finding the causes over the mirror: p50 "
        f"{statistics.median(causes_only) * 1000:6.1f} ms  min {min(causes_only) * 1000:6.1f} ms"
        "; the rest opens and pages the incidents"
    )
    print(
        f"tick rules:    p50 {statistics.median(timed) * 1000:6.1f} ms  "
        f"min {min(timed) * 1000:6.1f} ms  (target: all under 1000 ms)"
    )
    print(f"incidents opened by the last round: {opened}")
    print(f"database: {connection.vendor}, load average {load:.2f}")


if __name__ == "__main__":
    main()

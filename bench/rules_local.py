"""Local qualification rule figures: a sync of 1,000 new items with 200 active rules.

    uv run python bench/rules_local.py            # SQLite in a temporary directory
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/vigie_bench uv run python bench/rules_local.py

A scripted backend (no network) yields 1,000 new issues and jobs; 200 rules of the source's
team (half plain text, half regular expressions with their timeout, over title, culprit,
exception type, level and the `transaction` tag the items' payload gives) are active, and only
the last ten of them match (one item in five), so that most items are tried against every
rule. Timed: what `triage.rules.SyncRules.prequalify` costs in the sync (matching in
memory, the writes of the pre-qualifications and their hits), and the same sync with no rule
for comparison. Target (issue 14): the rules applied in under 1 s. On a shared machine, read
the load average too: the minimum is the least disturbed run.
"""

import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import _django  # noqa: E402

ITEMS, RULES, MATCHING = 1_000, 200, 10
ROUNDS = 5
TARGET = 1.0  # seconds


def items(round_):
    from triage.sources.base import ItemData

    for n in range(ITEMS):
        job = n % 4 == 0
        error = "ActiveRecord::RecordNotFound" if n % 5 == 0 else f"App::Error{n % 37}"
        yield ItemData(
            external_id=f"r{round_}-{n}",
            kind="job" if job else "issue",
            title=f"{error}: Couldn't find Rdv with 'id'={n} [WHERE rdvs.deleted_at IS NULL]",
            origin=f"SendReminderJob#{n}" if job else f"RdvsController#show{n % 50}",
            level="error",
            upstream_status="unresolved",
            tally=n % 17 + 1,
            payload={
                "metadata": {"type": error, "value": "Couldn't find Rdv"},
                "tags": {"transaction": f"RdvsController#show{n % 50}", "handled": "no"},
            },
        )


def make_rules(team):
    from triage.models import QualificationRule

    fields = ["title", "origin", "exception_type", "level", "tag"]
    rules = []
    for n in range(RULES - MATCHING):
        regex = n % 2 == 1
        pattern = rf"^Billing::\w+Error{n}$" if regex else f"stripe webhook {n} refused"
        field = fields[n % 5]
        rules.append(
            QualificationRule(
                team=team, name=f"noise {n}", field=field, pattern=pattern,
                tag_key="transaction" if field == "tag" else "",
                match="regex" if regex else "contains", qualification="temporary",
            )
        )  # fmt: skip
    for n in range(MATCHING):
        rules.append(
            QualificationRule(
                team=team, name=f"404 {n}", field="exception_type", match="regex",
                pattern=r"RecordNotFound$", qualification="expected",
                kind="issue" if n % 2 else "",
            )
        )  # fmt: skip
    QualificationRule.objects.bulk_create(rules)


def main():
    _django.setup()
    from django.db import connection

    from rotation.models import Team
    from triage import rules, sync
    from triage.models import Item, QualificationRule, RuleHit, Source
    from triage.sources import REGISTRY
    from triage.sources.demo import DemoBackend

    state = {"round": 0}

    class Scripted(DemoBackend):
        def fetch(self, *, since=None):
            return items(state["round"])

        def reconcile(self, external_ids):
            return {}

    sys.modules[__name__].Scripted = Scripted
    REGISTRY["demo"] = f"{__name__}.Scripted"
    spent = []
    real = rules.SyncRules.prequalify

    def timed(*args, **kwargs):
        started = time.perf_counter()
        try:
            return real(*args, **kwargs)
        finally:
            spent[-1] += time.perf_counter() - started

    rules.SyncRules.prequalify = timed

    team = Team.objects.create(slug="bench-rules", name="Bench rules")
    source = Source.objects.create(kind="demo", name="bench-rules", team=team)

    def one_sync():
        state["round"] += 1
        spent.append(0.0)
        Item.objects.filter(source=source).delete()
        Source.objects.filter(pk=source.pk).update(last_reconciled_at=None)
        started = time.perf_counter()
        run = sync.sync_source(source.pk)
        assert (run.created, run.error) == (ITEMS, ""), (run.created, run.error)
        return time.perf_counter() - started

    bare = [one_sync() for _ in range(ROUNDS)]
    make_rules(team)
    assert QualificationRule.objects.applying_to(source).count() == RULES
    spent.clear()
    full = [one_sync() for _ in range(ROUNDS)]
    prequalified = Item.objects.filter(source=source, rule__isnull=False).count()
    assert prequalified == ITEMS // 5, prequalified
    assert RuleHit.objects.filter(item__source=source).count() == prequalified

    print(
        f"database: {connection.vendor}; {ITEMS} new items, {RULES} active rules "
        f"({prequalified} items pre-qualified per sync)"
    )
    print(f"sync without rules:  median {statistics.median(bare):6.3f} s  min {min(bare):6.3f} s")
    print(f"sync with rules:     median {statistics.median(full):6.3f} s  min {min(full):6.3f} s")
    median, best = statistics.median(spent), min(spent)
    verdict = "OK" if median < TARGET else "MISSED"
    print(
        f"rules applied:       median {median:6.3f} s  min {best:6.3f} s  "
        f"(target < {TARGET:.1f} s: {verdict}; median of {ROUNDS})"
    )


if __name__ == "__main__":
    main()

from datetime import UTC, datetime

from monitors.checks import Outcome
from monitors.models import Check
from rotation.models import Team

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
OK = Outcome(ok=True, message="200 OK", latency=0.05, status_code=200)
FAIL = Outcome(ok=False, message="connection refused")


def make_team(slug="demo"):
    return Team.objects.get_or_create(slug=slug, defaults={"name": slug.title()})[0]


def make_check(team=None, **fields):
    fields.setdefault("name", "site")
    fields.setdefault("kind", Check.Kind.HTTP)
    fields.setdefault("config", {"url": "http://127.0.0.1:9/"})
    fields.setdefault("next_run_at", T0)
    return Check.objects.create(team=team or make_team(), **fields)

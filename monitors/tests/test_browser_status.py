"""The 2-minute page in Debian's chromium at 1366x768, in French, against checks applied with
`manage.py monitors apply` and a loopback target that goes down and comes back."""

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from monitors import checks
from monitors.models import Check, Incident, Runbook
from monitors.tests.probe_servers import FakeSite
from rotation.tests.factories import MembershipFactory, ShiftFactory, TeamFactory
from tests.factories import UserFactory
from triage.models import Release
from triage.tests.factories import SourceFactory

pytestmark = pytest.mark.browser

MONITORS = """\
checks:
  - {{name: site, team: demo, type: http, url: "{url}/health", interval: 60s, alert_after: 2,
     severity: critical, category: technical, runbook: rb-001-site-down, allow_private: true}}
  - {{name: paiements, team: demo, type: http, url: "{url}/payments", interval: 60s,
     alert_after: 1, severity: warning, category: business, allow_private: true}}
"""


def run_checks():
    for check in Check.objects.all():
        outcome = checks.run(check.kind, check.config, timeout=5, allow_private=True)
        check.record(outcome, timezone.now())


@pytest.fixture
def target():
    state = {"up": True}

    def health(handler, site):
        return (200, {}, "ok") if state["up"] else (503, {}, "maintenance")

    with FakeSite({"/health": health, "/payments": (200, {}, "ok")}) as site:
        site.state = state
        yield site


@pytest.fixture
def production(transactional_db, settings, tmp_path, target):
    # Before the browser starts: Playwright's event loop forbids the ORM in this thread.
    settings.SESSION_COOKIE_SECURE = settings.CSRF_COOKIE_SECURE = False
    team = TeamFactory(slug="demo", name="Démo", timezone="Europe/Paris")
    camille = MembershipFactory(
        team=team, user=UserFactory(username="camille", first_name="Camille", last_name="Roux")
    )
    profile = camille.profile
    profile.phone, profile.chat_handle = "+33 6 12 34 56 78", "@camille"
    profile.save()
    now = timezone.now()
    ShiftFactory(membership=camille, start=now - timedelta(days=1), end=now + timedelta(days=6))
    Runbook.objects.create(team=team, slug="rb-001-site-down", title="RB-001 : site en panne")
    source = SourceFactory(team=team, name="prod", last_success_at=now)
    Release.objects.create(
        source=source, version="app@2.14.0", deployed_at=now - timedelta(hours=1)
    )
    path = tmp_path / "monitors.yaml"
    path.write_text(MONITORS.format(url=target.url))
    call_command("monitors", "apply", str(path), stdout=StringIO())
    run_checks()  # both up
    target.state["up"] = False
    target.routes["/payments"] = (500, {}, "boom")
    run_checks()
    run_checks()  # site down twice: past alert_after
    assert Incident.objects.unresolved().count() == 2
    return team


def log_in(page, live_server):
    page.goto(f"{live_server.url}/accounts/login/?next=/status")
    page.fill("input[name=username]", "camille")
    page.fill("input[name=password]", "correct horse battery staple")
    page.click("form button[type=submit]:not(.link)")
    page.wait_for_url("**/status")


def test_the_five_answers_fit_the_screen_and_follow_the_target(
    live_server, production, target, browser_page
):
    from playwright.sync_api import expect

    page = browser_page
    page.set_viewport_size({"width": 1366, "height": 768})
    log_in(page, live_server)

    verdict = page.locator("#verdict")
    assert verdict.inner_text() == "PANNE"
    for answer in ("up", "why", "since", "kind", "who"):
        box = page.locator(f'[data-answer="{answer}"]').bounding_box()
        assert box["y"] >= 0 and box["y"] + box["height"] <= 768, answer
    since = page.locator('[data-answer="since"]').inner_text()
    assert "depuis la release 2.14.0" in since and "il y a" in since
    kind = page.locator('[data-answer="kind"]').inner_text()
    assert "technique" in kind and "métier" in kind
    who = page.locator('[data-answer="who"]').inner_text()
    assert "Vigie : Camille Roux" in who and "+33 6 12 34 56 78" in who and "@camille" in who
    why = page.locator('[data-answer="why"]').inner_text()
    assert "site" in why and "HTTP 503" in why and "RB-001 : site en panne" in why
    assert "prochain : Tech lead" in why
    assert not page.locator("#status-stale").is_visible()

    # The target comes back: the next poll turns the page without a reload.
    target.state["up"] = True
    target.routes["/payments"] = (200, {}, "ok")
    run_checks()
    assert Incident.objects.unresolved().count() == 0
    expect(page.locator("#verdict")).to_have_text("OPÉRATIONNEL", timeout=25_000)

    # Vigie unreachable: the answers stay, and a banner says how old they are.
    page.route("**/status?team=*", lambda route: route.abort())
    page.locator("#status-stale").wait_for(state="visible", timeout=25_000)
    assert "Rafraîchissement impossible" in page.locator("#status-stale").inner_text()
    assert page.locator("#status-stale [data-age]").inner_text().endswith("s")
    assert not [e for e in page.console_errors if "Content Security Policy" in e]

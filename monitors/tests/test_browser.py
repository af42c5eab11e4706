"""The monitors pages in a real browser, in French at 1366x768."""

from datetime import timedelta

import pytest
from django.utils import timezone

from monitors.checks import Outcome
from monitors.models import Incident
from monitors.tests.helpers import make_check, make_team
from rotation.tests.factories import MembershipFactory
from tests.factories import UserFactory
from vigie.models import Notification
from vigie.phrases import Phrase

pytestmark = pytest.mark.browser

SCRIPT_NAME = "<script>alert(1)</script>"


@pytest.fixture
def world(transactional_db, settings, monkeypatch):
    # Before the browser starts: Playwright's event loop forbids the ORM in this thread.
    settings.SESSION_COOKIE_SECURE = settings.CSRF_COOKIE_SECURE = False
    team = make_team()
    camille = MembershipFactory(team=team, user=UserFactory(username="camille")).user
    dominique = UserFactory(username="dominique")
    chain = [
        {"order": 1, "label": "L1", "delay_minutes": 0, "user_id": camille.pk, "name": "camille"},
        {"order": 2, "label": "L2", "delay_minutes": 15, "user_id": dominique.pk, "name": "d"},
    ]
    monkeypatch.setattr("rotation.models.Team.escalation_chain", lambda team, at: chain)
    now = timezone.now()
    up = make_check(team, name="site", next_run_at=now + timedelta(minutes=1))
    up.record(Outcome(ok=True, message="HTTP 200", latency=0.042, status_code=200), now)
    down = make_check(team, name=SCRIPT_NAME, alert_after=1, next_run_at=now)
    refused = Outcome(ok=False, message=Phrase("connection refused"))  # as the probe says it
    down.record(refused, now - timedelta(minutes=5))
    return {"user": camille, "up": up, "down": down, "incident": Incident.objects.get()}


def login(page, base, user):
    page.set_viewport_size({"width": 1366, "height": 768})
    page.goto(f"{base}/accounts/login/")
    page.fill("input[name=username]", user.username)
    page.fill("input[name=password]", "correct horse battery staple")
    page.press("input[name=password]", "Enter")
    page.wait_for_load_state("networkidle")


def test_monitors_list_incident_timeline_and_acknowledge(live_server, world, browser_page):
    page = browser_page
    dialogs = []
    page.on("dialog", lambda dialog: dialogs.append(dialog.message) or dialog.dismiss())
    login(page, live_server.url, world["user"])

    page.goto(f"{live_server.url}/monitors")
    rows = page.locator("table.checks tbody tr")
    assert rows.count() == 2
    states = {
        rows.nth(i).locator("td").nth(0).inner_text(): rows.nth(i).locator("td").nth(2).inner_text()
        for i in range(2)
    }
    assert states == {"site": "en service", SCRIPT_NAME: "en panne"}  # the name is text
    assert dialogs == []
    link = page.get_by_role("link", name=SCRIPT_NAME)
    assert link.get_attribute("href") == f"/monitors/{world['down'].pk}"
    assert "connexion refusée" in page.inner_text("table.checks")
    # The four filters sit on one row at 1366 px.
    labels = page.query_selector_all(".filters label")
    tops = {round(label.bounding_box()["y"]) for label in labels}
    assert len(tops) == 1, tops

    link.click()
    page.wait_for_load_state("networkidle")
    assert page.url.endswith(f"/monitors/{world['down'].pk}")
    assert page.inner_text("h1").startswith(SCRIPT_NAME)
    page.get_by_role("link", name=f"{SCRIPT_NAME} : connexion refusée").click()
    page.wait_for_load_state("networkidle")

    incident = world["incident"]
    assert page.url.endswith(f"/incidents/{incident.pk}")
    timeline = page.inner_text("ul.timeline")
    assert "ouvert: connexion refusée" in timeline
    assert "notifié" in timeline
    page.get_by_role("button", name="Prendre en compte").click()
    page.wait_for_load_state("networkidle")
    assert "pris en compte" in page.inner_text("ul.timeline")
    assert page.get_by_role("button", name="Prendre en compte").count() == 0

    incident.refresh_from_db()
    assert (incident.state, incident.acknowledged_by) == (
        Incident.State.ACKNOWLEDGED,
        world["user"],
    )
    # Past L2's delay and the re-notification period: nobody else is paged.
    Incident.objects.escalate_due(timezone.now() + timedelta(hours=2))
    incident.refresh_from_db()
    assert incident.current_level == 1
    assert not Notification.objects.filter(key__contains=":L2:").exists()
    assert dialogs == []

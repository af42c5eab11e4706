import os
import shutil

import pytest

from rotation import schedule
from rotation.tests.factories import MembershipFactory
from tests.factories import UserFactory

pytestmark = pytest.mark.browser

CHROMIUM = "/usr/bin/chromium"


@pytest.fixture
def browser_page():
    if not shutil.which(CHROMIUM) and not os.environ.get("VIGIE_REQUIRE_BROWSER"):
        pytest.skip("chromium is not installed")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
            ],
        )
        page = browser.new_page(locale="fr-FR")
        page.console_errors = []
        page.on(
            "console", lambda m: page.console_errors.append(m.text) if m.type == "error" else None
        )
        yield page
        browser.close()


@pytest.fixture
def camille(transactional_db, settings, team):
    # Before the browser starts: Playwright's event loop forbids the ORM in this thread.
    settings.SESSION_COOKIE_SECURE = settings.CSRF_COOKIE_SECURE = False
    camille = MembershipFactory(
        team=team, user=UserFactory(username="camille", first_name="Camille")
    )
    schedule.generate(team)
    return camille


def test_home_and_calendar_render_under_the_strict_csp(live_server, camille, browser_page):
    page = browser_page
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=username]", camille.user.username)
    page.fill("input[name=password]", "correct horse battery staple")
    page.press("input[name=password]", "Enter")
    page.wait_for_load_state("networkidle")
    assert "De vigie : Camille" in page.inner_text(".topbar")
    page.click(".topbar a.watch-badge")
    page.wait_for_load_state("networkidle")
    assert page.locator(".calendar .vigie").count() > 0
    assert not [e for e in page.console_errors if "Content Security Policy" in e]

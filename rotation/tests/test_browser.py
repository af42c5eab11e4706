import pytest

from rotation import schedule
from rotation.tests.factories import MembershipFactory
from tests.factories import UserFactory

pytestmark = pytest.mark.browser


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

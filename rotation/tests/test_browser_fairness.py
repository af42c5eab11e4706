"""The fairness form in French, in a real browser: its date inputs show ISO values, so both
buttons submit (a dd/mm/yyyy value leaves a type=date input empty and blocks the form)."""

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


def test_the_fairness_form_shows_and_exports_in_french(live_server, camille, browser_page):
    page = browser_page
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=username]", "camille")
    page.fill("input[name=password]", "correct horse battery staple")
    page.press("input[name=password]", "Enter")
    page.wait_for_load_state("networkidle")
    page.goto(f"{live_server.url}/rotation/core/fairness/")
    assert page.locator("html").get_attribute("lang") == "fr"
    # The default period is filled in: the browser read the server's values.
    assert page.input_value("input[name=start]") != ""
    assert page.input_value("input[name=end]") != ""

    page.fill("input[name=start]", "2026-01-05")
    page.click("button:has-text('Afficher')")
    page.wait_for_load_state("networkidle")
    assert "start=2026-01-05" in page.url
    # Rendered back by the French page, the value is still one the input keeps.
    assert page.input_value("input[name=start]") == "2026-01-05"
    assert "Camille" in page.inner_text("table")

    with page.expect_download() as download:
        page.click("button:has-text('Exporter en CSV')")
    assert download.value.suggested_filename.startswith("vigie-core-2026-01-05-")

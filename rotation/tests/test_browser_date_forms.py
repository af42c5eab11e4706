"""The absence and override forms in French, in a real browser: their date and datetime inputs
take and show ISO values, so what the vigie typed is still there after an error and the forms
submit (a dd/mm/yyyy value leaves a date input empty)."""

from datetime import timedelta

import pytest

from rotation import schedule
from rotation.models import Absence, Override, Shift
from rotation.tests.factories import MembershipFactory
from tests.factories import UserFactory

pytestmark = pytest.mark.browser


@pytest.fixture
def world(transactional_db, settings, team):
    # Before the browser starts: Playwright's event loop forbids the ORM in this thread.
    settings.SESSION_COOKIE_SECURE = settings.CSRF_COOKIE_SECURE = False
    camille, dominique = (
        MembershipFactory(team=team, user=UserFactory(username=name.lower(), first_name=name))
        for name in ("Camille", "Dominique")
    )
    schedule.generate(team)
    watch = Shift.objects.filter(team=team, membership=dominique).order_by("start").first()
    return camille, dominique, team.local(watch.start)


def _log_in(page, url):
    page.goto(f"{url}/accounts/login/")
    page.fill("input[name=username]", "camille")
    page.fill("input[name=password]", "correct horse battery staple")
    with page.expect_navigation():
        page.press("input[name=password]", "Enter")
    assert "/accounts/login/" not in page.url


def test_an_absence_is_declared_in_french(live_server, world, browser_page):
    camille, _dominique, watch_start = world
    page = browser_page
    _log_in(page, live_server.url)
    page.goto(f"{live_server.url}/rotation/core/members/")
    assert page.locator("html").get_attribute("lang") == "fr"
    first = (watch_start + timedelta(days=3)).date().isoformat()
    last = (watch_start + timedelta(days=4)).date().isoformat()
    # Reversed first: the French page answers with its message and keeps both values.
    page.fill("input[name=start]", last)
    page.fill("input[name=end]", first)
    page.click("form:has(input[name=start]) button[type=submit]")
    page.wait_for_load_state("networkidle")
    assert "Le dernier jour précède le premier." in page.content()
    assert (page.input_value("input[name=start]"), page.input_value("input[name=end]")) == (
        last,
        first,
    )
    page.fill("input[name=start]", first)
    page.fill("input[name=end]", last)
    page.click("form:has(input[name=start]) button[type=submit]")
    page.wait_for_load_state("networkidle")
    assert "Absence enregistrée" in page.content()
    absence = Absence.objects.get()
    assert absence.membership == camille
    assert camille.team.local(absence.start).date().isoformat() == first


def test_an_override_is_created_in_french(live_server, world, browser_page):
    camille, dominique, watch_start = world
    page = browser_page
    _log_in(page, live_server.url)
    page.goto(f"{live_server.url}/rotation/core/overrides/new")
    assert page.locator("html").get_attribute("lang") == "fr"
    start = watch_start + timedelta(days=1)
    page.select_option("select[name=membership]", str(camille.pk))
    page.fill("input[name=start]", start.strftime("%Y-%m-%dT%H:%M"))
    page.fill("input[name=end]", (start + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M"))
    page.click("form:has(input[name=start]) button[type=submit]")
    page.wait_for_load_state("networkidle")
    assert f"{camille.name} remplace du" in page.content()
    override = Override.objects.get()
    assert (override.membership, override.covered) == (camille, dominique)
    assert override.start == start

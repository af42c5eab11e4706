"""The detail panel in Debian's chromium (issue 14): one live region for the board, the focus on
the panel's heading, Escape back to the row; the panel's forms keep the board; past a page of
items no update goes to a row the board does not show."""

from datetime import timedelta

import pytest
from django.utils import timezone

from rotation.tests.factories import MembershipFactory
from tests.factories import UserFactory
from triage.models import Action
from triage.tests.factories import ItemFactory, SourceFactory
from triage.tests.test_browser import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# htmx's own report of an out-of-band update whose target is not on the page.
LISTEN = """() => { window.oobMissing = [];
  document.body.addEventListener("htmx:oobErrorNoTarget",
    (e) => window.oobMissing.push(e.detail.content && e.detail.content.id)); }"""


@pytest.fixture
def items(db):
    """More than a page of unqualified items, newest first, on a source that takes comments."""
    source = SourceFactory(name="prod")
    MembershipFactory(team=source.team, user=UserFactory(username="vigie"))
    now = timezone.now()
    return [
        ItemFactory(source=source, title=f"Erreur numéro {n}", last_seen=now - timedelta(hours=n))
        for n in range(30)
    ]


@pytest.fixture
def board_page(browser_page, live_server, items):
    """The board, logged in, counting htmx's out-of-band updates that found no target."""
    log_in(browser_page, live_server)
    browser_page.evaluate(LISTEN)
    return browser_page


def open_detail(page, item):
    page.locator(f'tr[data-item-id="{item.pk}"] a.item-title').click()
    page.locator(f'#item-detail article[data-item-id="{item.pk}"]').wait_for()


def test_the_panel_takes_the_focus_is_named_once_and_escape_goes_back_to_the_row(
    browser_page, live_server, items
):
    page = browser_page
    log_in(page, live_server)
    assert page.locator("[aria-live]").count() == 1  # board-live, and not the panel

    open_detail(page, items[2])

    assert page.evaluate("document.activeElement.id") == "item-detail-title"
    page.locator("#board-live", has_text="Détail de Erreur numéro 2").wait_for(state="attached")
    assert page.locator("#item-detail").get_attribute("aria-live") is None
    assert page.url.endswith(f"/board/items/{items[2].pk}")

    page.keyboard.press("Escape")

    assert page.locator("#item-detail article").count() == 0
    assert page.evaluate("document.activeElement.dataset.itemId") == str(items[2].pk)
    assert page.url.endswith("/board")
    assert page.console_errors == []


def test_a_comment_from_the_panel_keeps_the_board_and_is_announced(board_page, items):
    page = board_page
    open_detail(page, items[1])

    page.fill("#item-comment", "Vu avec l’équipe.")
    page.locator("#item-detail").get_by_role("button", name="Commenter", exact=True).click()

    flash = page.locator("#item-detail .flash")
    flash.wait_for()
    page.locator("#board-live", has_text=flash.inner_text()).wait_for(state="attached")
    assert page.locator("table.board tr[data-item-id]").count() == 25  # still on the board
    # Its row was answered in place too.
    page.locator(f'tr[data-item-id="{items[1].pk}"] .flash', has_text="Commentaire").wait_for()
    assert page.evaluate("document.activeElement.id") == "item-detail-title"
    assert Action.objects.filter(item=items[1], action="comment").count() == 1
    assert page.evaluate("window.oobMissing") == []
    assert page.console_errors == []


def test_after_an_action_past_a_page_no_update_targets_a_missing_row(board_page, items):
    page = board_page

    # Qualified, the first row leaves the first page and the 26th item comes onto it, though
    # the board on screen does not show it.
    row = page.locator(f'tr[data-item-id="{items[0].pk}"]')
    row.get_by_role("button", name="Temporaire", exact=True).click()
    page.locator("#board-counts", has_text="29 éléments non qualifiés").wait_for()
    page.wait_for_load_state("networkidle")

    assert page.evaluate("window.oobMissing") == []
    assert page.console_errors == []


def test_on_the_detail_page_a_refused_link_is_shown_and_read_out(browser_page, live_server, items):
    page = browser_page
    log_in(page, live_server)
    page.goto(f"{live_server.url}/board/items/{items[0].pk}")

    page.fill("#item-link", "pas un numéro")
    page.get_by_role("button", name="Lier", exact=True).click()

    flash = page.locator("#item-detail .flash.bad")
    flash.wait_for()
    page.locator("#board-live", has_text=flash.inner_text()).wait_for(state="attached")
    assert page.url.endswith(f"/board/items/{items[0].pk}")
    # Only chromium's own line for the refusal's status, no htmx error.
    assert [e for e in page.console_errors if "status of 422" not in e] == []

"""The bulk bar in Debian's chromium: a shift-click selects a range, Attendu qualifies each
selected row in place, and the counts line follows at once."""

import pytest

from triage.models import Action, Item
from triage.tests.factories import ItemFactory
from triage.tests.test_browser import log_in, vigie  # noqa: F401 (vigie: the fixture)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_shift_click_selects_a_range_and_attendu_qualifies_each_row(
    browser_page,
    live_server,
    vigie,  # noqa: F811 (the fixture imported above)
):
    page = browser_page
    items = ItemFactory.create_batch(5, source=vigie)  # shown in this order (newest first)
    log_in(page, live_server)
    counts_asked = []
    page.on("request", lambda r: counts_asked.append(r.url) if "/board/counts" in r.url else None)
    bar = page.locator("#bulk-form")
    expected = bar.get_by_role("button", name="Attendu", exact=True)
    assert expected.get_attribute("aria-describedby") == "bulk-count"
    assert expected.is_disabled()
    assert bar.locator("#bulk-count output").inner_text() == "0"

    def box(item):
        return page.locator(f'tr[data-item-id="{item.pk}"] input[name=items]')

    page.keyboard.press("j")
    page.keyboard.press("x")  # the keyboard's tick, on the focused first row
    box(items[2]).click(modifiers=["Shift"])
    ticked = [box(item).is_checked() for item in items]
    assert ticked == [True, True, True, False, False]
    assert bar.locator("#bulk-count output").inner_text() == "3"
    assert expected.is_enabled()
    # The page's checkbox shows a part of the page is selected.
    assert page.evaluate("document.getElementById('bulk-all').indeterminate") is True

    expected.click()
    page.locator("#bulk-result", has_text="appliqué à 3 éléments sur 3").wait_for()
    for item in items[:3]:
        row = page.locator(f'tr[data-item-id="{item.pk}"]')
        assert "Ignoré tant qu'il reste sous 10 occurrences" in row.locator(".flash").inner_text()
        assert row.locator(".badge.state-expected").count() == 1
    page.locator("#board-counts", has_text="2 éléments non qualifiés").wait_for()
    page.wait_for_function(
        "() => document.getElementById('board-live').textContent.includes('appliqué à 3')"
    )
    # Focus on the first row answered; the rows come back unticked: nothing is selected.
    assert page.evaluate("document.activeElement.dataset.itemId") == str(items[0].pk)
    assert bar.locator("#bulk-count output").inner_text() == "0"
    assert expected.is_disabled()

    states = dict(Item.objects.values_list("pk", "qualification"))
    assert states == {
        items[0].pk: "expected",
        items[1].pk: "expected",
        items[2].pk: "expected",
        items[3].pk: "",
        items[4].pk: "",
    }
    assert Action.objects.filter(action="expected", upstream_ok=True).count() == 3

    # A row's own button refreshes the counts line too, once.
    page.locator(f'tr[data-item-id="{items[3].pk}"]').get_by_role(
        "button", name="Temporaire", exact=True
    ).click()
    page.locator("#board-counts", has_text="1 élément non qualifié").wait_for()
    assert len(counts_asked) == 2

    page.locator("#bulk-all").click()
    assert all(box(item).is_checked() for item in items)
    assert bar.locator("#bulk-count output").inner_text() == "5"
    assert page.console_errors == []

"""Real clicks in Debian's chromium: the row swaps in place and the state is persisted."""

import pytest

from rotation.tests.factories import MembershipFactory
from tests.factories import UserFactory
from triage.models import Action, Item, Source
from triage.sync import sync_source
from triage.tests.factories import ItemFactory, SourceFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "correct horse battery staple"


@pytest.fixture
def vigie(db, flaky_backend):
    # A source standing for a real upstream (Bug opens on the fake GitHub), not the demo's.
    source = SourceFactory(name="prod")
    user = UserFactory(username="vigie")
    MembershipFactory(team=source.team, user=user)
    return source


def log_in(page, live_server, username="vigie"):
    page.goto(f"{live_server.url}/accounts/login/?next=/board")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("form button[type=submit]:not(.link)")
    page.wait_for_url("**/board")


def click(page, item, label):
    """Click a row's button and wait until the server's row has replaced it."""
    selector = f'tr[data-item-id="{item.pk}"]'
    page.locator(selector).evaluate("row => { row.dataset.stale = 'yes'; }")
    page.locator(selector).get_by_role("button", name=label, exact=True).click()
    swapped = page.locator(f"{selector}:not([data-stale])")
    swapped.locator(".flash").wait_for()
    return swapped


def test_each_button_writes_and_swaps_its_row(browser_page, live_server, vigie, fake_github):
    page = browser_page
    temporary, bug, expected, resolved = ItemFactory.create_batch(4, source=vigie)
    log_in(page, live_server)

    row = click(page, temporary, "Temporaire")
    assert "Ignoré jusqu'à la prochaine occurrence." in row.inner_text()
    row = click(page, expected, "Attendu")
    assert "10 occurrences en 10080 minutes" in row.inner_text()
    row = click(page, resolved, "Résolu")
    assert "Résolu." in row.inner_text()
    row = click(page, bug, "Bug")
    assert row.locator("a.github-link").get_attribute("href").endswith("/issues/1")
    row = click(page, temporary, "Annuler")
    assert "non qualifié" in row.inner_text()

    states = dict(Item.objects.values_list("pk", "qualification"))
    assert states == {
        temporary.pk: "",
        bug.pk: "bug",
        expected.pk: "expected",
        resolved.pk: "resolved",
    }
    assert len(fake_github.issues("acme/app")) == 1
    assert Action.objects.filter(upstream_ok=True).count() == 5
    # The swapped rows stay where they were: nothing moved under the reader.
    order = page.locator("tr[data-item-id]").evaluate_all(
        "rows => rows.map(r => Number(r.dataset.itemId))"
    )
    assert order == [temporary.pk, bug.pk, expected.pk, resolved.pk]


def test_the_chosen_threshold_is_sent(browser_page, live_server, vigie):
    page = browser_page
    item = ItemFactory(source=vigie)
    log_in(page, live_server)
    row = page.locator(f'tr[data-item-id="{item.pk}"]')
    row.locator("details.threshold summary").click()
    # Past the month Vigie counts over: refused, with the longest it takes.
    row.locator("input[name=ignore_window]").fill("50000")
    row = click(page, item, "Attendu")
    assert "30 jours" in row.inner_text()
    assert Item.objects.get().qualification == ""
    page.locator(f'tr[data-item-id="{item.pk}"] details.threshold summary').click()
    page.locator(f'tr[data-item-id="{item.pk}"] input[name=ignore_window]').fill("60")
    click(page, item, "Attendu")
    assert Item.objects.get().qualification_params == {"ignoreCount": 10, "ignoreWindow": 60}


def test_hostile_titles_do_not_run(browser_page, live_server, vigie):
    page = browser_page
    dialogs = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    script = "<script>window.__pwned = 1; alert('script')</script>"
    image = "<img src=x onerror=\"window.__pwned = 2; alert('img')\">"
    ItemFactory(source=vigie, title=script, origin=image)
    ItemFactory(source=vigie, title=image, origin=script)
    log_in(page, live_server)

    titles = page.locator(".item-title").all_inner_texts()
    assert sorted(titles) == sorted([script, image])
    assert page.locator("td.title img").count() == 0
    assert page.evaluate("window.__pwned") is None
    assert dialogs == []


def test_buttons_are_disabled_while_github_answers_and_one_issue_opens(
    browser_page, live_server, vigie, fake_github
):
    page = browser_page
    item = ItemFactory(source=vigie)
    fake_github.slow_create = 1.5
    log_in(page, live_server)
    selector = f'tr[data-item-id="{item.pk}"]'
    page.locator(selector).get_by_role("button", name="Bug", exact=True).click()
    page.locator(f"{selector} fieldset[disabled]").wait_for()
    # A second submit of the same row while the first runs (what a double click sends).
    page.locator(f"{selector} form").evaluate("form => htmx.trigger(form, 'submit')")
    page.locator(f"{selector} a.github-link").wait_for()
    assert len(fake_github.issues("acme/app")) == 1
    assert Item.objects.get().qualification == "bug"


def test_a_small_request_is_taken_then_closed_on_github_with_the_typed_comment(
    browser_page, live_server, fake_github
):
    page = browser_page
    team_source = SourceFactory(name="prod")
    user = UserFactory(username="vigie")
    MembershipFactory(team=team_source.team, user=user, profile__github_login="camille-m")
    fake_github.add_collaborator("acme/app", "camille-m")
    fake_github.add_issue("acme/app", "Le lien <b>Aide</b> est cassé", labels=["vigie"])
    source = Source.objects.create(
        kind="github", name="asks", team=team_source.team, scopes=["acme/app"]
    )
    sync_source(source.pk)
    item = Item.objects.get(source=source)
    log_in(page, live_server)

    row = click(page, item, "Je prends")
    assert "Assignée à @camille-m sur GitHub." in row.inner_text()
    assert "assignée à camille-m" in row.inner_text()
    row.locator("details.comment summary").click()
    row.locator("textarea[name=comment]").fill("Lien corrigé dans le pied de page.")
    row = click(page, item, "Fait")
    assert "Fermée sur GitHub." in row.inner_text()

    upstream = fake_github.issue("acme/app", 1)
    assert upstream["state"] == "closed"
    assert [a["login"] for a in upstream["assignees"]] == ["camille-m"]
    (comment,) = fake_github.comments("acme/app", 1)
    assert comment["body"].startswith("Lien corrigé dans le pied de page.")
    assert row.locator("b").count() == 0  # the title's markup stays text


def test_a_title_opens_the_detail_beside_the_list(browser_page, live_server, vigie):
    page = browser_page
    page.set_viewport_size({"width": 1366, "height": 768})
    others = ItemFactory.create_batch(3, source=vigie)
    item = ItemFactory(source=vigie, title="KeyError: 'rdv' <script>window.__pwned = 1</script>")
    log_in(page, live_server)

    page.locator(f'tr[data-item-id="{item.pk}"] a.item-title').click()
    panel = page.locator("#item-detail .item-detail")
    panel.wait_for()
    assert page.url.endswith(f"/board/items/{item.pk}")
    text = panel.inner_text()
    assert "Pile d’appels" in text and "return total / count" in text
    assert "Firefox 133" in text
    assert "<script>" in panel.locator("h2").inner_text()
    assert page.evaluate("window.__pwned") is None
    # Beside the list, both in view: the rows stay where they were.
    table, aside = page.locator("#board").bounding_box(), panel.bounding_box()
    assert aside["x"] >= table["x"] + table["width"]
    assert aside["x"] + aside["width"] <= 1366
    assert page.locator("tr[data-item-id]").count() == len(others) + 1
    assert page.console_errors == []


def test_the_keyboard_moves_qualifies_and_announces(browser_page, live_server, vigie):
    page = browser_page
    first, second = ItemFactory.create_batch(2, source=vigie)
    log_in(page, live_server)
    live = page.locator("#board-live")

    page.keyboard.press("j")
    page.keyboard.press("j")
    focused = "document.activeElement.dataset.itemId"
    assert page.evaluate(focused) == str(second.pk)
    page.keyboard.press("k")
    assert page.evaluate(focused) == str(first.pk)
    page.keyboard.press("t")
    page.wait_for_function(
        "() => document.getElementById('board-live').textContent.includes('Ignoré')"
    )
    assert live.get_attribute("role") == "status"
    # Focus stays on the row the action swapped.
    assert page.evaluate(focused) == str(first.pk)
    assert Item.objects.get(pk=first.pk).qualification == "temporary"
    page.keyboard.press("o")
    page.locator("#item-detail .item-detail").wait_for()
    page.keyboard.press("?")
    assert page.locator("#board-keys").evaluate("d => d.open")
    assert page.console_errors == []

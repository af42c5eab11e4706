"""The Règles page in Debian's chromium, in French: a manager goes there from the board,
writes a tag rule (its key asked for), sees it take a new Sentry issue at the next sync, edits
it and retires it through the confirmation; a plain member reads the rules without the
manager's links."""

import pytest

from rotation.models import Membership
from rotation.tests.factories import MembershipFactory
from tests.factories import UserFactory
from triage.models import Item, QualificationRule
from triage.sync import sync_source
from triage.tests.test_browser import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def people(team):
    """A manager, "cheffe", and a plain member, "vigie", of the source's team."""
    MembershipFactory(team=team, user=UserFactory(username="cheffe"), role=Membership.Role.MANAGER)
    MembershipFactory(team=team, user=UserFactory(username="vigie"))


def test_a_manager_writes_edits_and_retires_a_tag_rule(
    browser_page, live_server, fake_sentry, sentry_source, people
):
    page = browser_page
    log_in(page, live_server, "cheffe")
    page.get_by_role("link", name="Règles", exact=True).click()
    page.wait_for_url("**/board/rules")

    page.get_by_text("Nouvelle règle", exact=True).click()
    page.get_by_label("Nom").fill("Webhooks entrants")
    # The tag key is asked for once the rule is matched on a tag.
    assert page.get_by_label("Clé du tag").is_hidden()
    page.get_by_label("Porte sur").select_option("tag")
    assert page.get_by_label("Clé du tag").is_visible()
    page.get_by_label("Correspondance").select_option("regex")
    page.get_by_label("Motif").fill("^Webhooks")
    page.get_by_label("Qualification").select_option(label="Attendu")
    page.get_by_role("button", name="Créer la règle").click()
    # No key: the form comes back open, saying what is missing.
    page.get_by_text("Nommez le tag dont la valeur est comparée").wait_for()
    assert not QualificationRule.objects.exists()
    page.get_by_label("Clé du tag").fill("transaction")
    page.get_by_role("button", name="Créer la règle").click()
    page.get_by_text("Règle Webhooks entrants enregistrée").wait_for()
    rule = QualificationRule.objects.get()
    row = page.locator(f"#rule-{rule.pk}")
    assert "<code>transaction</code>" in row.inner_html()
    assert row.locator("td.num").first.inner_text() == "0"

    taken = fake_sentry.add_issue(
        title="JSON::ParserError: unexpected token",
        _tags={"transaction": ["WebhooksController#create"]},
    )
    fake_sentry.add_issue(
        title="JSON::ParserError: elsewhere", _tags={"transaction": ["Home#index"]}
    )
    sync_source(sentry_source.pk)
    assert Item.objects.get(rule=rule).external_id == taken["id"]
    page.reload()
    assert row.locator("td.num").first.inner_text() == "1"

    row.get_by_role("link", name="Modifier").click()
    page.get_by_label("Motif").fill("^WebhooksController#")
    page.get_by_role("button", name="Enregistrer").click()
    page.get_by_text("Règle Webhooks entrants modifiée").wait_for()
    rule.refresh_from_db()
    assert (rule.pattern, rule.tag_key) == ("^WebhooksController#", "transaction")

    page.locator(f"#rule-{rule.pk}").get_by_role("link", name="Retirer").click()
    page.get_by_role("heading", name="Retirer la règle Webhooks entrants ?").wait_for()
    rule.refresh_from_db()
    assert rule.retired_at is None  # asked, not done yet
    page.get_by_role("button", name="Retirer la règle").click()
    page.get_by_text("Règle Webhooks entrants retirée").wait_for()
    assert "retirée le" in page.locator(f"#rule-{rule.pk}").inner_text()
    rule.refresh_from_db()
    assert rule.retired_by.username == "cheffe"
    # The refused form's 422 is the browser's only complaint.
    assert page.console_errors == [
        "Failed to load resource: the server responded with a status of 422 (Unprocessable Entity)"
    ]


def test_a_member_reads_the_rules_without_the_managers_links(
    browser_page, live_server, team, people
):
    rule = QualificationRule.objects.create(
        team=team, name="Niveau info", field="level", pattern="info", qualification="temporary"
    )
    page = browser_page
    log_in(page, live_server, "vigie")
    page.get_by_role("link", name="Règles", exact=True).click()
    row = page.locator(f"#rule-{rule.pk}")
    row.wait_for()
    assert "Niveau info" in row.inner_text() and "active" in row.inner_text()
    assert row.get_by_role("link", name="Modifier").count() == 0
    assert row.get_by_role("link", name="Retirer").count() == 0
    assert page.console_errors == []

"""In the demo, **Bug** works: it opens an issue in the demo's local tracker (a page of Vigie
showing the body GitHub would have received), and every demo write says "(démo)", never
"sur GitHub". Nothing reaches the network."""

import re
from datetime import timedelta
from urllib.parse import urljoin

import pytest
from django.urls import reverse
from django.utils import timezone

from rotation.models import Profile, Team
from tests.factories import UserFactory
from triage import demo, handover
from triage.models import Action, DemoIssue, Item

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def no_network(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("the demo called the network")

    monkeypatch.setattr("vigie.http.request", refuse)


@pytest.fixture
def loaded(admin_user):
    # The demo's admin, as `manage.py demo` makes it: no one fills its profile by hand.
    Team.objects.create(slug="demo", name="Démo")
    demo.load()
    return Item.objects.filter(source__name="demo")


def click(client, item, action, key, **params):
    response = client.post(
        reverse("triage:qualify-item", args=[item.pk]),
        {"action": action, "key": key, **params},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200, response.content.decode()[:500]
    return response.content.decode()


def flash(page):
    """The row's message after an action."""
    return re.search(r'<p class="flash[^"]*">(.*?)</p>', page, re.S).group(1)


def unqualified(items, kind=Item.Kind.ISSUE):
    return items.filter(kind=kind, qualification="", came_back=False).order_by("pk")


def test_bug_opens_an_issue_in_the_demo_tracker(loaded, admin_client):
    item = unqualified(loaded).first()
    page = click(admin_client, item, "bug", "k1")
    assert flash(page) == "Issue ouverte dans le suivi de démo (démo)."
    item.refresh_from_db()
    issue = DemoIssue.objects.get(title__contains=item.short_id)
    assert item.qualification == "bug"
    assert item.github_issue_url == f"/demo/issues/{issue.pk}"
    # The body Bug wrote for GitHub: its marker, the item's facts, the top of the stack trace.
    assert f"<!-- vigie:item:demo:{item.external_id} -->" in issue.body
    assert item.payload["frames"][0]["filename"] in issue.body
    assert "**Events:**" in issue.body and "### Tags" in issue.body

    shown = admin_client.get(reverse("triage:demo-issue", args=[issue.pk])).content.decode()
    # Exactly as sent: the raw Markdown (escaped), marker included, and its rendering.
    assert "&lt;!-- vigie:item:demo:" in shown
    assert "<strong>Events:</strong>" in shown
    listed = admin_client.get(reverse("triage:demo-issues")).content.decode()
    assert f'href="/demo/issues/{issue.pk}"' in listed


def test_a_retried_bug_finds_its_demo_issue_instead_of_opening_another(loaded, admin_client):
    item = unqualified(loaded).first()
    click(admin_client, item, "bug", "k1")
    # The answer was lost: the issue exists, the item does not know it yet.
    Action.objects.filter(item=item, action="bug").update(upstream_ok=False)
    Item.objects.filter(pk=item.pk).update(
        github_issue_url="", qualification="", writeback_state=Item.Writeback.FAILED
    )
    before = DemoIssue.objects.count()
    click(admin_client, item, "retry", "k2")
    assert DemoIssue.objects.count() == before
    item.refresh_from_db()
    assert item.qualification == "bug" and item.github_issue_url.endswith(
        f"/demo/issues/{DemoIssue.objects.order_by('-pk').first().pk}"
    )


def test_every_demo_write_says_it_is_a_demo_write(loaded, admin_client):
    issues = list(unqualified(loaded)[:4])
    request = unqualified(loaded, Item.Kind.REQUEST).first()
    said = [
        click(admin_client, issues[0], "temporary", "a"),
        click(admin_client, issues[0], "undo", "b"),
        click(admin_client, issues[1], "expected", "c"),
        click(admin_client, issues[2], "resolved", "d"),
        click(admin_client, issues[3], "assign", "e"),
        click(admin_client, issues[3], "comment", "f", comment="Vu pendant la démo"),
        click(admin_client, request, "take", "g"),
        click(admin_client, request, "done", "h"),
        click(admin_client, request, "undo", "i"),
        click(admin_client, request, "too_big", "j"),
    ]
    for page in said:
        assert flash(page).endswith("(démo)."), flash(page)
        assert "GitHub" not in flash(page)


def test_link_in_the_demo_reads_the_demo_tracker(loaded, admin_client):
    first, second = unqualified(loaded)[:2]
    click(admin_client, first, "bug", "a")
    number = DemoIssue.objects.order_by("-pk").first().pk
    page = click(admin_client, second, "link", "b", link=str(number))
    assert flash(page) == f"Liée à l’issue de démo demo/rdv-solidarites#{number} (démo)."
    second.refresh_from_db()
    assert second.github_issue_url.endswith(f"/demo/issues/{number}")

    third = unqualified(loaded).first()
    response = admin_client.post(
        reverse("triage:qualify-item", args=[third.pk]),
        {"action": "link", "key": "c", "link": "9999"},
        headers={"HX-Request": "true"},
    )
    assert "le suivi de démo n’a pas d’issue n°9999" in flash(response.content.decode())


def test_the_demo_bug_already_qualified_has_its_demo_issue(loaded, admin_client):
    bug = loaded.get(qualification="bug")
    assert "/demo/issues/" in bug.github_issue_url
    page = admin_client.get(f"/board/items/{bug.pk}").content.decode()
    assert "Issue de démo" in page
    demo.load()  # idempotent: no second issue for it
    assert DemoIssue.objects.filter(body__contains=f":{bug.external_id} -->").count() == 1


def test_the_demo_tracker_is_for_the_team_that_sees_the_demo(loaded, admin_client, client):
    click(admin_client, unqualified(loaded).first(), "bug", "a")
    issue = DemoIssue.objects.order_by("-pk").first()
    client.force_login(UserFactory())
    assert client.get(reverse("triage:demo-issue", args=[issue.pk])).status_code == 404
    assert issue.title not in client.get(reverse("triage:demo-issues")).content.decode()


def test_the_demo_detail_has_both_charts(loaded, admin_client):
    item = unqualified(loaded).first()
    page = admin_client.get(f"/board/items/{item.pk}").content.decode()
    assert page.split('id="chart-24h"')[1].split("</figure>")[0].count("<rect ") == 24
    assert page.split('id="chart-30d"')[1].split("</figure>")[0].count("<rect ") == 30
    # Its forms say where their writes go: nowhere but the demo.
    assert "Issue de démo existante (numéro)" in page and "envoyé nulle part" in page
    assert f"<dt>utilisateurs</dt><dd>{item.user_count}</dd>" in page


def test_the_demo_board_and_detail_name_the_demo_never_github(loaded, admin_client):
    request = unqualified(loaded, Item.Kind.REQUEST).first()
    click(admin_client, request, "done", "a")
    board = admin_client.get("/board").content.decode()
    assert "Commentaire joint à Fait ou Trop gros (démo : envoyé nulle part" in board
    qualified = admin_client.get("/board?state=qualified").content.decode()
    # The bug the demo loads has its issue in the demo tracker; Done closed nothing on GitHub.
    assert "Issue de démo" in qualified and "fermée (démo)" in qualified
    detail = admin_client.get(f"/board/items/{request.pk}").content.decode()
    # Demo items have no page upstream: no link that would lead nowhere.
    assert "Page d’exemple" not in detail and "Ouvrir à la source" not in detail
    assert '<span class="ok">enregistré (démo)</span>' in detail  # its action log
    bug = admin_client.get(f"/board/items/{loaded.get(qualification='bug').pk}").content.decode()
    for page in (board, qualified, detail, bug):
        for claim in ("sur GitHub", "on GitHub", "Issue GitHub", "dans Sentry", "confirmé"):
            assert claim not in page


def test_a_wrong_link_in_the_demo_asks_for_a_demo_issue(loaded, admin_client):
    response = admin_client.post(
        reverse("triage:qualify-item", args=[unqualified(loaded).first().pk]),
        {"action": "link", "key": "a", "link": "not a number"},
        headers={"HX-Request": "true"},
    )
    assert flash(response.content.decode()) == (
        "Donnez le numéro de l’issue de démo (sa page dans le suivi de démo)."
    )


def test_real_sources_still_say_github_and_sentry(admin_client):
    from triage.tests.factories import ItemFactory, SourceFactory

    sentry = SourceFactory(kind="sentry", name="prod", base_url="https://sentry.example.org")
    bug = ItemFactory(
        source=sentry, qualification="bug", github_issue_url="https://github.com/acme/app/issues/7"
    )
    requests = SourceFactory(kind="github", name="asks", team=sentry.team, scopes=["acme/app"])
    request = ItemFactory(
        source=requests, kind=Item.Kind.REQUEST, permalink="https://github.com/acme/app/issues/8"
    )
    ItemFactory(source=requests, kind=Item.Kind.REQUEST, upstream_status="closed")
    board = admin_client.get("/board?state=all").content.decode()
    assert "Issue GitHub" in board and "fermée sur GitHub" in board
    assert "Commentaire publié sur GitHub avec Fait ou Trop gros" in board
    assert "Ouvrir sur GitHub" in admin_client.get(f"/board/items/{request.pk}").content.decode()
    assert "Issue GitHub" in admin_client.get(f"/board/items/{bug.pk}").content.decode()
    assert "(démo)" not in board


def test_assign_without_a_sentry_account_in_the_demo(loaded, admin_client, admin_user):
    Profile.objects.filter(user=admin_user).update(accounts={})
    response = admin_client.post(
        reverse("triage:qualify-item", args=[unqualified(loaded).first().pk]),
        {"action": "assign", "key": "a"},
        headers={"HX-Request": "true"},
    )
    message = flash(response.content.decode())
    assert "Renseignez d’abord « Compte Sentry » dans votre profil" in message
    assert "la démo l’attribue" in message


def test_the_bug_link_follows_the_address_vigie_is_served_on(loaded, admin_client, settings):
    # `make run ADDR=127.0.0.1:8111`: the settings still name the default address.
    settings.ALLOWED_HOSTS = ["127.0.0.1"]
    assert settings.VIGIE_BASE_URL == "http://127.0.0.1:8000"
    served = {"Host": "127.0.0.1:8111"}
    item = unqualified(loaded).first()
    row = admin_client.post(
        reverse("triage:qualify-item", args=[item.pk]),
        {"action": "bug", "key": "a"},
        headers={"HX-Request": "true", **served},
    ).content.decode()
    link = re.search(r'<a class="github-link" href="([^"]+)"', row).group(1)
    issue = DemoIssue.objects.get(title__contains=item.short_id)
    assert link == f"/demo/issues/{issue.pk}" and ":8000" not in row
    # Followed from the page it is on, the link reaches the issue on that address.
    page = admin_client.get(urljoin("http://127.0.0.1:8111/board", link), headers=served)
    assert page.status_code == 200 and f"#{issue.number} [{item.short_id}]" in page.content.decode()
    detail = admin_client.get(f"/board/items/{item.pk}", headers=served).content.decode()
    assert f'<a class="github-link" href="{link}"' in detail
    # The handover links it the same way.
    team, now = Team.objects.get(slug="demo"), timezone.now()
    opened = handover.bugs_opened(team, now - timedelta(hours=1), now + timedelta(hours=1))
    assert [row["url"] for row in opened] == [link]


def test_an_issue_link_is_a_web_address_or_a_demo_issue_page():
    from triage.templatetags.triage_board import issue_url

    assert issue_url("https://github.com/acme/app/issues/7") == (
        "https://github.com/acme/app/issues/7"
    )
    assert issue_url("/demo/issues/3") == "/demo/issues/3"
    for elsewhere in ("/board", "//evil.example/demo/issues/3", "javascript:alert(1)", None):
        assert issue_url(elsewhere) == ""


def test_the_demo_admin_and_members_can_assign_and_take_at_once(admin_user, admin_client):
    team = Team.objects.create(slug="demo", name="Démo")
    member = UserFactory(username="dominique", email="dominique@example.org")
    team.memberships.create(user=member, role="member")
    demo.load()
    items = Item.objects.filter(source__name="demo")
    page = click(admin_client, unqualified(items).first(), "assign", "a")
    assert flash(page) == f"Attribuée à {admin_user.email} (démo)."
    page = click(admin_client, unqualified(items, Item.Kind.REQUEST).first(), "take", "b")
    assert flash(page) == "Assignée à @admin-demo (démo)."
    profile = Profile.of(member)
    assert (profile.account("sentry"), profile.github_login) == (
        "dominique@example.org",
        "dominique-demo",
    )
    # What someone wrote on their profile is theirs: another load keeps it.
    Profile.objects.filter(user=member).update(github_login="dom-b")
    demo.load()
    assert Profile.objects.get(user=member).github_login == "dom-b"


def test_the_demo_issue_page_says_who_opened_it_with_bug(loaded, admin_client, admin_user):
    admin_user.first_name, admin_user.last_name = "Camille", "Martin"
    admin_user.save()
    click(admin_client, unqualified(loaded).first(), "bug", "a")
    issue = DemoIssue.objects.order_by("-pk").first()
    page = admin_client.get(reverse("triage:demo-issue", args=[issue.pk])).content.decode()
    assert "ouverte par Camille Martin avec Bug le" in page
    assert "ouverte par Bug" not in page
    # The bug the demo loads was opened by no one's click.
    loaded_bug = DemoIssue.objects.order_by("pk").first()
    page = admin_client.get(reverse("triage:demo-issue", args=[loaded_bug.pk])).content.decode()
    assert "ouverte par les données de démo le" in page

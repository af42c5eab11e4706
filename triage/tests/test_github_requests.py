"""The GitHub small-request source against the fake GitHub: mirror, Je prends, Fait, Trop gros."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from rotation.models import Profile
from triage import github
from triage.models import Action, Item, Source
from triage.sync import sync_source

pytestmark = pytest.mark.django_db

REPO = "acme/app"


@pytest.fixture
def requests_source(fake_github, source):
    fake_github.add_repo("acme/api")
    return Source.objects.create(
        kind="github",
        name="asks",
        team=source.team,
        scopes=[REPO, "acme/api"],
        base_url=fake_github.url,
    )


@pytest.fixture
def vigie(member, fake_github):
    Profile.objects.filter(user=member).update(github_login="camille-m")
    fake_github.add_collaborator(REPO, "camille-m")
    return member


def stamp(hours_ago):
    return (datetime.now(UTC) - timedelta(hours=hours_ago)).strftime("%Y-%m-%dT%H:%M:%SZ")


def mirrored(fake_github, requests_source, title="Export CSV: ajouter le motif", **fields):
    issue = fake_github.add_issue(REPO, title, labels=["vigie"], **fields)
    sync_source(requests_source.pk)
    return issue, Item.objects.get(external_id=f"{REPO}#{issue['number']}")


def click(client, item, action, key, **extra):
    response = client.post(
        f"/board/items/{item.pk}/qualify",
        {"action": action, "key": key, **extra},
        headers={"HX-Request": "true"},
    )
    item.refresh_from_db()
    return response


def test_mirrors_open_labelled_issues_of_every_repository_and_nothing_else(
    fake_github, requests_source
):
    fake_github.add_issue(
        REPO,
        "Corriger le lien d'aide",
        labels=["vigie", "bug"],
        user="support",
        created_at=stamp(48),
        updated_at=stamp(2),
    )
    fake_github.add_issue("acme/api", "Ajouter un champ", labels=["Vigie"])  # case-insensitive
    fake_github.add_issue(REPO, "Refonte des stats", labels=["roadmap"])
    fake_github.add_issue(REPO, "Déjà fait", labels=["vigie"], state="closed")
    fake_github.add_pull_request(REPO, "Fix the help link", labels=["vigie"])

    run = sync_source(requests_source.pk)

    assert run.error == "" and run.created == 2
    item = Item.objects.get(external_id="acme/app#1")
    assert (item.kind, item.short_id, item.origin) == ("request", "app#1", REPO)
    assert item.upstream_status == "open"
    assert item.permalink == "https://github.example/acme/app/issues/1"
    assert item.payload["author"] == "support" and item.payload["labels"] == ["vigie", "bug"]
    assert item.last_seen > item.first_seen
    assert Item.objects.filter(external_id="acme/api#1").exists()


def test_pages_are_followed_and_a_sync_with_nothing_new_reads_one_page_per_repository(
    fake_github, requests_source, monkeypatch
):
    monkeypatch.setattr(github, "PAGE_SIZE", 2)
    for n in range(5):
        fake_github.add_issue(REPO, f"Demande {n}", labels=["vigie"], updated_at=stamp(10 - n))
    assert sync_source(requests_source.pk).created == 5

    again = sync_source(requests_source.pk)
    assert (again.requests, again.created, again.updated) == (2, 0, 0)
    listed = [path for method, path in fake_github.requests if path.endswith("/issues")]
    assert len(listed) == 3 + 1 + 2  # 3 pages of acme/app, 1 of acme/api, then one each


def test_reconcile_learns_what_left_the_vigie_upstream(fake_github, requests_source):
    for title in ("fermée", "en roadmap", "étiquette retirée", "toujours là"):
        fake_github.add_issue(REPO, title, labels=["vigie"])
    sync_source(requests_source.pk)
    fake_github.issue(REPO, 1)["state"] = "closed"
    fake_github.issue(REPO, 2)["labels"] = [fake_github.add_label(REPO, "roadmap")]
    fake_github.issue(REPO, 3)["labels"] = []
    Source.objects.filter(pk=requests_source.pk).update(last_reconciled_at=None)

    sync_source(requests_source.pk)

    statuses = dict(Item.objects.values_list("external_id", "upstream_status"))
    assert statuses == {
        "acme/app#1": "closed",
        "acme/app#2": "roadmap",
        "acme/app#3": "unlabelled",
        "acme/app#4": "open",
    }


def test_je_prends_assigns_the_vigie_and_github_confirms(
    member_client, vigie, fake_github, requests_source
):
    _issue, item = mirrored(fake_github, requests_source)
    response = click(member_client, item, "take", "k1")
    assert response.status_code == 200
    assert [a["login"] for a in fake_github.issue(REPO, 1)["assignees"]] == ["camille-m"]
    assert (item.qualification, item.assignee) == (Item.Qualification.TAKEN, "camille-m")
    assert "assignée à camille-m" in response.content.decode()


def test_je_prends_with_a_login_github_ignores_fails_visibly_with_a_retry(
    member_client, member, fake_github, requests_source
):
    Profile.objects.filter(user=member).update(github_login="not-a-collaborator")
    _issue, item = mirrored(fake_github, requests_source)
    response = click(member_client, item, "take", "k1")
    page = response.content.decode()
    assert item.writeback_state == Item.Writeback.FAILED and item.qualification == ""
    assert "not-a-collaborator" in page and 'value="retry"' in page
    assert fake_github.issue(REPO, 1)["assignees"] == []

    fake_github.add_collaborator(REPO, "not-a-collaborator")
    click(member_client, item, "retry", "k2")
    assert item.qualification == Item.Qualification.TAKEN


def test_fait_comments_then_closes_and_a_retry_does_not_comment_twice(
    member_client, vigie, fake_github, requests_source
):
    _issue, item = mirrored(fake_github, requests_source)
    fake_github.fail_next("PATCH", r"/repos/acme/app/issues/1", 502)
    click(member_client, item, "done", "k1", comment="Motif ajouté à l'export.")
    assert item.writeback_state == Item.Writeback.FAILED
    assert len(fake_github.comments(REPO, 1)) == 1

    click(member_client, item, "retry", "k2")

    (comment,) = fake_github.comments(REPO, 1)
    assert comment["body"].startswith("Motif ajouté à l'export.")
    assert "<!-- vigie:done:asks:acme/app#1:0 -->" in comment["body"]
    upstream = fake_github.issue(REPO, 1)
    assert (upstream["state"], upstream["state_reason"]) == ("closed", "completed")
    assert (item.qualification, item.upstream_status) == (Item.Qualification.DONE, "closed")
    assert Action.objects.filter(action="done", upstream_ok=True).count() == 1


def test_fait_then_undo_reopens_and_a_second_fait_comments_again(
    member_client, vigie, fake_github, requests_source
):
    _issue, item = mirrored(fake_github, requests_source)
    click(member_client, item, "done", "k1")
    click(member_client, item, "undo", "k2")
    assert fake_github.issue(REPO, 1)["state"] == "open" and item.qualification == ""
    click(member_client, item, "done", "k3")
    bodies = [c["body"] for c in fake_github.comments(REPO, 1)]
    assert len(bodies) == 2 and bodies[0].startswith("Fait pendant la vigie.")


def test_a_request_reopened_after_fait_comes_back(
    member_client, vigie, fake_github, requests_source
):
    _issue, item = mirrored(fake_github, requests_source)
    click(member_client, item, "done", "k1")
    # Someone reopens it on GitHub (an hour ahead: after the qualification, whatever the clocks).
    fake_github.issue(REPO, 1).update(state="open", state_reason="reopened", updated_at=stamp(-1))
    sync_source(requests_source.pk)
    item.refresh_from_db()
    assert item.came_back and item.upstream_status == "open"


def test_trop_gros_swaps_the_label_with_a_comment_and_undo_swaps_it_back(
    member_client, vigie, fake_github, requests_source
):
    _issue, item = mirrored(fake_github, requests_source)
    response = click(member_client, item, "too_big", "k1")
    labels = {label["name"] for label in fake_github.issue(REPO, 1)["labels"]}
    assert labels == {"roadmap"}
    (comment,) = fake_github.comments(REPO, 1)
    assert "Trop gros pour la vigie" in comment["body"]
    assert (item.qualification, item.upstream_status) == (Item.Qualification.TOO_BIG, "roadmap")
    assert "roadmap" in response.content.decode()

    click(member_client, item, "undo", "k2")
    labels = {label["name"] for label in fake_github.issue(REPO, 1)["labels"]}
    assert labels == {"vigie"} and item.qualification == ""


def test_configured_labels_are_used(member_client, vigie, fake_github, requests_source):
    requests_source.options = {"label": "petite-demande", "roadmap_label": "plus-tard"}
    requests_source.save()
    fake_github.add_issue(REPO, "Avec l'autre étiquette", labels=["petite-demande"])
    fake_github.add_issue(REPO, "Avec vigie", labels=["vigie"])
    sync_source(requests_source.pk)
    (item,) = Item.objects.all()
    click(member_client, item, "too_big", "k1")
    assert {label["name"] for label in fake_github.issue(REPO, 1)["labels"]} == {"plus-tard"}


def test_a_refused_token_marks_the_source_and_never_shows_the_token(
    fake_github, requests_source, monkeypatch
):
    monkeypatch.setenv("VIGIE_TEST_GITHUB_TOKEN", "ghp_wrong_secret_value")
    requests_source.secret_env = "VIGIE_TEST_GITHUB_TOKEN"
    requests_source.save()
    run = sync_source(requests_source.pk)
    requests_source.refresh_from_db()
    assert requests_source.state == Source.State.AUTH_ERROR
    assert "401" in run.error and "ghp_wrong" not in run.error


def test_a_rate_limit_waits_for_the_reset_github_gives(fake_github, requests_source):
    reset = datetime.now(UTC).timestamp() + 600
    fake_github.rate_limit = ("primary", reset)
    run = sync_source(requests_source.pk)
    requests_source.refresh_from_db()
    assert "rate limit" in run.error
    wait = requests_source.next_sync_at - datetime.now(UTC)
    assert timedelta(minutes=9) < wait <= timedelta(minutes=10)


def test_an_unknown_repository_is_named_in_the_error(fake_github, requests_source):
    requests_source.scopes = ["acme/gone"]
    requests_source.save()
    run = sync_source(requests_source.pk)
    assert "acme/gone" in run.error and "404" in run.error


def test_taking_over_on_github_unassigns_the_holder_and_undo_gives_it_back(
    member_client, vigie, fake_github, requests_source
):
    fake_github.add_collaborator(REPO, "dominique")
    _issue, item = mirrored(fake_github, requests_source, assignees=["dominique"])
    assert item.assignee == "dominique"
    response = click(member_client, item, "take", "k1")
    assert 'value="take_over"' in response.content.decode()
    assert [a["login"] for a in fake_github.issue(REPO, 1)["assignees"]] == ["dominique"]

    click(member_client, item, "take_over", "k2")
    assert [a["login"] for a in fake_github.issue(REPO, 1)["assignees"]] == ["camille-m"]
    assert item.assignee == "camille-m"

    click(member_client, item, "undo", "k3")
    assert [a["login"] for a in fake_github.issue(REPO, 1)["assignees"]] == ["dominique"]
    assert (item.qualification, item.assignee) == ("", "dominique")


def test_commenter_posts_once_on_the_request_even_after_a_lost_answer(
    fake_github, requests_source, member_client, vigie
):
    issue, item = mirrored(fake_github, requests_source)
    click(member_client, item, "comment", "k1", comment="Je regarde cet après-midi.")
    (posted,) = fake_github.comments(REPO, issue["number"])
    assert posted["body"].startswith("Je regarde cet après-midi.")
    # The answer was lost: the retry finds the comment by its marker and posts nothing.
    Action.objects.filter(item=item, action="comment").update(upstream_ok=False)
    Item.objects.filter(pk=item.pk).update(writeback_state=Item.Writeback.FAILED)
    click(member_client, item, "retry", "k2")
    assert fake_github.comments(REPO, issue["number"]) == [posted]
    assert item.writeback_state == Item.Writeback.NONE
    # A new comment of the same text, not a retry, is posted.
    click(member_client, item, "comment", "k3", comment="Je regarde cet après-midi.")
    assert len(fake_github.comments(REPO, issue["number"])) == 2


def test_the_detail_shows_the_comments_github_has_page_after_page(
    member_client, fake_github, requests_source, monkeypatch
):
    issue, item = mirrored(fake_github, requests_source, body="**Urgent** pour la CNFS")
    for n in range(3):
        fake_github.add_comment(REPO, issue["number"], f"Relance *{n}*", user=f"agent-{n}")
    monkeypatch.setattr(github, "PAGE_SIZE", 2)

    page = member_client.get(f"/board/items/{item.pk}").content.decode()

    assert "<strong>Urgent</strong>" in page
    comments = page[page.index('class="comments"') :]
    for n in range(3):
        assert f"@agent-{n}" in comments and f"Relance <em>{n}</em>" in comments
    assert comments.index("@agent-0") < comments.index("@agent-2")  # GitHub's order
    listed = [path for method, path in fake_github.requests if path.endswith("/comments")]
    assert len(listed) == 2  # the second page through the Link header


def test_hostile_comments_are_sanitised_never_run(member_client, fake_github, requests_source):
    issue, item = mirrored(fake_github, requests_source)
    fake_github.add_comment(REPO, issue["number"], "<script>alert(1)</script> Bonjour")
    fake_github.add_comment(REPO, issue["number"], '<img src="x" onerror="alert(2)"> image')

    page = member_client.get(f"/board/items/{item.pk}").content.decode()

    comments = page[page.index('class="comments"') :]
    assert "Bonjour" in comments and "image" in comments
    assert "<script>alert(1)" not in page
    assert "onerror" not in page


def test_github_refusing_shows_the_cached_comments_with_their_age(
    member_client, fake_github, requests_source
):
    issue, item = mirrored(fake_github, requests_source)
    fake_github.add_comment(REPO, issue["number"], "Déjà signalé en mars")
    now = datetime.now(UTC)
    with time_machine.travel(now, tick=False):
        member_client.get(f"/board/items/{item.pk}")
    fake_github.token = "rotated"  # every call refused from now on
    with time_machine.travel(now + timedelta(minutes=20), tick=False):
        page = member_client.get(f"/board/items/{item.pk}").content.decode()

    assert "La source ne peut pas être lue" in page
    assert "20\xa0minutes" in page
    assert "Déjà signalé en mars" in page


def test_github_refusing_with_nothing_cached_says_how_many_comments_were_not_read(
    member_client, fake_github, requests_source
):
    issue = fake_github.add_issue(REPO, "Export CSV", labels=["vigie"])
    for text in ("Relance", "Toujours d’actualité"):
        fake_github.add_comment(REPO, issue["number"], text)
    sync_source(requests_source.pk)
    item = Item.objects.get(external_id=f"{REPO}#{issue['number']}")
    fake_github.token = "rotated"

    page = member_client.get(f"/board/items/{item.pk}").content.decode()

    assert "rien n’en est en cache" in page
    assert "2 commentaires à la source, non lus cette fois." in page
    assert "Relance" not in page

"""The item detail at /board/items/<id>: read from Sentry when opened, cached, shown from the
cache with its age when Sentry is down, and the mirrored facts for sources without a reader."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from rotation.models import Team
from rotation.tests.factories import MembershipFactory
from tests.factories import UserFactory
from triage.models import Item
from triage.sync import sync_source
from triage.tests.factories import ActionFactory, ItemFactory

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


@pytest.fixture
def opened(sentry_source, fake_sentry, client, user):
    team = Team.objects.create(slug="prod-team", name="Prod")
    sentry_source.team = team
    sentry_source.save()
    MembershipFactory(team=team, user=user)
    client.force_login(user)
    issue = fake_sentry.add_issue(
        title="NoMethodError: undefined method `name' for nil",
        _first_release="rdv-solidarites@2026.10.01",
        _last_release="rdv-solidarites@2026.11.20",
    )
    sync_source(sentry_source.pk)
    item = Item.objects.get(source=sentry_source, external_id=issue["id"])
    return item, issue


def detail_requests(fake_sentry, issue):
    return [r for r in fake_sentry.requests if f"/issues/{issue['id']}/" in r[1]]


def test_the_detail_shows_the_latest_event_from_sentry(opened, client, fake_sentry, user):
    item, issue = opened
    ActionFactory(item=item, user=user, action="temporary")
    response = client.get(f"/board/items/{item.pk}")
    page = response.content.decode()
    assert response.status_code == 200
    assert "<html" in page  # a page of its own without JavaScript
    assert "undefined method `name&#x27; for nil" in page
    # The application frame comes first, with its context lines.
    frames = page.split('class="frames"')[1]
    assert frames.index("rdvs_controller.rb") < frames.index("puma/request.rb")
    assert "@rdv = Rdv.find(params[:id])" in page
    assert "  def show" in page
    for tag in ("RdvsController#show", "Firefox 133.0", "https://www.rdv-solidarites.fr/rdvs/42"):
        assert tag in page
    # The last 10 breadcrumbs of 15, under a French heading.
    assert "<h3>Derniers breadcrumbs (fil d’Ariane)</h3>" in page
    assert "GET /rdvs/14" in page and "GET /rdvs/5" in page
    assert "GET /rdvs/4<" not in page
    assert "rdv-solidarites@2026.10.01" in page and "rdv-solidarites@2026.11.20" in page
    assert "Temporaire" in page and "confirmé" in page
    assert issue["permalink"] in page
    assert "Lu depuis la source" in page


def test_the_detail_is_a_fragment_for_htmx(opened, client):
    item, _issue = opened
    response = client.get(f"/board/items/{item.pk}", headers={"HX-Request": "true"})
    page = response.content.decode()
    assert "<html" not in page
    assert f'data-item-id="{item.pk}"' in page


def test_the_board_title_opens_the_detail(opened, client):
    item, _issue = opened
    page = client.get("/board").content.decode()
    assert f'href="/board/items/{item.pk}" hx-get="/board/items/{item.pk}"' in page
    assert 'id="item-detail"' in page


def test_a_second_opening_reads_the_cache(opened, client, fake_sentry):
    item, issue = opened
    with time_machine.travel(NOW, tick=False):
        client.get(f"/board/items/{item.pk}")
        before = len(detail_requests(fake_sentry, issue))
        client.get(f"/board/items/{item.pk}")
    assert before == 2  # the issue and its latest event
    assert len(detail_requests(fake_sentry, issue)) == before


def test_the_issue_and_its_latest_event_are_asked_at_once(opened, client, fake_sentry):
    item, _issue = opened
    fake_sentry.delay = 0.2  # keeps the first request open while the second arrives
    fake_sentry.max_in_flight = 0
    assert client.get(f"/board/items/{item.pk}").status_code == 200
    assert fake_sentry.max_in_flight == 2


def test_sentry_down_shows_the_cached_detail_with_its_age(opened, client, fake_sentry):
    item, _issue = opened
    with time_machine.travel(NOW, tick=False):
        client.get(f"/board/items/{item.pk}")
    fake_sentry.token = "rotated"  # every call refused from now on
    with time_machine.travel(NOW + timedelta(minutes=20), tick=False):
        page = client.get(f"/board/items/{item.pk}").content.decode()
    assert "La source ne peut pas être lue" in page
    # Why, in French too.
    assert "Sentry a refusé le jeton (HTTP 401)" in page
    assert "Sentry refused" not in page
    assert "20\xa0minutes" in page
    assert "@rdv = Rdv.find(params[:id])" in page  # from the cache


def test_sentry_down_with_nothing_cached_says_so(opened, client, fake_sentry):
    item, _issue = opened
    fake_sentry.token = "rotated"
    response = client.get(f"/board/items/{item.pk}")
    page = response.content.decode()
    assert response.status_code == 200
    assert "rien n’en est en cache" in page
    assert "Rdv.find" not in page


def test_hostile_content_is_shown_as_text(opened, client, fake_sentry):
    item, issue = opened
    script = "<script>alert(1)</script>"
    fake_sentry.set_event(
        issue["id"],
        {
            "eventID": "e1",
            "tags": [{"key": "url", "value": f"<img src=x onerror=alert(1)>{script}"}],
            "entries": [
                {
                    "type": "exception",
                    "data": {
                        "values": [
                            {
                                "type": script,
                                "value": "x" * 1_000_000,
                                "stacktrace": {
                                    "frames": [
                                        {
                                            "filename": script,
                                            "function": script,
                                            "lineNo": 1,
                                            "inApp": True,
                                            "context": [[1, script]],
                                        },
                                        {"filename": "no_context.rb", "lineNo": 3},
                                    ]
                                },
                            }
                        ]
                    },
                },
                {
                    "type": "breadcrumbs",
                    "data": {"values": [{"message": script, "category": script}] * 5000},
                },
            ],
        },
    )
    response = client.get(f"/board/items/{item.pk}")
    page = response.content.decode()
    assert "<script>alert" not in page
    assert "<img src=x" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "no_context.rb" in page
    assert len(page) < 200_000  # the 1 MB value and the 5,000 breadcrumbs are cut


def test_an_event_without_frames(opened, client, fake_sentry):
    item, issue = opened
    fake_sentry.set_event(issue["id"], {"eventID": "e2", "entries": [], "tags": []})
    response = client.get(f"/board/items/{item.pk}")
    assert response.status_code == 200
    assert 'class="frames"' not in response.content.decode()


def test_the_detail_needs_a_login(opened, client):
    item, _issue = opened
    client.logout()
    response = client.get(f"/board/items/{item.pk}")
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


def test_the_detail_is_scoped_like_the_board(opened, client):
    item, _issue = opened
    client.force_login(UserFactory())
    assert client.get(f"/board/items/{item.pk}").status_code == 404


def test_the_detail_query_count(opened, client, user, django_assert_max_num_queries):
    item, _issue = opened
    ActionFactory.create_batch(5, item=item, user=user)
    client.get(f"/board/items/{item.pk}")  # warms the cache
    # session, user, memberships (the watch), the item with its source and team, its actions
    # with their users, and the profile of the header.
    with django_assert_max_num_queries(8):
        response = client.get(f"/board/items/{item.pk}")
    assert response.status_code == 200


def test_a_job_shows_its_error_and_masked_arguments(member_client, source):
    job = ItemFactory(
        source=source,
        kind=Item.Kind.JOB,
        origin="ReminderJob",
        payload={
            "job_class": "ReminderJob",
            "sample_error": "ActiveRecord::RecordNotFound: Couldn't find Lieu",
            "queue": "mailers",
            "arguments": [{"rdv_id": 42, "api_token": "tok_live_abcdef", "password": "hunter22"}],
        },
    )
    page = member_client.get(f"/board/items/{job.pk}").content.decode()
    assert "Couldn&#x27;t find Lieu" in page
    assert "mailers" in page
    assert "42" in page
    assert "tok_live_abcdef" not in page and "hunter22" not in page
    assert "[redacted]" in page


def test_a_request_shows_its_body_as_sanitised_markdown(member_client, source):
    request = ItemFactory(
        source=source,
        kind=Item.Kind.REQUEST,
        payload={"body": "**Urgent** <script>alert(1)</script> [lien](javascript:alert(1))"},
    )
    page = member_client.get(f"/board/items/{request.pk}").content.decode()
    assert "<strong>Urgent</strong>" in page
    assert "<script>alert(1)" not in page
    assert "javascript:" not in page


def test_row_buttons_name_their_item_without_changing_their_label(opened, client):
    item, _issue = opened
    page = client.get("/board").content.decode()
    assert f'<a class="item-title" id="item-{item.pk}-title"' in page
    assert (
        f'value="temporary" class="qualify-temporary" aria-describedby="item-{item.pk}-title">'
        "Temporaire</button>"
    ) in page
    assert "__item_pk__" not in page

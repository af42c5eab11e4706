"""NUL bytes and lone surrogates: a 400 or a clear refusal, never a 500 or a stuck claim."""

from unittest import mock

import pytest
from django.db import DataError

from triage import qualify
from triage.models import Action, Item
from triage.tests.factories import ItemFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def request_item(source):
    return ItemFactory(source=source, kind=Item.Kind.REQUEST, upstream_status="open")


@pytest.mark.parametrize(
    "url",
    [
        "/board?source=a%00b",
        "/board/counts?source=a%00b",
        "/feeds/teams/%00.ics",
        "/feeds/members/%00.ics",
    ],
)
def test_a_nul_byte_in_the_url_is_a_400_with_a_message(member_client, url):
    response = member_client.get(url)
    assert response.status_code == 400
    assert "NUL" in response.content.decode()  # French or English


def test_a_nul_byte_in_a_posted_comment_is_a_400_and_nothing_is_written(
    member_client, request_item
):
    response = member_client.post(
        f"/board/items/{request_item.pk}/qualify",
        {"action": "done", "key": "k1", "comment": "ab\x00cd"},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 400
    request_item.refresh_from_db()
    assert request_item.writeback_state != Item.Writeback.PENDING
    assert not Action.objects.exists()


@pytest.mark.parametrize("comment", ["ab\x00cd", "ab\ud800cd"])
def test_the_service_refuses_such_a_comment_before_claiming(member, request_item, comment):
    with pytest.raises(qualify.QualifyError, match="NUL"):
        qualify.qualify_item(request_item, member, "done", {"comment": comment}, "k1")
    request_item.refresh_from_db()
    assert request_item.writeback_state != Item.Writeback.PENDING
    assert not Action.objects.exists()


def test_any_failure_after_the_claim_releases_the_item(member, request_item):
    with (
        mock.patch.object(Action.objects, "create", side_effect=DataError("refused")),
        pytest.raises(DataError),
    ):
        qualify.qualify_item(request_item, member, "done", {"comment": "ok"}, "k1")
    request_item.refresh_from_db()
    assert request_item.writeback_state != Item.Writeback.PENDING
    assert request_item.writeback_started_at is None

import importlib
import re

import pytest
import time_machine
from django.apps import apps as django_apps
from django.urls import reverse
from icalendar import Calendar

from rotation.models import ApiToken, Override
from rotation.tests.conftest import paris

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen")]


@pytest.fixture
def rotation(rotation, members):
    Override.objects.create(
        team=rotation,
        membership=members[2],
        covered=members[1],
        start=paris(2026, 12, 10, 10),
        end=paris(2026, 12, 12, 10),
    )
    return rotation


def _oncall(client, slug="core", **headers):
    return client.get(reverse("rotation:api-oncall", args=[slug]), headers=headers)


def test_oncall_with_a_session(client, rotation, members):
    client.force_login(members[1].user)
    body = _oncall(client).json()
    assert body["now"]["name"] == members[0].name
    assert body["now"]["email"] == members[0].user.email
    assert body["now"]["phone"] == members[0].profile.phone
    assert body["now"]["end"] == "2026-12-07T10:00:00+01:00"
    assert body["now"]["override"] is False
    assert body["next"]["name"] == members[1].name
    assert body["next"]["start"] == "2026-12-07T10:00:00+01:00"


def test_oncall_with_a_bearer_token_in_four_queries(
    client, rotation, members, django_assert_num_queries
):
    token, secret = ApiToken.objects.issue(members[0].user, "bot")
    assert token.key != secret and secret not in token.key  # only its digest is stored
    # The first use of the minute records it: one more write.
    with django_assert_num_queries(5):
        _oncall(client, Authorization=f"Bearer {secret}")
    # token + user, team with membership check, watches, overrides
    with django_assert_num_queries(4):
        response = _oncall(client, Authorization=f"Bearer {secret}")
    assert response.status_code == 200
    assert response.json()["now"]["name"] == members[0].name
    token.refresh_from_db()
    assert token.last_used_at is not None and token.hint == secret[-4:]
    # The stored digest is not a token.
    assert _oncall(client, Authorization=f"Bearer {token.key}").status_code == 401


def test_oncall_refuses_strangers_and_unknown_teams(client, rotation, members):
    assert _oncall(client).status_code == 401
    assert _oncall(client, Authorization="Bearer nope").status_code == 401
    revoked, secret = ApiToken.objects.issue(members[0].user, "old")
    ApiToken.objects.filter(pk=revoked.pk).update(revoked=True)
    assert _oncall(client, Authorization=f"Bearer {secret}").status_code == 401
    client.force_login(members[0].user)
    response = _oncall(client, slug="nope")
    assert response.status_code == 404
    assert response.json() == {"error": "unknown team: nope"}


def _parse(response):
    assert response.status_code == 200
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    return Calendar.from_ical(response.content)


def test_team_feed_is_valid_icalendar_with_overrides(client, rotation, members):
    cal = _parse(client.get(reverse("rotation:team-feed", args=[rotation.feed_token])))
    assert str(cal["VERSION"]) == "2.0"
    events = cal.walk("VEVENT")
    assert len({str(e["UID"]) for e in events}) == len(events)
    first = events[0]
    assert first["DTSTART"].dt == paris(2026, 11, 23, 10)
    assert first["DTEND"].dt == paris(2026, 12, 7, 10)
    covering = [e for e in events if members[2].name in str(e["SUMMARY"])]
    override = [e for e in covering if e["DTSTART"].dt == paris(2026, 12, 10, 10)]
    assert override and override[0]["DTEND"].dt == paris(2026, 12, 12, 10)
    # Dominique's watch is cut around the override.
    dominique = [e for e in events if members[1].name in str(e["SUMMARY"])]
    assert dominique[0]["DTEND"].dt == paris(2026, 12, 10, 10)


def test_member_feed_holds_only_their_watches(client, rotation, members):
    sacha = members[2]
    cal = _parse(client.get(reverse("rotation:member-feed", args=[sacha.feed_token])))
    events = cal.walk("VEVENT")
    assert events
    assert all(sacha.name in str(e["SUMMARY"]) for e in events)


def test_bad_or_revoked_feed_tokens_are_404(client, rotation, members):
    old = rotation.feed_token
    rotation.regenerate_feed_token()
    assert client.get(reverse("rotation:team-feed", args=[old])).status_code == 404
    assert client.get(reverse("rotation:team-feed", args=["nope"])).status_code == 404
    assert client.get(reverse("rotation:member-feed", args=["nope"])).status_code == 404
    assert client.get(reverse("rotation:team-feed", args=[rotation.feed_token])).status_code == 200


def test_a_member_issues_a_token_sees_it_once_and_revokes_it(client, rotation, members):
    camille, dominique, _sacha = members
    client.force_login(camille.user)
    response = client.post(reverse("rotation:issue-api-token"), {"name": "chat bot"}, follow=True)
    assert response.redirect_chain == [(reverse("rotation:my-watches") + "#api-tokens", 302)]
    token = ApiToken.objects.get(user=camille.user)
    secret = re.search(r'class="new-token">([^<]+)<', response.content.decode()).group(1)
    assert _oncall(client.__class__(), Authorization=f"Bearer {secret}").status_code == 200
    # A reload neither creates a second token nor shows this one again.
    page = client.get(reverse("rotation:my-watches")).content.decode()
    assert "chat bot" in page and f"…{token.hint}" in page and secret not in page
    assert ApiToken.objects.filter(user=camille.user).count() == 1

    assert client.post(reverse("rotation:issue-api-token"), {"name": ""}).status_code == 400
    client.force_login(dominique.user)  # someone else's token: not theirs to revoke
    revoke = reverse("rotation:revoke-api-token", args=[token.pk])
    assert client.post(revoke).status_code == 404
    client.force_login(camille.user)
    client.post(revoke)
    assert _oncall(client.__class__(), Authorization=f"Bearer {secret}").status_code == 401


def test_tokens_stored_in_clear_before_are_hashed_and_keep_working(members):
    migration = importlib.import_module("rotation.migrations.0005_hashed_api_tokens")
    token, _secret = ApiToken.objects.issue(members[0].user, "from before")
    ApiToken.objects.filter(pk=token.pk).update(key="an-old-clear-token", hint="")

    migration.hash_existing_tokens(django_apps, None)

    token.refresh_from_db()
    assert token.key != "an-old-clear-token" and token.hint == "oken"
    assert ApiToken.objects.matching("an-old-clear-token").get() == token


@pytest.mark.parametrize("scheme", ["bearer", "BEARER", "BeArEr"])
def test_the_bearer_scheme_is_case_insensitive(client, rotation, members, scheme):
    _token, secret = ApiToken.objects.issue(members[0].user, "bot")
    response = _oncall(client, Authorization=f"{scheme} {secret}")
    assert response.status_code == 200
    assert response.json()["now"]["name"] == members[0].name


def test_a_bare_scheme_is_refused(client, rotation):
    assert _oncall(client, Authorization="Bearer").status_code == 401
    assert _oncall(client, Authorization="Basic abc").status_code == 401


def test_oncall_gives_the_real_start_and_end_of_the_current_segment(client, rotation, members):
    client.force_login(members[1].user)
    # Camille's watch began on Monday 23 November, not at the request instant.
    assert _oncall(client).json()["now"]["start"] == "2026-11-23T10:00:00+01:00"
    # Sacha's override cuts Dominique's watch (7 → 21 December) into three segments.
    with time_machine.travel(paris(2026, 12, 11, 15), tick=False):
        client.force_login(members[1].user)  # the session of NOW has expired by then
        body = _oncall(client).json()
    assert (body["now"]["name"], body["now"]["override"]) == (members[2].name, True)
    assert body["now"]["start"] == "2026-12-10T10:00:00+01:00"
    assert body["now"]["end"] == "2026-12-12T10:00:00+01:00"
    assert body["next"]["name"] == members[1].name
    assert body["next"]["start"] == "2026-12-12T10:00:00+01:00"
    assert body["next"]["end"] == "2026-12-21T10:00:00+01:00"
    with time_machine.travel(paris(2026, 12, 13, 15), tick=False):
        client.force_login(members[1].user)
        body = _oncall(client).json()
    assert body["now"]["start"] == "2026-12-12T10:00:00+01:00"

"""Extreme and malformed query values answer 400 or 404 with a message, never 500."""

import pytest

from rotation.tests.conftest import NOW  # noqa: F401 (the frozen fixture's instant)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen")]

BAD = ["\x00", "%00", "9" * 40, "-1", "0001-01", "9999-12", "0001-01-01", "9999-12-31", "é"]


@pytest.fixture
def manager_client(client, rotation, manager):
    client.force_login(manager.user)
    return client


@pytest.mark.parametrize("value", ["9999-12", "0001-01"])
def test_the_calendar_at_the_ends_of_time_answers(manager_client, value):
    response = manager_client.get("/rotation/core/", {"from": value})
    assert response.status_code in (200, 400)


def test_a_fairness_period_spanning_all_time_is_refused_with_a_message(manager_client):
    response = manager_client.get(
        "/rotation/core/fairness/", {"start": "0001-01-01", "end": "9999-12-31"}
    )
    assert response.status_code == 400
    assert "1900" in response.content.decode()  # the earliest date it accepts


@pytest.mark.parametrize("path", ["/feeds/teams/%00.ics", "/feeds/members/%00.ics"])
def test_nul_bytes_in_a_feed_token_are_refused_with_a_message(client, rotation, path):
    # BadInputMiddleware answers before the view: PostgreSQL refuses NUL in a comparison.
    response = client.get(path)
    assert response.status_code == 400
    assert "NUL" in response.content.decode()


@pytest.mark.parametrize("value", BAD)
@pytest.mark.parametrize(
    "path,name",
    [
        ("/rotation/core/", "from"),
        ("/rotation/core/", "months"),
        ("/rotation/core/fairness/", "start"),
        ("/rotation/core/fairness/", "end"),
        ("/rotation/core/history/", "page"),
        ("/history/", "page"),
        ("/rotation/mine/", "page"),
    ],
)
def test_rotation_query_parameters_never_crash(manager_client, path, name, value):
    other = {"start": "2026-01-01", "end": "2026-02-01"} if "fairness" in path else {}
    other[name] = value
    response = manager_client.get(path, other)
    assert response.status_code in (200, 302, 400, 404)

"""The list pages cost a fixed number of queries, whatever the number of rows they show."""

from datetime import timedelta

import pytest
from django.urls import reverse

from rotation import services
from rotation.models import Absence, Handover, Override, Shift, SwapRequest
from rotation.tests.conftest import NOW, paris
from rotation.tests.factories import MembershipFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen")]

# Every page: the session, the user, then the top bar's badge (membership with its team, the
# watches from now, the overrides over them); each case lists the page's own queries.


@pytest.fixture
def crowded(rotation, members, manager):
    """Twenty more members, past watches with handovers, absences, overrides, pending swaps."""
    extra = [MembershipFactory(team=rotation) for _ in range(20)]
    start = paris(2025, 1, 6, 10)
    for i in range(25):
        shift = Shift.objects.create(
            team=rotation,
            membership=(members + extra)[i % 23],
            start=start + timedelta(weeks=2 * i),
            end=start + timedelta(weeks=2 * i + 2),
        )
        Handover.objects.create(
            shift=shift,
            incoming=members[1],
            note=f"note {i}",
            acknowledged_by=manager.user,
            acknowledged_at=shift.end + timedelta(hours=1),
            created_at=shift.end,
        )
    for i, member in enumerate(extra):
        Absence.objects.create(
            membership=member,
            start=NOW + timedelta(days=i + 1),
            end=NOW + timedelta(days=i + 2),
        )
    future = list(Shift.objects.filter(team=rotation, start__gt=NOW).order_by("start"))
    for i in range(10):
        Override.objects.create(
            team=rotation,
            membership=members[(i + 1) % 3],
            covered=future[i].membership,
            start=future[i].start,
            end=future[i].start + timedelta(hours=12),
        )
    for first, second in zip(future[0:10:2], future[1:10:2], strict=True):
        services.request_swap(first, second, first.membership.user, now=NOW)
    assert SwapRequest.objects.count() == 5
    return rotation


@pytest.mark.parametrize(
    ("name", "most"),
    [
        # + the ended watches' count, then one page of them with handovers and people
        ("team-history", 7),
        # + the members with their profiles, the coming absences, the absence form's members
        ("members", 8),
        # + the pending requests with both watches and vigies, the upcoming watches of each of
        # the form's two choices
        ("swap-shifts", 8),
    ],
)
def test_team_list_pages(client, crowded, manager, name, most, django_assert_max_num_queries):
    client.force_login(manager.user)
    url = reverse(f"rotation:{name}", args=["core"])
    with django_assert_max_num_queries(most):
        response = client.get(url)
    assert response.status_code == 200


def test_my_watches(client, crowded, members, django_assert_max_num_queries):
    client.force_login(members[0].user)
    # + the profile, the memberships with their teams, the watches, the overrides, the tokens
    with django_assert_max_num_queries(10):
        response = client.get(reverse("rotation:my-watches"))
    assert response.status_code == 200
    assert response.content.decode().count("<li") >= 10

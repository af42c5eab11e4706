"""`left_on` alone says who has left: `active` and the QuerySet rule are read from it."""

from datetime import date

import pytest
import time_machine
from django.urls import reverse

from rotation.models import Membership
from rotation.tests.conftest import NOW, paris
from rotation.tests.factories import MembershipFactory, TeamFactory

pytestmark = pytest.mark.django_db


def test_a_planned_departure_ends_on_its_day_in_the_teams_time_zone():
    team = TeamFactory(timezone="Pacific/Auckland")
    leaving = MembershipFactory(team=team, left_on=date(2026, 11, 26))
    staying = MembershipFactory(team=team)
    # 25 November, 10:59 UTC is 23:59 in Auckland; 11:00 UTC is already the 26th there.
    with time_machine.travel("2026-11-25 10:59Z", tick=False):
        assert leaving.active and staying.active
    with time_machine.travel("2026-11-25 11:00Z", tick=False):
        assert not leaving.active and staying.active
    for day, expected in (
        (date(2026, 11, 25), {leaving, staying}),
        (date(2026, 11, 26), {staying}),
    ):
        assert set(Membership.objects.filter(team=team).active(day)) == expected
        assert {m for m in (leaving, staying) if not m.has_left_by(day)} == expected


@time_machine.travel(NOW, tick=False)
def test_a_removed_member_is_shown_as_gone_and_offered_nowhere(client, rotation, members, manager):
    camille = members[0]
    client.force_login(manager.user)
    response = client.post(reverse("rotation:remove-member", args=["core", camille.pk]))
    assert response.status_code == 302
    camille.refresh_from_db()
    assert camille.left_on == NOW.date() and not camille.active

    page = client.get(reverse("rotation:members", args=["core"])).content.decode()
    assert "parti·e le 25 novembre 2026" in page
    assert page.count("Retirer de la rotation") == 3  # the others, not Camille
    # Gone: not offered to cover, not removable twice.
    form = client.get(reverse("rotation:create-override", args=["core"])).content.decode()
    assert f'value="{camille.pk}"' in form.split('name="covered"')[1]
    assert f'value="{camille.pk}"' not in form.split('name="covered"')[0]
    again = client.post(reverse("rotation:remove-member", args=["core", camille.pk]))
    assert again.status_code == 404


def test_the_members_page_lists_those_still_here_first(client, team, members, manager):
    members[0].left_on = paris(2026, 1, 1).date()
    members[0].save(update_fields=["left_on"])
    client.force_login(manager.user)
    page = client.get(reverse("rotation:members", args=["core"])).content.decode()
    order = [page.index(m.name) for m in (members[1], members[2], manager, members[0])]
    assert order[-1] == max(order)

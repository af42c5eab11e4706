import csv
import io
from datetime import timedelta

import pytest
import time_machine
from django.urls import reverse

from rotation import schedule
from rotation.models import Override, Shift
from rotation.tests.conftest import NOW, paris
from rotation.tests.factories import MembershipFactory, TeamFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen")]


def test_home_says_who_is_on_watch_until_when_and_who_is_next(client, rotation, members):
    client.force_login(members[1].user)
    page = client.get(reverse("home")).content.decode()
    assert "Camille" in page
    assert members[0].profile.phone in page
    assert "jusqu'au lundi 7 décembre 10:00" in page
    assert "Ensuite : Dominique" in page
    assert "L2 · Tech lead" in page
    assert "après 15 minutes" in page
    assert "De vigie : Camille" in page  # the badge in the top bar


def test_home_says_in_red_when_nobody_is_on_watch(client, team, members):
    client.force_login(members[0].user)
    page = client.get(reverse("home")).content.decode()
    assert '<p class="bad"><strong>Personne n\'est de vigie</strong></p>' in page


def test_the_badge_costs_three_queries(client, rotation, members, django_assert_max_num_queries):
    from django.template.loader import render_to_string
    from django.test import RequestFactory

    from rotation.context_processors import watch_badge

    request = RequestFactory().get("/")
    request.user = members[0].user
    # membership + team, the watches from now, the overrides over them
    with django_assert_max_num_queries(3):
        html = render_to_string("partials/watch_badge.html", watch_badge(request))
    assert "Camille" in html


def test_a_year_of_calendar_in_at_most_ten_queries(
    client, rotation, members, django_assert_max_num_queries
):
    Override.objects.create(
        team=rotation,
        membership=members[2],
        covered=members[0],
        start=paris(2026, 11, 26, 10),
        end=paris(2026, 11, 28, 10),
    )
    client.force_login(members[0].user)
    url = reverse("rotation:team-calendar", args=["core"])
    with django_assert_max_num_queries(10):
        page = client.get(url, {"from": "2026-11", "months": 12}).content.decode()
    assert page.count('<section class="card month">') == 12
    assert "vigie member-2 override" in page


def test_strangers_and_unknown_teams_get_404(client, rotation):
    other = MembershipFactory(team=TeamFactory(slug="other"))
    client.force_login(other.user)
    assert client.get(reverse("rotation:team-calendar", args=["core"])).status_code == 404
    assert client.get(reverse("rotation:team-calendar", args=["nope"])).status_code == 404


def _override_post(client, covering, covered, start="2026-12-01T09:00", end="2026-12-02T09:00"):
    return client.post(
        reverse("rotation:create-override", args=["core"]),
        {"membership": covering.pk, "covered": covered.pk, "start": start, "end": end},
    )


def test_members_create_overrides_for_themselves_only(client, rotation, members):
    camille, dominique, sacha = members
    client.force_login(sacha.user)
    response = _override_post(client, dominique, camille)
    assert response.status_code == 200
    assert "ne crée de remplacement que pour soi" in response.content.decode()
    assert _override_post(client, sacha, camille).status_code == 302
    override = Override.objects.get()
    assert override.start == paris(2026, 12, 1, 9)  # read in the team's zone
    assert override.created_by == sacha.user


def test_an_override_is_removed_from_the_calendar_by_its_parties_only(client, rotation, members):
    camille, dominique, sacha = members
    client.force_login(sacha.user)
    _override_post(client, sacha, camille)
    override = Override.objects.get()
    calendar = reverse("rotation:team-calendar", args=["core"])
    remove = reverse("rotation:delete-override", args=["core", override.pk])

    client.force_login(dominique.user)  # neither covering nor covered, not a manager
    page = client.get(calendar).content.decode()
    assert "Sacha" in page[page.index('id="overrides"') :] and remove not in page
    client.post(remove)
    assert Override.objects.exists()

    client.force_login(camille.user)  # the one covered may take it back
    assert remove in client.get(calendar).content.decode()
    assert client.get(remove).status_code == 200  # asks first; only the POST removes
    assert Override.objects.exists()
    assert client.post(remove).status_code == 302
    assert not Override.objects.exists()


def test_an_override_ending_before_it_starts_is_explained(client, rotation, members):
    client.force_login(members[2].user)
    response = _override_post(
        client, members[2], members[0], start="2026-12-02T09:00", end="2026-12-01T09:00"
    )
    assert "doit se terminer après avoir commencé" in response.content.decode()
    assert "ends_after_start" not in response.content.decode()  # not the constraint as well
    assert not Override.objects.exists()


def test_only_managers_swap_and_regenerate(client, rotation, members, manager):
    first, second = Shift.objects.filter(team=rotation, start__gt=NOW).order_by("start")[:2]
    url = reverse("rotation:swap-shifts", args=["core"])
    client.force_login(members[0].user)
    client.post(url, {"first": first.pk, "second": second.pk})
    first.refresh_from_db()
    assert first.membership == members[1]
    client.force_login(manager.user)
    assert client.post(url, {"first": first.pk, "second": second.pk}).status_code == 302
    first.refresh_from_db()
    assert first.membership == members[2]
    assert first.locked


def test_removing_a_member_mid_watch_hands_over_the_rest(client, rotation, members, manager):
    client.force_login(manager.user)
    url = reverse("rotation:remove-member", args=["core", members[0].pk])
    response = client.post(url, follow=True)
    assert "a quitté la rotation" in response.content.decode()
    assert schedule.on_watch(rotation).now.membership not in (members[0], None)


def test_history_newest_first_paginated(client, team, members, manager):
    start = paris(2025, 1, 6, 10)
    for i in range(25):
        Shift.objects.create(
            team=team,
            membership=members[i % 3],
            start=start + timedelta(weeks=2 * i),
            end=start + timedelta(weeks=2 * i + 2),
        )
    url = reverse("rotation:team-history", args=["core"])
    client.force_login(manager.user)
    assert client.get(reverse("rotation:history")).url == url
    page = client.get(url).content.decode()
    assert "Page 1 sur 2" in page
    assert page.index("lun 8 décembre 2025") < page.index("lun 24 novembre 2025")


def test_fairness_table_and_csv(client, rotation, members, manager):
    Override.objects.create(
        team=rotation,
        membership=members[2],
        covered=members[0],
        start=paris(2026, 11, 28, 0),
        end=paris(2026, 11, 30, 0),
    )
    client.force_login(manager.user)
    url = reverse("rotation:fairness", args=["core"])
    params = {"start": "2026-11-23", "end": "2026-12-06"}
    response = client.get(url, {**params, "format": "csv"})
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    rows = {row["member"]: row for row in csv.DictReader(io.StringIO(response.content.decode()))}
    camille, sacha = rows[members[0].name], rows[members[2].name]
    assert camille["watches"] == "1"
    assert float(camille["days"]) == pytest.approx(11.58, abs=0.01)  # 23/11 10:00 → 7/12 00:00 − 2
    assert float(camille["weekend_days"]) == pytest.approx(2.0)  # 6-7 déc.; 28-29 nov. covered
    assert float(sacha["days_covered_for_others"]) == pytest.approx(2.0)
    assert float(sacha["weekend_days"]) == pytest.approx(2.0)
    reversed_period = client.get(url, {"start": "2026-12-06", "end": "2026-11-23"})
    assert reversed_period.status_code == 400  # the form again, with why
    assert "La période se termine avant de commencer." in reversed_period.content.decode()


@pytest.mark.parametrize(
    "name",
    ["members", "create-override", "swap-shifts", "fairness", "team-history", "team-calendar"],
)
def test_every_team_page_renders_for_a_manager(client, rotation, manager, name):
    client.force_login(manager.user)
    assert client.get(reverse(f"rotation:{name}", args=["core"])).status_code == 200


def test_my_watches_and_the_navigation_entries(client, rotation, members):
    client.force_login(members[0].user)
    page = client.get(reverse("rotation:my-watches")).content.decode()
    assert "lundi 23 novembre 10:00" in page
    assert client.get(reverse("rotation:calendar")).url == reverse(
        "rotation:team-calendar", args=["core"]
    )


def test_someone_outside_every_team_is_told_so(client, user):
    client.force_login(user)
    assert "membre d" in client.get(reverse("rotation:calendar")).content.decode()


def test_a_member_declares_an_absence_and_the_rotation_follows(client, rotation, members):
    sacha = members[2]
    client.force_login(sacha.user)
    url = reverse("rotation:members", args=["core"])
    response = client.post(
        url,
        {"membership": sacha.pk, "start": "2026-12-20", "end": "2027-01-10", "reason": "Congés"},
    )
    assert response.status_code == 302
    assert sacha.absences.get().start == paris(2026, 12, 20, 0)
    holiday = Shift.objects.get(team=rotation, start=paris(2026, 12, 21, 10))
    assert holiday.membership != sacha
    response = client.post(
        url, {"membership": members[0].pk, "start": "2026-12-20", "end": "2027-01-10"}
    )
    assert "vos propres absences" in response.content.decode()


def test_a_member_asks_for_a_swap_and_the_other_vigie_accepts(client, rotation, members):
    from rotation.models import SwapRequest

    _, dominique, sacha = members
    first, second = Shift.objects.filter(team=rotation, start__gt=NOW).order_by("start")[:2]
    url = reverse("rotation:swap-shifts", args=["core"])
    client.force_login(dominique.user)
    assert client.post(url, {"first": first.pk, "second": second.pk}).status_code == 302
    swap = SwapRequest.objects.get()
    schedule.generate(rotation)  # the daily regeneration keeps both watches while pending
    first.refresh_from_db()
    assert first.membership == dominique
    decide = reverse("rotation:decide-swap", args=["core", swap.pk])
    client.post(decide, {"decision": "accept"})  # not her own request
    assert SwapRequest.objects.get().state == "pending"
    client.force_login(sacha.user)
    client.post(decide, {"decision": "accept"})
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.membership, second.membership) == (sacha, dominique)
    assert SwapRequest.objects.get().decided_by == sacha.user


def test_history_shows_snapshot_counts_by_section(client, rotation, manager, monkeypatch):
    from rotation import handover as registry
    from rotation import services

    monkeypatch.setattr(registry, "PROVIDERS", {"bugs": lambda *a: [{"title": "x"}] * 3})
    with time_machine.travel(paris(2026, 12, 7, 10), tick=False):
        services.create_due_handovers()
        client.force_login(manager.user)
        page = client.get(reverse("rotation:team-history", args=["core"])).content.decode()
    assert "Bugs ouverts : 3" in page


def test_nobody_covers_for_themselves(client, rotation, members):
    client.force_login(members[2].user)
    response = _override_post(client, members[2], members[2])
    assert "On ne peut pas se remplacer soi-même." in response.content.decode()


@pytest.mark.parametrize("name", ["fairness", "team-history"])
def test_a_plain_member_reads_history_and_fairness(client, rotation, members, name):
    client.force_login(members[1].user)
    response = client.get(reverse(f"rotation:{name}", args=["core"]))
    assert response.status_code == 200
    assert "modifient la rotation" not in response.content.decode()

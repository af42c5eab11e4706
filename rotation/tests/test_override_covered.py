"""Who an override covers is the vigie the rotation puts there, never someone else."""

import pytest
from django.urls import reverse

from rotation.forms import OverrideForm
from rotation.models import Override, Shift
from rotation.tests.conftest import paris

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen")]

# In the rotation, Camille is on watch from 23 November to 7 December, then Dominique.


def _form(team, covering, covered, start, end):
    data = {
        "membership": covering.pk,
        "covered": covered.pk if covered else "",
        "start": start,
        "end": end,
    }
    return OverrideForm(data, team=team, actor=None)


def test_covering_someone_who_is_not_on_watch_is_refused(rotation, members):
    camille, dominique, sacha = members
    form = _form(rotation, sacha, dominique, "2026-12-01T09:00", "2026-12-02T09:00")
    assert not form.is_valid()
    assert form.errors["covered"] == [
        f"{dominique.name} n'est pas la vigie sur toute cette période"
        f" (de vigie alors : {camille.name})."
    ]


def test_an_empty_covered_is_the_vigie_of_the_rotation(client, rotation, members, manager):
    camille, _dominique, sacha = members
    form = _form(rotation, sacha, None, "2026-12-01T09:00", "2026-12-02T09:00")
    assert form.is_valid(), form.errors
    assert form.save().covered == camille
    client.force_login(manager.user)
    page = client.get(reverse("rotation:team-calendar", args=["core"])).content.decode()
    assert f"{sacha.name} · pour {camille.name}" in page[page.index('id="overrides"') :]


def test_across_two_vigies_it_asks_for_one_override_each(rotation, members):
    camille, dominique, sacha = members
    form = _form(rotation, sacha, None, "2026-12-06T09:00", "2026-12-08T09:00")
    assert not form.is_valid()
    assert f"couvre les vigies de {camille.name}, {dominique.name} :" in str(form.errors)
    assert not Override.objects.exists()


def test_a_vigie_left_empty_cannot_cover_their_own_watch(rotation, members):
    camille = members[0]
    form = _form(rotation, camille, None, "2026-12-01T09:00", "2026-12-02T09:00")
    assert form.errors["__all__"] == ["On ne peut pas se remplacer soi-même."]


def test_over_a_hole_it_covers_nobody(team, members):
    camille, dominique, _sacha = members
    Shift.objects.create(
        team=team, membership=camille, start=paris(2026, 11, 23, 10), end=paris(2026, 12, 7, 10)
    )
    # After the last watch nobody is on watch: nobody can be named as covered.
    refused = _form(team, dominique, camille, "2026-12-10T09:00", "2026-12-11T09:00")
    assert "de vigie alors : personne" in str(refused.errors)
    form = _form(team, dominique, None, "2026-12-10T09:00", "2026-12-11T09:00")
    assert form.is_valid(), form.errors
    assert form.save().covered is None

"""An absence over part of a watch: the vigie keeps the watch, an override covers the rest;
when nobody is free to, the pages flag it and the managers are told."""

from datetime import timedelta

import pytest
import time_machine
from django.urls import reverse

from rotation import schedule
from rotation.models import Absence, Membership, Override, Shift
from rotation.tests.conftest import NOW, paris
from vigie.models import Notification

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen")]

# The rotation: Camille 23/11 → 7/12, Dominique 7/12 → 21/12, Sacha 21/12 → 4/1 (10:00).


def _declare(client, member, first, last):
    client.force_login(member.user)
    url = reverse("rotation:members", args=["core"])
    data = {"membership": member.pk, "start": first, "end": last, "reason": "Dentiste"}
    assert client.post(url, data).status_code == 302


def test_the_absent_stretch_goes_to_someone_else_as_an_override(client, rotation, members):
    _camille, dominique, _sacha = members
    _declare(client, dominique, "2026-12-08", "2026-12-10")
    # Three days of fourteen: Dominique keeps the watch…
    watch = Shift.objects.get(team=rotation, start=paris(2026, 12, 7, 10))
    assert watch.membership == dominique
    # …and someone else is the vigie while she is away, by an override tied to the absence.
    override = Override.objects.get()
    assert (override.start, override.end) == (paris(2026, 12, 8), paris(2026, 12, 11))
    assert override.covered == dominique and override.membership != dominique
    assert override.absence == Absence.objects.get()
    assert schedule.on_watch(rotation, paris(2026, 12, 9, 12)).now.membership != dominique
    assert schedule.on_watch(rotation, paris(2026, 12, 11, 12)).now.membership == dominique
    page = client.get(reverse("rotation:team-calendar", args=["core"])).content.decode()
    overrides = page[page.index('id="overrides"') :]
    assert '<span class="badge">absence</span>' in overrides and "Dentiste" in overrides
    assert 'id="uncovered"' not in page


def test_each_generation_rebuilds_it_and_removing_the_absence_removes_it(rotation, members):
    dominique = members[1]
    absence = Absence.objects.create(
        membership=dominique, start=paris(2026, 12, 8), end=paris(2026, 12, 11)
    )
    assert schedule.generate(rotation).absences_covered == 1
    assert schedule.generate(rotation).absences_covered == 1
    assert Override.objects.count() == 1
    absence.delete()
    assert not Override.objects.exists()


def test_an_override_a_person_arranged_is_left_alone(rotation, members):
    _camille, dominique, sacha = members
    Override.objects.create(
        team=rotation,
        membership=sacha,
        covered=dominique,
        start=paris(2026, 12, 8),
        end=paris(2026, 12, 11),
    )
    Absence.objects.create(membership=dominique, start=paris(2026, 12, 8), end=paris(2026, 12, 11))
    assert schedule.generate(rotation).absences_covered == 0
    assert Override.objects.get().absence is None


def test_the_running_watch_is_covered_from_now(rotation, members):
    camille = members[0]
    Absence.objects.create(membership=camille, start=paris(2026, 11, 25), end=paris(2026, 11, 27))
    schedule.generate(rotation)
    override = Override.objects.get()
    assert (override.start, override.end) == (NOW, paris(2026, 11, 27))
    assert schedule.on_watch(rotation).now.membership != camille


def test_an_absence_nobody_can_cover_is_flagged_and_the_managers_told(client, rotation, members):
    camille, dominique, sacha = members
    Membership.objects.filter(pk=camille.pk).update(role=Membership.Role.MANAGER)
    # Everyone else is away as well while Dominique is at the dentist.
    for other in (camille, sacha):
        Absence.objects.create(membership=other, start=paris(2026, 12, 8), end=paris(2026, 12, 11))
    _declare(client, dominique, "2026-12-08", "2026-12-10")
    assert not Override.objects.exists()
    assert schedule.on_watch(rotation, paris(2026, 12, 9, 12)).now.membership == dominique
    # The calendar and the home page flag the stretch, for every member.
    client.force_login(sacha.user)
    for url in (reverse("rotation:team-calendar", args=["core"]), reverse("home")):
        page = client.get(url).content.decode()
        flag = page[page.index('id="uncovered"') :]
        assert "Dominique" in flag and "mardi 8 décembre 00:00" in flag
        assert "vendredi 11 décembre 00:00" in flag and "Dentiste" in flag
    # The manager is told once, through the outbox, however often the rotation is regenerated.
    notice = Notification.objects.get()
    assert (notice.kind, notice.config) == ("email", {"to": camille.user.email})
    assert notice.severity == "warning"
    assert notice.subject == (
        "Personne ne peut couvrir l'absence de Dominique du mardi 8 décembre 00:00"
        " au vendredi 11 décembre 00:00"
    )
    assert notice.url.endswith(reverse("rotation:team-calendar", args=["core"]))
    assert len(schedule.generate(rotation).uncovered) == 1
    assert Notification.objects.count() == 1


def test_a_stretch_covered_later_is_no_longer_flagged(client, rotation, members):
    camille, dominique, sacha = members
    Absence.objects.create(membership=camille, start=paris(2026, 12, 8), end=paris(2026, 12, 11))
    sacha_away = Absence.objects.create(
        membership=sacha, start=paris(2026, 12, 8), end=paris(2026, 12, 11)
    )
    Absence.objects.create(membership=dominique, start=paris(2026, 12, 8), end=paris(2026, 12, 11))
    assert len(schedule.generate(rotation).uncovered) == 1
    assert [gap.absence.membership for gap in schedule.uncovered_absences(rotation)] == [dominique]
    sacha_away.delete()
    result = schedule.generate(rotation)
    assert (result.absences_covered, result.uncovered) == (1, [])
    assert schedule.uncovered_absences(rotation) == []


def test_a_manager_hears_once_of_a_stretch_of_the_running_watch(rotation, members):
    dominique = members[1]
    Membership.objects.filter(pk=dominique.pk).update(role=Membership.Role.MANAGER)
    for member in members:
        Absence.objects.create(
            membership=member, start=paris(2026, 11, 25), end=paris(2026, 11, 27)
        )
    assert schedule.generate(rotation).uncovered[0].start == NOW
    # An hour later the stretch starts an hour later; it is still the same news.
    later = NOW + timedelta(hours=1)
    with time_machine.travel(later, tick=False):
        assert schedule.generate(rotation).uncovered[0].start == later
    notice = Notification.objects.get()
    assert notice.config == {"to": dominique.user.email}
    assert "Camille" in notice.subject

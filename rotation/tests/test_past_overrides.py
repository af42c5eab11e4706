import pytest

from rotation.forms import OverrideForm
from rotation.models import Override, Shift
from rotation.tests.conftest import paris

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen")]

# NOW is Wednesday 25 November 2026, 15:00 in Paris.
PAST = {"start": "2026-11-20T10:00", "end": "2026-11-21T10:00"}


@pytest.fixture(autouse=True)
def camille_on_watch(team, members):
    # The override covers Camille: she must be the vigie then.
    Shift.objects.create(
        team=team, membership=members[0], start=paris(2026, 11, 16, 10), end=paris(2026, 11, 30, 10)
    )


def _form(team, members, *, actor, user, **extra):
    data = {"membership": members[1].pk, "covered": members[0].pk, **PAST, **extra}
    return OverrideForm(data, team=team, actor=actor, user=user)


def test_an_override_that_ended_is_refused(team, members, manager):
    form = _form(team, members, actor=None, user=manager.user)
    assert not form.is_valid()
    assert "end" in form.errors
    # A member cannot even ask: the box is not theirs.
    form = _form(team, members, actor=members[1], user=members[1].user, correct_past="on")
    assert "correct_past" not in form.fields
    assert not form.is_valid()


def test_a_manager_corrects_the_past_explicitly_and_it_is_recorded(team, members, manager):
    form = _form(team, members, actor=None, user=manager.user, correct_past="on")
    assert form.is_valid(), form.errors
    override = form.save()
    override.refresh_from_db()
    assert override.corrected_by == manager.user
    assert override.corrected_at is not None
    assert Override.objects.count() == 1


def test_an_override_still_running_needs_no_correction(team, members, manager):
    form = _form(team, members, actor=None, user=manager.user, end="2026-11-26T10:00")
    assert form.is_valid(), form.errors
    assert form.save().corrected_at is None

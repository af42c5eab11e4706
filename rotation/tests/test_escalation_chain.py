"""Team.escalation_chain(at): who each level reaches at that instant, frozen as JSON."""

import json

import pytest

from rotation.models import EscalationLevel, Override, Profile
from rotation.tests.conftest import NOW, paris

pytestmark = pytest.mark.django_db


@pytest.fixture
def tech_lead(team, manager):
    Profile.objects.filter(user=manager.user).update(phone="+33 6 00 00", chat_handle="@manon")
    EscalationLevel.objects.filter(team=team, order=2).update(membership=manager)
    return manager


def test_the_vigie_level_is_whoever_covers_at_that_instant(
    rotation, members, tech_lead, django_assert_num_queries
):
    camille, _, sacha = members
    Profile.objects.filter(user=sacha.user).update(phone="+33 6 33", chat_handle="@sacha")
    Override.objects.create(
        team=rotation,
        membership=sacha,
        covered=camille,
        start=paris(2026, 11, 25, 9),
        end=paris(2026, 11, 26, 9),
    )
    # The levels with their members and profiles, then the watches and the overrides.
    with django_assert_num_queries(3):
        chain = rotation.escalation_chain(NOW)
    assert chain == [
        {
            "order": 1,
            "label": "Vigie",
            "delay_minutes": 0,
            "user_id": sacha.user_id,
            "name": sacha.name,
            "phone": "+33 6 33",
            "chat_handle": "@sacha",
        },
        {
            "order": 2,
            "label": "Tech lead",
            "delay_minutes": 15,
            "user_id": tech_lead.user_id,
            "name": tech_lead.name,
            "phone": "+33 6 00 00",
            "chat_handle": "@manon",
        },
        {
            "order": 3,
            "label": "CTO",
            "delay_minutes": 30,
            "user_id": None,
            "name": "",
            "phone": "",
            "chat_handle": "",
        },
    ]
    assert json.loads(json.dumps(chain)) == chain
    # After the override, the regular vigie again.
    assert rotation.escalation_chain(paris(2026, 11, 26, 9))[0]["user_id"] == camille.user_id


def test_nobody_on_watch_leaves_the_first_level_empty(team, members, tech_lead):
    chain = team.escalation_chain(NOW)
    assert [(level["order"], level["user_id"]) for level in chain] == [
        (1, None),
        (2, tech_lead.user_id),
        (3, None),
    ]
    assert chain[0]["name"] == chain[0]["phone"] == ""


def test_a_named_member_who_has_left_reaches_nobody(rotation, tech_lead):
    tech_lead.left_on = paris(2026, 11, 25, 0).date()
    tech_lead.save(update_fields=["left_on"])
    assert rotation.escalation_chain(paris(2026, 11, 24, 12))[1]["user_id"] == tech_lead.user_id
    assert rotation.escalation_chain(NOW)[1]["user_id"] is None

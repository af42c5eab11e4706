import pytest
from django.utils import timezone, translation

from rotation import demo, schedule
from rotation.models import Handover, Membership, Override, Shift, Team

pytestmark = pytest.mark.django_db


def test_demo_team_is_complete_and_idempotent():
    demo.load()
    counts = (Shift.objects.count(), Override.objects.count(), Handover.objects.count())
    demo.load()
    assert (Shift.objects.count(), Override.objects.count(), Handover.objects.count()) == counts
    team = Team.objects.get(slug="demo")
    members = Membership.objects.filter(team=team)
    assert members.count() >= 3  # enough for a rotation, a swap and an override
    assert all(m.profile.phone.startswith("+33 ") for m in members)
    assert Override.objects.filter(team=team).exists()
    assert Handover.objects.filter(shift__team=team).count() >= 2
    assert Handover.objects.exclude(note="").exists()  # a written note to read
    assert schedule.on_watch(team).now is not None


def test_the_demo_acknowledgement_lies_in_the_past():
    demo.load()
    acknowledged = Handover.objects.get(acknowledged_at__isnull=False)
    assert acknowledged.shift.end <= acknowledged.created_at < acknowledged.acknowledged_at
    assert acknowledged.acknowledged_at <= timezone.now()


def test_the_demo_summary_is_english_as_the_command_s_other_lines():
    with translation.override("fr"):
        summary = demo.load()
    assert "watches generated" in summary
    assert "générées" not in summary

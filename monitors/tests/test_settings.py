"""The monitors' settings come from the environment, are documented, and are obeyed."""

import re

import pytest

from rotation.models import Team
from tests.helpers import ROOT, manage, vigie_env

NAMES = re.compile(r"^((?:MONITORS|ESCALATION|VIGIE_NOTIFY)_\w+) = env\.get_", re.M)


def declared():
    return NAMES.findall((ROOT / "vigie" / "settings.py").read_text())


def test_every_monitors_setting_is_documented_in_env_example():
    example = (ROOT / ".env.example").read_text()
    assert len(declared()) >= 9
    for name in declared():
        assert re.search(rf"^{name}=", example, re.M), name


def test_settings_read_the_environment_and_refuse_nonsense():
    env = vigie_env(MONITORS_RESULT_RETENTION_DAYS="3", ESCALATION_L2_DELAY_MINUTES="5")
    script = (
        "from django.conf import settings as s; "
        "print(s.MONITORS_RESULT_RETENTION_DAYS, s.MONITORS_HOURLY_RETENTION_DAYS,"
        " s.MONITORS_RENOTIFY_MINUTES, s.ESCALATION_L2_DELAY_MINUTES)"
    )
    result = manage("shell", "-c", script, env=env, check=True)
    assert result.stdout.splitlines()[-1].split() == ["3", "90", "30", "5"]
    refused = manage("check", env=vigie_env(MONITORS_RENOTIFY_MINUTES="0"))
    assert refused.returncode != 0
    assert "MONITORS_RENOTIFY_MINUTES" in refused.stderr


@pytest.mark.django_db
def test_a_new_team_gets_the_escalation_delays_of_the_settings(settings):
    settings.ESCALATION_L2_DELAY_MINUTES, settings.ESCALATION_L3_DELAY_MINUTES = 10, 45
    team = Team.objects.create(slug="neuve", name="Neuve")
    delays = list(team.escalation_levels.order_by("order").values_list("delay_minutes", flat=True))
    assert delays == [0, 10, 45]

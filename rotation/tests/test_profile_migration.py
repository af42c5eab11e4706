"""0006_profiles: the contacts copied on every membership become one profile per person."""

from datetime import date

import pytest
import time_machine
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from structlog.testing import capture_logs

from rotation.tests.conftest import paris

BEFORE = [("rotation", "0005_hashed_api_tokens")]
AFTER = [("rotation", "0006_profiles")]


def migrate(targets):
    """Migrate to `targets`; returns the models as they are there."""
    executor = MigrationExecutor(connection)
    executor.migrate(targets)
    executor.loader.build_graph()
    return executor.loader.project_state(targets).apps


@pytest.fixture
def old_apps(transactional_db):
    apps = migrate(BEFORE)
    yield apps
    executor = MigrationExecutor(connection)
    migrate(executor.loader.graph.leaf_nodes())


def _member(apps, team, user, **fields):
    return apps.get_model("rotation", "Membership").objects.create(team=team, user=user, **fields)


@time_machine.travel(paris(2026, 11, 25, 15, 0), tick=False)
def test_contacts_move_to_one_profile_per_person_and_nothing_is_lost(old_apps):
    User = old_apps.get_model("auth", "User")
    Team = old_apps.get_model("rotation", "Team")
    core = Team.objects.create(slug="core", name="Core", feed_token="t1")
    ops = Team.objects.create(slug="ops", name="Ops", feed_token="t2", timezone="Pacific/Auckland")
    camille, dominique, sacha = (User.objects.create(username=n) for n in ("c", "d", "s"))
    # Camille is in two teams; the copies disagree on the login and each has one of the rest.
    _member(old_apps, core, camille, feed_token="f1", phone="+33 6 01", github_login="cam-old")
    _member(old_apps, ops, camille, feed_token="f2", chat_handle="@camille", github_login="cam-m")
    # Dominique left before left_on existed; Sacha was removed with a departure still ahead.
    _member(old_apps, core, dominique, feed_token="f3", phone="+33 6 02", active=False)
    _member(old_apps, ops, sacha, feed_token="f4", active=False, left_on=date(2027, 1, 1))
    _member(old_apps, core, sacha, feed_token="f5", left_on=date(2027, 1, 1))

    with capture_logs() as logs:
        apps = migrate(AFTER)

    Profile = apps.get_model("rotation", "Profile")
    profiles = {
        p.user.username: (p.phone, p.chat_handle, p.github_login)
        for p in Profile.objects.select_related("user")
    }
    assert profiles == {
        "c": ("+33 6 01", "@camille", "cam-m"),
        "d": ("+33 6 02", "", ""),
        "s": ("", "", ""),
    }
    # The login that lost is in the log, with whose and which membership won.
    assert [(e["event"], e["field"], e["kept"], e["dropped"]) for e in logs if e.get("field")] == [
        ("profile_contact_conflict", "github_login", "cam-m", "cam-old")
    ]

    Membership = apps.get_model("rotation", "Membership")
    left = dict(Membership.objects.values_list("feed_token", "left_on"))
    assert left["f3"] == date(2026, 11, 25)  # today in Paris
    assert left["f4"] == date(2026, 11, 26)  # today in Auckland: gone now, not in January
    assert left["f5"] == date(2027, 1, 1)  # still in the team until then
    assert left["f1"] is left["f2"] is None
    assert not {"phone", "chat_handle", "github_login", "active"} & {
        f.name for f in Membership._meta.get_fields()
    }


@time_machine.travel(paris(2026, 11, 25, 15, 0), tick=False)
def test_the_migration_goes_back_with_the_contacts_on_every_membership(old_apps):
    apps = migrate(AFTER)
    User = apps.get_model("auth", "User")
    Team = apps.get_model("rotation", "Team")
    team = Team.objects.create(slug="core", name="Core", feed_token="t1")
    camille = User.objects.create(username="c")
    apps.get_model("rotation", "Profile").objects.create(user=camille, phone="+33 6 01")
    _member(apps, team, camille, feed_token="f1")
    gone = User.objects.create(username="d")
    _member(apps, team, gone, feed_token="f2", left_on=date(2026, 11, 25))

    apps = migrate(BEFORE)

    rows = apps.get_model("rotation", "Membership").objects.order_by("feed_token")
    assert list(rows.values_list("phone", "active")) == [("+33 6 01", True), ("", False)]

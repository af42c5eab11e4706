import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

pytestmark = pytest.mark.usefixtures("latest_schema_after")

BEFORE = [("rotation", "0012_profile_sentry_account")]
AFTER = [("rotation", "0013_profile_accounts_by_tool")]


@pytest.mark.django_db(transaction=True)
def test_the_sentry_account_moves_to_the_accounts_by_tool():
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    old_apps = executor.loader.project_state(BEFORE).apps
    users = old_apps.get_model("auth", "User").objects
    profiles = old_apps.get_model("rotation", "Profile").objects
    marie = profiles.create(user=users.create(username="marie"), sentry_account="marie@x.org")
    none = profiles.create(user=users.create(username="paul"))

    executor = MigrationExecutor(connection)
    executor.migrate(AFTER)
    new_model = executor.loader.project_state(AFTER).apps.get_model("rotation", "Profile")
    assert dict(new_model.objects.values_list("pk", "accounts")) == {
        marie.pk: {"sentry": "marie@x.org"},
        none.pk: {},
    }

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

pytestmark = pytest.mark.usefixtures("latest_schema_after")

BEFORE = [("triage", "0004_small_requests")]
AFTER = [("triage", "0005_github_issue_url_stored_once")]
URL = "https://github.com/a/b/issues/9"


@pytest.mark.django_db(transaction=True)
def test_the_copy_in_qualification_params_moves_to_the_field():
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    old_apps = executor.loader.project_state(BEFORE).apps
    source = old_apps.get_model("triage", "Source").objects.create(name="prod", kind="demo")
    item_model = old_apps.get_model("triage", "Item")
    both = item_model.objects.create(
        source=source,
        external_id="1",
        qualification="bug",
        github_issue_url=URL,
        qualification_params={"github_issue_url": URL},
    )
    only_copy = item_model.objects.create(
        source=source,
        external_id="2",
        qualification="bug",
        qualification_params={"github_issue_url": URL, "note": "kept"},
    )
    ignored = item_model.objects.create(
        source=source, external_id="3", qualification_params={"ignoreCount": 1}
    )

    executor = MigrationExecutor(connection)
    executor.migrate(AFTER)
    new_model = executor.loader.project_state(AFTER).apps.get_model("triage", "Item")
    rows = {i.pk: (i.github_issue_url, i.qualification_params) for i in new_model.objects.all()}
    assert rows == {
        both.pk: (URL, {}),
        only_copy.pk: (URL, {"note": "kept"}),
        ignored.pk: ("", {"ignoreCount": 1}),
    }

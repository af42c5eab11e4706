import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

pytestmark = pytest.mark.usefixtures("latest_schema_after")

BEFORE = [("triage", "0008_admin_labels")]
AFTER = [("triage", "0009_names_say_what_they_hold")]


@pytest.mark.django_db(transaction=True)
def test_the_renamed_fields_keep_their_values():
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    old_apps = executor.loader.project_state(BEFORE).apps
    source = old_apps.get_model("triage", "Source").objects.create(
        name="jobs", kind="goodjob", token="postgres://ro@db/app", token_env="DSN", projects=["a/b"]
    )
    old_apps.get_model("triage", "Item").objects.create(
        source=source, external_id="1", culprit="SendEmailJob", event_count=7
    )

    executor = MigrationExecutor(connection)
    executor.migrate(AFTER)
    new_apps = executor.loader.project_state(AFTER).apps
    moved = new_apps.get_model("triage", "Source").objects.get(pk=source.pk)
    assert (moved.secret, moved.secret_env, moved.scopes) == (
        "postgres://ro@db/app",
        "DSN",
        ["a/b"],
    )
    item = new_apps.get_model("triage", "Item").objects.get(source=moved)
    assert (item.origin, item.tally) == ("SendEmailJob", 7)


@pytest.mark.django_db(transaction=True)
def test_a_write_back_error_stored_as_text_is_still_shown():
    before = [("triage", "0011_kinds_from_the_registry")]
    after = [("triage", "0012_writeback_failure_facts")]
    executor = MigrationExecutor(connection)
    executor.migrate(before)
    old_apps = executor.loader.project_state(before).apps
    source = old_apps.get_model("triage", "Source").objects.create(name="s", kind="demo")
    old_apps.get_model("triage", "Item").objects.create(
        source=source, external_id="1", writeback_error="Résolu : l'écriture a échoué : 502"
    )

    executor = MigrationExecutor(connection)
    executor.migrate(after)
    item = executor.loader.project_state(after).apps.get_model("triage", "Item").objects.get()
    assert item.writeback_failure == {"text": "Résolu : l'écriture a échoué : 502"}


@pytest.mark.django_db(transaction=True)
def test_a_sync_error_stored_as_text_is_still_shown():
    before = [("triage", "0012_writeback_failure_facts")]
    after = [("triage", "0013_sync_failure_facts")]
    executor = MigrationExecutor(connection)
    executor.migrate(before)
    old_apps = executor.loader.project_state(before).apps
    old_apps.get_model("triage", "Source").objects.create(
        name="s", kind="sentry", last_error="Sentry refused the token (HTTP 401)"
    )

    executor = MigrationExecutor(connection)
    executor.migrate(after)
    source = executor.loader.project_state(after).apps.get_model("triage", "Source").objects.get()
    assert source.last_failure == {"text": "Sentry refused the token (HTTP 401)"}

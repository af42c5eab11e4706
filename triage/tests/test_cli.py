import io

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone, translation

from rotation.models import Team
from tests.fakes.fixtures import SENTRY_TOKEN_ENV
from triage.models import Item, Source

pytestmark = pytest.mark.django_db


def run(*args, stdin=None, monkeypatch=None):
    out = io.StringIO()
    if stdin is not None:
        monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    call_command(*args, stdout=out)
    return out.getvalue()


def test_addsource_sentry(fake_sentry):
    Team.objects.create(slug="rdv", name="RDV")
    out = run(
        "addsource", "sentry", "--name", "prod", "--url", fake_sentry.url + "/", "--org", "acme",
        "--project", "74", "--project", "rdv-insertion", "--environment", "production",
        "--token-env", "SENTRY_TOKEN", "--github-repo", "betagouv/rdv-service-public",
        "--team", "rdv",
    )  # fmt: skip
    source = Source.objects.get(name="prod")
    assert source.kind == "sentry"
    assert source.base_url == fake_sentry.url
    assert source.scopes == ["74", "rdv-insertion"]
    assert source.secret_env == "SENTRY_TOKEN"
    assert source.secret == ""
    assert source.team.slug == "rdv"
    assert "manage.py sync --source prod" in out


def test_addsource_reads_a_stored_token_from_stdin_and_never_prints_it(monkeypatch):
    out = run(
        "addsource", "sentry", "--name", "selfhosted", "--url", "https://sentry.incubateur.net",
        "--org", "betagouv", "--project", "74", "--token-stdin",
        stdin="sntrys_very_secret_value\n", monkeypatch=monkeypatch,
    )  # fmt: skip
    assert Source.objects.get(name="selfhosted").secret == "sntrys_very_secret_value"
    assert "sntrys_very_secret_value" not in out


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--token-env", "sntrys_abc/def+ghi"], "not an environment variable name"),
        (["--token-env", "T", "--github-repo", "not a repo"], "owner/name"),
        (["--token-env", "T", "--team", "nobody"], "no team"),
        (["--token-env", "T", "--url", "not-a-url"], r"^--url: Enter a valid URL\.$"),
        (["--token-env", "T", "--org", "ac me"], r"^--org: The organisation's slug"),
        (["--token-env", "T", "--interval", "0"], "interval"),
    ],
)
def test_addsource_bad_input_is_a_clear_error(extra, message):
    with pytest.raises(CommandError, match=message) as error:
        run("addsource", "sentry", "--name", "prod", "--org", "acme", "--project", "1", *extra)
    assert "sntrys_abc" not in str(error.value)
    assert not Source.objects.exists()


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["--url", "https://bugsink.example", "--project", "abc"], r"^--project: One Bugsink"),
        (["--url", "bugsink", "--project", "3"], r"^--url: Enter a valid URL\.$"),
    ],
)
def test_addsource_bugsink_names_the_option_at_fault_in_english(options, message):
    # The site speaks French; the command, as all it prints, English.
    with translation.override("fr"), pytest.raises(CommandError, match=message):
        run("addsource", "bugsink", "--name", "bs", "--token-env", "T", *options)
    assert not Source.objects.exists()


def test_addsource_refuses_a_duplicate_name(sentry_source):
    with pytest.raises(CommandError, match="already exists"):
        run("addsource", "sentry", "--name", "prod", "--org", "a", "--project", "1",
            "--token-env", "T")  # fmt: skip


def test_sync_prints_one_line_per_source(fake_sentry, sentry_source):
    fake_sentry.add_issues(3)
    out = run("sync")
    assert out.strip() == "prod: 3 new, 0 updated, 0 unchanged, 0 skipped, 0 errors (1 requests)"
    fake_sentry.occur(Item.objects.first().external_id)
    assert "prod: 0 new, 1 updated, 2 unchanged" in run("sync", "--source", "prod")


def test_sync_fails_when_a_source_failed_and_still_syncs_the_others(
    fake_sentry, sentry_source, monkeypatch
):
    Source.objects.create(
        kind="sentry", name="broken", base_url=fake_sentry.url,
        organization="nope", scopes=["74"], secret_env=SENTRY_TOKEN_ENV,
    )  # fmt: skip
    fake_sentry.add_issue()
    out = io.StringIO()
    with pytest.raises(CommandError, match="1 source\\(s\\) failed: broken"):
        call_command("sync", stdout=out)
    lines = out.getvalue().splitlines()
    assert lines[0].startswith("broken: error: Sentry answered 404")
    assert lines[1].startswith("prod: 1 new")


def test_sync_names_the_known_sources_when_asked_for_another(sentry_source):
    with pytest.raises(CommandError, match=r"no source named 'dev' \(known: prod\)"):
        run("sync", "--source", "dev")


def test_sync_retries_a_source_stopped_on_an_auth_error(fake_sentry, sentry_source, monkeypatch):
    monkeypatch.setenv(SENTRY_TOKEN_ENV, "wrong")
    with pytest.raises(CommandError):
        run("sync")
    monkeypatch.setenv(SENTRY_TOKEN_ENV, fake_sentry.token)
    assert "prod: 0 new" in run("sync")
    sentry_source.refresh_from_db()
    assert sentry_source.state == Source.State.OK


def test_addsource_goodjob_keeps_the_dsn_in_the_environment():
    out = run(
        "addsource", "goodjob", "--name", "jobs", "--dsn-env", "RDV_GOODJOB_DSN",
        "--dashboard-url", "https://rdv.example.org/super_admins/good_job/",
    )  # fmt: skip
    source = Source.objects.get(name="jobs")
    assert (source.kind, source.secret_env, source.secret) == ("goodjob", "RDV_GOODJOB_DSN", "")
    assert source.base_url == "https://rdv.example.org/super_admins/good_job"
    assert "$RDV_GOODJOB_DSN" in out


def test_addsource_goodjob_needs_a_dsn():
    with pytest.raises(CommandError, match="dsn"):
        run("addsource", "goodjob", "--name", "jobs")


def test_addsource_djangoq_without_a_dsn_watches_this_vigie():
    out = run("addsource", "djangoq", "--name", "vigie-tasks")
    assert "this Vigie's own failed tasks" in out
    assert Source.objects.get(name="vigie-tasks").kind == "djangoq"


def test_addsource_dsn_from_stdin_is_never_printed(monkeypatch):
    dsn = "postgres://reader:s3cret@db.example.org/rdv"
    out = run("addsource", "goodjob", "--name", "jobs", "--dsn-stdin", stdin=dsn + "\n",
              monkeypatch=monkeypatch)  # fmt: skip
    assert Source.objects.get(name="jobs").secret == dsn
    assert "s3cret" not in out


def test_sync_fails_when_a_source_is_already_syncing_elsewhere(sentry_source):
    Source.objects.filter(pk=sentry_source.pk).update(sync_started_at=timezone.now())
    out = io.StringIO()
    with pytest.raises(CommandError, match="1 source\\(s\\) already syncing elsewhere: prod"):
        call_command("sync", stdout=out)
    assert out.getvalue() == "prod: already syncing elsewhere, skipped\n"

import subprocess
import sys

import pytest

from tests.helpers import ROOT, manage, vigie_env
from vigie import env
from vigie.env import ConfigError


@pytest.mark.parametrize(
    ("raw", "expected"), [("true", True), ("1", True), ("ON", True), ("no", False), ("", False)]
)
def test_booleans_parse(monkeypatch, raw, expected):
    monkeypatch.setenv("DEBUG", raw)
    assert env.get_bool("DEBUG") is expected


def test_bad_boolean_names_the_variable(monkeypatch):
    monkeypatch.setenv("DEBUG", "maybe")
    with pytest.raises(ConfigError, match=r"^DEBUG: expected a boolean"):
        env.get_bool("DEBUG")


def test_sample_rate_out_of_range(monkeypatch):
    monkeypatch.setenv("SENTRY_TRACES_SAMPLE_RATE", "2")
    with pytest.raises(ConfigError, match="SENTRY_TRACES_SAMPLE_RATE"):
        env.get_float("SENTRY_TRACES_SAMPLE_RATE", 0.0, 0.0, 1.0)


def test_sqlite_gets_wal_busy_timeout_and_immediate_transactions(monkeypatch, tmp_path):
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path}/v.sqlite3")
    options = env.get_database("DATABASE_URL", "")["OPTIONS"]
    assert options["transaction_mode"] == "IMMEDIATE"
    assert options["timeout"] >= 5
    assert "journal_mode=WAL" in options["init_command"]


def test_postgres_gets_a_connect_timeout(monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "postgres://vigie:s3cret@db:5432/vigie")
    config = env.get_database("DATABASE_URL", "")
    assert config["OPTIONS"]["connect_timeout"] == 5


def test_unparsable_database_url_hides_the_password(monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "postgress://vigie:s3cret@db/vigie")
    with pytest.raises(ConfigError) as error:
        env.get_database("DATABASE_URL", "")
    assert str(error.value).startswith("DATABASE_URL: cannot parse")
    assert "s3cret" not in str(error.value)


@pytest.mark.parametrize(
    ("overrides", "variable"),
    [
        ({"DEBUG": "false", "SECRET_KEY": ""}, "SECRET_KEY"),
        (
            {"DEBUG": "false", "SECRET_KEY": "k" * 60, "VIGIE_ENCRYPTION_KEYS": ""},
            "VIGIE_ENCRYPTION_KEYS",
        ),
        ({"VIGIE_ENCRYPTION_KEYS": "not-a-fernet-key"}, "VIGIE_ENCRYPTION_KEYS"),
        ({"DATABASE_URL": "nonsense"}, "DATABASE_URL"),
        ({"DEBUG": "perhaps"}, "DEBUG"),
        ({"TIME_ZONE": "Mars/Olympus"}, "TIME_ZONE"),
        ({"SENTRY_PROFILES_SAMPLE_RATE": "lots"}, "SENTRY_PROFILES_SAMPLE_RATE"),
        # Through ALLOWED_HOSTS a pattern would reach every page, not the probes only.
        ({"PROBE_HOSTS": "web,*"}, "PROBE_HOSTS"),
        ({"PROBE_HOSTS": ".example.org"}, "PROBE_HOSTS"),
    ],
)
def test_bad_environment_stops_the_start_with_one_line(overrides, variable):
    result = manage("check", env=vigie_env(**overrides))
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(f"vigie: {variable}:")


def test_expand_resolves_references_at_use(monkeypatch):
    from vigie.env import MissingVariable, expand, references

    monkeypatch.setenv("HOOK_TOKEN", "s3cret")
    assert expand("https://hooks.example.org/${HOOK_TOKEN}") == "https://hooks.example.org/s3cret"
    assert references("${A} and ${B_2}") == ["A", "B_2"]
    assert expand("no reference, $HOME stays") == "no reference, $HOME stays"
    monkeypatch.delenv("HOOK_TOKEN")
    with pytest.raises(MissingVariable, match="HOOK_TOKEN"):
        expand("${HOOK_TOKEN}")


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("LOG_LEVEL", "LOUD"),
        ("SENTRY_DSN", "notadsn"),
        ("SENTRY_TRACES_SAMPLE_RATE", "nan"),
        ("SENTRY_TRACES_SAMPLE_RATE", "inf"),
        ("VIGIE_WORKERS", "-3"),
        ("VIGIE_WORKERS", "0"),
    ],
)
def test_a_bad_value_prints_one_line_naming_the_variable(variable, value):
    result = manage("check", env=vigie_env(**{variable: value}))
    assert result.returncode != 0
    assert result.stderr.splitlines() == [result.stderr.strip()]
    assert result.stderr.startswith(f"vigie: {variable}: ")


def test_a_sentry_dsn_error_does_not_echo_the_key():
    result = manage("check", env=vigie_env(SENTRY_DSN="secretkey@nohost"))
    assert result.stderr.startswith("vigie: SENTRY_DSN: ") and "secretkey" not in result.stderr


def test_valid_values_are_accepted(monkeypatch):
    monkeypatch.setenv("LOG_LEVEL", "warning")
    monkeypatch.setenv("VIGIE_WORKERS", "1")
    monkeypatch.setenv("SENTRY_DSN", "https://key@sentry.example.org/42")
    assert env.get_choice("LOG_LEVEL", "INFO", ("INFO", "WARNING")) == "WARNING"
    assert env.get_int("VIGIE_WORKERS", 2, minimum=1) == 1
    assert env.get_sentry_dsn("SENTRY_DSN") == "https://key@sentry.example.org/42"


@pytest.mark.slow
def test_gunicorn_with_a_bad_database_url_exits_with_the_message(tmp_path):
    env = vigie_env(DATABASE_URL="nosuchscheme://x", VIGIE_DATA_DIR=str(tmp_path))
    command = [sys.executable, "-m", "gunicorn", "vigie.wsgi", "--bind", "127.0.0.1:0"]
    result = subprocess.run(
        command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode != 0
    assert "vigie: DATABASE_URL: cannot parse the database URL" in result.stderr
    assert "Booting worker" not in result.stderr


def test_production_settings_do_not_change_under_pytest():
    # The settings module does not look at who imports it: pytest's own live in settings_test.
    script = (
        "import sys; sys.modules['pytest'] = object(); "
        "from django.conf import settings; "
        "print(settings.Q_CLUSTER['sync'], settings.SECURE_SSL_REDIRECT)"
    )
    env = vigie_env(DEBUG="false", SECRET_KEY="x" * 60, ALLOWED_HOSTS="vigie.example.org")
    result = manage("shell", "-c", script, env=env, check=True)
    assert result.stdout.splitlines()[-1].split() == ["False", "True"]


def test_tests_run_tasks_inline_over_plain_http(settings):
    assert settings.SETTINGS_MODULE == "vigie.settings_test"
    assert settings.Q_CLUSTER["sync"] is True and settings.SECURE_SSL_REDIRECT is False


def test_a_dotenv_file_fills_what_the_environment_does_not_set(tmp_path, monkeypatch):
    dotenv = tmp_path / ".env"
    dotenv.write_text("# make run\n\nVIGIE_T_A=from-file\nexport VIGIE_T_B='quoted value'\n")
    monkeypatch.setenv("VIGIE_T_A", "from-environment")
    monkeypatch.delenv("VIGIE_T_B", raising=False)
    env.load_dotenv(dotenv)
    assert env.get_str("VIGIE_T_A") == "from-environment"
    assert env.get_str("VIGIE_T_B") == "quoted value"
    monkeypatch.delenv("VIGIE_T_B")


def test_a_bad_dotenv_line_names_the_file_and_line(tmp_path):
    dotenv = tmp_path / ".env"
    dotenv.write_text("DEBUG=true\nnot a setting\n")
    with pytest.raises(ConfigError, match=r"\.env:2: expected KEY=VALUE"):
        env.load_dotenv(dotenv)


def test_manage_reads_the_dotenv_file(tmp_path):
    dotenv = tmp_path / ".env"
    dotenv.write_text("DEBUG=false\nSECRET_KEY=" + "s" * 60 + "\nALLOWED_HOSTS=vigie.example.org\n")
    env_vars = vigie_env(VIGIE_ENV_FILE=str(dotenv), VIGIE_DATA_DIR=str(tmp_path))
    del env_vars["DEBUG"]
    script = (
        "from django.conf import settings; print(settings.DEBUG, settings.PUBLIC_ALLOWED_HOSTS)"
    )
    result = manage("shell", "-c", script, env=env_vars, check=True)
    assert result.stdout.splitlines()[-1] == "False ['vigie.example.org']"


def _base_url(tmp_path, dotenv="", **overrides):
    path = tmp_path / ".env"
    path.write_text(dotenv)
    env_vars = vigie_env(VIGIE_ENV_FILE=str(path), VIGIE_DATA_DIR=str(tmp_path))
    env_vars.pop("VIGIE_BASE_URL", None)  # the test runner's own, if it has one
    env_vars.update(overrides)
    script = "from django.conf import settings; print(settings.VIGIE_BASE_URL)"
    return manage("shell", "-c", script, env=env_vars, check=True).stdout.splitlines()[-1]


def test_links_point_where_make_run_serves(tmp_path):
    assert _base_url(tmp_path, VIGIE_ADDR="127.0.0.1:8347") == "http://127.0.0.1:8347"
    assert _base_url(tmp_path) == "http://127.0.0.1:8000"


@pytest.mark.parametrize("where", ["dotenv", "environment"])
def test_an_operators_base_url_wins_over_the_served_address(tmp_path, where):
    chosen = "https://vigie.example.org"
    if where == "dotenv":
        url = _base_url(tmp_path, f"VIGIE_BASE_URL={chosen}\n", VIGIE_ADDR="127.0.0.1:8347")
    else:
        url = _base_url(tmp_path, VIGIE_ADDR="127.0.0.1:8347", VIGIE_BASE_URL=chosen)
    assert url == chosen


def test_serve_tells_web_and_worker_the_address_it_serves(monkeypatch):
    from django.core.management import call_command

    from vigie.management.commands import serve

    started = []

    class Child:
        pid, returncode = 0, 0

        def __init__(self, command, env, **kwargs):
            started.append(env)

        def poll(self):
            return 0

        def wait(self, timeout=None):
            return 0

    monkeypatch.setattr(serve.subprocess, "Popen", Child)
    monkeypatch.setattr(serve, "async_task", lambda *args: None)
    with pytest.raises(SystemExit):
        call_command("serve", addr="127.0.0.1:8347")
    assert [env["VIGIE_ADDR"] for env in started] == ["127.0.0.1:8347", "127.0.0.1:8347"]


def test_probe_hosts_from_the_environment_join_the_loopback_ones(tmp_path):
    script = (
        "from django.conf import settings; "
        "print(settings.PROBE_HOSTS, settings.PUBLIC_ALLOWED_HOSTS, "
        "'web' in settings.ALLOWED_HOSTS)"
    )
    env_vars = vigie_env(
        DEBUG="false", SECRET_KEY="s" * 60, ALLOWED_HOSTS="vigie.example.org", PROBE_HOSTS="Web"
    )
    result = manage("shell", "-c", script, env=env_vars, check=True)
    assert result.stdout.splitlines()[-1] == (
        "['127.0.0.1', 'localhost', '[::1]', 'web'] ['vigie.example.org'] True"
    )

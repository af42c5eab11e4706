import pytest

from tests.helpers import manage, vigie_env
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

"""VIGIE_CACHE=database: the item detail's cache is one table that every process shares (the
default, "memory", is per process); `migrate` creates it."""

from tests.helpers import manage, vigie_env


def test_a_bad_cache_value_names_the_variable():
    result = manage("check", env=vigie_env(VIGIE_CACHE="redis"))
    assert result.returncode != 0
    assert result.stderr.strip().splitlines() == [
        "vigie: VIGIE_CACHE: expected one of MEMORY, DATABASE, got 'REDIS'"
    ]


def test_the_database_cache_is_shared_by_processes(tmp_path):
    env = vigie_env(VIGIE_CACHE="database", DATABASE_URL=f"sqlite:///{tmp_path}/v.sqlite3")
    manage("migrate", "--no-input", "-v", "0", env=env, timeout=120, check=True)
    write = "from django.core.cache import cache; cache.set('triage:detail:1', 'from Sentry', 60)"
    manage("shell", "-c", write, env=env, check=True)
    read = "from django.core.cache import cache; print(cache.get('triage:detail:1'))"
    assert manage("shell", "-c", read, env=env, check=True).stdout.splitlines()[-1] == "from Sentry"

"""The sql check on SQLite and PostgreSQL: one read-only SELECT with a deadline."""

import sqlite3
import uuid

import psycopg
import pytest
from django.core.exceptions import ValidationError
from django.utils import translation

from monitors import checks
from monitors.checks import sql
from monitors.checks.base import Failure
from monitors.tests.probe_servers import free_port
from vigie.phrases import spoken

PG_DSN = "postgres://postgres@127.0.0.1:5432/postgres"


@pytest.fixture(autouse=True)
def english():
    """Messages are asserted in English; French is checked once in test_checks_validate."""
    with translation.override("en"):
        yield


def run(dsn, query, timeout=2.0, **config):
    return checks.run(
        "sql", {"dsn": dsn, "query": query, **config}, timeout=timeout, allow_private=False
    )


@pytest.fixture
def sqlite_dsn(tmp_path):
    path = tmp_path / "shop.sqlite3"
    with sqlite3.connect(path) as connection:
        connection.execute("CREATE TABLE stock (id INTEGER PRIMARY KEY, sku TEXT, qty INTEGER)")
        connection.executemany(
            "INSERT INTO stock (sku, qty) VALUES (?, ?)",
            [(f"SKU-{n}" + "x" * (300 if n == 0 else 0), -n) for n in range(30)] + [("OK", 5)],
        )
    connection.close()
    return f"sqlite:///{path}"


def test_no_row_is_ok(sqlite_dsn):
    outcome = run(sqlite_dsn, "SELECT id FROM stock WHERE qty > 100")
    assert outcome.ok
    assert outcome.details["row_count"] == 0


def test_rows_fail_showing_the_first_twenty(sqlite_dsn):
    outcome = run(sqlite_dsn, "SELECT id, sku, qty FROM stock WHERE qty <= 0 ORDER BY id;")
    assert not outcome.ok
    assert outcome.message == "30 rows"
    assert outcome.details["row_count"] == 30
    assert outcome.details["columns"] == ["id", "sku", "qty"]
    assert len(outcome.details["rows"]) == 20
    first = outcome.details["rows"][0]
    assert len(first[1]) == 200 and first[1].endswith("…")
    assert outcome.details["rows"][1] == [2, "SKU-1", -1]


def test_with_select_is_allowed(sqlite_dsn):
    outcome = run(
        sqlite_dsn, "WITH bad AS (SELECT * FROM stock WHERE qty < -28) SELECT id FROM bad"
    )
    assert outcome.message == "1 row"


def test_threshold(sqlite_dsn):
    ratio = "SELECT 0.07"
    assert run(sqlite_dsn, ratio, threshold="> 0.05").message == "0.07 > 0.05"
    assert run(sqlite_dsn, ratio, threshold="> 0.1").ok
    assert run(sqlite_dsn, "SELECT count(*) FROM stock", threshold="< 10").ok
    failing = run(sqlite_dsn, "SELECT count(*) FROM stock WHERE qty > 0", threshold="< 10")
    assert failing.message == "1 < 10"
    several = run(sqlite_dsn, "SELECT id FROM stock", threshold="< 10")
    assert several.message == "expected one row of one number, got 31 rows of 1 columns"
    passing = run(sqlite_dsn, ratio, threshold="> 0.1")
    assert passing.message == "0.07 (fails when > 0.1)"
    text = run(sqlite_dsn, "SELECT 'abc'", threshold="> 1")
    assert text.message == "expected a number, got 'abc'"
    with translation.override("fr"):  # stored in English, read in the reader's language
        assert spoken(several.message.said()) == (
            "une ligne d'un nombre attendue, 31 lignes de 1 colonnes reçues"
        )
        assert spoken(passing.message.said()) == "0.07 (en échec si > 0.1)"
        assert spoken(text.message.said()) == "un nombre attendu, 'abc' reçu"


def test_sqlite_timeout(sqlite_dsn):
    endless = (
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n) "
        "SELECT i FROM n WHERE i < 0"
    )
    assert run(sqlite_dsn, endless, timeout=0.3).message == (
        "timeout after 0.3 s: query interrupted"
    )


def test_sqlite_opened_read_only(sqlite_dsn, tmp_path):
    missing = f"sqlite:///{tmp_path / 'nothing.sqlite3'}"
    assert run(missing, "SELECT 1").message.startswith("cannot open the database")
    assert not (tmp_path / "nothing.sqlite3").exists()  # read-only mode never creates it


@pytest.mark.parametrize(
    ("query", "error"),
    [
        ("SELECT 1; SELECT 2", "expected exactly one SQL statement, found 2"),
        ("SELECT 1; DROP TABLE stock", "expected exactly one SQL statement, found 2"),
        ("DELETE FROM stock", "only a SELECT is allowed, not DELETE"),
        ("UPDATE stock SET qty = 0", "only a SELECT is allowed, not UPDATE"),
        ("INSERT INTO stock VALUES (1)", "only a SELECT is allowed, not INSERT"),
        ("DROP TABLE stock", "only a SELECT is allowed, not DROP"),
        (
            "WITH d AS (DELETE FROM stock RETURNING *) SELECT * FROM d",
            "only a SELECT is allowed, not DELETE",
        ),
        ("SELECT * INTO copy FROM stock", "SELECT ... INTO writes a table: not allowed"),
        ("SELECT * FROM stock FOR UPDATE", "SELECT ... FOR UPDATE takes row locks: not allowed"),
        ("SELECT * FROM stock FOR SHARE", "SELECT ... FOR SHARE takes row locks: not allowed"),
        ("-- nothing", "expected exactly one SQL statement, found 0"),
    ],
)
def test_refused_when_saved_and_when_run(sqlite_dsn, query, error):
    with pytest.raises(ValidationError) as caught:
        checks.validate("sql", {"dsn": sqlite_dsn, "query": query})
    assert caught.value.message_dict == {"query": [error]}
    # A stored config that skipped validation is refused again at run time.
    with pytest.raises(Failure) as refused:
        sql.run(
            {"dsn": sqlite_dsn, "query": query, "threshold": None}, timeout=1, allow_private=False
        )
    assert str(refused.value) == error


def test_missing_variable_names_it_not_the_value(monkeypatch):
    outcome = run("${VIGIE_TEST_SHOP_DSN}", "SELECT 1")
    assert outcome.message == "environment variable VIGIE_TEST_SHOP_DSN is not set"


def test_dsn_never_shown(monkeypatch):
    secret = f"postgres://reader:s3cr3t-pw@127.0.0.1:{free_port()}/shop"
    monkeypatch.setenv("VIGIE_TEST_SHOP_DSN", secret)
    outcome = run("${VIGIE_TEST_SHOP_DSN}", "SELECT 1", timeout=1)
    assert outcome.message.startswith("cannot connect to the database: ")
    assert "s3cr3t" not in outcome.message


def _postgres_available():
    try:
        psycopg.connect(PG_DSN, connect_timeout=2).close()
    except psycopg.Error:
        return False
    return True


@pytest.fixture
def pg_table():
    if not _postgres_available():
        pytest.skip("PostgreSQL is not listening on 127.0.0.1:5432")
    name = f"vigie_checks_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(PG_DSN, autocommit=True) as connection:
        connection.execute(f"CREATE TABLE {name} (id serial PRIMARY KEY, qty integer)")
        connection.execute(f"CREATE SEQUENCE {name}_seq")
        connection.execute(f"INSERT INTO {name} (qty) SELECT -n FROM generate_series(1, 30) n")
    yield name
    with psycopg.connect(PG_DSN, autocommit=True) as connection:
        connection.execute(f"DROP TABLE {name}")
        connection.execute(f"DROP SEQUENCE {name}_seq")


def test_postgres_rows(pg_table):
    outcome = run(PG_DSN, f"SELECT id, qty FROM {pg_table} WHERE qty < 0 ORDER BY id")
    assert outcome.message == "30 rows"
    assert len(outcome.details["rows"]) == 20
    assert outcome.details["rows"][0] == [1, -1]
    assert run(PG_DSN, f"SELECT id FROM {pg_table} WHERE qty > 0").ok


def test_postgres_threshold(pg_table):
    outcome = run(PG_DSN, f"SELECT avg(qty) FROM {pg_table}", threshold="< 0")
    assert outcome.message == "-15.5 < 0"


def test_postgres_statement_timeout(pg_table):
    outcome = run(PG_DSN, "SELECT pg_sleep(5)", timeout=0.5)
    assert outcome.message == "timeout after 0.5 s: statement cancelled"


def test_postgres_write_refused_by_read_only_transaction(pg_table):
    outcome = run(PG_DSN, f"SELECT nextval('{pg_table}_seq')")
    assert outcome.message == (
        "refused by the read-only transaction: cannot execute nextval() in a read-only transaction"
    )


def test_postgres_query_error(pg_table):
    outcome = run(PG_DSN, "SELECT nope FROM nowhere")
    assert outcome.message == 'query failed: relation "nowhere" does not exist'

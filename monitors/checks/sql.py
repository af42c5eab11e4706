"""SQL invariant: one SELECT, run read-only with a deadline, that must return no row, or one
number compared with a threshold (the condition that is a failure: "> 0.05")."""

import decimal
import math
import operator
import sqlite3
import time
import urllib.parse

import psycopg
import sqlparse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop
from psycopg import errors
from sqlparse import tokens as T

from vigie.http import format_seconds
from vigie.phrases import Phrase

from .base import REQUIRED, Failure, Key, Outcome, clean_config, expand, non_empty_text, text

SHOWN_ROWS = 20
MAX_VALUE = 200  # characters of one value shown
MAX_COUNTED = 10_000  # rows counted before saying "more than"
OPERATORS = {
    "<=": operator.le,
    ">=": operator.ge,
    "==": operator.eq,
    "!=": operator.ne,
    "<": operator.lt,
    ">": operator.gt,
}
_LOCKS = {"UPDATE", "SHARE", "NO", "KEY"}


def single_select(query):
    """`query` without its trailing semicolon if it is exactly one read-only SELECT (WITH ...
    SELECT included), else ValueError saying why."""
    statements = [s for s in sqlparse.parse(query) if s.token_first(skip_cm=True) is not None]
    if len(statements) != 1:
        raise ValueError(
            _("expected exactly one SQL statement, found %(count)s") % {"count": len(statements)}
        )
    statement = statements[0]
    keywords = [t for t in statement.flatten() if t.is_keyword]
    for position, token in enumerate(keywords):
        word = token.normalized.upper()
        if token.ttype in (T.DML, T.DDL) and word != "SELECT":
            raise ValueError(_("only a SELECT is allowed, not %(word)s") % {"word": word})
        if word == "INTO":
            raise ValueError(_("SELECT ... INTO writes a table: not allowed"))
        following = (
            keywords[position + 1].normalized.upper() if position + 1 < len(keywords) else ""
        )
        if word == "FOR" and following in _LOCKS:
            raise ValueError(
                _("SELECT ... FOR %(lock)s takes row locks: not allowed") % {"lock": following}
            )
    if statement.get_type() != "SELECT":
        raise ValueError(_("only a SELECT is allowed"))
    return str(statement).strip().rstrip(";").strip()


def threshold(value):
    value = text(value).strip()
    for symbol in OPERATORS:  # two-character operators first
        if value.startswith(symbol):
            try:
                limit = float(value[len(symbol) :])
            except ValueError:
                break
            if math.isfinite(limit):
                return value
    raise ValueError(_('expected an operator (<, <=, >, >=, ==, !=) and a number, e.g. "< 10"'))


def parse_threshold(value):
    symbol = next(s for s in OPERATORS if value.startswith(s))
    return symbol, float(value[len(symbol) :])


def dsn(value):
    value = non_empty_text(value)
    if "${" not in value and not value.startswith(("postgres://", "postgresql://", "sqlite:///")):
        raise ValueError(_("expected postgres://... or sqlite:///path (or a ${VARIABLE})"))
    return value


def query(value):
    return single_select(non_empty_text(value))


SCHEMA = {
    "dsn": Key(dsn, REQUIRED),  # usually "${VAR}": resolved when the check runs, never stored
    "query": Key(query, REQUIRED),
    "threshold": Key(threshold, None),  # None: the query must return no row
}


def validate(config):
    return clean_config(SCHEMA, config)


def _shown(value):
    if isinstance(value, decimal.Decimal):
        value = float(value)
    if (
        value is None
        or isinstance(value, bool | int)
        or (isinstance(value, float) and math.isfinite(value))
    ):
        return value
    text_value = value.decode(errors="replace") if isinstance(value, bytes) else str(value)
    return text_value if len(text_value) <= MAX_VALUE else text_value[: MAX_VALUE - 1] + "…"


class _Redact:
    """Removes a resolved DSN and its password from database error messages."""

    def __init__(self, resolved):
        self.secrets = [resolved]
        password = urllib.parse.urlsplit(resolved).password
        if password:
            self.secrets.append(password)

    def __call__(self, message):
        message = str(message).strip().splitlines()[0] if str(message).strip() else ""
        for secret in self.secrets:
            message = message.replace(secret, "***")
        return message


def _fetch_sqlite(resolved, sql, timeout):
    path = resolved[len("sqlite:///") :]
    deadline = time.monotonic() + timeout
    uri = f"file:{urllib.parse.quote(path)}?mode=ro"
    try:
        connection = sqlite3.connect(uri, uri=True, timeout=timeout)
    except sqlite3.Error as exc:
        raise Failure(
            Phrase(gettext_noop("cannot open the database: %(error)s"), error=str(exc))
        ) from None
    try:
        connection.set_progress_handler(lambda: time.monotonic() > deadline, 1000)
        connection.execute("PRAGMA query_only = ON")
        cursor = connection.execute(sql)
        return _collect(cursor)
    except sqlite3.OperationalError as exc:
        if str(exc) == "interrupted":
            raise Failure(
                Phrase(
                    gettext_noop("timeout after %(seconds)s: query interrupted"),
                    seconds=format_seconds(timeout),
                )
            ) from None
        raise Failure(Phrase(gettext_noop("query failed: %(error)s"), error=str(exc))) from None
    except sqlite3.Error as exc:
        raise Failure(Phrase(gettext_noop("query failed: %(error)s"), error=str(exc))) from None
    finally:
        connection.close()


def _fetch_postgres(resolved, sql, timeout):
    redact = _Redact(resolved)
    try:
        connection = psycopg.connect(resolved, connect_timeout=max(2, math.ceil(timeout)))
    except psycopg.Error as exc:
        raise Failure(
            Phrase(
                gettext_noop("cannot connect to the database: %(error)s"), error=str(redact(exc))
            )
        ) from None
    try:
        with connection:
            # The transaction is read-only before the query runs: a function with side
            # effects, nextval() or a data-modifying CTE are refused by PostgreSQL itself.
            connection.execute("SET TRANSACTION READ ONLY")
            milliseconds = str(max(1, int(timeout * 1000)))
            connection.execute("SELECT set_config('statement_timeout', %s, true)", [milliseconds])
            connection.execute("SELECT set_config('lock_timeout', %s, true)", [milliseconds])
            with connection.cursor(name="vigie_check") as cursor:
                cursor.execute(sql)
                result = _collect(cursor)
            connection.rollback()
            return result
    except errors.QueryCanceled:
        raise Failure(
            Phrase(
                gettext_noop("timeout after %(seconds)s: statement cancelled"),
                seconds=format_seconds(timeout),
            )
        ) from None
    except errors.ReadOnlySqlTransaction as exc:
        raise Failure(
            Phrase(
                gettext_noop("refused by the read-only transaction: %(error)s"),
                error=str(redact(exc)),
            )
        ) from None
    except psycopg.Error as exc:
        raise Failure(
            Phrase(gettext_noop("query failed: %(error)s"), error=str(redact(exc)))
        ) from None
    finally:
        connection.close()


def _collect(cursor):
    """(columns, first rows, row count, more than counted) of an executed cursor."""
    shown, count = [], 0
    columns = None
    for row in cursor:
        if columns is None:
            columns = [column[0] for column in cursor.description]
        if count < SHOWN_ROWS:
            shown.append([_shown(value) for value in row])
        count += 1
        if count > MAX_COUNTED:
            break
    if columns is None:
        columns = [column[0] for column in cursor.description or ()]
    return columns, shown, count


def run(config, *, timeout, allow_private):
    # `allow_private` concerns network targets; the DSN is set by whoever may read that data.
    try:  # again: a stored config may predate the rules or skip validation
        sql = single_select(config["query"])
    except ValueError as exc:
        raise Failure(str(exc)) from None
    resolved = expand(config["dsn"])
    if resolved.startswith("sqlite:///"):
        columns, rows, count = _fetch_sqlite(resolved, sql, timeout)
    elif resolved.startswith(("postgres://", "postgresql://")):
        columns, rows, count = _fetch_postgres(resolved, sql, timeout)
    else:
        raise Failure(
            Phrase(gettext_noop("unsupported DSN: expected postgres://... or sqlite:///path"))
        )
    if config["threshold"] is not None:
        return _compare(config["threshold"], columns, rows, count)
    details = {"row_count": count, "columns": columns, "rows": rows}
    if count == 0:
        return Outcome(ok=True, message=Phrase(gettext_noop("no row")), details=details)
    shown = (
        Phrase(gettext_noop("more than %(count)s rows"), count=MAX_COUNTED)
        if count > MAX_COUNTED
        else Phrase(gettext_noop("%(count)s row"), gettext_noop("%(count)s rows"), count=count)
    )
    return Outcome(ok=False, message=shown, details=details)


def _compare(rule, columns, rows, count):
    if count != 1 or len(columns) != 1:
        return Outcome(
            ok=False,
            message=Phrase(
                gettext_noop(
                    "expected one row of one number, got %(count)s rows of %(columns)s columns"
                ),
                count=count,
                columns=len(columns),
            ),
            details={"row_count": count, "columns": columns, "rows": rows},
        )
    value = rows[0][0]
    if isinstance(value, bool) or not isinstance(value, int | float):
        return Outcome(
            ok=False,
            message=Phrase(
                gettext_noop("expected a number, got %(value)s"), value=repr(value)[:250]
            ),
        )
    symbol, limit = parse_threshold(rule)
    details = {"value": value, "threshold": rule}
    if OPERATORS[symbol](value, limit):
        # Numbers and the operator read alike in every language: no words to translate.
        return Outcome(ok=False, message=f"{value:g} {symbol} {limit:g}", details=details)
    return Outcome(
        ok=True,
        message=Phrase(
            gettext_noop("%(value)s (fails when %(rule)s)"), value=f"{value:g}", rule=rule
        ),
        details=details,
    )

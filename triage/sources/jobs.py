"""What the job backends (GoodJob, django-q2) share: a read-only PostgreSQL connection to a
monitored application's database, and how an error message is grouped."""

import hashlib
import json
import re
from contextlib import contextmanager

import psycopg
from django.utils.translation import gettext_noop
from psycopg.conninfo import conninfo_to_dict

from triage.sources.base import SourceBackend, SourceError, UpstreamState, secret_of

CONNECT_TIMEOUT = 5  # seconds
STATEMENT_TIMEOUT_MS = 60_000
# Messages are grouped on their first characters only: some embed whole payloads.
MESSAGE_KEY_LENGTH = 300
MESSAGE_SCAN_LENGTH = 1000
ARGUMENTS_SAMPLE_LIMIT = 4000  # characters of JSON kept as the arguments sample
EXECUTION_ERROR_LENGTH = 500  # characters kept of each run's error, for the detail

# Ids and numbers taken out of a message so that one failure is one group. The patterns are
# written in the subset that Python's `re` and PostgreSQL's regular expressions read alike, so
# the SQL grouping (GoodJob) and the Python grouping (django-q2) agree. Regular expressions are
# most of the cost of grouping 200,000 discards in SQL, so each comes with a LIKE pattern the
# raw message must match for the expression to have anything to replace (None: always run).
NORMALISERS = (
    ("[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}", "<uuid>",
     "%-____-____-____-%"),
    ("[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+[.][A-Za-z]{2,}", "<email>", "%@%"),
    ("0x[0-9a-fA-F]+", "<hex>", "%0x%"),
    ("[0-9]+([.][0-9]+)?", "<n>", None),
)  # fmt: skip
_COMPILED = tuple((re.compile(pattern), replacement) for pattern, replacement, _ in NORMALISERS)

# ActiveRecord::RecordNotFound, Django's DoesNotExist, and what they say once wrapped (an
# ActiveJob::DeserializationError whose record is gone).
NOT_FOUND_ERRORS = re.compile(
    r"NotFound|DoesNotExist|Http404|Couldn't find|matching query does not exist"
)

_AUTH_FAILURE = re.compile(
    r"password authentication failed|authentication failed|no password supplied"
    r'|role ".*" does not exist|pg_hba\.conf',
    re.IGNORECASE,
)


def normalise_message(message):
    message = message[:MESSAGE_SCAN_LENGTH]
    for pattern, replacement in _COMPILED:
        message = pattern.sub(replacement, message)
    return " ".join(message.split())[:MESSAGE_KEY_LENGTH]


def normalise_message_sql(column):
    """The SQL twin of normalise_message() for PostgreSQL, with `%` doubled for psycopg's
    placeholders. `column` names the message already cut to its first MESSAGE_SCAN_LENGTH
    characters, computed once per row (it is repeated)."""
    raw = sql = column
    for pattern, replacement, guard in NORMALISERS:
        replaced = f"regexp_replace({sql}, '{pattern}', '{replacement}', 'g')"
        # CASE runs one branch, so `sql` is still computed once per row.
        sql = (
            replaced
            if guard is None
            else f"CASE WHEN {raw} LIKE '{guard}' THEN {replaced} ELSE {sql} END"
        )
    spaced = " OR ".join(
        f"strpos({raw}, {c}) > 0" for c in ("'  '", "chr(9)", "chr(10)", "chr(13)")
    )
    sql = f"CASE WHEN {spaced} THEN regexp_replace({sql}, '\\s+', ' ', 'g') ELSE {sql} END"
    return f"left(btrim({sql}), {MESSAGE_KEY_LENGTH})".replace("%", "%%")


def group_id(*parts):
    """A stable external id for a group: the same parts give the same id on every sync."""
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:40]


def is_not_found_error(item):
    """Whether a job item failed on a missing record (ActiveRecord::RecordNotFound,
    DoesNotExist…). In a job this is usually a real bug (seed 000: mails not sent because the
    place was gone), so the board warns before such an item is qualified as expected."""
    payload = item.payload or {}
    text = " ".join(str(payload.get(key, "")) for key in ("error_class", "message"))
    return bool(NOT_FOUND_ERRORS.search(f"{text} {item.title}"))


def arguments_sample(arguments):
    """Arguments as JSON-able data, cut when too big to sit in an item's payload."""
    text = json.dumps(arguments, default=str)
    if len(text) <= ARGUMENTS_SAMPLE_LIMIT:
        return json.loads(text)
    return text[:ARGUMENTS_SAMPLE_LIMIT] + "…"


@contextmanager
def read_only_connection(source, *, statement_timeout_ms=STATEMENT_TIMEOUT_MS):
    """A connection to the monitored database that cannot write, in a read-only transaction.

    Read-only twice: the session default (`default_transaction_read_only`) and the transaction
    itself (BEGIN READ ONLY). A statement timeout bounds every query; times are in UTC.
    """
    try:
        # The DSN holds the password: never put it in an error message.
        params = conninfo_to_dict(secret_of(source, gettext_noop("database DSN"), auth=False))
    except psycopg.ProgrammingError:
        # The parser's message quotes the DSN, password included: never pass it on.
        raise SourceError(
            "the database DSN is not a valid PostgreSQL connection string", permanent=True
        ) from None
    params["options"] = " ".join(
        filter(
            None,
            (
                params.get("options", ""),
                "-c default_transaction_read_only=on",
                f"-c statement_timeout={int(statement_timeout_ms)}",
                "-c TimeZone=UTC",
                # JIT-compiling the grouping query costs more than running it, and the grouping
                # hashes in memory rather than sorting on disk.
                "-c jit=off",
                "-c work_mem=32MB",
            ),
        )
    )
    params.setdefault("connect_timeout", CONNECT_TIMEOUT)
    params.setdefault("application_name", "vigie")
    try:
        conn = psycopg.connect(**params)
    except psycopg.OperationalError as exc:
        reason = str(exc).strip().splitlines()[-1].removeprefix("connection failed: ")
        if _AUTH_FAILURE.search(str(exc)):
            raise SourceError(f"database refused the credentials: {reason}", auth=True) from None
        raise SourceError(f"cannot connect to the database: {reason}") from None
    try:
        conn.read_only = True
        with conn.transaction():
            yield conn
    except psycopg.errors.QueryCanceled:
        raise SourceError(
            f"a query ran longer than {statement_timeout_ms // 1000} s and was cancelled"
        ) from None
    except psycopg.errors.InsufficientPrivilege as exc:
        raise SourceError(f"the database role may not read: {exc}", permanent=True) from None
    except psycopg.OperationalError as exc:
        raise SourceError(f"lost the database connection: {exc}") from None
    except (psycopg.errors.UndefinedTable, psycopg.errors.UndefinedColumn) as exc:
        raise SourceError(f"unexpected database schema: {exc}", permanent=True) from None
    finally:
        conn.close()


def job_tags(payload):
    """A discarded job's tags, from what its group holds: the job class (django-q2's task
    function), the queue (GoodJob's) and the error class."""
    found = {
        "job_class": payload.get("job_class") or payload.get("func"),
        "queue": payload.get("queue"),
        "error_class": payload.get("error_class"),
    }
    return {key: value for key, value in found.items() if isinstance(value, str) and value}


class JobBackend(SourceBackend):
    """What the job sources share. Neither GoodJob nor django-q2 has an API to write to, so a
    qualification is Vigie's own: nothing is called upstream."""

    qualifications = ("temporary", "bug", "expected")
    counts_users = False  # a failed job has no users

    def set_status(self, item, status, details=None):
        return UpstreamState(status=status, details=dict(details or {}), raw={"local": True})

    def comment(self, item, text, *, retrying=False):
        return {}

    def listed_tags(self, payload):
        return job_tags(payload)

    def bug_report(self, item):
        payload = item.payload
        return {
            "error_class": payload.get("error_class", ""),
            "error": payload.get("sample_error", item.title),
            "count": item.tally,
            "arguments": payload.get("arguments"),
            "first_seen": payload.get("first_seen"),
            "last_seen": payload.get("last_seen"),
            "link": item.permalink,
            "release": "",
            "tags": {},
            "frames": [],
        }

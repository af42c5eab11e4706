"""The one place Vigie calls other servers: timeouts, retries with backoff, 429 honoured.

Every client (Sentry, GitHub, webhooks…) goes through `request()`, so tests patch or fake exactly
one thing, and no call can hang a worker or hammer a struggling upstream.
"""

import email.utils
import random
import time
from dataclasses import dataclass

import requests
import structlog

from vigie.logging import redact_text

logger = structlog.get_logger(__name__)

DEFAULT_TIMEOUT = (5, 30)  # connect, read (seconds)
USER_AGENT = "Vigie/0.1 (+https://github.com/vigie)"


class UpstreamError(Exception):
    """A call that did not succeed. `permanent` means retrying the same call will not help
    (bad token, not found, invalid request); `status` is the HTTP status when there was one."""

    def __init__(self, message, *, permanent=False, status=None, retry_after=None):
        super().__init__(redact_text(message))
        self.permanent = permanent
        self.status = status
        self.retry_after = retry_after


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 4
    backoff: float = 0.5  # seconds, doubled each attempt, with jitter
    max_wait: float = 60.0  # never sleep longer than this for one Retry-After


def retry_after_seconds(response):
    """Seconds to wait before retrying, from Retry-After (seconds or HTTP date), else None."""
    value = response.headers.get("Retry-After")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


_session = None


def session():
    global _session
    if _session is None:
        _session = requests.Session()
        _session.headers["User-Agent"] = USER_AGENT
    return _session


def request(
    method,
    url,
    *,
    policy=RetryPolicy(),
    timeout=DEFAULT_TIMEOUT,
    sleep=time.sleep,
    rate_limit_wait=None,
    name=None,
    **kwargs,
):
    """Send one HTTP request, retrying connection errors, timeouts, 5xx and 429.

    Returns the response for any status below 400. Raises UpstreamError otherwise: permanent
    for 4xx other than 408/429, transient once the attempts are spent. `rate_limit_wait`, if
    given, reads an API's own rate-limit headers from a 429 when Retry-After is missing.
    `name` stands for the URL in errors and logs when the URL itself is a secret (a chat
    webhook). The last error keeps the upstream's Retry-After, so a caller that retries later
    (the notification outbox, with `attempts=1`) waits as long as it was asked to.
    """
    target = name or url
    last_error = None
    for attempt in range(1, policy.attempts + 1):
        try:
            response = session().request(method, url, timeout=timeout, **kwargs)
        except (requests.ConnectionError, requests.Timeout) as exc:
            last_error = UpstreamError(f"{method} {target}: {exc.__class__.__name__}")
            wait = None
        else:
            status = response.status_code
            if status < 400:
                return response
            wait = retry_after_seconds(response)
            if status == 429 and wait is None and rate_limit_wait is not None:
                wait = rate_limit_wait(response)
            message = f"{method} {target}: HTTP {status} {response.text[:300]}"
            if status not in (408, 429) and status < 500:
                raise UpstreamError(message, permanent=True, status=status)
            last_error = UpstreamError(message, status=status, retry_after=wait)
        if attempt == policy.attempts:
            break
        if wait is None:
            wait = policy.backoff * 2 ** (attempt - 1) * (1 + random.random() / 2)  # noqa: S311
        if wait > policy.max_wait:
            # Waiting that long inside one task would block the worker: give up now, the next
            # scheduled run comes back after the upstream's delay.
            break
        logger.warning("upstream_retry", url=target, attempt=attempt, wait=round(wait, 2))
        sleep(wait)
    raise last_error

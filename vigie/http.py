"""The one place Vigie calls other servers: timeouts, retries with backoff, 429 honoured.

Every client (Sentry, GitHub, webhooks…) goes through `request()`, so tests patch or fake exactly
one thing, and no call can hang a worker or hammer a struggling upstream.
"""

import contextlib
import contextvars
import email.utils
import functools
import http.client
import ipaddress
import os
import random
import socket
import ssl
import threading
import time
import urllib.parse
from dataclasses import dataclass

import requests
import structlog
from django.utils.translation import gettext_noop

from vigie.logging import redact_text
from vigie.phrases import Phrase

logger = structlog.get_logger(__name__)

DEFAULT_TIMEOUT = (5, 30)  # connect, read (seconds)
USER_AGENT = "Vigie/0.1 (+https://github.com/vigie)"


class UpstreamError(Exception):
    """A call that did not succeed. `permanent` means retrying the same call will not help
    (bad token, not found, invalid request); `status` is the HTTP status when there was one."""

    def __init__(
        self, message, *, permanent=False, status=None, retry_after=None, response=None, reason=""
    ):
        super().__init__(redact_text(message))
        self.permanent = permanent
        self.status = status
        self.retry_after = retry_after
        # For an API's own reading of its refusals: the answer's headers and the start of its
        # body (redacted), and the exception's name when no answer came.
        self.headers = response.headers if response is not None else {}
        self.body = redact_text(response.text[:300]) if response is not None else ""
        self.reason = reason


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
# When the calls of the current context must be over (time.monotonic()), or None: see budget().
_deadline = contextvars.ContextVar("vigie_http_deadline", default=None)


@contextlib.contextmanager
def budget(seconds):
    """Every call made inside, its retries and waits included, is over within `seconds` (an
    enclosing budget that ends sooner still holds): a click written upstream from a web
    request answers before the web worker's timeout, whatever the upstream does. A call past
    it fails as a timeout would, without being sent."""
    end = time.monotonic() + seconds
    outer = _deadline.get()
    token = _deadline.set(end if outer is None else min(outer, end))
    try:
        yield
    finally:
        _deadline.reset(token)


def _within(timeout, left):
    if isinstance(timeout, tuple):
        return tuple(min(part, left) for part in timeout)
    return min(timeout, left)


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
    deadline = _deadline.get()
    for attempt in range(1, policy.attempts + 1):
        left = None if deadline is None else deadline - time.monotonic()
        if left is not None and left <= 0:
            last_error = last_error or UpstreamError(
                f"{method} {target}: no time left for it", reason="Timeout"
            )
            break
        try:
            response = session().request(
                method, url, timeout=timeout if left is None else _within(timeout, left), **kwargs
            )
        except (requests.ConnectionError, requests.Timeout) as exc:
            last_error = UpstreamError(
                f"{method} {target}: {exc.__class__.__name__}", reason=exc.__class__.__name__
            )
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
                raise UpstreamError(message, permanent=True, status=status, response=response)
            last_error = UpstreamError(message, status=status, retry_after=wait, response=response)
        if attempt == policy.attempts:
            break
        if wait is None:
            wait = policy.backoff * 2 ** (attempt - 1) * (1 + random.random() / 2)  # noqa: S311
        if wait > policy.max_wait:
            # Waiting that long inside one task would block the worker: give up now, the next
            # scheduled run comes back after the upstream's delay.
            break
        if deadline is not None and time.monotonic() + wait >= deadline:
            break  # the budget would be spent waiting
        logger.warning("upstream_retry", url=target, attempt=attempt, wait=round(wait, 2))
        sleep(wait)
    raise last_error


# --- Probes: monitor checks reaching a target that may be slow, hostile or internal ---------
#
# `request()` above talks to APIs we trust; `probe()` measures a target. It follows redirects by
# hand so every hop is guarded, connects to the address it checked (no second DNS lookup an
# attacker could answer differently), reads at most `max_body` bytes and enforces one total
# deadline: a watchdog shuts the socket down when it passes, so a server that drips one byte a
# second cannot hold a worker longer than the check's timeout.

MAX_REDIRECTS = 5
MAX_BODY = 1024 * 1024
_REDIRECT_STATUSES = {301, 302, 303, 307, 308}
_CHUNK = 64 * 1024


class ProbeError(Exception):
    """A probe that got no usable answer; `message` (a Phrase) is shown to people in their
    language. `cause` is the network exception behind it, when there was one (a TLS check
    reads its verify code)."""

    def __init__(self, message, cause=None):
        super().__init__(message)
        self.message = message
        self.cause = cause


def format_seconds(value):
    return f"{round(value, 2):g} s"


def timeout_after(seconds):
    return Phrase(gettext_noop("timeout after %(seconds)s"), seconds=format_seconds(seconds))


_ADDRESS_KINDS = (
    ("is_loopback", gettext_noop("a loopback address")),
    ("is_link_local", gettext_noop("a link-local address")),
    ("is_unspecified", gettext_noop("an unspecified address")),
    ("is_multicast", gettext_noop("a multicast address")),
    ("is_reserved", gettext_noop("a reserved address")),
    ("is_private", gettext_noop("a private address")),
)


def _refusal(address):
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    for attribute, label in _ADDRESS_KINDS:
        if getattr(ip, attribute):
            return Phrase(label)
    if not ip.is_global:
        return Phrase(gettext_noop("a non-public address"))
    return None


def literal_refusal(host):
    """What makes `host` internal when that shows without a DNS lookup (an IP literal,
    localhost), else None: a target is refused when a config is saved, and still guarded
    when it is reached (a name's answer can change)."""
    host = (host or "").strip("[]").rstrip(".").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return Phrase(_ADDRESS_KINDS[0][1])
    try:
        return _refusal(host)
    except ValueError:  # a name, not an address
        return None


def guard_address(host, allow_private):
    """Resolve `host` and return the address to connect to, or raise ProbeError.

    Private, loopback, link-local (169.254.169.254, the cloud metadata service, included),
    unspecified, multicast and reserved addresses are refused unless `allow_private`: a check
    must not become a way to read the inside of the network Vigie runs in. Every address the
    name resolves to is checked, so a name cannot mix a public and an internal answer.
    (getaddrinfo has no timeout of its own; the system resolver's bounds it.)"""
    addresses = resolve(host)
    if not allow_private:
        for address in addresses:
            refusal = _refusal(address)
            if refusal:
                raise ProbeError(
                    Phrase(
                        gettext_noop(
                            "refused: %(address)s is %(kind)s; "
                            "allow private targets on this check to reach it"
                        ),
                        address=address,
                        kind=refusal,
                    )
                )
    return addresses[0]


def internal_kind(host):
    """What makes `host` internal (a Phrase: "a loopback address"…) when any of the addresses
    it resolves to is not public, else None; ProbeError when it does not resolve."""
    for address in resolve(host):
        refusal = _refusal(address)
        if refusal:
            return refusal
    return None


def resolve(host):
    """Every address `host` resolves to, or ProbeError saying why none."""
    try:
        infos = socket.getaddrinfo(host, None, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        if exc.errno in (socket.EAI_NONAME, getattr(socket, "EAI_NODATA", socket.EAI_NONAME)):
            raise ProbeError(Phrase(gettext_noop("DNS: name does not resolve"))) from None
        raise ProbeError(Phrase(gettext_noop("DNS: %(error)s"), error=exc.strerror)) from None
    except UnicodeError:
        raise ProbeError(Phrase(gettext_noop("DNS: invalid host name"))) from None
    return list(dict.fromkeys(info[4][0] for info in infos))


def ca_bundle():
    """The CA bundle requests would trust: REQUESTS_CA_BUNDLE, then SSL_CERT_FILE (a company
    CA), then CURL_CA_BUNDLE, else certifi's."""
    for name in ("REQUESTS_CA_BUNDLE", "SSL_CERT_FILE", "CURL_CA_BUNDLE"):
        if os.environ.get(name):
            return os.environ[name]
    return requests.utils.DEFAULT_CA_BUNDLE_PATH


def ssl_context(verify=True):
    return _ssl_context(ca_bundle(), verify)


@functools.lru_cache(maxsize=8)
def _ssl_context(cafile, verify):
    # Parsing a CA bundle costs milliseconds: one context per bundle, shared by every probe
    # (wrap_socket is thread-safe).
    context = ssl.create_default_context(cafile=cafile)
    if not verify:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    return context


class Deadline:
    """One total time budget for a probe, with a watchdog that shuts the socket down."""

    def __init__(self, timeout):
        self.timeout = timeout
        self.start = time.monotonic()
        self.expired = False
        self._timer = None

    def remaining(self):
        left = self.timeout - (time.monotonic() - self.start)
        if left <= 0:
            self.expired = True
            raise ProbeError(timeout_after(self.timeout))
        return left

    def elapsed(self):
        return time.monotonic() - self.start

    def watch(self, sock):
        """Shut `sock` down when the budget runs out, whatever call is blocked on it."""
        self.cancel()

        def fire():
            self.expired = True
            with contextlib.suppress(OSError):
                # The base class method: shut the file descriptor down even under TLS, where
                # SSLSocket.shutdown would tear its state from under the reading thread.
                socket.socket.shutdown(sock, socket.SHUT_RDWR)

        self._timer = threading.Timer(self.remaining(), fire)
        self._timer.daemon = True
        self._timer.start()

    def cancel(self):
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def error(self, exc):
        """The ProbeError for a network exception, saying `timeout` when the budget ran out."""
        if self.expired or isinstance(exc, TimeoutError):
            return ProbeError(timeout_after(self.timeout), exc)
        if isinstance(exc, ssl.SSLCertVerificationError):
            return ProbeError(
                Phrase(
                    gettext_noop("TLS: certificate verify failed: %(reason)s"),
                    reason=exc.verify_message,
                ),
                exc,
            )
        if isinstance(exc, ssl.SSLError):
            return ProbeError(
                Phrase(
                    gettext_noop("TLS: handshake failed: %(reason)s"),
                    reason=exc.reason or exc.__class__.__name__,
                ),
                exc,
            )
        if isinstance(exc, ConnectionRefusedError):
            return ProbeError(Phrase(gettext_noop("connection refused")), exc)
        if isinstance(exc, http.client.RemoteDisconnected):  # before its base class below
            return ProbeError(
                Phrase(gettext_noop("the server closed the connection without answering")), exc
            )
        if isinstance(exc, ConnectionResetError):
            return ProbeError(Phrase(gettext_noop("connection reset by the server")), exc)
        if isinstance(exc, http.client.HTTPException):
            return ProbeError(
                Phrase(
                    gettext_noop("invalid HTTP response (%(error)s)"), error=exc.__class__.__name__
                ),
                exc,
            )
        return ProbeError(
            Phrase(
                gettext_noop("network error: %(error)s"),
                error=exc.strerror or exc.__class__.__name__,
            ),
            exc,
        )


def open_connection(host, port, *, deadline, allow_private, tls_server_name=None, verify=True):
    """A socket to `host:port` (guarded), wrapped in TLS when `tls_server_name` is given, with
    the deadline's watchdog on it. The caller closes it and cancels the deadline."""
    address = guard_address(host, allow_private)
    try:
        sock = socket.create_connection((address, port), timeout=deadline.remaining())
    except OSError as exc:
        raise deadline.error(exc) from None
    try:
        deadline.watch(sock)
        if tls_server_name is not None:
            sock = ssl_context(verify).wrap_socket(
                sock, server_hostname=tls_server_name, do_handshake_on_connect=False
            )
            deadline.watch(sock)  # the wrapped socket owns the descriptor now
            sock.do_handshake()
    except (OSError, ProbeError) as exc:
        deadline.cancel()
        sock.close()
        raise exc if isinstance(exc, ProbeError) else deadline.error(exc) from None
    return sock


@dataclass
class ProbeResponse:
    status: int
    headers: dict
    body: bytes
    truncated: bool  # more than max_body bytes were available and not read
    url: str  # after redirects
    redirects: int
    elapsed: float  # seconds, from the first connection to the last byte read

    def text(self):
        charset = "utf-8"
        content_type = self.headers.get("content-type", "")
        for part in content_type.split(";")[1:]:
            key, _, value = part.strip().partition("=")
            if key.lower() == "charset" and value:
                charset = value.strip('"')
        try:
            return self.body.decode(charset, errors="replace")
        except LookupError:
            return self.body.decode("utf-8", errors="replace")


def _one_hop(method, url, headers, body, *, deadline, allow_private, max_body):
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ProbeError(Phrase(gettext_noop("only http:// and https:// URLs can be probed")))
    https = parts.scheme == "https"
    try:
        port = parts.port or (443 if https else 80)
    except ValueError:
        raise ProbeError(Phrase(gettext_noop("invalid port in the URL"))) from None
    sock = open_connection(
        parts.hostname,
        port,
        deadline=deadline,
        allow_private=allow_private,
        tls_server_name=parts.hostname if https else None,
    )
    try:
        # http.client on a socket we opened: it talks to the checked address, while the Host
        # header (and the TLS server name above) carry the name.
        connection = http.client.HTTPConnection(parts.hostname, port)
        connection.sock = sock
        target = urllib.parse.urlunsplit(("", "", parts.path or "/", parts.query, ""))
        sent = {
            "Host": parts.netloc.rpartition("@")[2],
            "User-Agent": USER_AGENT,
            "Accept-Encoding": "identity",
            **headers,
        }
        connection.request(method, target, body=body, headers=sent)
        response = connection.getresponse()
        chunks, size, truncated = [], 0, False
        if response.status not in _REDIRECT_STATUSES:
            while True:
                chunk = response.read(min(_CHUNK, max_body - size + 1))
                if not chunk:
                    break
                chunks.append(chunk)
                size += len(chunk)
                if size > max_body:
                    truncated = True
                    break
                deadline.remaining()
        if deadline.expired:  # the watchdog cut a read short: what we have is not the body
            raise ProbeError(timeout_after(deadline.timeout))
        data = b"".join(chunks)[:max_body]
        return response.status, {k.lower(): v for k, v in response.getheaders()}, data, truncated
    except OSError as exc:
        raise deadline.error(exc) from None
    except http.client.HTTPException as exc:
        raise deadline.error(exc) from None
    finally:
        deadline.cancel()
        sock.close()


def probe(
    method,
    url,
    *,
    headers=None,
    body=None,
    timeout=10.0,
    allow_private=False,
    max_redirects=MAX_REDIRECTS,
    max_body=MAX_BODY,
):
    """Fetch `url` the way a monitor does and return a ProbeResponse, or raise ProbeError with
    a message a person can read ("connection refused", "timeout after 10 s", ...)."""
    deadline = Deadline(timeout)
    headers = dict(headers or {})
    seen = [url]
    while True:
        status, response_headers, data, truncated = _one_hop(
            method,
            url,
            headers,
            body,
            deadline=deadline,
            allow_private=allow_private,
            max_body=max_body,
        )
        location = response_headers.get("location")
        if status not in _REDIRECT_STATUSES or not location:
            return ProbeResponse(
                status, response_headers, data, truncated, url, len(seen) - 1, deadline.elapsed()
            )
        previous, url = url, urllib.parse.urljoin(url, location)
        if url in seen:
            raise ProbeError(
                Phrase(
                    gettext_noop("redirect loop: back to %(url)s after %(hops)s hops"),
                    url=_display(url),
                    hops=len(seen),
                )
            )
        if len(seen) > max_redirects:
            raise ProbeError(
                Phrase(
                    gettext_noop("too many redirects (more than %(count)s)"), count=max_redirects
                )
            )
        seen.append(url)
        if status == 303 or (status in (301, 302) and method == "POST"):
            method, body = "GET", None
            headers = {k: v for k, v in headers.items() if k.lower() != "content-type"}
        if _origin(url) != _origin(previous):
            # As requests does: credentials meant for one site are not handed to another.
            headers = {k: v for k, v in headers.items() if k.lower() not in _CREDENTIALS}


_CREDENTIALS = {"authorization", "cookie", "proxy-authorization"}


def _origin(url):
    parts = urllib.parse.urlsplit(url)
    return parts.scheme, parts.hostname, parts.port


def _display(url):
    """A URL without its query string or credentials, for a message."""
    parts = urllib.parse.urlsplit(url)
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    return urllib.parse.urlunsplit((parts.scheme, host, parts.path or "/", "", ""))

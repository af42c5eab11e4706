"""Loopback servers that misbehave on purpose, for the check runner tests.

Each runs in daemon threads, serves until its `with` block ends, and never sleeps unbounded:
every wait is on `stopped`, so leaving the block ends them."""

import json
import socket
import ssl
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class RawServer:
    """Accepts connections on 127.0.0.1 and hands each to `handle(conn, server)`."""

    def __init__(self, handle, tls_context=None):
        self.handle = handle
        self.tls_context = tls_context
        self.stopped = threading.Event()
        self.sent = 0  # bytes sent by handlers that count them
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.listener.settimeout(0.1)
        self.port = self.listener.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.thread = threading.Thread(target=self._serve, daemon=True)

    def _serve(self):
        while not self.stopped.is_set():
            try:
                conn, _ = self.listener.accept()
            except TimeoutError:
                continue
            threading.Thread(target=self._run, args=(conn,), daemon=True).start()

    def _run(self, conn):
        try:
            if self.tls_context is not None:
                conn.settimeout(5)
                conn = self.tls_context.wrap_socket(conn, server_side=True)
            self.handle(conn, self)
        except (OSError, ssl.SSLError):
            pass
        finally:
            conn.close()

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stopped.set()
        self.thread.join(timeout=2)
        self.listener.close()


def read_request(conn):
    conn.settimeout(5)
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(4096)
        if not chunk:
            break
        data += chunk
    return data


def never_answer(conn, server):
    read_request(conn)
    server.stopped.wait(10)


def drip(conn, server):
    """Headers at once, then a 100,000-byte body one byte every 50 ms."""
    read_request(conn)
    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n")
    for _ in range(100_000):
        if server.stopped.wait(0.05):
            return
        conn.sendall(b"x")
        server.sent += 1


def drip_headers(conn, server):
    """The status line and headers one byte every 50 ms, never the end of them."""
    read_request(conn)
    for byte in b"HTTP/1.1 200 OK\r\n" + b"X-Padding: " + b"x" * 10_000:
        if server.stopped.wait(0.05):
            return
        conn.sendall(bytes([byte]))
        server.sent += 1


def huge_body(conn, server):
    """Announces 2 GB and streams zeros until the client stops reading."""
    read_request(conn)
    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2147483648\r\n\r\n")
    chunk = b"0" * 65536
    conn.settimeout(2)
    while server.sent < 2**31 and not server.stopped.is_set():
        conn.sendall(chunk)
        server.sent += len(chunk)


def handshake_only(conn, server):
    """A TLS server that completes the handshake (done by RawServer) and closes."""


class FakeSite:
    """An HTTP server with routes set per test: path -> (status, headers, body) or a callable."""

    def __init__(self, routes):
        self.routes = routes
        self.stopped = threading.Event()
        site = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self):
                length = int(self.headers.get("Content-Length") or 0)
                self.request_body = self.rfile.read(length) if length else b""
                route = site.routes.get(self.path.split("?")[0])
                if route is None:
                    status, headers, body = 404, {}, b"not found"
                elif callable(route):
                    status, headers, body = route(self, site)
                else:
                    status, headers, body = route
                if isinstance(body, dict):
                    body = json.dumps(body)
                body = body.encode() if isinstance(body, str) else body
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST = do_HEAD = _answer

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, args=(0.05,), daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stopped.set()
        self.httpd.shutdown()
        self.httpd.server_close()


def free_port():
    """A loopback port nothing listens on (bound then released)."""
    with socket.create_server(("127.0.0.1", 0)) as sock:
        return sock.getsockname()[1]

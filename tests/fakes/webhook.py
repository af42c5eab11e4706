"""A loopback server answering like Slack/Mattermost/PagerDuty/ntfy/JSON webhook receivers.

Records every POST (path, headers, raw body, parsed JSON). `answers[path]` is one
(status, body, headers) answer, or a list consumed one per request (the last one stays)."""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class FakeWebhookServer:
    def __init__(self, port=0):
        self.posts = []
        # path -> answer; anything else answers 200 "ok" like Slack.
        self.answers = {"/gone": (404, "no_service"), "/broken": (500, "oops")}
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                length = int(self.headers.get("Content-Length", 0))
                body = self.rfile.read(length)
                content_type = self.headers.get("Content-Type") or ""
                server.posts.append(
                    {
                        "path": self.path,
                        "content_type": content_type,
                        "headers": dict(self.headers.items()),
                        "body": body,
                        "json": json.loads(body or b"null")
                        if content_type.startswith("application/json")
                        else None,
                    }
                )
                status, text, headers = server.answer(self.path)
                self.send_response(status)
                self.send_header("Content-Type", "text/plain")
                for name, value in headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(text.encode())

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def answer(self, path):
        answer = self.answers.get(path, (200, "ok"))
        if isinstance(answer, list):
            answer = answer.pop(0) if len(answer) > 1 else answer[0]
        status, text, *headers = answer
        return status, text, (headers[0] if headers else {})

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()

"""Container health probe: `python -m vigie.probe web|worker [URL]`.

/health answers 503 as soon as any check fails; a container is healthy when the checks it owns
pass, so a stale worker does not mark the web server unhealthy (and vice versa).
"""

import json
import sys
import urllib.error
import urllib.request

OWNED = {"web": ("database", "migrations"), "worker": ("worker",)}


def probe(role, url="http://127.0.0.1:8000/health", timeout=5):
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310 (own URL)
            body = response.read()
    except urllib.error.HTTPError as error:
        body = error.read()
    except OSError as error:
        return False, f"unreachable: {error}"
    try:
        checks = json.loads(body)["checks"]
    except (ValueError, KeyError, TypeError):
        return False, "not a /health answer"
    failing = {name: checks.get(name) for name in OWNED[role] if checks.get(name) != "ok"}
    return not failing, failing or "ok"


def main(argv):
    if len(argv) not in (2, 3) or argv[1] not in OWNED:
        print("usage: python -m vigie.probe web|worker [URL]", file=sys.stderr)
        return 2
    healthy, detail = probe(*argv[1:])
    print(detail)
    return 0 if healthy else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))

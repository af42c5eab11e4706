import http.client
import os
import re
import shlex
import shutil
import socket
import subprocess
import sys
import time

import pytest
import yaml

from tests.helpers import ROOT, manage, vigie_env


def test_check_deploy_passes_with_production_settings(tmp_path):
    env = vigie_env(
        DEBUG="false",
        VIGIE_ENCRYPTION_KEYS="Cb5bYMBbC2nCcS5XXyAOpu2Ly0fLGrN8OLH6gfvdo3w=",
        SECRET_KEY="k8#Jf2!pQz7@Lm4$Rt9^Vw1&Xy6*Bn3(Hc5)Gd0_Ke8+Ps2=Ua7",
        ALLOWED_HOSTS="vigie.example.org",
        CSRF_TRUSTED_ORIGINS="https://vigie.example.org",
        VIGIE_DATA_DIR=str(tmp_path),
    )
    result = manage("check", "--deploy", "--fail-level", "WARNING", env=env)
    assert result.returncode == 0, result.stdout + result.stderr


def _compose():
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def test_compose_runs_database_web_and_worker():
    services = _compose()["services"]
    assert set(services) == {"db", "web", "worker"}
    assert services["db"]["image"].startswith("postgres")
    assert "qcluster" in services["worker"]["command"]
    # docker stop reaches every worker process with SIGINT, as Ctrl-C does (vigie/shutdown.py).
    worker = services["worker"]
    assert worker["init"] is True and worker["stop_signal"] == "SIGINT"
    assert worker["environment"]["TINI_KILL_PROCESS_GROUP"] == "1"


def _fake(path, name, body):
    path.joinpath(name).write_text(f"#!/bin/sh\n{body}\n")
    path.joinpath(name).chmod(0o755)


@pytest.mark.parametrize(
    ("migrate_status", "ran"), [(0, ["migrate", "gunicorn"]), (1, ["migrate"])]
)
def test_web_applies_migrations_before_serving(tmp_path, migrate_status, ran):
    # The command as the container runs it, with python and gunicorn replaced by recorders.
    shell, flag, script = shlex.split(_compose()["services"]["web"]["command"])
    assert (shell, flag) == ("sh", "-c")
    log = tmp_path / "log"
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    _fake(bin_dir, "python", f'[ "$2" = migrate ] && echo migrate >> {log}; exit {migrate_status}')
    _fake(bin_dir, "gunicorn", f"echo gunicorn >> {log}")
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}"}
    result = subprocess.run([shell, flag, script], env=env, capture_output=True, check=False)
    assert log.read_text().split() == ran
    assert (result.returncode == 0) is (migrate_status == 0)


def test_health_checks_use_health_probes():
    services = _compose()["services"]
    assert services["web"]["healthcheck"]["test"][-2:] == ["web", "http://127.0.0.1:8000/health"]
    assert services["worker"]["healthcheck"]["test"][-2] == "worker"
    assert services["worker"]["depends_on"]["web"]["condition"] == "service_healthy"
    for name in ("web", "worker"):
        assert services[name]["environment"]["DATABASE_URL"].startswith("postgres://")


# What a probe from another container does, with the compose service names resolving here.
_IN_THE_COMPOSE_NETWORK = """
import runpy, socket, sys
resolve = socket.getaddrinfo
socket.getaddrinfo = lambda host, *a, **k: resolve(
    "127.0.0.1" if host in ("web", "db") else host, *a, **k
)
sys.argv = sys.argv[1:]
runpy.run_module(sys.argv[0], run_name="__main__")
"""


@pytest.fixture(scope="module")
def compose_web(tmp_path_factory):
    """gunicorn as compose's web service runs it: production settings, the service's environment
    (SQLite for PostgreSQL), a public host name only; the worker's heartbeat recorded."""
    tmp_path = tmp_path_factory.mktemp("compose")
    port = _free_port()
    environment = _compose()["services"]["web"]["environment"]
    (tmp_path / "prometheus").mkdir()
    env = vigie_env(
        **{k: str(v) for k, v in environment.items()}
        | {
            "DATABASE_URL": f"sqlite:///{tmp_path}/vigie.sqlite3",
            "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "prometheus"),
        },
        DEBUG="false",
        SECRET_KEY="k8#Jf2!pQz7@Lm4$Rt9^Vw1&Xy6*Bn3(Hc5)Gd0_Ke8+Ps2=Ua7",
        ALLOWED_HOSTS="vigie.example.org",
        METRICS_TOKEN="s3cret-metrics",
        VIGIE_DATA_DIR=str(tmp_path),
        SECURE_SSL_REDIRECT="true",
    )
    manage("migrate", "--no-input", env=env, check=True, timeout=120)
    beat = "from vigie.tasks import heartbeat; heartbeat()"
    manage("shell", "-c", beat, env=env, check=True, timeout=60)
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "vigie.wsgi", "--bind", f"127.0.0.1:{port}",
         "--workers", "2"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        yield port, env
    finally:
        server.kill()
        server.wait(timeout=30)


def _healthcheck(service, port, env):
    probe = _compose()["services"][service]["healthcheck"]["test"]
    assert probe[0] == "CMD" and probe[1] == "python"
    args = [arg.replace(":8000", f":{port}") for arg in probe[2:]]
    command = [sys.executable, "-c", _IN_THE_COMPOSE_NETWORK, *args[1:]]
    result = None
    for _attempt in range(60):  # the first answers come once gunicorn is listening
        result = subprocess.run(
            command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=30
        )
        if result.returncode == 0 or "unreachable" not in result.stdout:
            break
        time.sleep(0.5)
    return result


def _get(port, path, host, **headers):
    """Not following redirects: what the proxy in front would see."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request("GET", path, headers={"Host": host, **headers})
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


@pytest.mark.slow
@pytest.mark.parametrize("service", ["web", "worker"])
def test_the_compose_healthchecks_pass_against_gunicorn_in_production(compose_web, service):
    port, env = compose_web
    result = _healthcheck(service, port, env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip() == "ok"


@pytest.mark.slow
def test_prometheus_in_the_compose_network_scrapes_with_the_token_and_nothing_else(compose_web):
    port, env = compose_web
    _healthcheck("web", port, env)  # gunicorn is up
    token = {"Authorization": "Bearer s3cret-metrics"}
    status, body = _get(port, "/metrics", "web:8000", **token)
    assert status == 200 and b"vigie_http_requests_total" in body
    assert _get(port, "/metrics", "web:8000")[0] == 401
    assert _get(port, "/accounts/login/", "web:8000")[0] == 400
    assert _get(port, "/accounts/login/", "vigie.example.org")[0] == 301  # to HTTPS


def _free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _make_test_command(*variables):
    # Not the variables of a `make test` this suite may itself be running under.
    inherited = ("MAKEFLAGS", "MFLAGS", "MAKELEVEL", "PYTEST_ARGS", "NPROC")
    env = {k: v for k, v in os.environ.items() if k not in inherited}
    result = subprocess.run(
        ["make", "-n", "test", *variables],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return [line for line in result.stdout.splitlines() if " pytest" in line][-1].split()


def test_make_test_runs_on_every_core_with_a_serial_fallback():
    # loadgroup keeps the tests sharing one real Bugsink on one worker.
    assert _make_test_command("NPROC=4")[-4:] == ["-n", "4", "--dist", "loadgroup"]
    assert "-n" not in _make_test_command("NPROC=1")
    assert _make_test_command("NPROC=4", "PYTEST_ARGS=-x tests")[-2:] == ["-x", "tests"]


@pytest.mark.slow
def test_make_manage_exports_yaml_whose_links_point_where_make_run_serves(tmp_path):
    # As the README says: `make manage ARGS="monitors export" > monitors.yaml`, after
    # `make run ADDR=...`; `-o .env` leaves the checkout's .env alone (the settings come from here).
    env = vigie_env(VIGIE_DATA_DIR=str(tmp_path))
    env.pop("VIGIE_BASE_URL", None)
    manage("migrate", "--no-input", env=env, check=True, timeout=120)
    manage("demo", env=env, check=True, timeout=120)
    inherited = ("MAKEFLAGS", "MFLAGS", "MAKELEVEL")
    make_env = {k: v for k, v in env.items() if k not in inherited}
    result = subprocess.run(
        ["make", "-o", ".env", "manage", "ADDR=127.0.0.1:8347", "ARGS=monitors export"],
        cwd=ROOT, env=make_env, capture_output=True, text=True, timeout=300, check=True,
    )  # fmt: skip
    exported = yaml.safe_load(result.stdout)
    ping_urls = [check["ping_url"] for check in exported["checks"] if "ping_url" in check]
    assert ping_urls
    assert all(url.startswith("http://127.0.0.1:8347/") for url in ping_urls), ping_urls


def _dockerignore_regexes():
    """.dockerignore as Docker reads it: `**` any directories, `*` within one, `!` keeps."""
    rules = []
    for line in (ROOT / ".dockerignore").read_text().splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        keep = line.startswith("!")
        pattern = "".join(
            {"**/": "(.*/)?", "**": ".*", "*": "[^/]*", "?": "[^/]"}.get(token) or re.escape(token)
            for token in re.findall(r"\*\*/|\*\*|\*|\?|[^*?]+", line.removeprefix("!").strip("/"))
        )
        rules.append((keep, re.compile(pattern)))
    return rules


def _sent_to_docker(path, rules):
    parts = path.split("/")
    prefixes = ["/".join(parts[: n + 1]) for n in range(len(parts))]
    sent = True
    for keep, regex in rules:
        if any(regex.fullmatch(prefix) for prefix in prefixes):
            sent = keep
    return sent


@pytest.mark.parametrize(
    "path",
    [".env", ".env.production", "deploy/.env", "var/vigie.sqlite3", "db.sqlite3-wal",
     "certs/tls.key", "tls.pem", ".git/config", ".venv/bin/python"],
)  # fmt: skip
def test_the_build_context_leaves_out_settings_secrets_and_data(path):
    assert not _sent_to_docker(path, _dockerignore_regexes())


def _dockerfile_instructions():
    text = (ROOT / "Dockerfile").read_text().replace("\\\n", " ")
    lines = [line.strip() for line in text.splitlines()]
    return [line.split(None, 1) for line in lines if line and not line.startswith("#")]


@pytest.mark.slow
def test_the_image_builds_its_static_files_and_messages_without_any_dotenv(tmp_path):
    # `docker build .` without an engine: the context .dockerignore lets through, then the RUN
    # that compiles the messages and collects the static files, with nothing from this shell.
    rules = _dockerignore_regexes()
    tracked = subprocess.run(
        ["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.splitlines()
    context = tmp_path / "app"
    for path in tracked:
        if _sent_to_docker(path, rules) and (ROOT / path).is_file():
            (context / path).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / path, context / path)
    assert not (context / ".env").exists()
    instructions = _dockerfile_instructions()
    # The placeholders live on the RUN line only, never in ENV or ARG (kept in the image).
    assert not any(
        word in args
        for kind, args in instructions
        if kind in ("ENV", "ARG")
        for word in ("SECRET_KEY", "VIGIE_ENCRYPTION_KEYS", "DATABASE_URL")
    )
    [build] = [args for kind, args in instructions if kind == "RUN" and "collectstatic" in args]
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    _fake(bin_dir, "python", f'exec {shlex.quote(sys.executable)} "$@"')  # the image's venv
    env = {"PATH": f"{bin_dir}{os.pathsep}/usr/bin:/bin", "HOME": str(tmp_path), "LANG": "C.UTF-8"}
    result = subprocess.run(
        ["sh", "-c", build], cwd=context, env=env, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert (context / "var" / "staticfiles" / "staticfiles.json").is_file()
    assert (context / "locale" / "fr" / "LC_MESSAGES" / "django.mo").is_file()

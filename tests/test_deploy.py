import os
import shlex
import subprocess

import pytest
import yaml

from tests.helpers import ROOT, manage, vigie_env


def test_check_deploy_passes_with_production_settings(tmp_path):
    env = vigie_env(
        DEBUG="false",
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

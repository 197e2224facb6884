"""The deployment recipe stays runnable: compose.yaml and the Dockerfile name files and commands that exist.

Docker cannot run here (or in CI), so this checks what can be checked without it: the compose file's structure and
shared configuration, that every command it runs is a real CLI command with real options, and that the Dockerfile
copies paths that exist. `docker compose config` validates the file too where a Docker client is installed.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys

import pytest
import yaml

from tests.helpers import ROOT

COMPOSE = yaml.safe_load((ROOT / "compose.yaml").read_text())
APP_SERVICES = ("migrate", "ingest", "api", "worker")


def test_compose_has_every_role_and_they_share_all_state():
    services = COMPOSE["services"]
    assert {"postgres", "chroma", *APP_SERVICES} <= set(services)
    for name in APP_SERVICES:
        env = services[name]["environment"]
        assert env["SUPPORT_DATABASE_URL"].startswith("postgresql://") and "@postgres:" in env["SUPPORT_DATABASE_URL"]
        assert env["SUPPORT_CHROMA_HOST"] == "chroma" and env["SUPPORT_SECRET_KEY"].startswith("${SUPPORT_SECRET_KEY")
    assert services["api"]["depends_on"]["migrate"]["condition"] == "service_completed_successfully"


@pytest.mark.parametrize("service", APP_SERVICES)
def test_each_compose_command_is_a_real_cli_command(service):
    cmd = COMPOSE["services"][service]["command"]
    assert cmd[:3] == ["python", "-m", "app"]
    words = [w for w in cmd[3:] if not w.startswith("-")]
    sub = [w for w in words if re.fullmatch(r"[a-z-]+", w)][:2]
    help_ = subprocess.run([sys.executable, "-m", "app", *sub[:2 if sub[0] == "db" else 1], "--help"], cwd=ROOT,
                           capture_output=True, text=True, timeout=120)
    assert help_.returncode == 0, help_.stderr
    for option in (w for w in cmd if w.startswith("--")):
        assert option in help_.stdout, f"{service}: {option} is not an option of {' '.join(sub)}"


def test_dockerfile_copies_what_exists_and_runs_the_server():
    text = (ROOT / "Dockerfile").read_text()
    for src in re.findall(r"^COPY (\S+)", text, flags=re.M):
        assert (ROOT / src).exists(), src
    assert '"serve"' in text and "/readyz" in text


def test_docker_compose_config_validates_when_a_client_is_installed():
    docker = shutil.which("docker")
    if not docker or subprocess.run([docker, "compose", "version"], capture_output=True).returncode != 0:
        pytest.skip("no docker compose client")
    env = {"SUPPORT_SECRET_KEY": "x", "SUPPORT_API_KEYS": "web=sha256:" + "0" * 64, "PATH": "/usr/bin:/bin"}
    out = subprocess.run([docker, "compose", "-f", str(ROOT / "compose.yaml"), "config", "-q"], env=env,
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr

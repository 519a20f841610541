"""The production configuration: `DEBUG=false` with the environment of deploy/env.example."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys

import pytest

from tests.conftest import ROOT
from tests.project.deploy_files import env_from_example


@pytest.fixture
def production_env(tmp_path) -> dict[str, str]:
    return {
        **os.environ,
        **env_from_example(SECRET_KEY=secrets.token_urlsafe(50), DATA_DIR=str(tmp_path)),
    }


def _manage(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_production_configuration_passes_the_deploy_checks(production_env):
    result = _manage(production_env, "check", "--deploy", "--fail-level", "WARNING")

    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_the_deploy_checks_catch_a_configuration_without_hsts(production_env):
    result = _manage(
        {**production_env, "SECURE_HSTS_SECONDS": "0"},
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
    )

    assert result.returncode != 0
    assert "security.W004" in result.stderr


@pytest.mark.parametrize("secret_key", [None, ""], ids=["unset", "empty"])
def test_debug_off_without_a_secret_key_refuses_to_start(production_env, secret_key):
    env = {name: value for name, value in production_env.items() if name != "SECRET_KEY"}
    if secret_key is not None:
        env["SECRET_KEY"] = secret_key

    result = _manage(env, "check")

    assert result.returncode != 0
    assert "SECRET_KEY must be set when DEBUG is off." in result.stderr

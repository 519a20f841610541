"""The sample deployment in deploy/, as the tests that start the product its way read it."""

from __future__ import annotations

import shlex
import sys

from tests.conftest import ROOT

DEPLOY = ROOT / "deploy"


def env_from_example(**overrides: str) -> dict[str, str]:
    """The variables deploy/env.example sets (comments skipped), with `overrides` on top."""
    env: dict[str, str] = {}
    for line in (DEPLOY / "env.example").read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            name, _, value = line.partition("=")
            env[name.strip()] = value.strip()
    return {**env, **overrides}


def daphne_command(port: int) -> list[str]:
    """The web server's ExecStart from its systemd unit, for `port`, run by this interpreter."""
    unit = (DEPLOY / "systemd" / "persona-studio-daphne@.service").read_text()
    exec_start = next(line for line in unit.splitlines() if line.startswith("ExecStart="))
    program, *args = shlex.split(exec_start.removeprefix("ExecStart="))
    assert program.endswith("/daphne"), program
    return [sys.executable, "-m", "daphne", *(arg.replace("%i", str(port)) for arg in args)]

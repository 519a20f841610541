"""The official `xingchen` SDK 1.1.5 works against the simulator for every call it makes.

The SDK pins pydantic 1, so it runs from its own virtualenv (`.venv-sdk`, made by `make test`;
XINGCHEN_SDK_PYTHON points elsewhere) as a script, tests/platforms/sdk_compat/run_sdk.py.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import openpyxl
import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = Path(__file__).resolve().parent / "sdk_compat" / "run_sdk.py"
RECIPE = (
    "python3 -m venv .venv-sdk && .venv-sdk/bin/pip install xingchen==1.1.5 requests "
    "sseclient-py 'urllib3<2.1'"
)


def sdk_python() -> Path:
    configured = os.environ.get("XINGCHEN_SDK_PYTHON")
    return Path(configured) if configured else ROOT / ".venv-sdk" / "bin" / "python"


def test_every_sdk_call_works_against_the_simulator(sim, file_server):
    python = sdk_python()
    if not python.exists():
        pytest.fail(
            f"The SDK's virtualenv is missing ({python}). Run `make test`, or create it from "
            f"{ROOT}: {RECIPE}",
            pytrace=False,
        )
    base, folder = file_server
    workbook = openpyxl.Workbook()
    workbook.active.append(["tea", "price"])
    workbook.active.append(["龙井", 38])
    workbook.save(folder / "menu.xlsx")
    result = subprocess.run(
        [str(python), str(SCRIPT), sim.base_url, sim.api_key, f"{base}/menu.xlsx"],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=ROOT,
    )
    assert result.returncode == 0, (
        f"the SDK run failed:\n{result.stdout[-3000:]}\n{result.stderr[-6000:]}"
    )
    assert "SDK steps passed" in result.stdout

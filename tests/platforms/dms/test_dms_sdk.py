"""The official DMS SDK (alibabacloud-dms-enterprise20181101 3.0.0) streams from the simulator.

The SDK and its Tea stack live in their own virtualenv (`.venv-dms-sdk`, made by `make test`);
it runs tests/platforms/dms/sdk/run_dms_sdk.py, which prints JSON lines.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[3]
SDK_PYTHON = ROOT / ".venv-dms-sdk" / "bin" / "python"
SCRIPT = Path(__file__).resolve().parent / "sdk" / "run_dms_sdk.py"
PHONE = "13812345678"


def run_sdk(sim: Any, *, secret: str, masking: bool, said: str) -> list[dict[str, Any]]:
    if not SDK_PYTHON.exists():
        pytest.skip(f"the DMS SDK virtualenv is missing ({SDK_PYTHON}); `make test` creates it")
    result = subprocess.run(
        [
            str(SDK_PYTHON),
            str(SCRIPT),
            sim.host,
            sim.access_key_id,
            secret,
            str(sim.instance_id),
            "true" if masking else "false",
            said,
        ],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
    )
    assert result.returncode in (0, 3), f"the SDK run crashed:\n{result.stderr[-4000:]}"
    return [json.loads(line) for line in result.stdout.splitlines() if line.strip()]


def test_sdk_streams_a_masked_reply(dms_sim):
    lines = run_sdk(
        dms_sim, secret=dms_sim.access_key_secret, masking=True, said=f"Call me on {PHONE}"
    )
    assert lines[-1]["done"] is True
    assert 'You said: "Call me on 138****5678"' in lines[-1]["text"]
    assert all(line["success"] for line in lines[:-1])
    assert lines[0]["event"] == "result"


def test_sdk_streams_a_clear_reply_when_masking_is_off(dms_sim):
    lines = run_sdk(
        dms_sim, secret=dms_sim.access_key_secret, masking=False, said=f"我的电话是{PHONE}"
    )
    assert f"你说：“我的电话是{PHONE}”" in lines[-1]["text"]
    received = dms_sim.requests()[-1]
    # The SDK writes Python booleans: the simulator reads them case-insensitively.
    assert received["params"]["NeedDesensitization"] == "False"


def test_sdk_with_a_bad_secret_gets_signature_does_not_match(dms_sim):
    lines = run_sdk(dms_sim, secret="not-the-secret", masking=False, said="hi")
    assert lines[-1]["code"] == "SignatureDoesNotMatch"

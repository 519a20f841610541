"""Streams one chat through the official DMS SDK 3.0.0 from a running DMS simulator.

Runs in the SDK's own virtualenv, not in the project's:

    .venv-dms-sdk/bin/python tests/platforms/dms/sdk/run_dms_sdk.py HOST:PORT KEY_ID SECRET \
        INSTANCE_ID MASKING(true|false) USER_MESSAGE

Prints one JSON line per streamed event (`{"id", "event", "success", "data"}`), then
`{"done": true, "text": <the joined content deltas>}`; or, when the SDK raises,
`{"error": <exception class>, "code": <its code>, "message": ...}` and exits with status 3.
"""

from __future__ import annotations

import json
import sys

from alibabacloud_dms_enterprise20181101.client import Client
from alibabacloud_dms_enterprise20181101.models import ChatWithDesensitizeSSERequest
from alibabacloud_tea_openapi.utils_models import Config
from darabonba.runtime import RuntimeOptions


def _content(data: str | None) -> str:
    chunk = json.loads(data) if data else {}
    choices = chunk.get("choices") or [{}]
    return (choices[0].get("delta") or {}).get("content") or ""


def main(host: str, key_id: str, secret: str, instance_id: str, masking: str, said: str) -> int:
    config = Config(
        access_key_id=key_id,
        access_key_secret=secret,
        endpoint=host,
        protocol="http",
        read_timeout=20000,
    )
    client = Client(config)
    need_masking = masking == "true"
    request = ChatWithDesensitizeSSERequest(
        instance_id=int(instance_id),
        model="qwen-plus",
        messages=[
            {"role": "system", "content": "You are Marta, a patient help-desk agent."},
            {"role": "user", "content": said},
        ],
        stream=True,
        include_usage=True,
        need_desensitization=need_masking,
        desensitization_rule="UserInfo" if need_masking else None,
        temperature="0.7",
        stop=["\n\n\n"],
    )
    text = ""
    try:
        for response in client.chat_with_desensitize_ssewith_sse(request, RuntimeOptions()):
            body = response.body
            print(
                json.dumps(
                    {
                        "id": response.id,
                        "event": response.event,
                        "success": body.success,
                        "data": body.data,
                    },
                    ensure_ascii=False,
                ),
                flush=True,
            )
            text += _content(body.data)
    except Exception as exc:  # the SDK's own error types vary by layer
        code = getattr(exc, "code", None) or getattr(exc, "error_code", None)
        print(json.dumps({"error": type(exc).__name__, "code": code, "message": str(exc)[:500]}))
        return 3
    print(json.dumps({"done": True, "text": text}, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:7]))

"""A faithful local stand-in of Alibaba Cloud DMS `ChatWithDesensitizeSSE` (DMS_LINGMA_API.md).

Run it with `python -m platforms.dms.simulator --port 8766 --data-dir DIR --access-key-id ID
--access-key-secret SECRET --instance-id N`. It serves one access key and one DMS instance, and
besides the chat the `ListInstances` action (signed the same way), which lists that instance.

Like the real gateway it is strict: it verifies the V3 (ACS3-HMAC-SHA256) signature with the
same `platforms.dms.signing` the client signs with, checks the action/version headers, the date
window and nonce reuse, then reads the call's parameters from the query and the form body.

Errors are JSON `{RequestId, HostId, Code, Message, Recommend}` with the HTTP status:
- 400 `IncompleteSignature`: no/garbled Authorization, or host, x-acs-* or content-type unsigned
- 404 `InvalidAccessKeyId.NotFound`: any access key id but the configured one
- 403 `SignatureDoesNotMatch`: wrong secret, tampered request, or body hash mismatch
- 400 `InvalidTimeStamp.Format` / `InvalidTimeStamp.Expired`: x-acs-date unreadable / off by
  more than 15 minutes
- 400 `SignatureNonceUsed`: a nonce seen in the last 30 minutes (kept in DIR/nonces.txt)
- 404 `InvalidAction.NotFound`, 400 `InvalidVersion`: other x-acs-action / x-acs-version
- 400 `MissingInstanceId`, `MissingMessages`, `MissingModel`, `MissingDesensitizationRule`,
  `InvalidParameter` (bad boolean, number out of the documented range, bad JSON);
  404 `InvalidInstance.NotFound` (an InstanceId other than the configured one)

Choices where the reference leaves an open question:
- Q1 path: the action is served at `/` (what the SDKs send) and at the seed doc's
  `/worknode/innerapi/services` alike; the signature covers whichever path was requested.
- Q2 regions: there are none here; the client takes any endpoint URL.
- Q3 `Data`: each event is `id:<n>`, `event:result`, one `data:` line holding the envelope
  `{"RequestId","Success":true,"Data":"<compact JSON>"}` where Data is an OpenAI
  `chat.completion.chunk`: first a `role` delta, then (with EnableThinking) one
  `reasoning_content` delta per token, then one `content` delta per token, then an empty delta
  with `finish_reason` "stop" ("length" when MaxTokens cut it; Stop words end it with "stop"),
  then with IncludeUsage a chunk with empty `choices` and `usage{prompt_tokens,
  completion_tokens, total_tokens}`. The stream ends when the connection closes; there is no
  `[DONE]`. Stream=false is not special-cased: the action always streams.
- Q4 masking: with NeedDesensitization=true, system and user messages are masked before the
  reply is composed (assistant messages and the output are not), the same way for every
  DesensitizationRule; formats in `masking.py` (`138****5678`, `110101********123X`,
  `a***@example.com`, `6222********7890`). The reply quotes the last user message as the model
  received it: `You said: "<text>"` (`你说：“<text>”` when it holds Chinese), so the mask shows.
- Q6 codes: the gateway-style codes above and, for injected faults, 429 `Throttling.User`,
  500 `InternalError`, 503 `ServiceUnavailable`; in-stream errors are one `Success:false` event
  with `ErrorCode`/`ErrorMessage` (default `UnknownError`), then the stream closes.
- Q9 window: x-acs-date within ±15 minutes of the server clock; nonces remembered 30 minutes.
- A parameter sent in both the query and the form body keeps its query value. Booleans are read
  case-insensitively (`True`/`true`); `+` and `%20` both decode to a space. Model is required.

Replies are deterministic and persona-flavoured (a Seed adds one of a few asides, as sampling would
change the words, so a regenerated reply differs): the name comes from the system message ("You are
<Name>" / "你是<Name>"), the text has several sentences and some markdown; with EnableSearch a fake
web source is cited; ResponseFormat=json_object makes it a JSON object.

Control API (no authentication: a loopback test tool):
- `GET /_simulator/health` -> `{"ok": true, "access_key_id", "instance_id"}`
- `POST /_simulator/faults` one fault (see faults.py), `GET` lists the queue, `DELETE` clears it
- `POST /_simulator/config` `{"tokens_per_second", "first_token_ms"}` (`GET` reads it)
- `GET /_simulator/requests` -> the last 200 chat requests, oldest first: `{request_id, path,
  headers (no Authorization), params (no Messages), messages_received, messages_masked,
  status, code}`; `DELETE` clears them
"""

from __future__ import annotations

from .app import create_app
from .config import SimulatorConfig

__all__ = ["SimulatorConfig", "create_app"]

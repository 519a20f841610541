"""A faithful local stand-in of the Tongyi Xingchen v2 API (see XINGCHEN_API.md).

Run it with `python -m platforms.xingchen.simulator --port 8765 --data-dir DIR --api-key KEY`.
State lives in DIR/simulator.sqlite3 and generated files in DIR/files/, so a restart loses
nothing. It imports nothing from the client; it stands alone.

Errors it gives that Xingchen documents no name for (HTTP status = errorCode):
- 400 `MissingGatewayHeader`, 404 `AppNotFound` / `ServiceNotFound` / `ApiNotFound`: routing.
- 401 `InvalidApiKey`, "Unauthorized user! apikey is invalid.": any key but the configured one.
- 429 `ConcurrentChatNotAllowed`: a chat/send for a userProfile.userId whose previous chat
  (streaming or not) is still in flight.
- 400 `InvalidCharacterName`, `MissingBasicInformation`, `MissingSearchKeyword`,
  `CharacterUnderAudit`, `CharacterUnderGreenReview`, `CharacterOffShelf`, `LastMessageNotUser`,
  `InvalidRating`, `MissingParameter`, `InvalidParameter`, ...; 403 `CharacterNotManageable`;
  404 `CharacterNotFound`, `MessageNotFound`, `ImageTaskNotFound`, `KnowledgeBaseNotFound`,
  `RequestNotFound`, ...

Where the seed doc is stricter than the SDK, the simulator follows the seed doc (§12):
- chat/send: `input.aca.context.useChatHistory` is required (400 `MissingParameter`) and must
  be true (400 `InvalidParameter`).
- rating: only 0 (bad) and 5 (good); anything else is 400 `InvalidRating`.
- histories: a user filter (`where.userId`, or the SDK's `where.bizUserId`) is required (400
  `MissingParameter`), so one user's records never come back mixed with another's; each record
  carries its owner as `userId` and `bizUserId`. Times may be epoch ms or ISO-8601.
- polling/image: only the owner of the message (the userId of the chat that produced it) finds
  its task; any other userId gets the 404 `ImageTaskNotFound` of an unknown message.
- chat/stop: only a streaming chat/send that is still running can be stopped; a non-streaming
  chat's requestId, an ended stream's or an unknown one gets 404 `RequestNotFound`.

Control API (outside /v2; Bearer key required except health and files):
- `GET /_simulator/health` -> `{"ok": true}`
- `POST /_simulator/faults` (a status, cut, stall, malformed or error_event fault; see faults.py),
  `DELETE /_simulator/faults` (clear all), `GET /_simulator/faults` (what is still queued)
- `POST /_simulator/config` `{"tokens_per_second", "first_token_ms", "stamp_events"}` (`GET`
  reads it). `stamp_events` (default false) turns on the benchmark stamps below.
- `GET /_simulator/stamps?userId=...` -> `[{"requestId", "userId", "events": [[chars_so_far,
  sent_at], ...]}, ...]`, oldest request first (all users when `userId` is omitted): for each
  streamed chat/send while `stamp_events` was on, per result event the length of the reply
  text sent so far and `time.time()` just before the event was written. The last 5000
  requests are kept. `DELETE /_simulator/stamps` clears them.
- `GET /_simulator/requests?servicename=...` -> the last 50 calls of that servicename (all when
  omitted), each `{requestId, servicename, method, path, query, headers, json, status}`
- `POST /_simulator/characters/<characterId>/status` `{"auditStatus"?, "configStatus"?,
  "greenStatus"?}` -> `{"ok": true, auditStatus, greenStatus, configStatus}`: puts a character
  under review or off the shelf
- `GET /_simulator/files/<name>` serves generated images, documents and re-hosted avatars
"""

from __future__ import annotations

from .app import create_app
from .config import SimulatorConfig

__all__ = ["SimulatorConfig", "create_app"]

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
  404 `CharacterNotFound`, `MessageNotFound`, `ImageTaskNotFound`, `KnowledgeBaseNotFound`, ...

Control API (outside /v2; Bearer key required except health and files):
- `GET /_simulator/health` -> `{"ok": true}`
- `POST /_simulator/faults` (a status, cut, stall, malformed or error_event fault; see faults.py),
  `DELETE /_simulator/faults` (clear all), `GET /_simulator/faults` (what is still queued)
- `POST /_simulator/config` `{"tokens_per_second", "first_token_ms"}` (`GET` reads it)
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

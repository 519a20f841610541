"""A local stand-in of the Yunxiao Lingma OpenAPI: ExecuteChat and the knowledge-base list.

Run it with `python -m platforms.lingma.simulator --port 8766 --data-dir DIR --token T
--organization-id ORG`. Knowledge bases live in DIR/knowledge_bases.json (seeded from
`library.py` on first start; ones created through the API survive a restart). It imports
nothing from the client; it stands alone.

OpenAPI (DMS_LINGMA_API.md Part 2), header `x-yunxiao-token` on every call:
- `POST /oapi/v1/lingma/organizations/{org}/model/chat?stream=&teamDocs=` (ExecuteChat)
- `GET /oapi/v1/lingma/organizations/{org}/knowledgeBases?query=&sceneType=&orderBy=&sort=&page=
  &perPage=` (a JSON array; paging in headers `x-total`, `x-page`, `x-per-page`,
  `x-total-pages`); `POST` the same path `{name, description, sceneType, accessLevel}` ->
  `{"kbId": ...}` (CreateKnowledgeBase)
Errors use Yunxiao's body `{errorCode, errorMessage, requestId, traceId, httpStatus, title,
hasDetailSolution}`: 401 `Unauthorized` (no token), 401 `InvalidTokenError` (wrong token), 403
`Forbidden.InvalidUser.UserNotInCurrentOrganization` (another organisation), 400 `BadRequest`
(see chat.py), 404 `NotFound` (unknown path).

Choices where the reference leaves a question open:
- Q7 stream framing: `text/event-stream`, one `data:{"output":{"finish_reason","text"},
  "requestId","usage":{"input_tokens","output_tokens"}}` per couple of tokens, no `event:` name,
  `finish_reason` the string "null" until the last event, which says "stop" ("length" when
  max_tokens cut the answer). `usage` is on every event, output_tokens counting what was sent
  so far. Text is incremental by default; `text_mode: "cumulative"` sends the whole text so
  far instead. No end marker by default (the stream just closes after the last event);
  `end_marker: "done"` adds `data:[DONE]`, `"event"` adds `event:finish` with
  `data:{"requestId":...}`. Mid-stream errors arrive as a `data:` event carrying the error body
  (`errorCode` etc.), after which the stream closes.
- Q8 model and limits: no model is named or chosen (none is in the request); usage counts are
  the simulator's own tokenisation (a CJK character, a word or a punctuation mark is a token);
  there is no rate limit (429 only by fault injection). `kbIds` without `teamDocs=true` are
  validated but retrieve nothing and cite nothing; with `teamDocs=true` and no `kbIds`, every
  Q&A (`chat`) knowledge base is searched. `kbIds` naming a `complement` knowledge base are
  refused (400), since chat retrieves from Q&A knowledge bases only.
- Knowledge bases: `sceneType` is reported as `chat`; the filter also takes the older spelling
  `answer`. `accessLevel` is a number (0 private, 10 public). The list's default order is
  `orderBy=gmt_created&sort=desc`; `perPage` defaults to 20, at most 100.
- The last message must be the user's (400 otherwise): the answer is to that question.

Control API (the token required except for health):
- `GET /_simulator/health` -> `{"ok": true}`
- `POST /_simulator/faults`: `{kind: "http", status, code?, message?, retry_after?}` |
  `{kind: "cut", after_events}` | `{kind: "stall", after_events, seconds}` |
  `{kind: "malformed", after_events}` | `{kind: "stream_error", after_events, status?, code?,
  message?}`; optional `count` and `target` ("chat" or "knowledge_bases", see faults.py).
  `DELETE` clears them, `GET` lists those still queued.
- `POST /_simulator/config` `{tokens_per_second, first_token_ms, text_mode, end_marker}` (`GET`
  reads it).
- `GET /_simulator/requests` -> the last 100 calls, each `{requestId, method, path, query,
  headers, body, status}`, never the token; `DELETE` clears them.
"""

from __future__ import annotations

from .app import create_app
from .config import SimulatorConfig

__all__ = ["SimulatorConfig", "create_app"]

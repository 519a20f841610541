"""Async client of the Tongyi Xingchen v2 API: one method per endpoint (XINGCHEN_API.md §2).

One `XingchenClient` holds one pooled `httpx.AsyncClient`; keep one per process and `aclose()`
it on shutdown. Every failure is a `XingchenError`. Idempotent reads are retried with jittered
exponential backoff (honouring Retry-After); writes and chat are never retried here, because
only the caller knows whether repeating them is safe.
"""

from __future__ import annotations

import asyncio
import functools
import json
import logging
import random
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import httpx

from platforms.http_common import (
    PooledClient,
    idle_guarded,
    log_call,
    parse_retry_after,
    pooled_limits,
    transport_failure,
)

from .errors import XingchenError, is_retryable_status
from .sse import SSEEvent, aiter_sse
from .types import (
    AutoDescRequest,
    Character,
    CharacterDesc,
    CharacterInput,
    ChatContext,
    ChatEvent,
    ChatMessage,
    ChatRequest,
    ChatResult,
    Completion,
    CompletionRequest,
    ExtractKV,
    ExtractSummary,
    FileConvert,
    GroupChatRequest,
    HistoryQuery,
    ImageTask,
    KbFileInfo,
    KnowledgeBase,
    KnowledgeBaseFile,
    KvMemoryConfig,
    Message,
    NextSpeaker,
    Page,
)

logger = logging.getLogger("platforms.xingchen")

_STATUS_TEXT = {
    400: "Xingchen rejected the request",
    401: "Xingchen rejected the API key",
    403: "Xingchen refused access",
    404: "Xingchen has no such resource",
    429: "Xingchen rate limit reached",
}
_SNIPPET_CHARS = 200
_REQUEST_ID_HEADERS = ("x-request-id", "x-acs-request-id", "eagleeye-traceid")


@dataclass(frozen=True)
class Endpoint:
    method: str
    path: str
    servicename: str
    idempotent: bool = False
    enveloped: bool = True


CHAT_SEND = Endpoint("POST", "/v2/api/chat/send", "aca-chat-send")
CHAT_SEND_SSE = Endpoint("POST", "/v2/api/chat/send", "aca-chat-send-sse")
CHAT_STOP = Endpoint("POST", "/v2/api/chat/stop", "aca-chat-stop")
CHAT_RESET = Endpoint("POST", "/v2/api/chat/reset", "aca-chat-reset")
MESSAGE_HISTORIES = Endpoint(
    "POST", "/v2/api/chat/message/histories", "aca-message-history", idempotent=True
)
MESSAGE_RATING = Endpoint("POST", "/v2/api/chat/rating", "aca-message-rating")
CHAT_REMINDER = Endpoint("POST", "/v2/api/chat/reminder", "aca-chat-reminder")
POLLING_IMAGE = Endpoint("GET", "/v2/api/chat/polling/image", "aca-polling-image", idempotent=True)
CHARACTER_CREATE = Endpoint("POST", "/v2/api/character/create", "aca-character-create")
CHARACTER_UPDATE = Endpoint("POST", "/v2/api/character/update", "aca-character-update")
CHARACTER_DETAILS = Endpoint(
    "GET", "/v2/api/character/details", "aca-character-details", idempotent=True
)
CHARACTER_DELETE = Endpoint("POST", "/v2/api/character/delete", "aca-character-delete")
CHARACTER_SEARCH = Endpoint(
    "POST", "/v2/api/character/search", "aca-character-search", idempotent=True
)
CHARACTER_VERSIONS = Endpoint(
    "GET", "/v2/api/character/versions/{}", "aca-character-versions", idempotent=True
)
CHARACTER_RECOMMEND = Endpoint(
    "GET",
    "/v2/api/character/newversion/recommend/{}",
    "aca-character-version-recommend",
    idempotent=True,
)
CHARACTER_VERSION_SAVE = Endpoint(
    "POST", "/v2/api/character/createOrUpdateVersion", "aca-character-version-mgmt"
)
CHARACTER_AUTO_DESC = Endpoint("POST", "/v2/api/character/auto/desc", "aca-char-auto-desc")
EXTRACT_KV = Endpoint("POST", "/v2/api/extract/kv", "aca-extract-memory-kv")
EXTRACT_SUMMARY = Endpoint("POST", "/v2/api/extract/summary", "aca-extract-memory-summary")
FILE_CONVERT_SUBMIT = Endpoint(
    "POST", "/v2/api/common/file/asyn/upload", "aca-doc-converter-submit"
)
FILE_CONVERT_RESULT = Endpoint(
    "GET", "/v2/api/common/file/asyn/download", "aca-doc-converter-result", idempotent=True
)
KB_CREATE = Endpoint("POST", "/v2/api/knowledge_base/create", "aca-kb-create")
KB_UPDATE = Endpoint("POST", "/v2/api/knowledge_base/update", "aca-kb-update")
KB_SEARCH = Endpoint("POST", "/v2/api/knowledge_base/search", "aca-kb-search", idempotent=True)
KB_DELETE = Endpoint("POST", "/v2/api/knowledge_base/delete", "aca-kb-delete")
KB_FILE_UPLOAD = Endpoint("POST", "/v2/api/knowledge_base/detail/upload", "aca-kb-detail-upload")
KB_FILE_RENAME = Endpoint("POST", "/v2/api/knowledge_base/detail/update", "aca-kb-detail-update")
KB_FILE_SEARCH = Endpoint(
    "POST", "/v2/api/knowledge_base/detail/search", "aca-kb-detail-search", idempotent=True
)
KB_FILE_DELETE = Endpoint("POST", "/v2/api/knowledge_base/detail/delete", "aca-kb-detail-delete")
GROUP_CHAT_SEND = Endpoint("POST", "/v2/api/groupchat/send", "aca-groupchat-send")
GROUP_CHAT_SEND_SSE = Endpoint("POST", "/v2/api/groupchat/send", "aca-groupchat-send-sse")
GROUP_CHAT_NEXT_SPEAKER = Endpoint(
    "POST", "/v2/api/groupchat/nextSpeaker", "aca-groupchat-nextspeaker"
)
COMPLETIONS = Endpoint("POST", "/v2/api/completions", "aca-completion", enveloped=False)


def backoff_delay(
    attempt: int,
    *,
    retry_after: float | None,
    base: float,
    cap: float,
    retry_after_cap: float,
) -> float:
    """Seconds to wait before retry number `attempt` (0 for the first retry).

    The server's Retry-After wins, capped so one bad header cannot park a worker; otherwise
    exponential backoff with "equal jitter" (between half and all of the exponential step).
    """
    if retry_after is not None:
        return min(max(retry_after, 0.0), retry_after_cap)
    step = min(cap, base * 2**attempt)
    return random.uniform(step / 2, step)


def _parse_json(response: httpx.Response) -> Any:
    """The decoded body, or None when it is empty or not JSON."""
    try:
        return json.loads(response.content) if response.content else None
    except ValueError:
        return None


def _snippet(text: str) -> str:
    return " ".join(text.split())[:_SNIPPET_CHARS]


def _as_bool(data: Any) -> bool:
    # The API's own document names the boolean result `content`; the SDK reads `data`.
    if isinstance(data, dict):
        data = data.get("content", data.get("result", True))
    if data is None:
        return True
    if isinstance(data, str):
        return data.strip().lower() == "true"
    return bool(data)


def _header_request_id(response: httpx.Response) -> str | None:
    for name in _REQUEST_ID_HEADERS:
        if response.headers.get(name):
            return response.headers[name]
    return None


def _is_event_stream(response: httpx.Response) -> bool:
    media_type = response.headers.get("content-type", "").split(";")[0]
    return media_type.strip().lower() == "text/event-stream"


class _StreamState:
    """Turns each event's content into (delta, text) whatever the server's output mode."""

    def __init__(self, incremental: bool) -> None:
        self.incremental = incremental
        self.text = ""
        self.request_id: str | None = None
        self.context = ChatContext()

    def advance(self, payload: dict[str, Any]) -> ChatEvent:
        piece = ChatResult.from_wire(payload)
        if self.request_id is None:
            self.request_id = piece.request_id
        self.context = self.context.merged(piece.context)
        delta, replaced = self._apply(piece.text)
        return ChatEvent(
            request_id=self.request_id,
            delta=delta,
            text=self.text,
            finished=piece.finished,
            stop_reason=piece.stop_reason,
            usage=piece.usage,
            context=self.context,
            has_risk=piece.has_risk,
            safety_std_answer=piece.safety_std_answer,
            function_call=piece.function_call,
            speaker=piece.speaker,
            replaced=replaced,
            raw=payload,
        )

    def _apply(self, content: str) -> tuple[str, bool]:
        if self.incremental:
            self.text += content
            return content, False
        # A terminal cumulative event may carry only the stop reason and usage.
        if not content:
            return "", False
        if content.startswith(self.text):
            delta, self.text = content[len(self.text) :], content
            return delta, False
        self.text = content
        return content, True


class XingchenClient(PooledClient):
    """The Xingchen API. Safe to share between tasks of one event loop."""

    def __init__(
        self,
        *,
        base_url: str,
        api_key: str,
        connect_timeout: float = 5.0,
        read_timeout: float = 60.0,
        stream_idle_timeout: float = 30.0,
        max_retries: int = 3,
        transport: httpx.AsyncBaseTransport | None = None,
        write_timeout: float = 10.0,
        pool_timeout: float = 5.0,
        max_connections: int = 50,
        backoff_base: float = 0.5,
        backoff_cap: float = 8.0,
        retry_after_cap: float = 30.0,
    ) -> None:
        if not api_key:
            raise ValueError("an API key is required")
        self._api_key = api_key
        self._max_retries = max(max_retries, 0)
        self._backoff = {
            "base": backoff_base,
            "cap": backoff_cap,
            "retry_after_cap": retry_after_cap,
        }
        timeouts = {"connect": connect_timeout, "write": write_timeout, "pool": pool_timeout}
        # For streams the read timeout is the idle timeout: it bounds the gap between chunks.
        self._stream_timeout = httpx.Timeout(read=stream_idle_timeout, **timeouts)
        self._stream_idle_timeout = stream_idle_timeout
        self._http = httpx.AsyncClient(
            base_url=base_url.rstrip("/"),
            headers={"Authorization": f"Bearer {api_key}", "x-fag-appcode": "aca"},
            timeout=httpx.Timeout(read=read_timeout, **timeouts),
            transport=transport,
            # Every reply being streamed holds a connection for its whole length.
            limits=pooled_limits(max_connections),
        )

    def __repr__(self) -> str:
        return f"XingchenClient(base_url={str(self._http.base_url)!r})"

    # --- chat -------------------------------------------------------------------------------

    async def chat_send(self, request: ChatRequest) -> ChatResult:
        """A whole reply in one response. Never retried: a repeat would be a second turn."""
        data, request_id = await self._call_with_id(CHAT_SEND, body=request.to_wire())
        return ChatResult.from_wire(data, request_id)

    def chat_stream(self, request: ChatRequest) -> AsyncIterator[ChatEvent]:
        """Stream a reply as `ChatEvent`s; the last one has `finished` True. Never retried.

        Iterating raises `XingchenError` with kind "http" (rejected before the stream started),
        "stream" (an error event), "malformed" (an event that is not JSON), "cut" (the stream
        ended before a stop reason), "timeout" (no bytes for `stream_idle_timeout` seconds) or
        "network". On any of these the text of the events already yielded stays valid: callers
        keep the partial reply. Close the iterator (`aclose()`, or `contextlib.aclosing` around
        a loop that may break) to drop the connection at once.
        """
        return self._stream(CHAT_SEND_SSE, request.to_wire(), request.incremental_output)

    async def chat_stop(self, *, request_id: str, content: str) -> bool:
        """Stop a streaming reply, saving `content` (the partial text) as its answer."""
        return _as_bool(
            await self._call(CHAT_STOP, body={"requestId": request_id, "content": content})
        )

    async def chat_reset(self, *, character_id: str, user_id: str) -> bool:
        body = {"characterId": character_id, "userId": user_id}
        return _as_bool(await self._call(CHAT_RESET, body=body))

    async def message_histories(self, query: HistoryQuery) -> Page[ChatMessage]:
        data = await self._call(MESSAGE_HISTORIES, body=query.to_wire())
        return Page.from_wire(data, ChatMessage.from_wire)

    async def message_rate(self, *, message_id: str, rating: int) -> bool:
        """Rate a reply: 0 is bad, 5 is good."""
        body = {"messageId": message_id, "rating": rating}
        return _as_bool(await self._call(MESSAGE_RATING, body=body))

    async def chat_reminder(self, *, character_id: str, biz_user_id: str, content: str) -> bool:
        """Have the character message the user first; `content` joins their history."""
        body = {"characterId": character_id, "bizUserId": biz_user_id, "content": content}
        return _as_bool(await self._call(CHAT_REMINDER, body=body))

    async def image_poll(self, *, message_id: str, user_id: str) -> ImageTask:
        params = {"messageId": message_id, "userId": user_id}
        return ImageTask.from_wire(await self._call(POLLING_IMAGE, params=params))

    # --- characters -------------------------------------------------------------------------

    async def character_create(self, character: CharacterInput) -> str:
        """Create a character; returns its characterId."""
        data = await self._call(CHARACTER_CREATE, body=character.to_wire())
        if isinstance(data, dict):
            data = data.get("characterId")
        if not data:
            raise self._error("Xingchen created a character but sent no id", kind="malformed")
        return str(data)

    async def character_update(
        self, *, character_id: str, character: CharacterInput, version: int | None = None
    ) -> bool:
        body = {**character.to_wire(), "characterId": character_id}
        if version is not None:
            body["version"] = version
        return _as_bool(await self._call(CHARACTER_UPDATE, body=body))

    async def character_details(
        self, *, character_id: str, version: int | None = None
    ) -> Character:
        params = _key_params(character_id, version)
        return Character.from_wire(await self._call_dict(CHARACTER_DETAILS, params=params))

    async def character_delete(self, *, character_id: str, version: int | None = None) -> bool:
        """Logical delete. The id (and version) go in the query string and the body alike."""
        params = _key_params(character_id, version)
        return _as_bool(await self._call(CHARACTER_DELETE, params=params, body=dict(params)))

    async def character_search(
        self,
        *,
        scope: str = "my",
        name: str | None = None,
        page_num: int = 1,
        page_size: int = 50,
        order_by: list[str] | None = None,
    ) -> Page[Character]:
        """`scope` is "my", "public" or "pre_configured"; `name` matches by prefix."""
        where = {"scope": scope} | ({"characterName": name} if name else {})
        body: dict[str, Any] = {"where": where, "pageNum": page_num, "pageSize": page_size}
        if order_by:
            body["orderBy"] = order_by
        return Page.from_wire(await self._call(CHARACTER_SEARCH, body=body), Character.from_wire)

    async def character_versions(self, *, character_id: str) -> list[Character]:
        path = CHARACTER_VERSIONS.path.format(quote(character_id, safe=""))
        data = await self._call(CHARACTER_VERSIONS, path=path)
        return [Character.from_wire(item) for item in data or [] if isinstance(item, dict)]

    async def character_recommend_version(self, *, character_id: str) -> Character:
        path = CHARACTER_RECOMMEND.path.format(quote(character_id, safe=""))
        return Character.from_wire(await self._call_dict(CHARACTER_RECOMMEND, path=path))

    async def character_save_version(
        self, *, character_id: str, version: int, character: CharacterInput
    ) -> Character:
        """Create or update version `version` (unique per character) of a character."""
        body = {**character.to_wire(), "characterId": character_id, "version": version}
        return Character.from_wire(await self._call_dict(CHARACTER_VERSION_SAVE, body=body))

    async def character_auto_desc(self, request: AutoDescRequest) -> CharacterDesc:
        return CharacterDesc.from_wire(
            await self._call(CHARACTER_AUTO_DESC, body=request.to_wire())
        )

    # --- memory -----------------------------------------------------------------------------

    async def extract_kv(
        self, *, messages: list[Message], kv_configs: list[KvMemoryConfig]
    ) -> ExtractKV:
        body = {
            "messages": [m.to_wire() for m in messages],
            "kvMemoryConfigs": [c.to_wire() for c in kv_configs],
        }
        return ExtractKV.from_wire(await self._call(EXTRACT_KV, body=body))

    async def extract_summary(self, *, messages: list[Message]) -> ExtractSummary:
        body = {"messages": [m.to_wire() for m in messages]}
        return ExtractSummary.from_wire(await self._call(EXTRACT_SUMMARY, body=body))

    # --- excel -> docx ----------------------------------------------------------------------

    async def file_convert_submit(
        self, *, source_url: str, type: str = "excelToDocx"
    ) -> FileConvert:
        """Start a conversion of the publicly reachable file at `source_url`."""
        body = {"sourceUrl": source_url, "type": type}
        return FileConvert.from_wire(await self._call(FILE_CONVERT_SUBMIT, body=body))

    async def file_convert_result(self, *, task_id: int) -> FileConvert:
        data = await self._call(FILE_CONVERT_RESULT, params={"taskId": task_id})
        return FileConvert.from_wire(data)

    # --- knowledge bases --------------------------------------------------------------------

    async def kb_create(self, *, user_id: str, name: str, description: str = "") -> KnowledgeBase:
        body = _owned(user_id, name=name, description=description)
        return KnowledgeBase.from_wire(await self._call_dict(KB_CREATE, body=body))

    async def kb_update(
        self, *, user_id: str, knowledge_base_id: str, name: str, description: str = ""
    ) -> bool:
        body = _owned(
            user_id, knowledgeBaseId=knowledge_base_id, name=name, description=description
        )
        return _as_bool(await self._call(KB_UPDATE, body=body))

    async def kb_search(
        self, *, user_id: str, page_num: int = 1, page_size: int = 50
    ) -> Page[KnowledgeBase]:
        body = _owned(user_id, pageNum=page_num, pageSize=page_size)
        return Page.from_wire(await self._call(KB_SEARCH, body=body), KnowledgeBase.from_wire)

    async def kb_delete(self, *, user_id: str, knowledge_base_id: str) -> bool:
        body = _owned(user_id, knowledgeBaseId=knowledge_base_id)
        return _as_bool(await self._call(KB_DELETE, body=body))

    async def kb_file_upload(
        self,
        *,
        user_id: str,
        knowledge_base_id: str,
        files: list[KbFileInfo],
        type: str = "file",
    ) -> bool:
        body = _owned(
            user_id,
            knowledgeBaseId=knowledge_base_id,
            type=type,
            fileInfos=[f.to_wire() for f in files],
        )
        return _as_bool(await self._call(KB_FILE_UPLOAD, body=body))

    async def kb_file_rename(
        self, *, user_id: str, knowledge_base_id: str, name: str, new_name: str
    ) -> bool:
        body = _owned(user_id, knowledgeBaseId=knowledge_base_id, name=name, newName=new_name)
        return _as_bool(await self._call(KB_FILE_RENAME, body=body))

    async def kb_file_search(
        self, *, user_id: str, knowledge_base_id: str, page_num: int = 1, page_size: int = 50
    ) -> Page[KnowledgeBaseFile]:
        body = _owned(
            user_id, knowledgeBaseId=knowledge_base_id, pageNum=page_num, pageSize=page_size
        )
        data = await self._call(KB_FILE_SEARCH, body=body)
        return Page.from_wire(data, KnowledgeBaseFile.from_wire)

    async def kb_file_delete(self, *, user_id: str, knowledge_base_id: str, name: str) -> bool:
        body = _owned(user_id, knowledgeBaseId=knowledge_base_id, name=name)
        return _as_bool(await self._call(KB_FILE_DELETE, body=body))

    # --- group chat, completions ------------------------------------------------------------

    async def group_chat_send(self, request: GroupChatRequest) -> ChatResult:
        data, request_id = await self._call_with_id(GROUP_CHAT_SEND, body=request.to_wire())
        return ChatResult.from_wire(data, request_id)

    def group_chat_stream(self, request: GroupChatRequest) -> AsyncIterator[ChatEvent]:
        """Stream a group-chat reply; behaves exactly like `chat_stream`."""
        return self._stream(GROUP_CHAT_SEND_SSE, request.to_wire(), request.incremental_output)

    async def group_chat_next_speaker(self, request: GroupChatRequest) -> NextSpeaker:
        data = await self._call(GROUP_CHAT_NEXT_SPEAKER, body=request.to_wire())
        return NextSpeaker.from_wire(data)

    async def completions(self, request: CompletionRequest) -> Completion:
        """OpenAI-style completion; never retried (it is a generation)."""
        data = await self._call_dict(COMPLETIONS, body=request.to_wire())
        # Tolerate a gateway that wraps the OpenAI object in the usual envelope after all.
        if "choices" not in data and isinstance(data.get("data"), dict):
            data = data["data"]
        return Completion.from_wire(data)

    # --- transport --------------------------------------------------------------------------

    async def _call_dict(
        self,
        endpoint: Endpoint,
        *,
        path: str | None = None,
        params: dict[str, Any] | None = None,
        body: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        data = await self._call(endpoint, path=path, params=params, body=body)
        if not isinstance(data, dict):
            raise self._error(
                f"Xingchen sent no object for {endpoint.servicename}", kind="malformed"
            )
        return data

    async def _call(
        self,
        endpoint: Endpoint,
        *,
        path: str | None = None,
        params: dict[str, Any] | None = None,
        body: dict[str, Any] | None = None,
    ) -> Any:
        data, _ = await self._call_with_id(endpoint, path=path, params=params, body=body)
        return data

    async def _call_with_id(
        self,
        endpoint: Endpoint,
        *,
        path: str | None = None,
        params: dict[str, Any] | None = None,
        body: dict[str, Any] | None = None,
    ) -> tuple[Any, str | None]:
        """`data` of a successful call and its request id; retries idempotent reads only."""
        attempts = 1 + self._max_retries if endpoint.idempotent else 1
        attempt = 0
        while True:
            try:
                return await self._attempt(endpoint, path or endpoint.path, params, body)
            except XingchenError as exc:
                attempt += 1
                if attempt >= attempts or not exc.retryable:
                    raise
                delay = backoff_delay(attempt - 1, retry_after=exc.retry_after, **self._backoff)
                await asyncio.sleep(delay)

    async def _attempt(
        self,
        endpoint: Endpoint,
        path: str,
        params: dict[str, Any] | None,
        body: dict[str, Any] | None,
    ) -> tuple[Any, str | None]:
        started = time.monotonic()
        headers = {"x-fag-servicename": endpoint.servicename, "Accept": "application/json"}
        try:
            response = await self._http.request(
                endpoint.method, path, params=params, json=body, headers=headers
            )
        except httpx.HTTPError as exc:
            error = self._transport_error(exc, started_streaming=False)
            _log(endpoint.method, path, None, None, started, failed=True)
            raise error from None
        try:
            data, request_id = self._unwrap(endpoint, response)
        except XingchenError as exc:
            _log(endpoint.method, path, response.status_code, exc.request_id, started, failed=True)
            raise
        _log(endpoint.method, path, response.status_code, request_id, started)
        return data, request_id

    def _unwrap(self, endpoint: Endpoint, response: httpx.Response) -> tuple[Any, str | None]:
        body = _parse_json(response)
        if not response.is_success:
            raise self._response_error(response, body, kind="http")
        if not isinstance(body, dict):
            raise self._error(
                f"Xingchen sent a body that is not a JSON object: {_snippet(response.text)}",
                kind="malformed",
                status=response.status_code,
                request_id=_header_request_id(response),
            )
        request_id = body.get("requestId") or _header_request_id(response)
        if body.get("errorCode") is not None:
            raise self._response_error(response, body, kind="api")
        if not endpoint.enveloped:
            request_id = request_id or body.get("id")
            return body, (str(request_id) if request_id else None)
        if body.get("success") is not True:
            raise self._response_error(response, body, kind="api")
        return body.get("data"), (str(request_id) if request_id else None)

    def _stream(
        self, endpoint: Endpoint, body: dict[str, Any], incremental: bool
    ) -> AsyncIterator[ChatEvent]:
        return self._stream_events(endpoint, body, _StreamState(incremental))

    async def _stream_events(
        self, endpoint: Endpoint, body: dict[str, Any], state: _StreamState
    ) -> AsyncIterator[ChatEvent]:
        started = time.monotonic()
        status: int | None = None
        failed = False
        headers = {
            "x-fag-servicename": endpoint.servicename,
            "X-AcA-SSE": "enable",
            "X-DashScope-SSE": "enable",
            "Accept": "text/event-stream;charset=UTF-8",
        }
        try:
            async with self._http.stream(
                endpoint.method,
                endpoint.path,
                json=body,
                headers=headers,
                timeout=self._stream_timeout,
            ) as response:
                status = response.status_code
                await self._check_stream_start(response)
                chunks = idle_guarded(response.aiter_bytes(), self._stream_idle_timeout)
                async for sse in aiter_sse(chunks):
                    event = self._stream_event(sse, state)
                    yield event
                    if event.finished:
                        return
            raise self._error(
                "The Xingchen stream ended before the reply finished",
                kind="cut",
                request_id=state.request_id,
            )
        except (httpx.HTTPError, TimeoutError) as exc:
            failed = True
            error = self._transport_error(exc, started_streaming=status is not None)
            error.request_id = state.request_id
            raise error from None
        except XingchenError:
            failed = True
            raise
        finally:
            _log(endpoint.method, endpoint.path, status, state.request_id, started, failed=failed)

    async def _check_stream_start(self, response: httpx.Response) -> None:
        if response.is_success and _is_event_stream(response):
            return
        await response.aread()
        raise self._response_error(response, _parse_json(response), kind="http")

    def _stream_event(self, sse: SSEEvent, state: _StreamState) -> ChatEvent:
        try:
            payload = json.loads(sse.data)
        except ValueError:
            payload = None
        if sse.event == "error":
            raise self._stream_error(payload, sse.data, state.request_id)
        if not isinstance(payload, dict):
            raise self._error(
                f"Xingchen sent an event that is not a JSON object: {_snippet(sse.data)}",
                kind="malformed",
                request_id=state.request_id,
            )
        if payload.get("errorCode") is not None or payload.get("success") is False:
            raise self._stream_error(payload, sse.data, state.request_id)
        return state.advance(payload)

    # --- errors -----------------------------------------------------------------------------

    def _redact(self, text: str) -> str:
        return text.replace(self._api_key, "[redacted]")

    def _error(self, message: str, **fields: Any) -> XingchenError:
        clean = {k: self._redact(v) if isinstance(v, str) else v for k, v in fields.items()}
        return XingchenError(self._redact(message), **clean)

    def _transport_error(
        self, exc: httpx.HTTPError | TimeoutError, *, started_streaming: bool
    ) -> XingchenError:
        message, kind = transport_failure(
            exc,
            upstream="Xingchen",
            streaming=started_streaming,
            idle_seconds=self._stream_idle_timeout,
        )
        return self._error(message, kind=kind)

    def _response_error(self, response: httpx.Response, body: Any, *, kind: str) -> XingchenError:
        envelope = body if isinstance(body, dict) else {}
        api_status = _int_or_none(envelope.get("httpStatusCode"))
        status = response.status_code if not response.is_success else (api_status or 200)
        detail = envelope.get("errorMessage") or envelope.get("message")
        if not isinstance(detail, str) or not detail:
            detail = _snippet(response.text) if not envelope else ""
        if kind == "api":
            message = _STATUS_TEXT.get(status, "Xingchen reported an error")
        elif response.is_success:
            message = "Xingchen sent no event stream"
        else:
            fallback = "Xingchen server error" if status >= 500 else "Xingchen request failed"
            message = f"{_STATUS_TEXT.get(status, fallback)} (HTTP {status})"
        code = envelope.get("errorCode")
        return self._error(
            f"{message}: {detail}" if detail else message,
            kind=kind,
            status=status,
            error_code=None if code is None else str(code),
            error_name=_str_or_none(envelope.get("errorName")),
            request_id=_str_or_none(envelope.get("requestId")) or _header_request_id(response),
            retry_after=parse_retry_after(response.headers.get("retry-after")),
        )

    def _stream_error(self, payload: Any, data: str, request_id: str | None) -> XingchenError:
        envelope = payload if isinstance(payload, dict) else {}
        status = _int_or_none(envelope.get("httpStatusCode"))
        detail = envelope.get("errorMessage") if envelope else _snippet(data)
        code = envelope.get("errorCode")
        message = "Xingchen reported an error during the reply"
        return self._error(
            f"{message}: {detail}" if detail else message,
            kind="stream",
            status=status,
            error_code=None if code is None else str(code),
            error_name=_str_or_none(envelope.get("errorName")),
            request_id=request_id or _str_or_none(envelope.get("requestId")),
            retryable=is_retryable_status(status),
        )


def _key_params(character_id: str, version: int | None) -> dict[str, Any]:
    params: dict[str, Any] = {"characterId": character_id}
    if version is not None:
        params["version"] = version
    return params


def _owned(user_id: str, **fields: Any) -> dict[str, Any]:
    """A knowledge-base body: every one names its owner as `userProfile.userId`."""
    return {**fields, "userProfile": {"userId": user_id}}


def _int_or_none(value: Any) -> int | None:
    try:
        return None if value is None or isinstance(value, bool) else int(value)
    except (TypeError, ValueError):
        return None


def _str_or_none(value: Any) -> str | None:
    return None if value is None else str(value)


_log = functools.partial(log_call, logger)

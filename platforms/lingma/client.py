"""Async client of Yunxiao Lingma: ExecuteChat (streamed and not) and ListKnowledgeBases.

One `LingmaClient` holds one pooled `httpx.AsyncClient`; keep one per process and `aclose()` it
on shutdown. Every failure is a `LingmaError`. Nothing is retried here: a chat repeated is a
second answer, and the error says (`retryable`, `retry_after`) whether the caller should try.

The stream's framing is undocumented (DMS_LINGMA_API.md §2.3, Q7), so the reader is tolerant:
`data:` JSON payloads are parsed, `[DONE]` and other non-JSON markers or a `finish`-type event
end the answer, cumulative and incremental `output.text` both become deltas, and the answer ends
at a finish_reason other than null/"null"/"" or when the server closes the stream.
"""

from __future__ import annotations

import functools
import json
import logging
import time
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import quote

import httpx
from pydantic import ValidationError

from platforms.http_common import (
    PooledClient,
    idle_guarded,
    log_call,
    parse_retry_after,
    pooled_limits,
    transport_failure,
)
from platforms.xingchen.sse import SSEEvent, aiter_sse

from .errors import ErrorKind, LingmaError
from .types import (
    ChatPayload,
    KnowledgeBase,
    KnowledgeBasePage,
    LingmaChatEvent,
    LingmaChatRequest,
    LingmaChatResult,
)

logger = logging.getLogger("platforms.lingma")

DEFAULT_BASE_URL = "https://openapi-rdc.aliyuncs.com"
# Yunxiao publishes no reset time for 429; a minute is what Alibaba's own MCP client assumes.
DEFAULT_RETRY_AFTER_SECONDS = 60.0
TOKEN_HEADER = "x-yunxiao-token"
# SSE event names that mark the end of an answer (the terminal form is undocumented).
END_EVENTS = frozenset({"finish", "finished", "done", "end", "complete", "completed"})

_STATUS_TEXT = {
    400: "Lingma rejected the request",
    401: "Lingma rejected the access token",
    403: "Lingma refused access to the organisation",
    404: "Lingma has no such resource",
    429: "Lingma rate limit reached",
}
# Status of an error event that carries only a code (an HTTP status is not always sent).
_CODE_STATUS = {
    "BadRequest": 400,
    "Unauthorized": 401,
    "InvalidTokenError": 401,
    "ExpiredTokenError": 401,
    "Forbidden": 403,
    "TooManyRequests": 429,
    "InternalServerError": 500,
}
_SNIPPET_CHARS = 200
_REQUEST_ID_HEADERS = ("x-request-id", "x-acs-request-id", "x-yunxiao-request-id")


class _Finished(Exception):
    """An end marker arrived: the answer is over without an error."""


class _AnswerText:
    """Turns each event's `output.text` into the new text, whether it is cumulative or not."""

    def __init__(self) -> None:
        self.text = ""
        self.events = 0

    def delta(self, text: str) -> str:
        self.events += 1
        if text.startswith(self.text):
            new, self.text = text[len(self.text) :], text
            return new
        self.text += text
        return text


class LingmaClient(PooledClient):
    """The Lingma OpenAPI of one organisation. Safe to share between tasks of one event loop."""

    def __init__(
        self,
        *,
        base_url: str,
        token: str,
        organization_id: str,
        connect_timeout: float = 5,
        read_timeout: float = 60,
        stream_idle_timeout: float = 30,
        max_connections: int = 100,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        if not token:
            raise ValueError("a personal access token is required")
        if not organization_id:
            raise ValueError("an organization id is required")
        self._token = token
        org = quote(organization_id, safe="")
        self._chat_path = f"/oapi/v1/lingma/organizations/{org}/model/chat"
        self._kb_path = f"/oapi/v1/lingma/organizations/{org}/knowledgeBases"
        self._stream_idle_timeout = stream_idle_timeout
        # For streams the read timeout is the idle timeout: it bounds the gap between chunks.
        self._stream_timeout = httpx.Timeout(
            connect=connect_timeout, read=stream_idle_timeout, write=10.0, pool=5.0
        )
        self._http = httpx.AsyncClient(
            base_url=(base_url or DEFAULT_BASE_URL).rstrip("/"),
            headers={TOKEN_HEADER: token, "Content-Type": "application/json"},
            timeout=httpx.Timeout(connect=connect_timeout, read=read_timeout, write=10.0, pool=5.0),
            transport=transport,
            # Every answer being streamed holds a connection for its whole length.
            limits=pooled_limits(max_connections),
        )

    def __repr__(self) -> str:
        return f"LingmaClient(base_url={str(self._http.base_url)!r})"

    # --- chat -------------------------------------------------------------------------------

    async def chat(self, request: LingmaChatRequest) -> LingmaChatResult:
        """The whole answer in one response (stream=false)."""
        response = await self._send(
            "POST", self._chat_path, params=request.query_params(False), json=request.body()
        )
        body = self._json_object(response)
        if body.get("errorCode"):
            raise self._response_error(response, body, kind="http")
        payload = self._payload(body, request_id=_header_request_id(response))
        return LingmaChatResult(
            request_id=payload.request_id or _header_request_id(response) or "",
            text=payload.output.text or "",
            finish_reason=payload.output.finish_reason,
            usage=payload.usage,
        )

    async def chat_stream(self, request: LingmaChatRequest) -> AsyncIterator[LingmaChatEvent]:
        """Stream the answer as `LingmaChatEvent`s, each with only the new text.

        Iterating raises `LingmaError` with kind "http" (refused before the stream started),
        "stream" (an error event), "malformed" (an event that is broken JSON), "timeout" (no
        bytes for `stream_idle_timeout` seconds), "cut" (the connection broke) or "network".
        The text already yielded stays valid: callers keep the partial answer. Close the
        iterator (`contextlib.aclosing`) when breaking out early to drop the connection at once.
        """
        started = time.monotonic()
        status: int | None = None
        request_id: str | None = None
        failed = False
        try:
            async with self._http.stream(
                "POST",
                self._chat_path,
                params=request.query_params(True),
                json=request.body(),
                headers={"Accept": "text/event-stream"},
                timeout=self._stream_timeout,
            ) as response:
                status = response.status_code
                request_id = _header_request_id(response)
                if not _is_event_stream(response):
                    yield await self._single_answer(response)
                    return
                answer = _AnswerText()
                chunks = idle_guarded(response.aiter_bytes(), self._stream_idle_timeout)
                async for sse in aiter_sse(chunks):
                    try:
                        event = self._stream_event(sse, answer, request_id)
                    except _Finished:
                        return
                    if event is None:
                        continue
                    request_id = event.request_id or request_id
                    yield event
                    if event.finish_reason is not None:
                        return
                if not answer.events:
                    raise self._error(
                        "The Lingma stream ended before any answer", kind="cut", status=status
                    )
        except (httpx.HTTPError, TimeoutError) as exc:
            failed = True
            error = self._transport_error(exc, started_streaming=status is not None)
            error.request_id = request_id
            raise error from None
        except LingmaError as exc:
            failed = True
            exc.request_id = exc.request_id or request_id
            raise
        finally:
            _log("POST", self._chat_path, status, request_id, started, failed=failed)

    async def _single_answer(self, response: httpx.Response) -> LingmaChatEvent:
        """A stream request answered with one JSON body: an error, or (tolerated) the answer."""
        await response.aread()
        body = _parse_json(response)
        if not response.is_success or (isinstance(body, dict) and body.get("errorCode")):
            raise self._response_error(response, body, kind="http")
        if not isinstance(body, dict):
            raise self._malformed_body(response)
        payload = self._payload(body, request_id=_header_request_id(response))
        return LingmaChatEvent(
            request_id=payload.request_id or _header_request_id(response) or "",
            text=payload.output.text or "",
            finish_reason=payload.output.finish_reason or "stop",
            usage=payload.usage,
        )

    def _stream_event(
        self, sse: SSEEvent, answer: _AnswerText, request_id: str | None
    ) -> LingmaChatEvent | None:
        """The event's new text, None for an event to skip; raises `_Finished` at an end marker."""
        data = sse.data.strip()
        ends = sse.event.lower() in END_EVENTS
        try:
            value = json.loads(data)
        except ValueError:
            if data.startswith("{"):
                raise self._error(
                    f"Lingma sent an event that is not valid JSON: {_snippet(data)}",
                    kind="malformed",
                    request_id=request_id,
                ) from None
            # `[DONE]` and similar markers: an end, never text.
            raise _Finished from None
        if isinstance(value, dict) and value.get("errorCode"):
            raise self._stream_error(value, request_id)
        if not isinstance(value, dict) or "output" not in value:
            if ends:
                raise _Finished
            return None
        payload = self._payload(value, request_id=request_id)
        new_text = answer.delta(payload.output.text or "")
        reason = payload.output.finish_reason
        if ends and reason is None:
            reason = "stop"
        return LingmaChatEvent(
            request_id=payload.request_id or request_id or "",
            text=new_text,
            finish_reason=reason,
            usage=payload.usage,
        )

    # --- knowledge bases --------------------------------------------------------------------

    async def list_knowledge_bases(
        self,
        *,
        query: str | None = None,
        scene_type: str | None = None,
        page: int = 1,
        per_page: int = 100,
    ) -> KnowledgeBasePage:
        """One page of the organisation's knowledge bases (name search with `query`)."""
        params: dict[str, Any] = {"page": page, "perPage": per_page}
        if query:
            params["query"] = query
        if scene_type:
            params["sceneType"] = scene_type
        response = await self._send("GET", self._kb_path, params=params)
        body = _parse_json(response)
        if isinstance(body, dict):
            if body.get("errorCode"):
                raise self._response_error(response, body, kind="http")
            body = body.get("items", body.get("data", body.get("result")))
        if not isinstance(body, list):
            raise self._malformed_body(response)
        try:
            items = [KnowledgeBase.model_validate(item) for item in body]
        except ValidationError as exc:
            raise self._error(
                f"Lingma sent a knowledge base this client cannot read: {_first_problem(exc)}",
                kind="malformed",
                status=response.status_code,
            ) from None
        total = _int_or_none(response.headers.get("x-total"))
        return KnowledgeBasePage(items=items, total=len(items) if total is None else total)

    # --- transport --------------------------------------------------------------------------

    async def _send(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """A non-streamed call; raises `LingmaError` for a transport failure or a non-2xx."""
        started = time.monotonic()
        try:
            response = await self._http.request(
                method, path, headers={"Accept": "application/json"}, **kwargs
            )
        except httpx.HTTPError as exc:
            _log(method, path, None, None, started, failed=True)
            raise self._transport_error(exc, started_streaming=False) from None
        request_id = _header_request_id(response)
        if not response.is_success:
            error = self._response_error(response, _parse_json(response), kind="http")
            _log(method, path, response.status_code, error.request_id, started, failed=True)
            raise error
        _log(method, path, response.status_code, request_id, started)
        return response

    def _json_object(self, response: httpx.Response) -> dict[str, Any]:
        body = _parse_json(response)
        if not isinstance(body, dict):
            raise self._malformed_body(response)
        return body

    def _payload(self, value: dict[str, Any], *, request_id: str | None) -> ChatPayload:
        try:
            return ChatPayload.model_validate(value)
        except ValidationError as exc:
            raise self._error(
                f"Lingma sent an answer this client cannot read: {_first_problem(exc)}",
                kind="malformed",
                request_id=request_id,
            ) from None

    # --- errors -----------------------------------------------------------------------------

    def _redact(self, text: str) -> str:
        return text.replace(self._token, "[redacted]")

    def _error(self, message: str, *, kind: ErrorKind, **fields: Any) -> LingmaError:
        clean = {k: self._redact(v) if isinstance(v, str) else v for k, v in fields.items()}
        return LingmaError(self._redact(message), kind=kind, **clean)

    def _malformed_body(self, response: httpx.Response) -> LingmaError:
        return self._error(
            f"Lingma sent a body that is not the expected JSON: {_snippet(response.text)}",
            kind="malformed",
            status=response.status_code,
            request_id=_header_request_id(response),
        )

    def _transport_error(
        self, exc: httpx.HTTPError | TimeoutError, *, started_streaming: bool
    ) -> LingmaError:
        message, kind = transport_failure(
            exc,
            upstream="Lingma",
            streaming=started_streaming,
            idle_seconds=self._stream_idle_timeout,
        )
        return self._error(message, kind=kind)

    def _response_error(
        self, response: httpx.Response, body: Any, *, kind: ErrorKind
    ) -> LingmaError:
        envelope = body if isinstance(body, dict) else {}
        status = response.status_code
        if response.is_success:
            status = _int_or_none(envelope.get("httpStatus")) or _CODE_STATUS.get(
                str(envelope.get("errorCode")), status
            )
        detail = _detail(envelope) or ("" if envelope else _snippet(response.text))
        fallback = "Lingma server error" if status >= 500 else "Lingma request failed"
        message = f"{_STATUS_TEXT.get(status, fallback)} (HTTP {status})"
        retry_after = parse_retry_after(response.headers.get("retry-after"))
        if retry_after is None and status == 429:
            retry_after = DEFAULT_RETRY_AFTER_SECONDS
        return self._error(
            f"{message}: {detail}" if detail else message,
            kind=kind,
            status=status,
            code=_str_or_none(envelope.get("errorCode")),
            request_id=_str_or_none(envelope.get("requestId")) or _header_request_id(response),
            retry_after=retry_after,
        )

    def _stream_error(self, payload: dict[str, Any], request_id: str | None) -> LingmaError:
        code = str(payload["errorCode"])
        status = _int_or_none(payload.get("httpStatus")) or _CODE_STATUS.get(code)
        detail = _detail(payload)
        message = "Lingma reported an error during the answer"
        return self._error(
            f"{message}: {detail}" if detail else message,
            kind="stream",
            status=status,
            code=code,
            request_id=_str_or_none(payload.get("requestId")) or request_id,
            retry_after=DEFAULT_RETRY_AFTER_SECONDS if status == 429 else None,
        )


def _detail(envelope: dict[str, Any]) -> str:
    # The order Alibaba's own Yunxiao client reads them in.
    for key in ("errorMessage", "errorDescription", "message"):
        value = envelope.get(key)
        if isinstance(value, str) and value:
            return value
    return ""


def _parse_json(response: httpx.Response) -> Any:
    """The decoded body, or None when it is empty or not JSON."""
    try:
        return json.loads(response.content) if response.content else None
    except ValueError:
        return None


def _is_event_stream(response: httpx.Response) -> bool:
    media_type = response.headers.get("content-type", "").split(";")[0]
    return response.is_success and media_type.strip().lower() == "text/event-stream"


def _header_request_id(response: httpx.Response) -> str | None:
    for name in _REQUEST_ID_HEADERS:
        if response.headers.get(name):
            return response.headers[name]
    return None


def _first_problem(exc: ValidationError) -> str:
    problem = exc.errors()[0]
    where = ".".join(str(part) for part in problem["loc"]) or "body"
    return f"{where}: {problem['msg']}"


def _snippet(text: str) -> str:
    return " ".join(text.split())[:_SNIPPET_CHARS]


def _int_or_none(value: Any) -> int | None:
    try:
        return None if value is None or isinstance(value, bool) else int(value)
    except (TypeError, ValueError):
        return None


def _str_or_none(value: Any) -> str | None:
    return None if value is None or value == "" else str(value)


_log = functools.partial(log_call, logger)

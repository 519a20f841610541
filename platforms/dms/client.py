"""Async client of DMS `ChatWithDesensitizeSSE` (DMS_LINGMA_API.md Part 1).

One `DmsClient` holds one pooled `httpx.AsyncClient`; keep one per process and `aclose()` it on
shutdown. Every request is V3-signed (signing.py). Every failure is a `DmsError`. Chat is never
retried here: only the caller knows whether a second reply is acceptable.
"""

from __future__ import annotations

import json
import logging
import secrets
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import httpx

from platforms.http_common import (
    PooledClient,
    idle_guarded,
    parse_retry_after,
    pooled_limits,
    transport_failure,
)
from platforms.xingchen.sse import aiter_sse

from . import signing
from .errors import DmsError, ErrorKind
from .types import DmsChatEvent, DmsChatRequest, DmsInstancePage

logger = logging.getLogger("platforms.dms")

ACTION = "ChatWithDesensitizeSSE"
LIST_INSTANCES = "ListInstances"
API_VERSION = "2018-11-01"
FORM_CONTENT_TYPE = "application/x-www-form-urlencoded"
_SNIPPET_CHARS = 200
_REQUEST_ID_HEADERS = ("x-acs-request-id", "x-request-id")


def endpoint_for_region(region: str) -> str:
    """The public endpoint of DMS in `region`, e.g. "cn-hangzhou"."""
    return f"https://dms-enterprise.{region.strip()}.aliyuncs.com"


def _host_header(url: httpx.URL) -> str:
    default_port = {"http": 80, "https": 443}.get(url.scheme)
    if url.port is None or url.port == default_port:
        return url.host
    return f"{url.host}:{url.port}"


def _is_event_stream(response: httpx.Response) -> bool:
    media_type = response.headers.get("content-type", "").split(";")[0]
    return media_type.strip().lower() == "text/event-stream"


def _snippet(text: str) -> str:
    return " ".join(text.split())[:_SNIPPET_CHARS]


class DmsClient(PooledClient):
    """ChatWithDesensitizeSSE on one endpoint with one access key. Safe to share between tasks
    of one event loop; never logs or repeats the secret."""

    def __init__(
        self,
        *,
        endpoint: str,
        access_key_id: str,
        access_key_secret: str,
        connect_timeout: float = 5,
        read_timeout: float = 60,
        stream_idle_timeout: float = 30,
        max_connections: int = 100,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        if not access_key_id or not access_key_secret:
            raise ValueError("an access key id and secret are required")
        self._endpoint = httpx.URL(endpoint.rstrip("/") + "/")
        self._host = _host_header(self._endpoint)
        self._access_key_id = access_key_id
        self._access_key_secret = access_key_secret
        self._stream_idle_timeout = stream_idle_timeout
        # The read timeout bounds the wait for the response head (the model may think a while
        # before the first byte); once streaming, the idle guard bounds the gap between chunks.
        self._http = httpx.AsyncClient(
            timeout=httpx.Timeout(read_timeout, connect=connect_timeout),
            transport=transport,
            limits=pooled_limits(max_connections),
        )

    def __repr__(self) -> str:
        return f"DmsClient(endpoint={str(self._endpoint)!r}, access_key_id={self._access_key_id!r})"

    async def chat_stream(self, request: DmsChatRequest) -> AsyncIterator[DmsChatEvent]:
        """Stream a reply as `DmsChatEvent`s until the server closes the stream.

        Iterating raises `DmsError` with kind "http" (refused before the stream started),
        "stream" (a `Success:false` event), "malformed" (an event that is not JSON), "cut" (the
        connection broke mid-stream), "timeout" (no answer in `read_timeout`, or nothing for
        `stream_idle_timeout` seconds mid-stream) or "network". Events already yielded stay
        valid: callers keep the partial reply. Close the iterator (`aclose()`, or
        `contextlib.aclosing`) to drop the connection at once, which stops the generation.
        """
        query = request.query_params()
        body = request.form_body()
        started = time.monotonic()
        status: int | None = None
        request_id = ""
        failed = False
        try:
            async with self._http.stream(
                "POST",
                # The canonical form doubles as the query sent: RFC 3986, no `+` ambiguity.
                self._endpoint.copy_with(query=signing.canonical_query(query).encode()),
                content=body,
                headers=self._signed_headers(query, body),
            ) as response:
                status = response.status_code
                request_id = response.headers.get("x-acs-request-id", "")
                await self._check_stream_start(response)
                chunks = idle_guarded(response.aiter_bytes(), self._stream_idle_timeout)
                async for sse in aiter_sse(chunks):
                    event = DmsChatEvent.from_sse_data(sse.data)
                    request_id = request_id or event.request_id
                    yield event
        except (httpx.HTTPError, TimeoutError) as exc:
            failed = True
            raise self._transport_error(
                exc, streaming=status is not None, request_id=request_id
            ) from None
        except DmsError as exc:
            failed = True
            exc.request_id = exc.request_id or request_id
            raise
        finally:
            _log(status, request_id, started, failed=failed)

    async def list_instances(
        self, *, search_key: str | None = None, page_number: int = 1, page_size: int = 20
    ) -> DmsInstancePage:
        """`ListInstances`: the DMS instances this key sees (the chat's `InstanceId` is one)."""
        query = {"PageNumber": str(page_number), "PageSize": str(page_size)}
        if search_key:
            query["SearchKey"] = search_key
        started = time.monotonic()
        status: int | None = None
        try:
            response = await self._http.post(
                self._endpoint.copy_with(query=signing.canonical_query(query).encode()),
                headers=self._signed_headers(query, b"", action=LIST_INSTANCES),
            )
            status = response.status_code
            try:
                body = response.json()
            except ValueError:
                body = None
            if not response.is_success or not isinstance(body, dict):
                raise self._response_error(response, body if isinstance(body, dict) else {})
            if body.get("Success") is False:
                raise self._error(
                    f"DMS refused ListInstances: {body.get('ErrorMessage') or 'no reason given'}",
                    kind="http",
                    code=str(body.get("ErrorCode") or ""),
                    status=status,
                    request_id=str(body.get("RequestId") or ""),
                )
            return DmsInstancePage.model_validate(body)
        except (httpx.HTTPError, TimeoutError) as exc:
            raise self._transport_error(exc, streaming=False, request_id="") from None
        finally:
            _log(status, "", started, failed=status != 200, action=LIST_INSTANCES)

    # --- signing ------------------------------------------------------------------------------

    def _signed_headers(
        self, query: dict[str, str], body: bytes, *, action: str = ACTION
    ) -> dict[str, str]:
        headers = {
            "host": self._host,
            "x-acs-action": action,
            "x-acs-version": API_VERSION,
            "x-acs-date": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "x-acs-signature-nonce": secrets.token_hex(16),
            "x-acs-content-sha256": signing.content_sha256(body),
            "accept": "text/event-stream" if action == ACTION else "application/json",
        }
        if body:
            headers["content-type"] = FORM_CONTENT_TYPE
        headers["authorization"] = signing.authorization(
            method="POST",
            path="/",
            query=query,
            headers=headers,
            access_key_id=self._access_key_id,
            access_key_secret=self._access_key_secret,
        )
        return headers

    # --- errors -------------------------------------------------------------------------------

    def _redact(self, text: str) -> str:
        return text.replace(self._access_key_secret, "[redacted]")

    def _error(self, message: str, *, kind: ErrorKind, **fields: Any) -> DmsError:
        clean = {k: self._redact(v) if isinstance(v, str) else v for k, v in fields.items()}
        return DmsError(self._redact(message), kind=kind, **clean)

    async def _check_stream_start(self, response: httpx.Response) -> None:
        if response.is_success and _is_event_stream(response):
            return
        await response.aread()
        try:
            body = json.loads(response.content) if response.content else None
        except ValueError:
            body = None
        raise self._response_error(response, body if isinstance(body, dict) else {})

    def _response_error(self, response: httpx.Response, body: dict[str, Any]) -> DmsError:
        status = response.status_code
        code = str(body.get("Code") or body.get("code") or "")
        detail = body.get("Message") or body.get("message") or _snippet(response.text)
        if response.is_success:
            summary = "DMS answered without an event stream"
        elif status >= 500:
            summary = f"DMS server error (HTTP {status})"
        else:
            summary = f"DMS refused the request (HTTP {status})"
        request_id = body.get("RequestId") or body.get("requestId") or ""
        for name in _REQUEST_ID_HEADERS:
            request_id = request_id or response.headers.get(name, "")
        retry_after = response.headers.get("x-acs-retry-after") or response.headers.get(
            "retry-after"
        )
        return self._error(
            f"{summary}: {detail}" if detail else summary,
            kind="http",
            code=code,
            status=status,
            request_id=str(request_id),
            retry_after=parse_retry_after(retry_after),
        )

    def _transport_error(
        self, exc: httpx.HTTPError | TimeoutError, *, streaming: bool, request_id: str
    ) -> DmsError:
        message, kind = transport_failure(
            exc, upstream="DMS", streaming=streaming, idle_seconds=self._stream_idle_timeout
        )
        return self._error(message, kind=kind, request_id="" if kind == "network" else request_id)


def _log(
    status: int | None, request_id: str, started: float, *, failed: bool, action: str = ACTION
) -> None:
    logger.log(
        logging.WARNING if failed else logging.INFO,
        "POST %s status=%s request_id=%s duration_ms=%.0f",
        action,
        status,
        request_id,
        (time.monotonic() - started) * 1000,
    )

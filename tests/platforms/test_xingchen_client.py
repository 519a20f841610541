"""The Xingchen client: narrow transport tests on `httpx.MockTransport`, then contract tests
against the simulator over real HTTP (the `sim` fixture)."""

from __future__ import annotations

import asyncio
import dataclasses
import http.server
import io
import json
import logging
import threading
import time
import uuid
from collections.abc import Callable
from contextlib import aclosing
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import openpyxl
import pytest

from platforms.xingchen import XingchenClient, XingchenError
from platforms.xingchen.client import backoff_delay, parse_retry_after
from platforms.xingchen.types import (
    AdvancedConfig,
    AutoDescRequest,
    CharacterInput,
    ChatRequest,
    CompletionRequest,
    GroupChatRequest,
    GroupMember,
    HistoryQuery,
    KbFileInfo,
    KvMemoryConfig,
    Message,
    PlatformPlugin,
)

KEY = "sk-test-4f1c9e0b7a2d"
Handler = Callable[[httpx.Request], httpx.Response]


def mock_client(handler: Handler, **options: Any) -> XingchenClient:
    options = {"backoff_base": 0.001, "backoff_cap": 0.002, "retry_after_cap": 0.01} | options
    return XingchenClient(
        base_url="https://xingchen.test/",
        api_key=KEY,
        transport=httpx.MockTransport(handler),
        **options,
    )


def envelope(data: Any, request_id: str = "req-1") -> dict[str, Any]:
    return {"requestId": request_id, "code": 200, "success": True, "data": data}


def error_envelope(status: int, message: str = "boom") -> dict[str, Any]:
    return {
        "requestId": "req-err",
        "success": None,
        "errorCode": status,
        "errorName": "SomeError",
        "errorMessage": message,
        "httpStatusCode": status,
    }


def chunk(content: str, stop: str | None = "null", request_id: str | None = "req-s") -> dict:
    payload: dict[str, Any] = {
        "choices": [{"stopReason": stop, "messages": [{"role": "assistant", "content": content}]}],
        "context": {"requestId": "ctx-id", "answerId": "a1"},
    }
    if request_id is not None:
        payload["requestId"] = request_id
    return payload


def sse(*payloads: dict | str, event: str = "result") -> bytes:
    frames = []
    for payload in payloads:
        data = payload if isinstance(payload, str) else json.dumps(payload)
        frames.append(f"event:{event}\ndata:{data}\n\n")
    return "".join(frames).encode()


class Body(httpx.AsyncByteStream):
    """A streamed response body that records being closed and can hang after its chunks."""

    def __init__(self, *chunks: bytes, hang: bool = False) -> None:
        self.chunks, self.hang, self.closed = chunks, hang, False

    async def __aiter__(self):
        for part in self.chunks:
            yield part
        if self.hang:
            await asyncio.Event().wait()

    async def aclose(self) -> None:
        self.closed = True


def stream_response(body: Body | bytes) -> httpx.Response:
    stream = body if isinstance(body, Body) else Body(body)
    headers = {"content-type": "text/event-stream;charset=UTF-8"}
    return httpx.Response(200, headers=headers, stream=stream)


async def collect(events) -> list:
    return [event async for event in events]


async def collect_until_error(events) -> tuple[list, XingchenError]:
    seen = []
    with pytest.raises(XingchenError) as caught:
        async for event in events:
            seen.append(event)
    return seen, caught.value


def request(**fields: Any) -> ChatRequest:
    return ChatRequest(**({"character_id": "c1", "user_id": "u1"} | fields))


# --- transport: headers, retries, error mapping ---------------------------------------------


async def test_every_call_carries_the_gateway_headers_and_camel_case_body():
    seen: list[httpx.Request] = []

    def handler(req: httpx.Request) -> httpx.Response:
        seen.append(req)
        return httpx.Response(200, json=envelope(True))

    async with mock_client(handler) as client:
        await client.chat_reset(character_id="c1", user_id="u1")
    req = seen[0]
    assert req.url == "https://xingchen.test/v2/api/chat/reset"
    assert req.headers["authorization"] == f"Bearer {KEY}"
    assert req.headers["x-fag-appcode"] == "aca"
    assert req.headers["x-fag-servicename"] == "aca-chat-reset"
    assert req.headers["content-type"] == "application/json"
    assert "x-aca-sse" not in req.headers
    assert json.loads(req.content) == {"characterId": "c1", "userId": "u1"}


async def test_a_history_query_sends_the_user_under_both_names_and_times_as_epoch_millis():
    seen: list[httpx.Request] = []
    record = {"messageId": "m1", "content": "Hi", "userId": "u1", "bizUserId": "u1"}

    def handler(req: httpx.Request) -> httpx.Response:
        seen.append(req)
        return httpx.Response(200, json=envelope({"list": [record], "page": 1, "total": 1}))

    query = HistoryQuery(
        character_id="c1",
        biz_user_id="u1",
        start_time=datetime(2024, 1, 1, tzinfo=UTC),
        end_time=datetime(2024, 1, 1, 0, 0, 1, tzinfo=UTC),
        order_by=["gmtCreate asc"],
    )
    async with mock_client(handler) as client:
        page = await client.message_histories(query)
    assert seen[0].headers["x-fag-servicename"] == "aca-message-history"
    assert json.loads(seen[0].content) == {
        "where": {
            "characterId": "c1",
            "userId": "u1",
            "bizUserId": "u1",
            "startTime": 1704067200000,
            "endTime": 1704067201000,
        },
        "pageNum": 1,
        "pageSize": 50,
        "orderBy": ["gmtCreate asc"],
    }
    assert [m.user_id for m in page.items] == ["u1"]


async def test_streaming_sends_both_sse_switches_and_the_event_stream_accept():
    seen: list[httpx.Request] = []

    def handler(req: httpx.Request) -> httpx.Response:
        seen.append(req)
        return stream_response(sse(chunk("Hi", "stop")))

    async with mock_client(handler) as client:
        await collect(client.chat_stream(request()))
    headers = seen[0].headers
    assert headers["x-fag-servicename"] == "aca-chat-send-sse"
    assert headers["x-aca-sse"] == "enable" and headers["x-dashscope-sse"] == "enable"
    assert headers["accept"] == "text/event-stream;charset=UTF-8"


async def test_a_read_is_retried_after_503_and_then_succeeds():
    calls = []

    def handler(req: httpx.Request) -> httpx.Response:
        calls.append(req)
        if len(calls) < 3:
            return httpx.Response(503, json=error_envelope(503))
        return httpx.Response(200, json=envelope({"characterId": "c1", "name": "Bo"}))

    async with mock_client(handler) as client:
        character = await client.character_details(character_id="c1")
    assert character.name == "Bo" and len(calls) == 3


async def test_a_read_gives_up_after_max_retries_and_reports_retry_after():
    calls = []

    def handler(req: httpx.Request) -> httpx.Response:
        calls.append(req)
        return httpx.Response(429, headers={"Retry-After": "7"}, json=error_envelope(429))

    async with mock_client(handler, max_retries=2) as client:
        with pytest.raises(XingchenError) as caught:
            await client.kb_search(user_id="u1")
    assert len(calls) == 3
    error = caught.value
    assert (error.kind, error.status, error.retryable, error.retry_after) == ("http", 429, True, 7)


async def test_network_errors_and_timeouts_on_reads_are_retried():
    failures = [httpx.ConnectError("refused"), httpx.ReadTimeout("slow")]

    def handler(req: httpx.Request) -> httpx.Response:
        if failures:
            raise failures.pop(0)
        return httpx.Response(200, json=envelope({"list": [], "page": 1, "total": 0}))

    async with mock_client(handler) as client:
        page = await client.character_search()
    assert page.items == [] and not failures


@pytest.mark.parametrize(
    ("call", "servicename"),
    [
        (lambda c: c.chat_send(request()), "aca-chat-send"),
        (lambda c: c.character_create(CharacterInput("Bo", "A cat.")), "aca-character-create"),
        (lambda c: c.message_rate(message_id="m1", rating=5), "aca-message-rating"),
        (lambda c: c.chat_stop(request_id="r1", content="Hel"), "aca-chat-stop"),
        (
            lambda c: c.completions(CompletionRequest("m", [Message("user", "hi")], "u1")),
            "aca-completion",
        ),
    ],
)
async def test_writes_and_generations_are_never_retried(call, servicename):
    calls = []

    def handler(req: httpx.Request) -> httpx.Response:
        calls.append(req.headers["x-fag-servicename"])
        return httpx.Response(503, json=error_envelope(503))

    async with mock_client(handler) as client:
        with pytest.raises(XingchenError) as caught:
            await call(client)
    assert calls == [servicename]
    assert caught.value.retryable is True


async def test_a_write_network_error_is_raised_once_as_retryable_network_error():
    calls = []

    def handler(req: httpx.Request) -> httpx.Response:
        calls.append(req)
        raise httpx.ConnectError("connection refused")

    async with mock_client(handler) as client:
        with pytest.raises(XingchenError) as caught:
            await client.chat_reset(character_id="c1", user_id="u1")
    assert len(calls) == 1
    assert (caught.value.kind, caught.value.retryable, caught.value.status) == (
        "network",
        True,
        None,
    )


async def test_a_timeout_is_kind_timeout():
    def handler(req: httpx.Request) -> httpx.Response:
        raise httpx.WriteTimeout("slow")

    async with mock_client(handler) as client:
        with pytest.raises(XingchenError) as caught:
            await client.chat_reset(character_id="c1", user_id="u1")
    assert caught.value.kind == "timeout" and caught.value.retryable


async def test_a_client_error_read_is_not_retried():
    calls = []

    def handler(req: httpx.Request) -> httpx.Response:
        calls.append(req)
        return httpx.Response(404, json=error_envelope(404, "character not found"))

    async with mock_client(handler) as client:
        with pytest.raises(XingchenError) as caught:
            await client.character_details(character_id="nope")
    assert len(calls) == 1
    error = caught.value
    assert (error.kind, error.status, error.retryable) == ("http", 404, False)
    assert error.error_code == "404" and error.error_name == "SomeError"
    assert error.request_id == "req-err" and "character not found" in str(error)


@pytest.mark.parametrize(
    "body",
    [
        {"requestId": "r", "success": False, "errorMessage": "bad"},
        {"requestId": "r", "success": None, "errorCode": "InvalidParameter", "errorMessage": "x"},
        {"requestId": "r", "success": True, "errorCode": 400, "httpStatusCode": 400},
        {"requestId": "r", "code": 200, "data": True},
    ],
)
async def test_a_2xx_without_success_true_or_with_error_code_is_an_api_error(body):
    async with mock_client(lambda req: httpx.Response(200, json=body)) as client:
        with pytest.raises(XingchenError) as caught:
            await client.chat_reset(character_id="c1", user_id="u1")
    assert caught.value.kind == "api" and caught.value.request_id == "r"


async def test_an_api_error_takes_its_status_from_http_status_code():
    body = error_envelope(500)
    async with mock_client(lambda req: httpx.Response(200, json=body)) as client:
        with pytest.raises(XingchenError) as caught:
            await client.chat_reset(character_id="c1", user_id="u1")
    assert (caught.value.kind, caught.value.status, caught.value.retryable) == ("api", 500, True)


async def test_a_non_json_error_body_still_gives_a_clear_error():
    def handler(req: httpx.Request) -> httpx.Response:
        return httpx.Response(502, text="<html><body>Bad   Gateway</body></html>")

    async with mock_client(handler, max_retries=0) as client:
        with pytest.raises(XingchenError) as caught:
            await client.character_details(character_id="c1")
    error = caught.value
    assert (error.kind, error.status, error.retryable) == ("http", 502, True)
    assert "HTTP 502" in error.message and "Bad Gateway" in error.message


async def test_a_non_json_success_body_is_malformed():
    async with mock_client(lambda req: httpx.Response(200, text="OK")) as client:
        with pytest.raises(XingchenError) as caught:
            await client.chat_reset(character_id="c1", user_id="u1")
    assert caught.value.kind == "malformed" and not caught.value.retryable


def test_backoff_honours_retry_after_up_to_its_cap_and_jitters_otherwise():
    limits = {"base": 0.5, "cap": 8.0, "retry_after_cap": 30.0}
    assert backoff_delay(0, retry_after=2.0, **limits) == 2.0
    assert backoff_delay(0, retry_after=600.0, **limits) == 30.0
    for attempt, step in [(0, 0.5), (1, 1.0), (2, 2.0), (6, 8.0)]:
        delays = {backoff_delay(attempt, retry_after=None, **limits) for _ in range(20)}
        assert all(step / 2 <= d <= step for d in delays) and len(delays) > 1


def test_retry_after_is_read_as_seconds_or_an_http_date():
    assert parse_retry_after("3") == 3.0
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0
    assert parse_retry_after("soon") is None and parse_retry_after(None) is None


async def test_the_api_key_never_appears_in_errors_reprs_or_logs(caplog):
    caplog.set_level(logging.DEBUG)
    echo = f"Unauthorized user! apikey {KEY} is invalid."
    responses = [
        lambda req: httpx.Response(401, json=error_envelope(401, echo)),
        lambda req: httpx.Response(500, text=f"upstream said {KEY}"),
        lambda req: httpx.Response(200, json={"success": False, "errorName": KEY}),
    ]
    errors = []
    for respond in responses:
        async with mock_client(respond, max_retries=0) as client:
            with pytest.raises(XingchenError) as caught:
                await client.character_details(character_id="c1")
            errors.append(caught.value)

    def refuse(req: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError(f"cannot connect with {req.headers['authorization']}")

    async with mock_client(refuse) as client:
        with pytest.raises(XingchenError) as caught:
            await client.chat_reset(character_id="c1", user_id="u1")
        errors.append(caught.value)
        assert KEY not in repr(client)

    stream_error = sse(error_envelope(500, echo), event="error")
    async with mock_client(lambda req: stream_response(stream_error)) as client:
        _, error = await collect_until_error(client.chat_stream(request()))
        errors.append(error)

    assert errors[0].status == 401 and not errors[0].retryable
    assert "rejected the API key" in errors[0].message
    for error in errors:
        assert KEY not in str(error) and KEY not in repr(error)
        assert KEY not in str(error.error_name) and KEY not in error.message
    assert caplog.records and KEY not in caplog.text


async def test_each_call_is_logged_with_method_path_status_request_id_and_duration(caplog):
    caplog.set_level(logging.INFO, logger="platforms.xingchen")
    async with mock_client(lambda req: httpx.Response(200, json=envelope(True, "r-42"))) as client:
        await client.chat_reset(character_id="secret-character", user_id="u1")
    (record,) = [r for r in caplog.records if r.name == "platforms.xingchen"]
    message = record.getMessage()
    assert message.startswith("POST /v2/api/chat/reset status=200 request_id=r-42 duration_ms=")
    assert "secret-character" not in message


def test_errors_survive_pickling():
    import pickle

    error = XingchenError("slow down", kind="http", status=429, retry_after=3.0)
    again = pickle.loads(pickle.dumps(error))
    assert (again.kind, again.status, again.retry_after, again.retryable) == (
        "http",
        429,
        3.0,
        True,
    )


# --- transport: streaming -------------------------------------------------------------------


async def test_incremental_and_cumulative_streams_give_the_same_deltas_and_text():
    incremental = sse(chunk("Hel"), chunk("lo, "), chunk("world"), chunk("", "stop"))
    cumulative = sse(chunk("Hel"), chunk("Hello, "), chunk("Hello, world"), chunk("", "stop"))
    results = []
    for body, mode in [(incremental, True), (cumulative, False)]:
        async with mock_client(lambda req, body=body: stream_response(body)) as client:
            events = await collect(client.chat_stream(request(incremental_output=mode)))
        results.append([(e.delta, e.text, e.finished) for e in events])
    assert results[0] == results[1]
    assert results[0][-2:] == [("world", "Hello, world", False), ("", "Hello, world", True)]


async def test_a_cumulative_event_that_rewrites_the_text_replaces_it():
    body = sse(chunk("Hello wor"), chunk("Hi there", "stop"))
    async with mock_client(lambda req: stream_response(body)) as client:
        events = await collect(client.chat_stream(request(incremental_output=False)))
    last = events[-1]
    assert (last.delta, last.text, last.replaced, last.finished) == (
        "Hi there",
        "Hi there",
        True,
        True,
    )


async def test_the_request_id_comes_from_the_first_event():
    body = sse(chunk("a", request_id="first"), chunk("b", "stop", request_id="second"))
    async with mock_client(lambda req: stream_response(body)) as client:
        events = await collect(client.chat_stream(request()))
    assert [e.request_id for e in events] == ["first", "first"]
    assert events[-1].context.answer_id == "a1"

    body = sse(chunk("a", request_id=None), chunk("b", "stop", request_id=None))
    async with mock_client(lambda req: stream_response(body)) as client:
        events = await collect(client.chat_stream(request()))
    assert events[0].request_id == "ctx-id"


async def test_stop_reason_null_is_unfinished_and_any_other_value_finishes():
    body = sse(chunk("a", None), chunk("b", "null"), chunk("c", "length"), chunk("never"))
    async with mock_client(lambda req: stream_response(body)) as client:
        events = await collect(client.chat_stream(request()))
    assert [(e.finished, e.stop_reason) for e in events] == [
        (False, None),
        (False, None),
        (True, "length"),
    ]


async def test_an_error_event_mid_stream_raises_after_the_partial_deltas():
    body = sse(chunk("Hel"), chunk("lo")) + sse(error_envelope(503, "overloaded"), event="error")
    async with mock_client(lambda req: stream_response(body)) as client:
        events, error = await collect_until_error(client.chat_stream(request()))
    assert events[-1].text == "Hello"
    assert (error.kind, error.status, error.retryable, error.request_id) == (
        "stream",
        503,
        True,
        "req-s",
    )
    assert "overloaded" in error.message


async def test_a_data_event_carrying_an_error_code_is_a_stream_error():
    body = sse(chunk("Hel"), error_envelope(400, "bad input"))
    async with mock_client(lambda req: stream_response(body)) as client:
        _, error = await collect_until_error(client.chat_stream(request()))
    assert (error.kind, error.status, error.retryable) == ("stream", 400, False)


async def test_a_non_json_event_is_malformed_after_the_partial_deltas():
    body = sse(chunk("Hel"), "{not json", chunk("lo", "stop"))
    async with mock_client(lambda req: stream_response(body)) as client:
        events, error = await collect_until_error(client.chat_stream(request()))
    assert [e.text for e in events] == ["Hel"]
    assert error.kind == "malformed" and "{not json" in error.message


async def test_a_stream_that_ends_without_a_stop_reason_is_cut():
    body = sse(chunk("Hel"), chunk("lo"))
    async with mock_client(lambda req: stream_response(body)) as client:
        events, error = await collect_until_error(client.chat_stream(request()))
    assert events[-1].text == "Hello"
    assert (error.kind, error.retryable, error.request_id) == ("cut", True, "req-s")


async def test_a_connection_that_breaks_mid_stream_is_cut():
    class Broken(Body):
        async def __aiter__(self):
            yield sse(chunk("Hel"))
            raise httpx.RemoteProtocolError("peer closed connection")

    async with mock_client(lambda req: stream_response(Broken())) as client:
        events, error = await collect_until_error(client.chat_stream(request()))
    assert len(events) == 1 and (error.kind, error.retryable) == ("cut", True)


async def test_a_silent_stream_times_out_after_the_idle_timeout():
    body = Body(sse(chunk("Hel")), hang=True)
    async with mock_client(lambda req: stream_response(body), stream_idle_timeout=0.05) as client:
        events, error = await collect_until_error(client.chat_stream(request()))
    assert [e.text for e in events] == ["Hel"]
    assert (error.kind, error.retryable) == ("timeout", True)
    assert body.closed


@pytest.mark.parametrize(
    "response",
    [
        httpx.Response(401, json=error_envelope(401, "Unauthorized user! apikey is invalid.")),
        httpx.Response(200, json=error_envelope(401, "Unauthorized user! apikey is invalid.")),
    ],
)
async def test_a_json_answer_instead_of_a_stream_is_an_http_error(response):
    async with mock_client(lambda req: response) as client:
        events, error = await collect_until_error(client.chat_stream(request()))
    assert events == []
    assert (error.kind, error.status, error.retryable) == ("http", 401, False)
    assert "apikey is invalid" in error.message


async def test_closing_the_stream_early_closes_the_response():
    body = Body(sse(chunk("Hel"), chunk("lo")), hang=True)
    async with mock_client(lambda req: stream_response(body)) as client:
        events = client.chat_stream(request())
        first = await anext(events)
        assert first.delta == "Hel" and not body.closed
        await events.aclose()
        assert body.closed


async def test_breaking_out_of_the_loop_closes_the_response():
    body = Body(sse(chunk("Hel"), chunk("lo")), hang=True)
    async with mock_client(lambda req: stream_response(body)) as client:
        async with aclosing(client.chat_stream(request())) as events:
            async for _ in events:
                break
        assert body.closed

        other = Body(sse(chunk("Hel")), hang=True)
        async with mock_client(lambda req: stream_response(other)) as second:
            async for _ in second.chat_stream(request()):
                break
            deadline = time.monotonic() + 5
            while not other.closed and time.monotonic() < deadline:
                await asyncio.sleep(0.01)
        assert other.closed


async def test_group_chat_streams_through_its_own_servicename():
    seen = []

    def handler(req: httpx.Request) -> httpx.Response:
        seen.append(req)
        return stream_response(sse(chunk("Hi", "stop")))

    group = GroupChatRequest(members=[GroupMember(character_id="c1")], user_id="u1", group_name="g")
    async with mock_client(handler) as client:
        events = await collect(client.group_chat_stream(group))
    assert events[-1].text == "Hi"
    assert seen[0].headers["x-fag-servicename"] == "aca-groupchat-send-sse"
    assert "prompt" not in json.loads(seen[0].content)["input"]


# --- contract: the client against the simulator over real HTTP ------------------------------


@pytest.fixture
async def client(sim):
    async with XingchenClient(
        base_url=sim.base_url,
        api_key=sim.api_key,
        backoff_base=0.01,
        backoff_cap=0.05,
        retry_after_cap=0.2,
    ) as client:
        yield client


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


async def new_character(client: XingchenClient, **fields: Any) -> str:
    character = CharacterInput(
        name=fields.pop("name", "Bo"),
        basic_information="A cheerful cat who runs a tea house and loves long stories.",
        opening_line="Meow, welcome in!",
        traits="Always polite.",
        **fields,
    )
    return await client.character_create(character)


def new_requests(sim, servicename: str, before: list[dict]) -> list[dict]:
    seen = {entry["requestId"] for entry in before}
    return [entry for entry in sim.requests(servicename) if entry["requestId"] not in seen]


def hello(character_id: str, user_id: str, **fields: Any) -> ChatRequest:
    messages = [Message("user", "Hello there, what tea do you recommend today?")]
    return ChatRequest(character_id=character_id, user_id=user_id, messages=messages, **fields)


async def test_sim_character_create_details_update_and_delete(sim, client):
    character_id = await new_character(client)
    details = await client.character_details(character_id=character_id)
    assert details.character_id == character_id and details.name == "Bo"
    assert details.basic_information.startswith("A cheerful cat")
    assert details.created_at is not None and details.created_at.tzinfo is not None

    changed = dataclasses.replace(details.to_input(), traits="Never rude.")
    assert await client.character_update(character_id=character_id, character=changed)
    assert (await client.character_details(character_id=character_id)).traits == "Never rude."

    before = sim.requests("aca-character-delete")
    version = details.version
    assert await client.character_delete(character_id=character_id, version=version)
    (sent,) = new_requests(sim, "aca-character-delete", before)
    assert (
        sent["query"]["characterId"] == character_id and sent["json"]["characterId"] == character_id
    )
    assert sent["query"].get("version") == (None if version is None else str(version))
    with pytest.raises(XingchenError) as caught:
        await client.character_details(character_id=character_id)
    assert caught.value.status == 404 and not caught.value.retryable


async def test_sim_character_search_versions_recommend_and_save_version(client):
    name = unique("Tea")[:20]
    character_id = await new_character(client, name=name)
    page = await client.character_search(scope="my", name=name, page_size=10)
    assert [c.character_id for c in page.items] == [character_id]
    assert page.total == 1 and page.page == 1

    current = await client.character_details(character_id=character_id)
    saved = await client.character_save_version(
        character_id=character_id,
        version=(current.version or 1) + 1,
        character=CharacterInput(name=name, basic_information="A calmer cat."),
    )
    assert saved.character_id == character_id and saved.version == (current.version or 1) + 1
    versions = await client.character_versions(character_id=character_id)
    assert {v.version for v in versions} >= {current.version, saved.version}
    recommended = await client.character_recommend_version(character_id=character_id)
    assert recommended.character_id == character_id


async def test_sim_character_auto_desc(client):
    request = AutoDescRequest(type="text", text="关羽，东汉末年名将，字云长。")
    description = await client.character_auto_desc(request)
    assert "【基本信息】" in description.content


async def test_sim_chat_send_returns_a_finished_reply_and_sends_the_documented_body(sim, client):
    character_id = await new_character(client)
    before = sim.requests("aca-chat-send")
    result = await client.chat_send(hello(character_id, unique("user"), max_length=400))
    assert result.finished and result.stop_reason == "stop" and result.text
    assert result.request_id and result.context.answer_id and result.context.query_id
    assert result.usage is not None and result.usage.output_tokens > 0
    (sent,) = new_requests(sim, "aca-chat-send", before)
    assert sent["headers"]["x-fag-appcode"] == "aca"
    assert "x-aca-sse" not in {k.lower() for k in sent["headers"]}
    body = sent["json"]
    assert body["input"]["prompt"] == "|<system>|"
    assert body["input"]["aca"]["context"]["useChatHistory"] is True
    assert isinstance(body["parameters"]["seed"], int) and body["parameters"]["maxLength"] == 400


async def test_sim_incremental_and_cumulative_streams_end_with_the_same_text(client):
    character_id = await new_character(client)
    texts = []
    for incremental in (True, False):
        request = hello(character_id, unique("user"), seed=20240601, incremental_output=incremental)
        events = await collect(client.chat_stream(request))
        assert events[-1].finished and not any(e.finished for e in events[:-1])
        assert "".join(e.delta for e in events) == events[-1].text
        assert len(events) > 2
        texts.append(events[-1].text)
    assert texts[0] == texts[1] and texts[0]


async def test_sim_stream_request_id_comes_from_the_first_event(sim, client):
    character_id = await new_character(client)
    before = sim.requests("aca-chat-send-sse")
    events = await collect(client.chat_stream(hello(character_id, unique("user"))))
    (sent,) = new_requests(sim, "aca-chat-send-sse", before)
    first = events[0].raw
    assert events[0].request_id == (first.get("requestId") or first["context"]["requestId"])
    assert {e.request_id for e in events} == {sent["requestId"]}
    headers = {k.lower(): v for k, v in sent["headers"].items()}
    assert headers["x-aca-sse"] == "enable" and headers["x-dashscope-sse"] == "enable"


async def test_sim_stop_mid_stream_saves_the_partial_text_as_the_answer(sim, client):
    sim.configure(tokens_per_second=20)
    character_id, user_id = await new_character(client), unique("user")
    before = sim.requests("aca-chat-stop")
    async with aclosing(client.chat_stream(hello(character_id, user_id))) as events:
        first = await anext(events)
        assert not first.finished
        assert await client.chat_stop(request_id=first.request_id, content=first.text) is True
    (sent,) = new_requests(sim, "aca-chat-stop", before)
    assert sent["json"] == {"requestId": first.request_id, "content": first.text}

    query = HistoryQuery(
        character_id=character_id, biz_user_id=user_id, message_ids=[first.context.answer_id]
    )
    deadline = time.monotonic() + 5
    answers = (await client.message_histories(query)).items
    while [m.content for m in answers] != [first.text] and time.monotonic() < deadline:
        await asyncio.sleep(0.02)
        answers = (await client.message_histories(query)).items
    assert [m.content for m in answers] == [first.text]


async def test_sim_histories_reach_the_simulator_as_sent_and_come_back_with_their_owner(
    sim, client
):
    character_id, user_id = await new_character(client), unique("user")
    await client.chat_send(hello(character_id, user_id))
    await client.chat_send(hello(character_id, unique("other")))
    before = sim.requests("aca-message-history")
    now = datetime.now(UTC)
    query = HistoryQuery(
        character_id=character_id,
        biz_user_id=user_id,
        start_time=now - timedelta(hours=1),
        end_time=now + timedelta(hours=1),
    )
    page = await client.message_histories(query)
    (sent,) = new_requests(sim, "aca-message-history", before)
    assert sent["json"] == query.to_wire()
    assert isinstance(sent["json"]["where"]["startTime"], int)
    assert page.total == 3 and {m.user_id for m in page.items} == {user_id}
    earlier = dataclasses.replace(query, end_time=now - timedelta(minutes=30))
    assert (await client.message_histories(earlier)).total == 0


async def test_sim_histories_rating_reminder_and_reset(client):
    character_id, user_id = await new_character(client), unique("user")
    result = await client.chat_send(hello(character_id, user_id))
    assert await client.chat_reminder(
        character_id=character_id, biz_user_id=user_id, content="Tea time!"
    )
    page = await client.message_histories(
        HistoryQuery(character_id=character_id, biz_user_id=user_id, order_by=["gmtCreate asc"])
    )
    contents = [m.content for m in page.items]
    assert "Hello there, what tea do you recommend today?" in contents
    assert result.text in contents and "Tea time!" in contents
    assert all(m.created_at is not None and m.created_at.tzinfo for m in page.items)
    reply = next(m for m in page.items if m.content == result.text)
    assert reply.issuer_type == "character"

    assert await client.message_rate(message_id=reply.message_id, rating=5)
    rated = await client.message_histories(
        HistoryQuery(character_id=character_id, biz_user_id=user_id, message_ids=[reply.message_id])
    )
    assert [m.rating for m in rated.items] == [5]

    assert await client.chat_reset(character_id=character_id, user_id=user_id)
    after = await client.message_histories(
        HistoryQuery(character_id=character_id, biz_user_id=user_id)
    )
    assert {m.status for m in after.items if m.message_id == reply.message_id} == {"reset"}


async def test_sim_image_poll_goes_from_running_to_a_served_png(sim, client):
    plugins = [PlatformPlugin("text_to_image_plugin", enabled=True)]
    character_id = await new_character(
        client, advanced_config=AdvancedConfig(platform_plugins=plugins)
    )
    user_id = unique("user")
    request = ChatRequest(
        character_id=character_id,
        user_id=user_id,
        messages=[Message("user", "Please draw a picture of your tea house.")],
    )
    result = await client.chat_send(request)
    message_id = result.context.answer_id
    deadline = time.monotonic() + 10
    task = await client.image_poll(message_id=message_id, user_id=user_id)
    while not task.done and time.monotonic() < deadline:
        task = await client.image_poll(message_id=message_id, user_id=user_id)
    assert task.status == "success" and task.file_urls
    async with httpx.AsyncClient() as http:
        image = await http.get(task.file_urls[0])
    assert image.status_code == 200 and image.content.startswith(b"\x89PNG")
    with pytest.raises(XingchenError) as caught:
        await client.image_poll(message_id=message_id, user_id=unique("user"))
    assert caught.value.status == 404 and caught.value.error_name == "ImageTaskNotFound"


async def test_sim_stop_of_a_finished_stream_is_refused_as_an_unknown_request(client):
    character_id = await new_character(client)
    events = await collect(client.chat_stream(hello(character_id, unique("user"))))
    with pytest.raises(XingchenError) as caught:
        await client.chat_stop(request_id=events[0].request_id, content=events[0].text)
    assert caught.value.status == 404 and caught.value.error_name == "RequestNotFound"


async def test_sim_extract_kv_and_summary(client):
    messages = [
        Message("user", "My name is Alice and I love green tea."),
        Message("assistant", "Nice to meet you, Alice! Green tea it is."),
    ]
    kv = await client.extract_kv(
        messages=messages, kv_configs=[KvMemoryConfig(True, "name"), KvMemoryConfig(True, "hobby")]
    )
    assert kv.schemas and all(s.key for s in kv.schemas)
    summary = await client.extract_summary(messages=messages)
    assert summary.summaries and all(summary.summaries)


@pytest.fixture
def xlsx_url():
    workbook = openpyxl.Workbook()
    workbook.active.append(["tea", "price"])
    workbook.active.append(["oolong", 12])
    buffer = io.BytesIO()
    workbook.save(buffer)
    content = buffer.getvalue()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "application/vnd.ms-excel")
            self.send_header("Content-Length", str(len(content)))
            self.end_headers()
            self.wfile.write(content)

        def log_message(self, *args: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/prices.xlsx"
    server.shutdown()
    server.server_close()


async def test_sim_excel_to_docx_conversion(client, xlsx_url):
    task = await client.file_convert_submit(source_url=xlsx_url)
    assert task.id > 0
    deadline = time.monotonic() + 10
    result = await client.file_convert_result(task_id=task.id)
    while not result.done and time.monotonic() < deadline:
        result = await client.file_convert_result(task_id=task.id)
    assert result.status == "success" and result.url
    async with httpx.AsyncClient() as http_client:
        document = await http_client.get(result.url)
    assert document.status_code == 200 and document.content.startswith(b"PK")


async def test_sim_knowledge_bases_and_their_files(client):
    user_id = unique("owner")
    kb = await client.kb_create(user_id=user_id, name="Teas", description="All about tea")
    assert kb.knowledge_base_id and kb.name == "Teas"
    assert await client.kb_update(
        user_id=user_id, knowledge_base_id=kb.knowledge_base_id, name="Teas 2"
    )
    page = await client.kb_search(user_id=user_id)
    assert [(k.knowledge_base_id, k.name) for k in page.items] == [(kb.knowledge_base_id, "Teas 2")]

    file = KbFileInfo(filename="menu.txt", file_url="https://example.invalid/menu.txt")
    kb_id = kb.knowledge_base_id
    assert await client.kb_file_upload(user_id=user_id, knowledge_base_id=kb_id, files=[file])
    assert await client.kb_file_rename(
        user_id=user_id, knowledge_base_id=kb_id, name="menu.txt", new_name="carte.txt"
    )
    files = await client.kb_file_search(user_id=user_id, knowledge_base_id=kb_id)
    assert [f.name for f in files.items] == ["carte.txt"]
    assert await client.kb_file_delete(user_id=user_id, knowledge_base_id=kb_id, name="carte.txt")
    assert (await client.kb_file_search(user_id=user_id, knowledge_base_id=kb_id)).items == []
    assert await client.kb_delete(user_id=user_id, knowledge_base_id=kb_id)
    assert (await client.kb_search(user_id=user_id)).items == []


async def test_sim_group_chat_send_stream_and_next_speaker(client):
    first = await new_character(client, name="Bo")
    group = GroupChatRequest(
        members=[GroupMember(character_id=first), GroupMember(name="Mia", content="A shy owl.")],
        user_id=unique("user"),
        group_name="Tea club",
        messages=[Message("user", "What should we brew tonight?", name="Alice")],
        reply_bot_name="Mia",
        seed=99,
    )
    speaker = await client.group_chat_next_speaker(group)
    assert speaker.name in {"Bo", "Mia"}
    result = await client.group_chat_send(group)
    assert result.finished and result.text
    events = await collect(client.group_chat_stream(group))
    assert events[-1].finished and events[-1].text == result.text


async def test_sim_completions(client):
    request = CompletionRequest(
        model="xingchen-plus-latest",
        messages=[Message("system", "You are Bo, a cat."), Message("user", "Hi Bo!")],
        user=unique("user"),
        max_tokens=100,
    )
    completion = await client.completions(request)
    assert completion.text and completion.choices[0].finish_reason
    assert completion.usage is not None and completion.usage.total_tokens > 0


# --- contract: faults as the caller sees them -----------------------------------------------


async def test_sim_a_wrong_key_is_a_clear_401_that_is_not_retried(sim, caplog):
    caplog.set_level(logging.DEBUG)
    wrong = "sk-definitely-wrong-key-0042"
    before = sim.requests("aca-character-search")
    async with XingchenClient(base_url=sim.base_url, api_key=wrong) as bad:
        with pytest.raises(XingchenError) as caught:
            await bad.character_search()
        _, streamed = await collect_until_error(bad.chat_stream(request()))
    error = caught.value
    assert (error.kind, error.status, error.retryable) == ("http", 401, False)
    assert "API key" in error.message and "apikey is invalid" in error.message
    assert len(new_requests(sim, "aca-character-search", before)) == 1
    assert (streamed.kind, streamed.status, streamed.retryable) == ("http", 401, False)
    for text in (str(error), repr(error), str(streamed), repr(streamed), caplog.text):
        assert wrong not in text and sim.api_key not in text


async def test_sim_an_injected_401_names_the_key_problem_without_the_key(sim, client):
    sim.inject("aca-character-search", status=401)
    with pytest.raises(XingchenError) as caught:
        await client.character_search()
    assert (caught.value.status, caught.value.retryable) == (401, False)
    assert "rejected the API key" in caught.value.message
    assert sim.api_key not in str(caught.value) and sim.api_key not in repr(caught.value)


async def test_sim_a_429_read_is_retried_after_retry_after_and_succeeds(sim, client):
    before = sim.requests("aca-character-search")
    sim.inject("aca-character-search", status=429, retry_after=1)
    page = await client.character_search()
    assert isinstance(page.items, list)
    assert [e["status"] for e in new_requests(sim, "aca-character-search", before)] == [429, 200]


async def test_sim_a_429_chat_is_not_retried_and_reports_retry_after(sim, client):
    character_id = await new_character(client)
    for servicename, call in [
        ("aca-chat-send", lambda: client.chat_send(hello(character_id, unique("user")))),
        ("aca-chat-send-sse", lambda: collect(client.chat_stream(hello(character_id, "u")))),
    ]:
        before = sim.requests(servicename)
        sim.inject(servicename, status=429, retry_after=2)
        with pytest.raises(XingchenError) as caught:
            await call()
        error = caught.value
        assert (error.kind, error.status, error.retryable, error.retry_after) == (
            "http",
            429,
            True,
            2.0,
        )
        assert len(new_requests(sim, servicename, before)) == 1


@pytest.mark.parametrize("status", [500, 503])
async def test_sim_server_errors_retry_reads_but_not_writes_or_chat(sim, client, status):
    character_id = await new_character(client)
    sim.inject("aca-character-details", status=status)
    assert (await client.character_details(character_id=character_id)).character_id == character_id

    before = sim.requests("aca-character-create")
    sim.inject("aca-character-create", status=status)
    with pytest.raises(XingchenError) as caught:
        await new_character(client)
    assert (caught.value.kind, caught.value.status, caught.value.retryable) == (
        "http",
        status,
        True,
    )
    assert len(new_requests(sim, "aca-character-create", before)) == 1

    sim.inject("aca-chat-send-sse", status=status)
    events, error = await collect_until_error(client.chat_stream(hello(character_id, "u")))
    assert events == [] and (error.kind, error.status, error.retryable) == ("http", status, True)


async def test_sim_a_cut_stream_raises_cut_after_the_partial_deltas(sim, client):
    character_id = await new_character(client)
    sim.inject("aca-chat-send-sse", kind="cut", after_events=2)
    events, error = await collect_until_error(client.chat_stream(hello(character_id, "u-cut")))
    assert len(events) == 2 and events[-1].text and not events[-1].finished
    assert "".join(e.delta for e in events) == events[-1].text
    assert (error.kind, error.retryable) == ("cut", True)
    assert error.request_id == events[0].request_id


async def test_sim_a_stalled_stream_times_out(sim):
    async with XingchenClient(
        base_url=sim.base_url, api_key=sim.api_key, stream_idle_timeout=0.5
    ) as client:
        character_id = await new_character(client)
        sim.inject("aca-chat-send-sse", kind="stall", after_events=1, seconds=30)
        events, error = await collect_until_error(
            client.chat_stream(hello(character_id, unique("user")))
        )
    assert len(events) == 1 and events[0].text
    assert (error.kind, error.retryable) == ("timeout", True)


async def test_sim_a_malformed_event_raises_malformed_after_the_partial_deltas(sim, client):
    character_id = await new_character(client)
    sim.inject("aca-chat-send-sse", kind="malformed", after_events=1)
    events, error = await collect_until_error(client.chat_stream(hello(character_id, "u-bad")))
    assert len(events) == 1 and events[0].text
    assert error.kind == "malformed" and not error.retryable


async def test_sim_an_error_event_mid_stream_raises_a_stream_error(sim, client):
    character_id = await new_character(client)
    sim.inject("aca-chat-send-sse", kind="error_event", after_events=2, status=500)
    events, error = await collect_until_error(client.chat_stream(hello(character_id, "u-err")))
    assert len(events) == 2
    assert (error.kind, error.status, error.retryable) == ("stream", 500, True)
    assert error.error_code is not None and error.request_id == events[0].request_id

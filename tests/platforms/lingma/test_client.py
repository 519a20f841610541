"""The Lingma client against the simulator over real HTTP (the `lingma_sim` fixture), plus a few
narrow parsing tests on `httpx.MockTransport` for stream shapes the simulator does not send."""

from __future__ import annotations

import json
import logging
import pickle
from collections.abc import AsyncIterator
from contextlib import aclosing

import httpx
import pytest

from platforms.lingma import LingmaClient, LingmaError
from platforms.lingma.types import (
    LingmaChatEvent,
    LingmaChatRequest,
    LingmaMessage,
    LingmaParameters,
)
from tests.lingma_simulator_fixture import LingmaSimulatorHandle
from tests.simulator_process import free_port

MEI = "You are Mei, a cheerful HR assistant."


def _ask(question: str, *, system: str = MEI, **fields: object) -> LingmaChatRequest:
    messages = [
        LingmaMessage(role="system", content=system),
        LingmaMessage(role="user", content=question),
    ]
    return LingmaChatRequest(messages=messages, **fields)


def _client(sim: LingmaSimulatorHandle, **options: object) -> LingmaClient:
    return LingmaClient(
        base_url=sim.base_url,
        token=sim.token,
        organization_id=sim.organization_id,
        **options,  # type: ignore[arg-type]
    )


@pytest.fixture
async def client(lingma_sim: LingmaSimulatorHandle) -> AsyncIterator[LingmaClient]:
    async with _client(lingma_sim, stream_idle_timeout=10) as lingma:
        yield lingma


async def _collect(client: LingmaClient, request: LingmaChatRequest) -> list[LingmaChatEvent]:
    async with aclosing(client.chat_stream(request)) as events:
        return [event async for event in events]


async def _collect_until_error(
    client: LingmaClient, request: LingmaChatRequest
) -> tuple[list[LingmaChatEvent], LingmaError]:
    received: list[LingmaChatEvent] = []
    with pytest.raises(LingmaError) as caught:
        async with aclosing(client.chat_stream(request)) as events:
            async for event in events:
                received.append(event)
    return received, caught.value


# --- the wire ---------------------------------------------------------------------------------


async def test_stream_sends_the_documented_request(
    client: LingmaClient, lingma_sim: LingmaSimulatorHandle
) -> None:
    request = _ask(
        "How many days of annual leave do I get?",
        team_docs=True,
        kb_ids=["kb-employee-handbook"],
        parameters=LingmaParameters(max_tokens=300, temperature=0.3, top_p=0.9, seed=7),
    )
    await _collect(client, request)

    sent = lingma_sim.requests()[-1]
    assert sent["method"] == "POST"
    assert sent["path"] == "/oapi/v1/lingma/organizations/sim-org/model/chat"
    assert sent["query"] == {"stream": "true", "teamDocs": "true"}
    assert sent["body"] == {
        "input": {
            "messages": [
                {"role": "system", "content": MEI},
                {"role": "user", "content": "How many days of annual leave do I get?"},
            ]
        },
        "kbIds": ["kb-employee-handbook"],
        "parameters": {"max_tokens": 300, "seed": 7, "temperature": 0.3, "top_p": 0.9},
    }
    assert sent["headers"]["accept"] == "text/event-stream"
    assert sent["headers"]["content-type"] == "application/json"
    assert lingma_sim.token not in json.dumps(lingma_sim.requests())


async def test_chat_asks_for_no_stream(
    client: LingmaClient, lingma_sim: LingmaSimulatorHandle
) -> None:
    await client.chat(_ask("Hello there"))
    assert lingma_sim.requests()[-1]["query"] == {"stream": "false", "teamDocs": "false"}


# --- answers ----------------------------------------------------------------------------------


@pytest.mark.parametrize("text_mode", ["incremental", "cumulative"])
@pytest.mark.parametrize("end_marker", ["none", "done", "event"])
async def test_streamed_answer_is_the_same_text_whatever_the_stream_shape(
    client: LingmaClient, lingma_sim: LingmaSimulatorHandle, text_mode: str, end_marker: str
) -> None:
    request = _ask("What should I bring to my first day?")
    whole = await client.chat(request)
    lingma_sim.configure(text_mode=text_mode, end_marker=end_marker)

    events = await _collect(client, request)

    assert "".join(event.text for event in events) == whole.text
    assert [event.finish_reason for event in events[:-1]] == [None] * (len(events) - 1)
    assert events[-1].finish_reason == "stop"
    assert len(events) > 10
    assert {event.request_id for event in events} == {events[0].request_id}


async def test_streamed_usage_grows_and_ends_with_the_answer_length(client: LingmaClient) -> None:
    events = await _collect(client, _ask("Tell me about the office."))
    outputs = [event.usage.output_tokens for event in events if event.usage]
    assert outputs == sorted(outputs)
    assert outputs[-1] >= 40
    assert events[-1].usage is not None and events[-1].usage.input_tokens > 0


async def test_chat_returns_a_persona_flavoured_markdown_answer(client: LingmaClient) -> None:
    result = await client.chat(_ask("What should I bring to my first day?"))
    assert result.text.startswith("**Mei** here")
    assert result.finish_reason == "stop"
    assert result.request_id
    assert result.usage is not None
    assert result.usage.input_tokens > 0 and result.usage.output_tokens >= 40


async def test_chinese_persona_gets_a_chinese_answer(client: LingmaClient) -> None:
    result = await client.chat(_ask("第一天上班要带什么？", system="你是小美，一位人事助理。"))
    assert "**小美**" in result.text


async def test_answer_is_cut_at_max_tokens_with_length_reason(client: LingmaClient) -> None:
    request = _ask("Tell me everything.", parameters=LingmaParameters(max_tokens=10))
    events = await _collect(client, request)
    assert events[-1].finish_reason == "length"
    assert events[-1].usage is not None and events[-1].usage.output_tokens == 10
    result = await client.chat(request)
    assert (result.finish_reason, result.usage and result.usage.output_tokens) == ("length", 10)


async def test_team_docs_answer_cites_the_chosen_knowledge_base(client: LingmaClient) -> None:
    request = _ask(
        "How long is the warranty on a device?", team_docs=True, kb_ids=["kb-product-faq"]
    )
    events = await _collect(client, request)
    text = "".join(event.text for event in events)
    assert "two-year warranty" in text
    assert "Source: [Product FAQ / Warranty]" in text


async def test_team_docs_search_only_the_chosen_knowledge_bases(client: LingmaClient) -> None:
    request = _ask(
        "How long is the warranty on a device?", team_docs=True, kb_ids=["kb-employee-handbook"]
    )
    result = await client.chat(request)
    assert "Product FAQ" not in result.text
    assert "Source:" not in result.text


async def test_team_docs_without_ids_search_every_qa_knowledge_base(client: LingmaClient) -> None:
    result = await client.chat(_ask("How do I deploy to production?", team_docs=True))
    assert "Source: [Engineering Wiki / Deploying to production]" in result.text


async def test_chinese_question_cites_the_chinese_document(client: LingmaClient) -> None:
    request = _ask("年假有多少天？", system="你是小美。", team_docs=True)
    result = await client.chat(request)
    assert "Source: [Employee Handbook / 请假制度]" in result.text


async def test_answer_cites_nothing_with_team_docs_off(client: LingmaClient) -> None:
    request = _ask("How long is the warranty on a device?", kb_ids=["kb-product-faq"])
    result = await client.chat(request)
    assert "Source:" not in result.text
    assert "warranty" in result.text  # the question is echoed, not a document


# --- knowledge bases --------------------------------------------------------------------------


async def test_list_knowledge_bases_returns_every_one_with_the_total(
    client: LingmaClient, lingma_sim: LingmaSimulatorHandle
) -> None:
    page = await client.list_knowledge_bases()
    assert lingma_sim.requests()[-1]["query"] == {"page": "1", "perPage": "100"}
    names = {kb.name for kb in page.items}
    assert {"Employee Handbook", "Product FAQ", "Engineering Wiki"} <= names
    assert page.total == len(page.items) == len(lingma_sim.knowledge_bases())
    handbook = next(kb for kb in page.items if kb.id == "kb-employee-handbook")
    assert (handbook.scene_type, handbook.file_count, handbook.state) == ("chat", 3, "enable")
    assert handbook.size > 0 and handbook.access_level == "10"


async def test_list_knowledge_bases_filters_by_scene_and_name(
    client: LingmaClient, lingma_sim: LingmaSimulatorHandle
) -> None:
    qa = await client.list_knowledge_bases(scene_type="chat")
    assert qa.items and {kb.scene_type for kb in qa.items} == {"chat"}
    completion = await client.list_knowledge_bases(scene_type="complement")
    assert [kb.name for kb in completion.items] == ["Code Completion Snippets"]

    found = await client.list_knowledge_bases(query="handbook")
    assert [kb.name for kb in found.items] == ["Employee Handbook"]
    assert found.total == 1
    assert lingma_sim.requests()[-1]["query"] == {
        "page": "1",
        "perPage": "100",
        "query": "handbook",
    }


async def test_list_knowledge_bases_pages_with_the_total_from_the_header(
    client: LingmaClient,
) -> None:
    first = await client.list_knowledge_bases(page=1, per_page=2)
    second = await client.list_knowledge_bases(page=2, per_page=2)
    everything = await client.list_knowledge_bases()
    assert len(first.items) == 2
    assert first.total == second.total == everything.total >= 4
    seen = [kb.id for kb in first.items + second.items]
    assert len(set(seen)) == 4
    assert seen == [kb.id for kb in everything.items][:4]


# --- errors -----------------------------------------------------------------------------------


async def test_a_wrong_token_is_a_final_401(lingma_sim: LingmaSimulatorHandle) -> None:
    async with LingmaClient(
        base_url=lingma_sim.base_url, token="pt-wrong", organization_id="sim-org"
    ) as client:
        with pytest.raises(LingmaError) as caught:
            await client.chat(_ask("Hi"))
        _, streamed = await _collect_until_error(client, _ask("Hi"))
    for error in (caught.value, streamed):
        assert (error.kind, error.status, error.code) == ("http", 401, "InvalidTokenError")
        assert error.retryable is False
        assert error.request_id


async def test_an_empty_token_is_refused_before_any_call() -> None:
    with pytest.raises(ValueError, match="token"):
        LingmaClient(base_url="http://127.0.0.1:9", token="", organization_id="sim-org")


async def test_an_organisation_the_user_is_not_in_is_a_403(
    lingma_sim: LingmaSimulatorHandle,
) -> None:
    async with LingmaClient(
        base_url=lingma_sim.base_url, token=lingma_sim.token, organization_id="other-org"
    ) as client:
        with pytest.raises(LingmaError) as caught:
            await client.list_knowledge_bases()
    error = caught.value
    assert (error.status, error.code) == (403, "Forbidden.InvalidUser.UserNotInCurrentOrganization")
    assert error.retryable is False


async def test_a_parameter_out_of_range_is_a_400_naming_it(client: LingmaClient) -> None:
    # model_construct skips the client-side check, as a caller on another client would.
    request = _ask("Hi", parameters=LingmaParameters.model_construct(max_tokens=5000))
    with pytest.raises(LingmaError) as caught:
        await client.chat(request)
    error = caught.value
    assert (error.kind, error.status, error.code) == ("http", 400, "BadRequest")
    assert "max_tokens" in error.message
    assert error.retryable is False


async def test_unknown_knowledge_base_ids_are_a_400(client: LingmaClient) -> None:
    with pytest.raises(LingmaError) as caught:
        await client.chat(_ask("Hi", team_docs=True, kb_ids=["kb-nope"]))
    assert caught.value.status == 400
    assert "kb-nope" in caught.value.message


async def test_throttling_is_retryable_after_the_servers_delay(
    client: LingmaClient, lingma_sim: LingmaSimulatorHandle
) -> None:
    lingma_sim.inject(kind="http", status=429, retry_after=7)
    with pytest.raises(LingmaError) as caught:
        await client.chat(_ask("Hi"))
    error = caught.value
    assert (error.status, error.code, error.retryable) == (429, "TooManyRequests", True)
    assert error.retry_after == 7


async def test_throttling_without_retry_after_waits_a_minute(
    client: LingmaClient, lingma_sim: LingmaSimulatorHandle
) -> None:
    lingma_sim.inject(kind="http", status=429)
    _, error = await _collect_until_error(client, _ask("Hi"))
    assert (error.kind, error.status, error.retry_after) == ("http", 429, 60)


async def test_server_errors_are_retryable(
    client: LingmaClient, lingma_sim: LingmaSimulatorHandle
) -> None:
    lingma_sim.inject(kind="http", status=503, target="knowledge_bases")
    with pytest.raises(LingmaError) as caught:
        await client.list_knowledge_bases()
    assert (caught.value.status, caught.value.retryable) == (503, True)
    assert (await client.list_knowledge_bases()).items  # the fault was used up


async def test_a_broken_connection_mid_answer_is_a_cut_keeping_the_partial_text(
    client: LingmaClient, lingma_sim: LingmaSimulatorHandle
) -> None:
    lingma_sim.inject(kind="cut", after_events=3)
    received, error = await _collect_until_error(client, _ask("Tell me a story."))
    assert len(received) == 3
    assert "".join(event.text for event in received).startswith("**Mei")
    assert (error.kind, error.retryable) == ("cut", True)
    assert error.request_id == received[0].request_id


async def test_a_stalled_stream_times_out(lingma_sim: LingmaSimulatorHandle) -> None:
    lingma_sim.inject(kind="stall", after_events=2, seconds=60)
    async with _client(lingma_sim, stream_idle_timeout=1) as client:
        received, error = await _collect_until_error(client, _ask("Tell me a story."))
    # At most: a very loaded machine may pause longer than the idle timeout before the stall.
    assert len(received) <= 2
    assert (error.kind, error.retryable) == ("timeout", True)


async def test_a_broken_event_is_malformed(
    client: LingmaClient, lingma_sim: LingmaSimulatorHandle
) -> None:
    lingma_sim.inject(kind="malformed", after_events=2)
    received, error = await _collect_until_error(client, _ask("Tell me a story."))
    assert len(received) == 2
    assert error.kind == "malformed"


async def test_an_error_event_mid_answer_is_a_stream_error(
    client: LingmaClient, lingma_sim: LingmaSimulatorHandle
) -> None:
    lingma_sim.inject(
        kind="stream_error", after_events=4, status=500, code="InternalServerError",
        message="The model stopped unexpectedly.",
    )  # fmt: skip
    received, error = await _collect_until_error(client, _ask("Tell me a story."))
    assert len(received) == 4
    assert (error.kind, error.status, error.code) == ("stream", 500, "InternalServerError")
    assert "The model stopped unexpectedly." in error.message
    assert error.retryable is True
    assert error.request_id == received[0].request_id


async def test_errors_survive_pickling_for_task_queues(
    client: LingmaClient, lingma_sim: LingmaSimulatorHandle
) -> None:
    lingma_sim.inject(kind="http", status=429, retry_after=3)
    with pytest.raises(LingmaError) as caught:
        await client.chat(_ask("Hi"))
    copy = pickle.loads(pickle.dumps(caught.value))
    assert (copy.kind, copy.status, copy.code, copy.retry_after, copy.retryable) == (
        "http", 429, "TooManyRequests", 3, True,
    )  # fmt: skip
    assert str(copy) == str(caught.value)


async def test_an_unreachable_server_is_a_network_error() -> None:
    async with LingmaClient(
        base_url=f"http://127.0.0.1:{free_port()}", token="pt-x", organization_id="o"
    ) as client:
        with pytest.raises(LingmaError) as caught:
            await client.chat(_ask("Hi"))
    assert (caught.value.kind, caught.value.retryable) == ("network", True)


async def test_the_token_never_appears_in_errors_or_logs(
    lingma_sim: LingmaSimulatorHandle, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    token = lingma_sim.token
    lingma_sim.inject(kind="http", status=500, message=f"upstream echoed {token}")
    lingma_sim.inject(kind="stream_error", after_events=1, message=f"event echoed {token}")
    async with _client(lingma_sim) as client:
        with pytest.raises(LingmaError) as caught:
            await client.chat(_ask("Hi"))
        _, streamed = await _collect_until_error(client, _ask("Hi"))
        assert token not in repr(client)
    for error in (caught.value, streamed):
        assert "[redacted]" in str(error)
        assert token not in str(error) and token not in repr(error)
    assert token not in caplog.text
    assert "platforms.lingma" in {record.name for record in caplog.records}


# --- tolerant parsing (narrow, on a mock transport) -------------------------------------------


def _sse_client(
    body: str, status: int = 200, content_type: str = "text/event-stream"
) -> LingmaClient:
    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(status, headers={"content-type": content_type}, text=body)

    return LingmaClient(
        base_url="http://lingma.test",
        token="pt-test",
        organization_id="org",
        transport=httpx.MockTransport(answer),
    )


def _data(text: str, reason: str | None = "null") -> str:
    return "data:" + json.dumps({"output": {"text": text, "finish_reason": reason}}) + "\n\n"


async def test_done_marker_ends_an_answer_that_never_said_stop() -> None:
    body = _data("Hello") + _data(" world") + "data:[DONE]\n\n" + _data("ignored")
    async with _sse_client(body) as client:
        events = await _collect(client, _ask("Hi"))
    assert [event.text for event in events] == ["Hello", " world"]


async def test_events_without_output_are_skipped_and_a_finish_event_ends_the_answer() -> None:
    body = (
        ": keep-alive\n\n"
        + 'data:{"ping":true}\n\n'
        + _data("Hi", None)
        + "event:finish\ndata:{}\n\n"
        + _data("ignored")
    )
    async with _sse_client(body) as client:
        events = await _collect(client, _ask("Hi"))
    assert [(event.text, event.finish_reason) for event in events] == [("Hi", None)]


async def test_an_answer_that_just_ends_is_accepted_as_whole() -> None:
    async with _sse_client(_data("Hel") + _data("Hello")) as client:
        events = await _collect(client, _ask("Hi"))
    assert [event.text for event in events] == ["Hel", "lo"]


async def test_an_error_body_in_a_successful_response_is_an_error() -> None:
    body = json.dumps({"errorCode": "TooManyRequests", "errorDescription": "slow down"})
    async with _sse_client(body, content_type="application/json") as client:
        with pytest.raises(LingmaError) as caught:
            await client.chat(_ask("Hi"))
    error = caught.value
    assert (error.status, error.code, error.retry_after) == (429, "TooManyRequests", 60)
    assert "slow down" in error.message

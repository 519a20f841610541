"""The DMS client against the simulator over real HTTP: streaming, masking, refusals, faults."""

from __future__ import annotations

import asyncio
import re
import socket
from contextlib import aclosing
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from platforms.dms import (
    DmsChatEvent,
    DmsChatRequest,
    DmsClient,
    DmsError,
    DmsMessage,
    endpoint_for_region,
    signing,
)

PERSONA = DmsMessage(role="system", content="You are Marta, a patient help-desk agent.")
PHONE = "13812345678"


def client(sim: Any, **options: Any) -> DmsClient:
    settings = {
        "endpoint": sim.base_url,
        "access_key_id": sim.access_key_id,
        "access_key_secret": sim.access_key_secret,
    }
    return DmsClient(**(settings | options))


def chat(sim: Any, said: str = "Hello there", **fields: Any) -> DmsChatRequest:
    messages = [PERSONA, DmsMessage(role="user", content=said)]
    return DmsChatRequest(
        **({"instance_id": sim.instance_id, "model": "qwen-plus", "messages": messages} | fields)
    )


async def collect(dms: DmsClient, request: DmsChatRequest) -> list[DmsChatEvent]:
    async with dms:
        return [event async for event in dms.chat_stream(request)]


async def fail(dms: DmsClient, request: DmsChatRequest) -> tuple[DmsError, str]:
    """The error the stream ends with, and the text received before it."""
    text = ""
    async with dms:
        with pytest.raises(DmsError) as caught:
            async for event in dms.chat_stream(request):
                text += event.text
    return caught.value, text


def answer(events: list[DmsChatEvent]) -> str:
    return "".join(event.text for event in events)


def test_endpoint_for_region():
    assert endpoint_for_region("cn-hangzhou") == "https://dms-enterprise.cn-hangzhou.aliyuncs.com"


async def test_streams_a_persona_reply_that_ends_with_stop_and_usage(dms_sim):
    events = await collect(client(dms_sim), chat(dms_sim))
    text = answer(events)
    assert text.startswith('**Marta** here. You said: "Hello there"')
    assert len(text.split()) >= 40
    assert [e.finish_reason for e in events if e.finish_reason] == ["stop"]
    usage = events[-1].usage
    assert usage is not None
    assert usage.completion_tokens > 40
    assert usage.total_tokens == usage.prompt_tokens + usage.completion_tokens
    assert len({e.request_id for e in events}) == 1


async def test_without_include_usage_no_usage_arrives(dms_sim):
    events = await collect(client(dms_sim), chat(dms_sim, include_usage=False))
    assert all(event.usage is None for event in events)


async def test_reasoning_is_kept_apart_from_the_answer(dms_sim):
    events = await collect(client(dms_sim), chat(dms_sim, enable_thinking=True))
    reasoning = "".join(event.reasoning for event in events)
    assert reasoning.startswith('The user wrote "Hello there"')
    assert "The user wrote" not in answer(events)
    first_answer = next(i for i, e in enumerate(events) if e.text)
    assert all(not e.reasoning for e in events[first_answer:])


async def test_max_tokens_cuts_the_reply_with_finish_reason_length(dms_sim):
    events = await collect(client(dms_sim), chat(dms_sim, max_tokens=5))
    assert [e.finish_reason for e in events if e.finish_reason] == ["length"]
    assert events[-1].usage is not None
    assert events[-1].usage.completion_tokens == 5


async def test_masking_on_hides_the_phone_from_the_model_and_the_reply(dms_sim):
    said = f"Call me on {PHONE} or mail bob.lee@example.com"
    request = chat(dms_sim, said, need_desensitization=True, desensitization_rule="UserInfo")
    text = answer(await collect(client(dms_sim), request))
    assert 'You said: "Call me on 138****5678 or mail b***@example.com"' in text
    assert PHONE not in text
    received = dms_sim.requests()[-1]
    assert received["messages_received"][-1]["content"] == said
    assert received["messages_masked"][-1]["content"] == (
        "Call me on 138****5678 or mail b***@example.com"
    )


async def test_masking_off_leaves_the_phone_in_clear(dms_sim):
    text = answer(await collect(client(dms_sim), chat(dms_sim, f"My number is {PHONE}")))
    assert f'You said: "My number is {PHONE}"' in text


async def test_chinese_message_is_masked_and_quoted_in_chinese(dms_sim):
    said = f"我的手机是{PHONE}，身份证110101199003071234"
    persona = DmsMessage(role="system", content="你是小美，一位耐心的客服。")
    request = chat(
        dms_sim,
        need_desensitization=True,
        desensitization_rule="UserInfo",
        messages=[persona, DmsMessage(role="user", content=said)],
    )
    text = answer(await collect(client(dms_sim), request))
    assert text.startswith(
        "**小美**在这里。你说：“我的手机是138****5678，身份证110101********1234”"
    )


async def test_the_request_is_signed_and_encoded_as_the_reference_says(dms_sim):
    request = chat(dms_sim, "a b*c", temperature=0.5, stop=["END"])
    await collect(client(dms_sim), request)
    received = dms_sim.requests()[-1]
    headers = received["headers"]
    assert headers["host"] == dms_sim.host
    assert headers["x-acs-action"] == "ChatWithDesensitizeSSE"
    assert headers["x-acs-version"] == "2018-11-01"
    assert re.fullmatch(r"[0-9a-f]{32}", headers["x-acs-signature-nonce"])
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", headers["x-acs-date"])
    assert headers["content-type"] == "application/x-www-form-urlencoded"
    assert "authorization" not in headers
    assert received["params"] == request.query_params()
    assert received["messages_received"][-1]["content"] == "a b*c"


async def test_stopping_early_closes_the_stream_and_the_client_stays_usable(dms_sim):
    dms_sim.configure(tokens_per_second=50)
    dms = client(dms_sim)
    async with dms:
        received = []
        async with aclosing(dms.chat_stream(chat(dms_sim))) as stream:
            async for event in stream:
                received.append(event)
                if len(received) == 3:
                    break
        dms_sim.configure(tokens_per_second=2000)
        again = [event async for event in dms.chat_stream(chat(dms_sim))]
    assert len(received) == 3
    assert again[-1].usage is not None


async def test_a_wrong_secret_is_refused_and_never_shown(dms_sim):
    secret = "wrong-secret-9f8e7d"
    error, _ = await fail(client(dms_sim, access_key_secret=secret), chat(dms_sim))
    assert (error.kind, error.status, error.code) == ("http", 403, "SignatureDoesNotMatch")
    assert not error.retryable
    assert error.request_id
    assert secret not in str(error) and secret not in repr(error)
    assert secret not in repr(client(dms_sim, access_key_secret=secret))


async def test_an_unknown_access_key_id_is_refused(dms_sim):
    error, _ = await fail(client(dms_sim, access_key_id="nobody"), chat(dms_sim))
    assert (error.status, error.code) == (404, "InvalidAccessKeyId.NotFound")


async def test_another_instance_is_not_found(dms_sim):
    error, _ = await fail(client(dms_sim), chat(dms_sim, instance_id=dms_sim.instance_id + 1))
    assert (error.status, error.code) == (404, "InvalidInstance.NotFound")


async def test_throttling_is_retryable_after_the_servers_delay(dms_sim):
    dms_sim.inject(kind="http", status=429, retry_after=7)
    error, _ = await fail(client(dms_sim), chat(dms_sim))
    assert (error.status, error.code, error.retryable) == (429, "Throttling.User", True)
    assert error.retry_after == 7.0


async def test_server_errors_are_retryable(dms_sim):
    dms_sim.inject(kind="http", status=503)
    error, _ = await fail(client(dms_sim), chat(dms_sim))
    assert (error.kind, error.status, error.code) == ("http", 503, "ServiceUnavailable")
    assert error.retryable


async def test_a_connection_cut_mid_stream_keeps_the_partial_text(dms_sim):
    dms_sim.inject(kind="cut", after_events=6)
    error, text = await fail(client(dms_sim), chat(dms_sim))
    assert error.kind == "cut"
    assert error.retryable
    assert text and text.startswith("**Marta**")


async def test_a_stalled_stream_times_out(dms_sim):
    dms_sim.inject(kind="stall", after_events=4, seconds=60)
    error, text = await fail(client(dms_sim, stream_idle_timeout=0.5), chat(dms_sim))
    assert error.kind == "timeout"
    assert text


async def test_an_event_that_is_not_json_is_malformed(dms_sim):
    dms_sim.inject(kind="malformed", after_events=3)
    error, _ = await fail(client(dms_sim), chat(dms_sim))
    assert error.kind == "malformed"


async def test_a_success_false_event_raises_a_stream_error(dms_sim):
    dms_sim.inject(kind="stream_error", after_events=5, code="ModelOverloaded", message="busy")
    error, text = await fail(client(dms_sim), chat(dms_sim))
    assert (error.kind, error.code) == ("stream", "ModelOverloaded")
    assert error.request_id
    assert text


async def test_an_unreachable_endpoint_is_a_network_error(dms_sim):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    error, _ = await fail(
        client(dms_sim, endpoint=f"http://127.0.0.1:{closed_port}"), chat(dms_sim)
    )
    assert error.kind == "network"


# --- the gateway's checks, with hand-signed requests --------------------------------------


def signed_post(
    sim: Any,
    *,
    query: dict[str, str],
    body: bytes,
    nonce: str,
    date: datetime | None = None,
    raw_query: str | None = None,
) -> httpx.Response:
    headers = {
        "host": sim.host,
        "x-acs-action": "ChatWithDesensitizeSSE",
        "x-acs-version": "2018-11-01",
        "x-acs-date": (date or datetime.now(UTC)).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "x-acs-signature-nonce": nonce,
        "x-acs-content-sha256": signing.content_sha256(body),
        "content-type": "application/x-www-form-urlencoded",
    }
    headers["authorization"] = signing.authorization(
        method="POST",
        path="/",
        query=query,
        headers=headers,
        access_key_id=sim.access_key_id,
        access_key_secret=sim.access_key_secret,
    )
    url = f"{sim.base_url}/?{raw_query or signing.canonical_query(query)}"
    return httpx.post(url, content=body, headers=headers, timeout=10)


def _query(sim: Any, **extra: str) -> dict[str, str]:
    return {"InstanceId": str(sim.instance_id), "Model": "qwen-plus"} | extra


BODY = b"Messages=%5B%7B%22role%22%3A%22user%22%2C%22content%22%3A%22hi%22%7D%5D"


def test_a_replayed_nonce_is_refused(dms_sim):
    nonce = "ab" * 16
    assert signed_post(dms_sim, query=_query(dms_sim), body=BODY, nonce=nonce).status_code == 200
    replay = signed_post(dms_sim, query=_query(dms_sim), body=BODY, nonce=nonce)
    assert replay.status_code == 400
    assert replay.json()["Code"] == "SignatureNonceUsed"
    assert set(replay.json()) == {"RequestId", "HostId", "Code", "Message", "Recommend"}


def test_an_old_date_is_refused(dms_sim):
    old = datetime.now(UTC) - timedelta(minutes=20)
    response = signed_post(dms_sim, query=_query(dms_sim), body=BODY, nonce="cd" * 16, date=old)
    assert response.status_code == 400
    assert response.json()["Code"] == "InvalidTimeStamp.Expired"


def test_an_unsigned_request_is_incomplete(dms_sim):
    response = httpx.post(f"{dms_sim.base_url}/?InstanceId=1001", content=BODY, timeout=10)
    assert response.status_code == 400
    assert response.json()["Code"] == "IncompleteSignature"


def test_sdk_style_encoding_is_accepted_plus_spaces_and_capitalised_booleans(dms_sim):
    query = _query(dms_sim, NeedDesensitization="True", DesensitizationRule="User Info")
    raw_query = "&".join(
        f"{name}={value.replace(' ', '+')}" for name, value in sorted(query.items())
    )
    body = (
        b"Messages=%5B%7B%22role%22%3A%22user%22%2C%22content%22%3A%22call+"
        + PHONE.encode()
        + b"%22%7D%5D"
    )
    response = signed_post(dms_sim, query=query, body=body, nonce="ef" * 16, raw_query=raw_query)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "text/event-stream;charset=UTF-8"
    assert "138****5678" in response.text and PHONE not in response.text


def test_masking_without_a_rule_is_refused(dms_sim):
    query = _query(dms_sim, NeedDesensitization="true")
    response = signed_post(dms_sim, query=query, body=BODY, nonce="12" * 16)
    assert response.status_code == 400
    assert response.json()["Code"] == "MissingDesensitizationRule"


def test_a_missing_instance_id_is_refused(dms_sim):
    response = signed_post(dms_sim, query={"Model": "qwen-plus"}, body=BODY, nonce="34" * 16)
    assert response.status_code == 400
    assert response.json()["Code"] == "MissingInstanceId"


def test_parameters_may_come_in_the_form_body(dms_sim):
    body = BODY + f"&InstanceId={dms_sim.instance_id}&Model=qwen-max&IncludeUsage=true".encode()
    response = signed_post(dms_sim, query={}, body=body, nonce="56" * 16)
    assert response.status_code == 200, response.text
    assert '"model\\":\\"qwen-max\\"' in response.text
    assert "usage" in response.text


def test_events_are_framed_with_id_event_and_one_json_data_line(dms_sim):
    response = signed_post(dms_sim, query=_query(dms_sim), body=BODY, nonce="78" * 16)
    frames = [f for f in response.text.split("\n\n") if f]
    assert frames[0].startswith("id:1\nevent:result\ndata:{")
    assert all(len(frame.split("\n")) == 3 for frame in frames)


async def test_concurrent_streams_do_not_mix(dms_sim):
    async with client(dms_sim) as dms:

        async def one(said: str) -> str:
            return answer([e async for e in dms.chat_stream(chat(dms_sim, said))])

        first, second = await asyncio.gather(one("first"), one("second"))
    assert 'You said: "first"' in first and 'You said: "second"' in second


async def test_list_instances_shows_the_instance_a_chat_masks_with(dms_sim):
    async with DmsClient(
        endpoint=dms_sim.base_url,
        access_key_id=dms_sim.access_key_id,
        access_key_secret=dms_sim.access_key_secret,
    ) as client:
        page = await client.list_instances(page_size=1)

    assert page.total_count == 1
    assert [i.instance_id for i in page.items] == [str(dms_sim.instance_id)]
    assert page.items[0].state == "NORMAL"


async def test_list_instances_is_signed_like_the_chat(dms_sim):
    async with DmsClient(
        endpoint=dms_sim.base_url,
        access_key_id=dms_sim.access_key_id,
        access_key_secret="not-the-secret",
    ) as client:
        with pytest.raises(DmsError) as caught:
            await client.list_instances()

    assert (caught.value.status, caught.value.code) == (403, "SignatureDoesNotMatch")
    assert "not-the-secret" not in str(caught.value)

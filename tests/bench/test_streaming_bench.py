"""Benchmarks (`make bench`): how fast replies move through the Xingchen layer.

They print numbers for the README and assert nothing about speed.
"""

from __future__ import annotations

import json
import statistics
import time

from platforms.xingchen.client import XingchenClient, _StreamState
from platforms.xingchen.sse import SSEDecoder
from platforms.xingchen.types import CharacterInput, ChatRequest, Message


def _event(i: int) -> bytes:
    payload = {
        "requestId": "r",
        "choices": [
            {"stopReason": "null", "messages": [{"role": "assistant", "content": f"t{i}"}]}
        ],
        "context": {"requestId": "r", "sessionId": "s"},
    }
    return b"event:result\ndata:" + json.dumps(payload).encode() + b"\n\n"


def test_sse_decoder_throughput():
    body = b"".join(_event(i) for i in range(20_000))
    chunks = [body[i : i + 1500] for i in range(0, len(body), 1500)]
    started = time.perf_counter()
    decoder = SSEDecoder()
    events = sum(len(decoder.feed(chunk)) for chunk in chunks)
    elapsed = time.perf_counter() - started
    print(f"\nSSE decoder: {events} events in {elapsed:.3f}s = {events / elapsed:,.0f} events/s")
    assert events == 20_000


def test_chat_event_decoding_throughput():
    # What chat_stream does per event once the SSE frame is cut: parse the JSON, decode the
    # payload and fold it into the running reply.
    frames = [event.data for event in SSEDecoder().feed(b"".join(_event(i) for i in range(20_000)))]
    rates = []
    for _ in range(3):
        state = _StreamState(incremental=True)
        started = time.perf_counter()
        events = [state.advance(json.loads(frame)) for frame in frames]
        rates.append(len(events) / (time.perf_counter() - started))
    print(f"\nChatEvent decoding: best of 3 {max(rates):,.0f} events/s")
    assert events[-1].text.endswith("t19999")
    assert events[-1].context.session_id == "s"


async def test_streamed_reply_from_the_simulator(sim):
    sim.configure(tokens_per_second=100_000, first_token_ms=0)
    character_id = await _character(sim)
    client = XingchenClient(base_url=sim.base_url, api_key=sim.api_key)
    first_delta, totals, chars = [], [], 0
    try:
        for turn in range(10):
            started = time.perf_counter()
            request = ChatRequest(
                character_id=character_id,
                user_id="bench",
                messages=[Message(role="user", content=f"Tell me a long story, part {turn}")],
                max_length=2000,
            )
            async for event in client.chat_stream(request):
                if len(first_delta) == turn:
                    first_delta.append(time.perf_counter() - started)
                if event.finished:
                    chars += len(event.text)
            totals.append(time.perf_counter() - started)
    finally:
        await client.aclose()
    first_ms = statistics.median(first_delta) * 1000
    whole_ms = statistics.median(totals) * 1000
    print(
        f"\nSimulator stream via client: first delta median {first_ms:.1f} ms,"
        f" whole reply median {whole_ms:.1f} ms, {chars / sum(totals):,.0f} chars/s"
    )
    assert chars > 0


async def _character(sim) -> str:
    client = XingchenClient(base_url=sim.base_url, api_key=sim.api_key)
    try:
        return await client.character_create(
            CharacterInput(name="Bench", basic_information="A storyteller who talks at length.")
        )
    finally:
        await client.aclose()

from __future__ import annotations

import pytest

from platforms.xingchen.sse import SSEDecoder, SSEEvent, aiter_sse


def decode(*chunks: bytes | str) -> list[SSEEvent]:
    decoder = SSEDecoder()
    events = []
    for chunk in chunks:
        events.extend(decoder.feed(chunk))
    events.extend(decoder.close())
    return events


def test_it_dispatches_an_event_on_a_blank_line():
    assert decode(b'event:result\ndata:{"a":1}\n\n') == [SSEEvent("result", '{"a":1}')]


def test_an_unnamed_event_is_a_message():
    assert decode("data: hi\n\n") == [SSEEvent("message", "hi")]


def test_it_strips_one_space_after_the_colon_only():
    assert decode("data:  two\n\n")[0].data == " two"


def test_it_joins_multi_line_data_with_newlines():
    assert decode("data: first\ndata: second\ndata\n\n")[0].data == "first\nsecond\n"


@pytest.mark.parametrize("ending", ["\n", "\r\n", "\r"])
def test_it_accepts_every_line_ending(ending):
    text = f"event: result{ending}data: x{ending}{ending}data: y{ending}{ending}"
    assert [e.data for e in decode(text)] == ["x", "y"]


def test_it_handles_crlf_split_across_chunks():
    events = decode(b"data: a\r", b"\n\r", b"\ndata: b\r\n\r\n")
    assert [e.data for e in events] == ["a", "b"]


def test_a_bare_cr_at_the_end_of_the_stream_still_ends_the_line():
    assert [e.data for e in decode(b"data: a\r\r")] == ["a"]


def test_it_ignores_comments_and_unknown_fields():
    events = decode(": keep-alive\nfoo: bar\ndata: x\n\n:\n\n")
    assert events == [SSEEvent("message", "x")]


def test_it_keeps_the_last_event_id_and_retry():
    events = decode("id: 7\nretry: 1500\ndata: a\n\ndata: b\n\n")
    assert [(e.id, e.retry) for e in events] == [("7", 1500), ("7", 1500)]


def test_an_event_without_data_is_not_dispatched_and_its_name_is_reset():
    events = decode("event: error\n\ndata: x\n\n")
    assert events == [SSEEvent("message", "x")]


def test_an_unterminated_event_at_the_end_is_discarded():
    assert decode("data: complete\n\ndata: partial") == [SSEEvent("message", "complete")]


def test_it_decodes_utf8_split_inside_a_character():
    encoded = "data: 你好\n\n".encode()
    cut = encoded.index("你".encode()) + 1
    assert decode(encoded[:cut], encoded[cut:])[0].data == "你好"


def test_it_drops_a_leading_byte_order_mark():
    assert decode("\ufeffdata: x\n\n")[0].data == "x"


def test_feed_line_returns_the_event_a_blank_line_completes():
    decoder = SSEDecoder()
    assert decoder.feed_line("event:error") is None
    assert decoder.feed_line('data:{"errorCode":500}') is None
    assert decoder.feed_line("") == SSEEvent("error", '{"errorCode":500}')


async def test_aiter_sse_yields_events_as_chunks_arrive():
    async def chunks():
        yield b"data: o"
        yield b"ne\n\nda"
        yield b"ta: two\n\n"

    assert [e.data async for e in aiter_sse(chunks())] == ["one", "two"]

"""Server-sent events decoding (the WHATWG event-stream format), independent of any transport."""

from __future__ import annotations

import codecs
import re
from collections.abc import AsyncIterable, AsyncIterator
from dataclasses import dataclass

_LINE_END = re.compile(r"\r\n|\r|\n")


@dataclass(frozen=True)
class SSEEvent:
    """One dispatched event: `event` is "message" when the server named none."""

    event: str
    data: str
    id: str | None = None
    retry: int | None = None


class SSEDecoder:
    """Turns a stream of byte (or text) chunks into `SSEEvent`s.

    Lines may end in LF, CRLF or CR, also split across chunks; `data:` lines of one event are
    joined with newlines; comments (`:` lines) and unknown fields are ignored; an event is
    dispatched on a blank line. An event not terminated by a blank line before the end of the
    stream is discarded, as the format requires.
    """

    def __init__(self) -> None:
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self._buffer = ""
        self._started = False
        self._event = ""
        self._data: list[str] = []
        self._last_id: str | None = None
        self._retry: int | None = None

    def feed(self, chunk: bytes | str) -> list[SSEEvent]:
        """Consume one chunk and return the events it completed."""
        text = self._decoder.decode(chunk) if isinstance(chunk, bytes) else chunk
        if not self._started and text:
            self._started = True
            text = text.removeprefix("\ufeff")
        buffer = self._buffer + text
        # A trailing CR may be the first half of a CRLF that arrives in the next chunk.
        held_cr = buffer.endswith("\r")
        pieces = _LINE_END.split(buffer[:-1] if held_cr else buffer)
        self._buffer = pieces.pop() + ("\r" if held_cr else "")
        return self._feed_lines(pieces)

    def close(self) -> list[SSEEvent]:
        """Signal the end of the stream; returns any event completed by a final bare CR."""
        events = self.feed(self._decoder.decode(b"", final=True))
        if self._buffer.endswith("\r"):
            events.extend(self._feed_lines(_LINE_END.split(self._buffer[:-1])))
        self._buffer = ""
        self._event, self._data = "", []
        return events

    def feed_line(self, line: str) -> SSEEvent | None:
        """Consume one line without its terminator; returns the event a blank line completes."""
        if not line:
            return self._dispatch()
        if line.startswith(":"):
            return None
        field, _, value = line.partition(":")
        value = value.removeprefix(" ")
        if field == "event":
            self._event = value
        elif field == "data":
            self._data.append(value)
        elif field == "id" and "\0" not in value:
            self._last_id = value
        elif field == "retry" and value.isdigit():
            self._retry = int(value)
        return None

    def _feed_lines(self, lines: list[str]) -> list[SSEEvent]:
        events = []
        for line in lines:
            event = self.feed_line(line)
            if event is not None:
                events.append(event)
        return events

    def _dispatch(self) -> SSEEvent | None:
        data, name = self._data, self._event
        self._data, self._event = [], ""
        if not data:
            return None
        return SSEEvent(
            event=name or "message", data="\n".join(data), id=self._last_id, retry=self._retry
        )


async def aiter_sse(chunks: AsyncIterable[bytes]) -> AsyncIterator[SSEEvent]:
    """Decode an async stream of byte chunks into events as soon as each is complete."""
    decoder = SSEDecoder()
    async for chunk in chunks:
        for event in decoder.feed(chunk):
            yield event
    for event in decoder.close():
        yield event

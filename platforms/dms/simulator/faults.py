"""Fault injection: failures queued by the control API, each taken by the next chat request.

Kinds: `http` {status, code?, message?, retry_after?} refuses the request (after the signature
checks); `cut` {after_events} drops the connection mid-stream; `stall` {after_events, seconds}
goes silent; `malformed` {after_events} sends an event that is not JSON; `stream_error`
{after_events, code?, message?} sends a `Success:false` event and ends the stream. Every kind
takes `count` (default 1): how many requests it applies to.
"""

from __future__ import annotations

from collections import deque
from dataclasses import asdict, dataclass
from typing import Any

from .errors import ApiError

KINDS = frozenset({"http", "cut", "stall", "malformed", "stream_error"})
DEFAULT_STALL_SECONDS = 3600.0
HTTP_DEFAULTS = {
    400: ("InvalidParameter", "The specified parameter is invalid."),
    403: ("Forbidden.RAM", "User not authorized to operate on the specified resource."),
    429: ("Throttling.User", "Request was denied due to user flow control."),
    500: ("InternalError", "The request processing has failed due to some unknown error."),
    503: ("ServiceUnavailable", "The request has failed due to a temporary failure of the server."),
}


@dataclass
class Fault:
    kind: str
    remaining: int = 1
    status: int = 500
    code: str = ""
    message: str = ""
    retry_after: float | None = None
    after_events: int = 0
    seconds: float = DEFAULT_STALL_SECONDS

    def http_error(self) -> ApiError:
        code, message = HTTP_DEFAULTS.get(self.status, ("UnknownError", "Injected failure."))
        return ApiError(
            self.status, self.code or code, self.message or message, retry_after=self.retry_after
        )

    def describe(self) -> dict[str, Any]:
        return asdict(self)


def parse_fault(spec: dict[str, Any]) -> Fault:
    """A control-API fault body as a Fault, or ValueError."""
    kind = spec.get("kind")
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {', '.join(sorted(KINDS))}")
    fault = Fault(
        kind=kind,
        remaining=int(spec.get("count", 1)),
        status=int(spec.get("status", 500)),
        code=str(spec.get("code") or ""),
        message=str(spec.get("message") or ""),
        retry_after=None if spec.get("retry_after") is None else float(spec["retry_after"]),
        after_events=int(spec.get("after_events", 0)),
        seconds=float(spec.get("seconds", DEFAULT_STALL_SECONDS)),
    )
    if fault.remaining < 1 or fault.after_events < 0 or fault.seconds < 0:
        raise ValueError("count must be at least 1; after_events and seconds not negative")
    if kind == "http" and not 400 <= fault.status <= 599:
        raise ValueError("status must be an HTTP error status (400-599)")
    if kind == "stream_error" and not fault.code:
        fault.code = "UnknownError"
    return fault


class FaultBook:
    def __init__(self) -> None:
        self._queue: deque[Fault] = deque()

    def add(self, fault: Fault) -> None:
        self._queue.append(fault)

    def take(self) -> Fault | None:
        if not self._queue:
            return None
        fault = self._queue[0]
        fault.remaining -= 1
        if fault.remaining <= 0:
            self._queue.popleft()
        return fault

    def clear(self) -> None:
        self._queue.clear()

    def pending(self) -> list[dict[str, Any]]:
        return [fault.describe() for fault in self._queue]

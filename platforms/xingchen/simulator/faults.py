"""Fault injection: failures queued per servicename and consumed by the next calls.

Each call of a servicename takes the oldest queued fault (decrementing its `count`). A `status`
fault refuses the call before any work; the stream kinds (`cut`, `stall`, `malformed`,
`error_event`) are applied by the streaming endpoints after `after_events` result events and are
used up without effect by a call that does not stream. A `slow_response` fault lets the call do
its work and then holds the answer back `seconds` (so a client times out on a change that was
made); the character writes (create, update, version save) apply it.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict, deque
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from .errors import ApiError

STREAM_KINDS = frozenset({"cut", "stall", "malformed", "error_event"})
KINDS = STREAM_KINDS | {"status", "slow_response"}
DEFAULT_STREAM_SERVICE = "aca-chat-send-sse"
DEFAULT_STALL_SECONDS = 3600.0
BAD_KEY_MESSAGE = "Unauthorized user! apikey is invalid."
ERRORS = {
    401: ("InvalidApiKey", BAD_KEY_MESSAGE),
    429: ("Throttling.RateQuota", "Requests rate limit exceeded, please try again later."),
    500: ("InternalError", "An internal error occurred, please try again later."),
    503: ("ServiceUnavailable", "The service is temporarily unavailable, please try again later."),
}


@dataclass
class Fault:
    kind: str
    remaining: int
    status: int = 500
    retry_after: float | None = None
    after_events: int = 0
    seconds: float = DEFAULT_STALL_SECONDS

    def error(self) -> ApiError:
        name, message = ERRORS.get(self.status, ("SimulatedFault", "Injected failure."))
        return ApiError(self.status, name, message)

    def describe(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "remaining": self.remaining,
            "status": self.status,
            "retry_after": self.retry_after,
            "after_events": self.after_events,
            "seconds": self.seconds,
        }


def parse_fault(spec: dict[str, Any]) -> tuple[str, Fault]:
    """Validates a control-API fault body; returns (servicename, fault) or raises ValueError."""
    kind = spec.get("kind") or "status"
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {', '.join(sorted(KINDS))}")
    servicename = spec.get("servicename")
    if not servicename:
        if kind == "status":
            raise ValueError("servicename is required")
        servicename = DEFAULT_STREAM_SERVICE
    count = int(spec.get("count", 1))
    if count < 1:
        raise ValueError("count must be at least 1")
    status = int(spec.get("status", 500))
    if kind in ("status", "error_event") and not 400 <= status <= 599:
        raise ValueError("status must be an HTTP error status (400-599)")
    if kind == "status" and "status" not in spec:
        raise ValueError("status is required for an HTTP-status fault")
    if kind == "slow_response" and "seconds" not in spec:
        raise ValueError("seconds is required for a slow_response fault")
    retry_after = spec.get("retry_after")
    after_events = int(spec.get("after_events", 0))
    if after_events < 0:
        raise ValueError("after_events must not be negative")
    fault = Fault(
        kind=kind,
        remaining=count,
        status=status,
        retry_after=None if retry_after is None else float(retry_after),
        after_events=after_events,
        seconds=float(spec.get("seconds", DEFAULT_STALL_SECONDS)),
    )
    return str(servicename), fault


# The fault the current request took: the gateway hands it to handlers, but the character
# operations only receive the body, so they read it from here.
_taken: ContextVar[Fault | None] = ContextVar("simulator_fault", default=None)


async def answer_late() -> None:
    """Applies a `slow_response` fault taken by this request; call once its work is done."""
    fault = _taken.get()
    if fault is not None and fault.kind == "slow_response":
        await asyncio.sleep(fault.seconds)


class FaultBook:
    def __init__(self) -> None:
        self._queues: defaultdict[str, deque[Fault]] = defaultdict(deque)

    def add(self, servicename: str, fault: Fault) -> None:
        self._queues[servicename].append(fault)

    def take(self, servicename: str) -> Fault | None:
        queue = self._queues.get(servicename)
        if not queue:
            _taken.set(None)
            return None
        fault = queue[0]
        _taken.set(fault)
        fault.remaining -= 1
        if fault.remaining <= 0:
            queue.popleft()
        return fault

    def clear(self) -> None:
        self._queues.clear()

    def pending(self) -> dict[str, list[dict[str, Any]]]:
        return {
            name: [f.describe() for f in queue] for name, queue in self._queues.items() if queue
        }

"""Fault injection: failures queued by the control API and consumed by the next calls.

A fault targets `chat` (the default) or `knowledge_bases`. An `http` fault refuses the next call
of its target once the token and organisation are checked. The stream kinds (`cut`, `stall`,
`malformed`, `stream_error`) wait for the next *streamed* chat and strike after `after_events`
answer events; a non-streamed chat passes them by. `count` repeats a fault that many calls.
"""

from __future__ import annotations

from collections import deque
from dataclasses import asdict, dataclass
from typing import Any

from .errors import DEFAULT_CODES, ApiError

STREAM_KINDS = frozenset({"cut", "stall", "malformed", "stream_error"})
KINDS = STREAM_KINDS | {"http"}
TARGETS = frozenset({"chat", "knowledge_bases"})
DEFAULT_STALL_SECONDS = 3600.0
DEFAULT_MESSAGE = "Injected failure."


@dataclass
class Fault:
    kind: str
    target: str = "chat"
    remaining: int = 1
    status: int = 500
    code: str = ""
    message: str = DEFAULT_MESSAGE
    retry_after: float | None = None
    after_events: int = 0
    seconds: float = DEFAULT_STALL_SECONDS

    def error(self) -> ApiError:
        code = self.code or DEFAULT_CODES.get(self.status, "SimulatedFault")
        return ApiError(self.status, code, self.message, retry_after=self.retry_after)


def parse_fault(spec: dict[str, Any]) -> Fault:
    """Validates a control-API fault body; raises ValueError."""
    kind = spec.get("kind")
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {', '.join(sorted(KINDS))}")
    target = spec.get("target", "chat")
    if target not in TARGETS or (kind in STREAM_KINDS and target != "chat"):
        raise ValueError("target must be chat or knowledge_bases (stream faults: chat only)")
    status = int(spec.get("status", 500))
    if not 400 <= status <= 599:
        raise ValueError("status must be an HTTP error status (400-599)")
    fault = Fault(
        kind=kind,
        target=target,
        remaining=int(spec.get("count", 1)),
        status=status,
        code=str(spec.get("code") or ""),
        message=str(spec.get("message") or DEFAULT_MESSAGE),
        retry_after=None if spec.get("retry_after") is None else float(spec["retry_after"]),
        after_events=int(spec.get("after_events", 0)),
        seconds=float(spec.get("seconds", DEFAULT_STALL_SECONDS)),
    )
    if fault.remaining < 1 or fault.after_events < 0 or fault.seconds < 0:
        raise ValueError("count must be at least 1, after_events and seconds not negative")
    return fault


class FaultBook:
    def __init__(self) -> None:
        self._queue: deque[Fault] = deque()

    def add(self, fault: Fault) -> None:
        self._queue.append(fault)

    def take(self, target: str, *, streaming: bool) -> Fault | None:
        """The oldest fault that applies to this call, used up by it."""
        for fault in self._queue:
            if fault.target != target or (fault.kind in STREAM_KINDS and not streaming):
                continue
            fault.remaining -= 1
            if fault.remaining <= 0:
                self._queue.remove(fault)
            return fault
        return None

    def clear(self) -> None:
        self._queue.clear()

    def pending(self) -> list[dict[str, Any]]:
        return [asdict(fault) for fault in self._queue]

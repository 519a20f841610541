"""Everything one running simulator holds: settings, knowledge bases, faults, requests seen."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from typing import Any

from .config import SimulatorConfig
from .faults import FaultBook
from .knowledge import KnowledgeStore

REQUESTS_KEPT = 100
# Headers that carry a credential never reach the request log.
SECRET_HEADERS = frozenset({"x-yunxiao-token", "authorization", "cookie"})


class RequestLog:
    """The last requests received, decoded, so tests can assert what a client sent."""

    def __init__(self) -> None:
        self._entries: deque[dict[str, Any]] = deque(maxlen=REQUESTS_KEPT)

    def record(
        self, *, request_id: str, method: str, path: str, query: dict[str, str],
        headers: dict[str, str], body: Any,
    ) -> dict[str, Any]:  # fmt: skip
        """Stores one call; the caller fills in `status` once it is answered."""
        entry = {
            "requestId": request_id,
            "method": method,
            "path": path,
            "query": query,
            "headers": {k: v for k, v in headers.items() if k.lower() not in SECRET_HEADERS},
            "body": body,
            "status": None,
        }
        self._entries.append(entry)
        return entry

    def recent(self) -> list[dict[str, Any]]:
        return list(self._entries)

    def clear(self) -> None:
        self._entries.clear()


@dataclass
class Simulator:
    config: SimulatorConfig
    knowledge: KnowledgeStore
    faults: FaultBook = field(default_factory=FaultBook)
    log: RequestLog = field(default_factory=RequestLog)

    @classmethod
    def open(cls, config: SimulatorConfig) -> Simulator:
        return cls(config=config, knowledge=KnowledgeStore(config.knowledge_path))

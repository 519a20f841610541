"""The last requests received per servicename, so tests can assert what a client sent."""

from __future__ import annotations

from collections import defaultdict, deque
from typing import Any

KEEP = 50


class RequestLog:
    def __init__(self) -> None:
        self._by_service: defaultdict[str, deque[dict[str, Any]]] = defaultdict(
            lambda: deque(maxlen=KEEP)
        )
        self._all: deque[dict[str, Any]] = deque(maxlen=KEEP)

    def record(
        self,
        *,
        servicename: str,
        method: str,
        path: str,
        query: dict[str, str],
        headers: dict[str, str],
        body: Any,
        request_id: str,
    ) -> dict[str, Any]:
        """Stores one call; the caller fills in `status` once the call is answered."""
        entry: dict[str, Any] = {
            "requestId": request_id,
            "servicename": servicename,
            "method": method,
            "path": path,
            "query": query,
            # The key is a credential: it never reaches the log.
            "headers": {k: v for k, v in headers.items() if k.lower() != "authorization"},
            "json": body,
            "status": None,
        }
        self._by_service[servicename].append(entry)
        self._all.append(entry)
        return entry

    def recent(self, servicename: str | None) -> list[dict[str, Any]]:
        if servicename is None:
            return list(self._all)
        return list(self._by_service.get(servicename, ()))

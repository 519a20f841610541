"""Everything one running simulator holds: settings, storage, faults, and chats in flight."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

import httpx

from .config import SimulatorConfig
from .faults import FaultBook
from .files import FileShelf
from .request_log import RequestLog
from .store import Store

# Timeout for fetching caller-supplied URLs (avatars, workbooks, description files).
FETCH_TIMEOUT_SECONDS = 5.0


class Stoppable(Protocol):
    def stop(self, content: str | None) -> None: ...


@dataclass
class Simulator:
    config: SimulatorConfig
    store: Store
    files: FileShelf
    faults: FaultBook = field(default_factory=FaultBook)
    log: RequestLog = field(default_factory=RequestLog)
    # Streams in flight by request id (for chat/stop) and the user ids with a chat in flight.
    streams: dict[str, Stoppable] = field(default_factory=dict)
    busy_users: dict[str, str] = field(default_factory=dict)
    _http: httpx.AsyncClient | None = None

    @classmethod
    def open(cls, config: SimulatorConfig) -> Simulator:
        store = Store(config.db_path)
        files = FileShelf(config.files_dir, config.public_url, config.api_key)
        return cls(config=config, store=store, files=files)

    @property
    def http(self) -> httpx.AsyncClient:
        if self._http is None:
            self._http = httpx.AsyncClient(timeout=FETCH_TIMEOUT_SECONDS)
        return self._http

    async def aclose(self) -> None:
        for stream in list(self.streams.values()):
            stream.stop(None)
        if self._http is not None:
            await self._http.aclose()
        self.store.close()

"""What one simulator process holds: settings, seen nonces, queued faults, the request log."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from typing import Any

from .config import SimulatorConfig
from .faults import FaultBook
from .nonces import NonceBook

REQUESTS_KEPT = 200


@dataclass
class Simulator:
    config: SimulatorConfig
    nonces: NonceBook
    faults: FaultBook = field(default_factory=FaultBook)
    requests: deque[dict[str, Any]] = field(default_factory=lambda: deque(maxlen=REQUESTS_KEPT))

    @classmethod
    def open(cls, config: SimulatorConfig) -> Simulator:
        config.data_dir.mkdir(parents=True, exist_ok=True)
        return cls(config=config, nonces=NonceBook(config.data_dir / "nonces.txt"))

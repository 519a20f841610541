"""The simulator's settings: the one access key and instance it serves, and its pacing."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# x-acs-date may differ from the server clock by this much either way (Q9 choice).
DATE_WINDOW_SECONDS = 15 * 60


@dataclass
class SimulatorConfig:
    access_key_id: str
    access_key_secret: str = field(repr=False)
    instance_id: int
    data_dir: Path
    tokens_per_second: float = 30.0
    first_token_ms: int = 400

    def pacing(self) -> dict[str, Any]:
        return {"tokens_per_second": self.tokens_per_second, "first_token_ms": self.first_token_ms}

    def update_pacing(self, changes: dict[str, Any]) -> None:
        """Applies `tokens_per_second` / `first_token_ms`; raises ValueError on bad values."""
        unknown = set(changes) - {"tokens_per_second", "first_token_ms"}
        if unknown:
            raise ValueError(f"unknown settings: {', '.join(sorted(unknown))}")
        tokens_per_second = float(changes.get("tokens_per_second", self.tokens_per_second))
        first_token_ms = int(changes.get("first_token_ms", self.first_token_ms))
        if tokens_per_second <= 0 or first_token_ms < 0:
            raise ValueError("tokens_per_second must be positive and first_token_ms not negative")
        self.tokens_per_second, self.first_token_ms = tokens_per_second, first_token_ms

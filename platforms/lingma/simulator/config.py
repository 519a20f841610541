"""Runtime settings of the simulator; pacing and stream shape change at run time."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

TEXT_MODES = ("incremental", "cumulative")
END_MARKERS = ("none", "done", "event")
DEFAULT_TOKENS_PER_SECOND = 30.0
DEFAULT_FIRST_TOKEN_MS = 400


@dataclass
class SimulatorConfig:
    token: str
    organization_id: str
    data_dir: Path
    tokens_per_second: float = DEFAULT_TOKENS_PER_SECOND
    first_token_ms: int = DEFAULT_FIRST_TOKEN_MS
    text_mode: str = "incremental"
    end_marker: str = "none"

    @property
    def knowledge_path(self) -> Path:
        return self.data_dir / "knowledge_bases.json"

    def describe(self) -> dict[str, Any]:
        return {
            "tokens_per_second": self.tokens_per_second,
            "first_token_ms": self.first_token_ms,
            "text_mode": self.text_mode,
            "end_marker": self.end_marker,
        }

    def update(self, changes: dict[str, Any]) -> None:
        """Applies a control call's changes, all or none; raises ValueError on a bad one."""
        unknown = set(changes) - set(self.describe())
        if unknown:
            raise ValueError(f"unknown config keys: {', '.join(sorted(unknown))}")
        rate = float(changes.get("tokens_per_second", self.tokens_per_second))
        delay = int(changes.get("first_token_ms", self.first_token_ms))
        text_mode = changes.get("text_mode", self.text_mode)
        end_marker = changes.get("end_marker", self.end_marker)
        if rate <= 0 or delay < 0:
            raise ValueError("tokens_per_second must be positive and first_token_ms not negative")
        if text_mode not in TEXT_MODES:
            raise ValueError(f"text_mode must be one of {', '.join(TEXT_MODES)}")
        if end_marker not in END_MARKERS:
            raise ValueError(f"end_marker must be one of {', '.join(END_MARKERS)}")
        self.tokens_per_second, self.first_token_ms = rate, delay
        self.text_mode, self.end_marker = text_mode, end_marker

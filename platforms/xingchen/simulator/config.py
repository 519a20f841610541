"""Runtime settings of the simulator; tokens_per_second and first_token_ms change at run time."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass
class SimulatorConfig:
    api_key: str
    data_dir: Path
    public_url: str
    tokens_per_second: float = 30.0
    first_token_ms: int = 400

    @property
    def db_path(self) -> Path:
        return self.data_dir / "simulator.sqlite3"

    @property
    def files_dir(self) -> Path:
        return self.data_dir / "files"

    def pacing(self) -> dict[str, float | int]:
        return {"tokens_per_second": self.tokens_per_second, "first_token_ms": self.first_token_ms}

    def update_pacing(self, changes: dict[str, object]) -> None:
        """Applies `tokens_per_second` / `first_token_ms` from a control call; raises ValueError."""
        unknown = set(changes) - {"tokens_per_second", "first_token_ms"}
        if unknown:
            raise ValueError(f"unknown config keys: {', '.join(sorted(unknown))}")
        if "tokens_per_second" in changes:
            rate = float(changes["tokens_per_second"])  # type: ignore[arg-type]
            if rate <= 0:
                raise ValueError("tokens_per_second must be positive")
            self.tokens_per_second = rate
        if "first_token_ms" in changes:
            delay = int(changes["first_token_ms"])  # type: ignore[call-overload]
            if delay < 0:
                raise ValueError("first_token_ms must not be negative")
            self.first_token_ms = delay

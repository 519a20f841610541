"""Signature nonces seen within the date window, kept in the data dir across restarts."""

from __future__ import annotations

import time
from pathlib import Path

from .config import DATE_WINDOW_SECONDS


class NonceBook:
    """Remembers each nonce for twice the date window: a request may be dated up to one window
    ahead, and a replay up to one window later is still inside the window."""

    def __init__(self, path: Path) -> None:
        self._path = path
        self._seen: dict[str, float] = {}
        if path.exists():
            for line in path.read_text().splitlines():
                stamp, _, nonce = line.partition(" ")
                if nonce:
                    self._seen[nonce] = float(stamp)
        self._prune(time.time())
        self._rewrite()

    def use(self, nonce: str) -> bool:
        """Records `nonce`; False when it was already used."""
        now = time.time()
        self._prune(now)
        if nonce in self._seen:
            return False
        self._seen[nonce] = now
        with self._path.open("a") as log:
            log.write(f"{now:.3f} {nonce}\n")
        return True

    def _prune(self, now: float) -> None:
        horizon = now - 2 * DATE_WINDOW_SECONDS
        self._seen = {n: t for n, t in self._seen.items() if t >= horizon}

    def _rewrite(self) -> None:
        self._path.parent.mkdir(parents=True, exist_ok=True)
        self._path.write_text("".join(f"{t:.3f} {n}\n" for n, t in self._seen.items()))

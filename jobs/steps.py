"""What one step of a job can end in. A kind's `step(job)` returns one of these; the runner
(jobs.services) records it. Steps must be idempotent: a step cut off by a crash runs again."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from jobs.models import Job


@dataclass(frozen=True)
class Again:
    """Not done yet: look again in `delay` seconds."""

    delay: float
    progress: int | None = None
    note: str = ""


@dataclass(frozen=True)
class Succeeded:
    result: dict[str, Any] = field(default_factory=dict)
    note: str = ""


@dataclass(frozen=True)
class Empty:
    """Finished with nothing to show (a reply that carried no picture)."""

    note: str


@dataclass(frozen=True)
class Failed:
    error: str


Step = Again | Succeeded | Empty | Failed
StepFunction = Callable[["Job"], Step]


def poll_delay(steps: int, *, first: float = 1.0, cap: float = 15.0) -> float:
    """Backoff between polls: 1, 1.5, 2.25... seconds up to `cap`."""
    return min(cap, first * 1.5 ** max(0, steps - 1))

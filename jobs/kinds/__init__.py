"""One module per kind of job, each with `step(job) -> jobs.steps.Step` and optionally
`prepare_retry(job)`; `KINDS` maps a Job.Kind to its module."""

from __future__ import annotations

import importlib
from types import ModuleType

_MODULES = {
    "picture": "jobs.kinds.picture",
    "convert": "jobs.kinds.convert",
    "describe": "jobs.kinds.describe",
    "memory": "jobs.kinds.memory",
}


def kind_module(kind: str) -> ModuleType:
    return importlib.import_module(_MODULES[kind])

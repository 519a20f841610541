"""Yunxiao Lingma (通义灵码) OpenAPI: the ExecuteChat client, its types and its simulator."""

from __future__ import annotations

from .client import DEFAULT_BASE_URL, LingmaClient
from .errors import LingmaError

__all__ = ["DEFAULT_BASE_URL", "LingmaClient", "LingmaError"]

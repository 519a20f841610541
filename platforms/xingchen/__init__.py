"""Client of Alibaba's Tongyi Xingchen character platform (v2 open API)."""

from __future__ import annotations

from .client import XingchenClient
from .errors import XingchenError

__all__ = ["XingchenClient", "XingchenError"]

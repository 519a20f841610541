"""Alibaba Cloud DMS `ChatWithDesensitizeSSE`: a V3-signed streaming chat with PII masking."""

from __future__ import annotations

from .client import DmsClient, endpoint_for_region
from .errors import DmsError
from .types import DmsChatEvent, DmsChatRequest, DmsMessage, DmsUsage

__all__ = [
    "DmsChatEvent",
    "DmsChatRequest",
    "DmsClient",
    "DmsError",
    "DmsMessage",
    "DmsUsage",
    "endpoint_for_region",
]

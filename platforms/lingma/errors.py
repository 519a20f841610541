"""The one error type raised by the Lingma client."""

from __future__ import annotations

from platforms.upstream_error import KINDS, ErrorKind, UpstreamError

__all__ = ["KINDS", "ErrorKind", "LingmaError", "is_retryable_status"]


def is_retryable_status(status: int | None) -> bool:
    """429 and 5xx are worth retrying; 4xx (a bad token, a bad parameter) will fail again."""
    return UpstreamError.is_retryable(status, "")


class LingmaError(UpstreamError):
    """A failed Lingma call; `code` is Yunxiao's `errorCode` (see `UpstreamError`). The access
    token never appears in the message or any attribute."""

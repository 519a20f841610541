"""The one error type raised by the DMS client."""

from __future__ import annotations

from platforms.upstream_error import KINDS, ErrorKind, UpstreamError

__all__ = ["KINDS", "DmsError", "ErrorKind", "is_retryable"]


def is_retryable(status: int | None, code: str) -> bool:
    """429, 5xx and the gateway's `Throttling*` codes are worth retrying; the rest is final."""
    return code.startswith("Throttling") or UpstreamError.is_retryable(status, code)


class DmsError(UpstreamError):
    """A failed DMS call (`ChatWithDesensitizeSSE`, `ListInstances`); see `UpstreamError`.
    Neither the message nor any attribute ever holds the access key secret."""

    is_retryable = staticmethod(is_retryable)

"""The shape every chat platform client's error shares (DMS, Lingma).

One exception per client, with the same attributes, so callers map failures to people's words
in one place whatever the platform.
"""

from __future__ import annotations

import functools
from typing import Any, Literal, get_args

ErrorKind = Literal["http", "stream", "timeout", "cut", "network", "malformed"]
KINDS = frozenset(get_args(ErrorKind))

# Trying again later can help whatever the status says: nothing was wrong with the request.
_TRANSIENT_KINDS = frozenset({"timeout", "cut", "network"})


class UpstreamError(Exception):
    """A failed call. `kind` says where it failed: "http" (refused before an answer), "stream"
    (an error event mid-answer), "timeout", "cut" (the connection broke mid-answer), "network"
    (never reached the server) or "malformed" (a body or event that is not the API's JSON).
    `code` is the service's error code ("" when there is none). Clients redact their secrets
    from every text they put here."""

    def __init__(
        self,
        message: str,
        *,
        kind: ErrorKind,
        code: str | None = "",
        status: int | None = None,
        request_id: str | None = "",
        retryable: bool | None = None,
        retry_after: float | None = None,
    ) -> None:
        if kind not in KINDS:
            raise ValueError(f"unknown {type(self).__name__} kind {kind!r}")
        super().__init__(message)
        self.message = message
        self.kind: ErrorKind = kind
        self.code = code or ""
        self.status = status
        self.request_id = request_id or ""
        self.retry_after = retry_after
        if retryable is None:
            retryable = kind in _TRANSIENT_KINDS or self.is_retryable(status, self.code)
        self.retryable = retryable

    @staticmethod
    def is_retryable(status: int | None, code: str) -> bool:
        """429 and 5xx are worth retrying; other refusals will fail again."""
        return status is not None and (status == 429 or 500 <= status <= 599)

    def _fields(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "code": self.code,
            "status": self.status,
            "request_id": self.request_id,
            "retryable": self.retryable,
            "retry_after": self.retry_after,
        }

    def __reduce__(self) -> tuple[functools.partial[UpstreamError], tuple[str]]:
        # Task queues pickle exceptions; the keyword-only constructor needs this to round-trip.
        return functools.partial(type(self), **self._fields()), (self.message,)

    def __str__(self) -> str:
        details = [f"kind={self.kind}"]
        if self.status is not None:
            details.append(f"status={self.status}")
        if self.code:
            details.append(f"code={self.code}")
        if self.request_id:
            details.append(f"requestId={self.request_id}")
        return f"{self.message} ({', '.join(details)})"

    def __repr__(self) -> str:
        fields = ", ".join(f"{name}={value!r}" for name, value in self._fields().items())
        return f"{type(self).__name__}({self.message!r}, {fields})"

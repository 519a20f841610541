"""The one error type raised by the Xingchen client."""

from __future__ import annotations

import functools

KINDS = frozenset({"http", "api", "stream", "cut", "timeout", "network", "malformed"})

# Kinds where trying again later can succeed whatever the status says.
_TRANSIENT_KINDS = frozenset({"cut", "timeout", "network"})


def is_retryable_status(status: int | None) -> bool:
    """429 and 5xx are worth retrying; every other status is the caller's fault or final."""
    return status is not None and (status == 429 or 500 <= status <= 599)


class XingchenError(Exception):
    """A failed Xingchen call.

    `kind` says where it failed: "http" (non-2xx, or a JSON body where an event stream was
    expected), "api" (2xx with an error envelope), "stream" (an error event mid-stream), "cut"
    (stream ended before a stop reason), "timeout", "network" or "malformed" (unparseable body
    or event). `message` never contains the API key: the client redacts every text it puts here.
    """

    def __init__(
        self,
        message: str,
        *,
        kind: str,
        status: int | None = None,
        error_code: str | None = None,
        error_name: str | None = None,
        request_id: str | None = None,
        retryable: bool | None = None,
        retry_after: float | None = None,
    ) -> None:
        if kind not in KINDS:
            raise ValueError(f"unknown XingchenError kind {kind!r}")
        super().__init__(message)
        self.message = message
        self.kind = kind
        self.status = status
        self.error_code = error_code
        self.error_name = error_name
        self.request_id = request_id
        self.retry_after = retry_after
        if retryable is None:
            retryable = kind in _TRANSIENT_KINDS or is_retryable_status(status)
        self.retryable = retryable

    def __reduce__(self) -> tuple[functools.partial[XingchenError], tuple[str]]:
        # Task queues pickle exceptions; the keyword-only constructor needs this to round-trip.
        rebuild = functools.partial(
            XingchenError,
            kind=self.kind,
            status=self.status,
            error_code=self.error_code,
            error_name=self.error_name,
            request_id=self.request_id,
            retryable=self.retryable,
            retry_after=self.retry_after,
        )
        return rebuild, (self.message,)

    def __str__(self) -> str:
        details = [f"kind={self.kind}"]
        if self.status is not None:
            details.append(f"status={self.status}")
        if self.error_code is not None:
            details.append(f"errorCode={self.error_code}")
        if self.error_name is not None:
            details.append(f"errorName={self.error_name}")
        if self.request_id is not None:
            details.append(f"requestId={self.request_id}")
        return f"{self.message} ({', '.join(details)})"

    def __repr__(self) -> str:
        return (
            f"XingchenError({self.message!r}, kind={self.kind!r}, status={self.status!r}, "
            f"error_code={self.error_code!r}, request_id={self.request_id!r}, "
            f"retryable={self.retryable!r}, retry_after={self.retry_after!r})"
        )

"""The gateway's error envelope and the exception handlers raise to produce it."""

from __future__ import annotations

import uuid
from typing import Any


def new_id() -> str:
    """A Xingchen-style opaque id (32 hex characters)."""
    return uuid.uuid4().hex


class ApiError(Exception):
    """A refused call: rendered as the §3 error envelope with `status` as HTTP status and code."""

    def __init__(self, status: int, name: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.name = name
        self.message = message


def bad_request(name: str, message: str) -> ApiError:
    return ApiError(400, name, message)


def not_found(name: str, message: str) -> ApiError:
    return ApiError(404, name, message)


def error_body(request_id: str, error: ApiError) -> dict[str, Any]:
    # Xingchen leaves `code` out on errors and sends `success` false (the doc allows null too).
    return {
        "requestId": request_id,
        "success": False,
        "errorCode": error.status,
        "errorName": error.name,
        "errorMessage": error.message,
        "httpStatusCode": error.status,
    }


def success_body(request_id: str, data: Any) -> dict[str, Any]:
    return {"requestId": request_id, "code": 200, "success": True, "data": data}

"""Yunxiao's unified error body and the exception handlers raise to produce it."""

from __future__ import annotations

import uuid
from http import HTTPStatus
from typing import Any

from starlette.responses import JSONResponse

# The code a fault or a refusal gets when none is given, by HTTP status (Yunxiao's error centre).
DEFAULT_CODES = {
    400: "BadRequest",
    401: "Unauthorized",
    403: "Forbidden",
    404: "NotFound",
    429: "TooManyRequests",
    500: "InternalServerError",
    503: "ServiceUnavailable",
}


def new_id() -> str:
    return str(uuid.uuid4()).upper()


class ApiError(Exception):
    """A refused call, rendered as Yunxiao's error body with `status` as the HTTP status."""

    def __init__(
        self, status: int, code: str, message: str, *, retry_after: float | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.retry_after = retry_after

    def body(self, request_id: str) -> dict[str, Any]:
        try:
            title = HTTPStatus(self.status).phrase
        except ValueError:
            title = "Error"
        return {
            "errorCode": self.code,
            "errorMessage": self.message,
            "requestId": request_id,
            "traceId": uuid.uuid4().hex,
            "httpStatus": str(self.status),
            "title": title,
            "hasDetailSolution": False,
        }

    def response(self, request_id: str) -> JSONResponse:
        headers = {"x-request-id": request_id}
        if self.retry_after is not None:
            headers["retry-after"] = f"{self.retry_after:g}"
        return JSONResponse(self.body(request_id), status_code=self.status, headers=headers)


def bad_request(message: str) -> ApiError:
    return ApiError(400, "BadRequest", message)

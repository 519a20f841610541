"""Gateway-style errors: HTTP status plus JSON {RequestId, HostId, Code, Message, Recommend}."""

from __future__ import annotations

from starlette.responses import JSONResponse

HOST_ID = "dms-enterprise.simulator.local"


class ApiError(Exception):
    def __init__(
        self, status: int, code: str, message: str, *, retry_after: float | None = None
    ) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.retry_after = retry_after

    def response(self, request_id: str) -> JSONResponse:
        body = {
            "RequestId": request_id,
            "HostId": HOST_ID,
            "Code": self.code,
            "Message": self.message,
            "Recommend": f"https://api.aliyun.com/troubleshoot?q={self.code}",
        }
        headers = {"x-acs-request-id": request_id}
        if self.retry_after is not None:
            seconds = f"{self.retry_after:g}"
            headers |= {"x-acs-retry-after": seconds, "Retry-After": seconds}
        return JSONResponse(body, status_code=self.status, headers=headers)

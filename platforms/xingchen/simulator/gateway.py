"""What Alibaba's API gateway does in front of every /v2 call.

In order: log the call, route it by `x-fag-appcode` + `x-fag-servicename` (a missing header is
HTTP 400 `MissingGatewayHeader`; a wrong appcode is 404 `AppNotFound`; a servicename that does not
serve this method and path is 404 `ServiceNotFound`), check the API key (401 `InvalidApiKey`,
"Unauthorized user! apikey is invalid."), apply an injected fault, then run the handler and wrap
what it returns in the §3 envelope. A handler that returns a Response (streams, completions)
bypasses the envelope.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from .errors import ApiError, error_body, new_id, success_body
from .faults import BAD_KEY_MESSAGE, Fault
from .state import Simulator

APP_CODE = "aca"


@dataclass
class Call:
    """One authenticated call as a handler sees it."""

    sim: Simulator
    request: Request
    request_id: str
    servicename: str
    body: dict[str, Any]
    fault: Fault | None

    @property
    def query(self) -> dict[str, str]:
        return dict(self.request.query_params)

    @property
    def path_params(self) -> dict[str, str]:
        return dict(self.request.path_params)

    def header_enabled(self, *names: str) -> bool:
        return any(self.request.headers.get(name, "").lower() == "enable" for name in names)


Handler = Callable[[Call], Awaitable[Any]]


@dataclass(frozen=True)
class Endpoint:
    method: str
    path: str
    servicenames: tuple[str, ...]
    handler: Handler

    def route(self) -> Route:
        async def endpoint(request: Request) -> Response:
            return await dispatch(request, self)

        return Route(self.path, endpoint, methods=[self.method], name=self.servicenames[0])


def error_response(
    request_id: str, error: ApiError, headers: dict[str, str] | None = None
) -> Response:
    return JSONResponse(error_body(request_id, error), status_code=error.status, headers=headers)


def fault_response(request_id: str, fault: Fault) -> Response:
    headers = None
    if fault.status == 429 and fault.retry_after is not None:
        headers = {"Retry-After": f"{fault.retry_after:g}"}
    return error_response(request_id, fault.error(), headers)


async def _read_body(request: Request) -> Any:
    raw = await request.body()
    if not raw:
        return None
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        return ApiError(400, "InvalidJson", "The request body is not valid JSON.")


def _route_problem(request: Request, endpoint: Endpoint) -> ApiError | None:
    appcode = request.headers.get("x-fag-appcode")
    servicename = request.headers.get("x-fag-servicename")
    if not appcode or not servicename:
        missing = "x-fag-appcode" if not appcode else "x-fag-servicename"
        return ApiError(400, "MissingGatewayHeader", f"Missing required header {missing}.")
    if appcode != APP_CODE:
        return ApiError(404, "AppNotFound", f"No application is registered as {appcode!r}.")
    if servicename not in endpoint.servicenames:
        return ApiError(
            404,
            "ServiceNotFound",
            f"Service {servicename!r} does not serve {request.method} {request.url.path}.",
        )
    return None


def authorized(sim: Simulator, request: Request) -> bool:
    return request.headers.get("authorization", "") == f"Bearer {sim.config.api_key}"


async def dispatch(request: Request, endpoint: Endpoint) -> Response:
    sim: Simulator = request.app.state.sim
    request_id = new_id()
    body = await _read_body(request)
    servicename = request.headers.get("x-fag-servicename", "")
    entry = sim.log.record(
        servicename=servicename,
        method=request.method,
        path=request.url.path,
        query=dict(request.query_params),
        headers=dict(request.headers),
        body=None if isinstance(body, ApiError) else body,
        request_id=request_id,
    )
    response = await _answer(sim, request, endpoint, request_id, servicename, body)
    entry["status"] = response.status_code
    return response


async def _answer(
    sim: Simulator,
    request: Request,
    endpoint: Endpoint,
    request_id: str,
    servicename: str,
    body: Any,
) -> Response:
    problem = _route_problem(request, endpoint)
    if problem is None and not authorized(sim, request):
        problem = ApiError(401, "InvalidApiKey", BAD_KEY_MESSAGE)
    if problem is None and isinstance(body, ApiError):
        problem = body
    if problem is None and body is not None and not isinstance(body, dict):
        problem = ApiError(400, "InvalidParameter", "The request body must be a JSON object.")
    if problem is not None:
        return error_response(request_id, problem)
    fault = sim.faults.take(servicename)
    if fault is not None and fault.kind == "status":
        return fault_response(request_id, fault)
    call = Call(sim, request, request_id, servicename, body or {}, fault)
    try:
        result = await endpoint.handler(call)
    except ApiError as error:
        return error_response(request_id, error)
    if isinstance(result, Response):
        return result
    return JSONResponse(success_body(request_id, result))


def unknown_api(request: Request) -> Response:
    """The gateway's answer for a /v2 path (or method) that no service serves."""
    error = ApiError(404, "ApiNotFound", f"No API matches {request.method} {request.url.path}.")
    return error_response(new_id(), error)

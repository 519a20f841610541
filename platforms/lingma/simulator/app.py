"""The Starlette application: the Lingma OpenAPI routes behind the token check, plus /_simulator.

Every OpenAPI call is checked in the gateway's order: the token (401 `Unauthorized` when
missing, 401 `InvalidTokenError` when wrong), then the organisation (403
`Forbidden.InvalidUser.UserNotInCurrentOrganization`), then any queued `http` fault, then the
body. Each call is recorded, decoded and without the token, for `GET /_simulator/requests`.
"""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from . import chat, control
from .config import SimulatorConfig
from .errors import ApiError, bad_request, new_id
from .faults import Fault
from .state import Simulator
from .streaming import QuietCuts

ORG_PATH = "/oapi/v1/lingma/organizations/{organization_id}"
NOT_IN_ORG = "Forbidden.InvalidUser.UserNotInCurrentOrganization"


@dataclass
class Call:
    sim: Simulator
    request: Request
    request_id: str
    query: dict[str, str]
    body: Any
    fault: Fault | None = None


Handler = Callable[[Call], Awaitable[Response]]


def _decoded(raw: bytes) -> Any:
    if not raw:
        return None
    try:
        return json.loads(raw)
    except ValueError:
        return raw.decode("utf-8", errors="replace")


def _authorize(call: Call) -> None:
    token = call.request.headers.get("x-yunxiao-token")
    if not token:
        raise ApiError(401, "Unauthorized", "The x-yunxiao-token header is required.")
    if not control.token_matches(call.sim, token):
        raise ApiError(401, "InvalidTokenError", "The personal access token is invalid.")
    if call.request.path_params["organization_id"] != call.sim.config.organization_id:
        raise ApiError(403, NOT_IN_ORG, "The user is not a member of this organization.")


def openapi(target: str, handler: Handler) -> Callable[[Request], Awaitable[Response]]:
    """An OpenAPI endpoint: records the call, checks access, applies faults, renders errors."""

    async def endpoint(request: Request) -> Response:
        sim: Simulator = request.app.state.sim
        request_id = new_id()
        query = dict(request.query_params)
        body = _decoded(await request.body())
        entry = sim.log.record(
            request_id=request_id,
            method=request.method,
            path=request.url.path,
            query=query,
            headers=dict(request.headers),
            body=body,
        )
        call = Call(sim, request, request_id, query, body)
        try:
            _authorize(call)
            streaming = target == "chat" and chat.flag(query, "stream")
            fault = sim.faults.take(target, streaming=streaming)
            if fault is not None and fault.kind == "http":
                raise fault.error()
            call.fault = fault
            response = await handler(call)
        except ApiError as error:
            response = error.response(request_id)
        entry["status"] = response.status_code
        return response

    return endpoint


async def _chat(call: Call) -> Response:
    parsed = chat.parse(call.sim, call.query, call.body)
    return await chat.respond(call.sim, parsed, call.request_id, call.fault)


async def _knowledge_bases(call: Call) -> Response:
    if call.request.method == "POST":
        if not isinstance(call.body, dict):
            raise bad_request("The body must be a JSON object.")
        kb_id = call.sim.knowledge.create(call.body)
        return JSONResponse({"kbId": kb_id}, headers={"x-request-id": call.request_id})
    items, headers = call.sim.knowledge.listing(call.query)
    return JSONResponse(items, headers={**headers, "x-request-id": call.request_id})


ROUTES = (
    Route(f"{ORG_PATH}/model/chat", openapi("chat", _chat), methods=["POST"]),
    Route(
        f"{ORG_PATH}/knowledgeBases",
        openapi("knowledge_bases", _knowledge_bases),
        methods=["GET", "POST"],
    ),
    Route("/_simulator/health", control.health, methods=["GET"]),
    Route("/_simulator/faults", control.guarded(control.add_fault), methods=["POST"]),
    Route("/_simulator/faults", control.guarded(control.clear_faults), methods=["DELETE"]),
    Route("/_simulator/faults", control.guarded(control.list_faults), methods=["GET"]),
    Route("/_simulator/config", control.guarded(control.configure), methods=["GET", "POST"]),
    Route("/_simulator/requests", control.guarded(control.requests), methods=["GET"]),
    Route("/_simulator/requests", control.guarded(control.clear_requests), methods=["DELETE"]),
)


async def _not_found(request: Request, exc: Exception) -> Response:
    if request.url.path.startswith("/oapi/"):
        return ApiError(404, "NotFound", f"No API at {request.url.path}.").response(new_id())
    return JSONResponse({"ok": False, "error": "not found"}, status_code=404)


@asynccontextmanager
async def _lifespan(app: Starlette) -> AsyncIterator[None]:
    # Installed once the server has configured its logging, which would otherwise reset it.
    quiet = QuietCuts()
    logging.getLogger("uvicorn.error").addFilter(quiet)
    yield
    logging.getLogger("uvicorn.error").removeFilter(quiet)


def create_app(config: SimulatorConfig) -> Starlette:
    app = Starlette(
        routes=list(ROUTES),
        exception_handlers={404: _not_found, 405: _not_found},
        lifespan=_lifespan,
    )
    app.state.sim = Simulator.open(config)
    return app

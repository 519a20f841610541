"""The Starlette application: the ChatWithDesensitizeSSE action at `/`, plus /_simulator."""

from __future__ import annotations

import uuid
from typing import Any
from urllib.parse import parse_qsl

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from platforms.dms.client import LIST_INSTANCES
from platforms.dms.signing import decode_query

from . import control
from .config import SimulatorConfig
from .errors import ApiError
from .gateway import authenticate
from .masking import mask
from .params import parse_chat
from .replies import compose
from .state import Simulator
from .streaming import EVENT_STREAM, ChunkWriter, EventStreamResponse, paced_events, plan

MASKED_ROLES = frozenset({"system", "user"})


def _log_entry(request: Request, request_id: str, params: dict[str, str]) -> dict[str, Any]:
    headers = {k: v for k, v in request.headers.items() if k != "authorization"}
    return {
        "request_id": request_id,
        "path": request.url.path,
        "headers": headers,
        "params": {k: v for k, v in params.items() if k != "Messages"},
        "messages_received": None,
        "messages_masked": None,
        "status": None,
        "code": None,
    }


async def chat(request: Request) -> Response:
    sim: Simulator = request.app.state.sim
    request_id = str(uuid.uuid4()).upper()
    body = await request.body()
    raw_query = request.url.query
    # POP gateways merge the query and the form body; a name in both keeps its query value.
    params = {**dict(parse_qsl(body.decode(errors="replace"))), **decode_query(raw_query)}
    entry = _log_entry(request, request_id, params)
    sim.requests.append(entry)
    try:
        authenticate(
            sim.config,
            sim.nonces,
            method=request.method,
            path=request.url.path,
            raw_query=raw_query,
            headers=request.headers,
            body=body,
        )
        if request.headers["x-acs-action"] == LIST_INSTANCES:
            entry.update(status=200)
            return JSONResponse(_instances(sim.config, request_id))
        fault = sim.faults.take()
        if fault is not None and fault.kind == "http":
            raise fault.http_error()
        call = parse_chat(params, sim.config.instance_id)
    except ApiError as error:
        entry.update(status=error.status, code=error.code)
        return error.response(request_id)
    masked = [
        {**m, "content": mask(m["content"])} if m["role"] in MASKED_ROLES else m
        for m in call.messages
    ]
    messages = masked if call.need_desensitization else call.messages
    entry.update(status=200, messages_received=call.messages, messages_masked=messages)
    writer = ChunkWriter(call, request_id)
    events = plan(call, compose(call, messages), writer)
    return EventStreamResponse(
        paced_events(events, sim.config, fault, writer),
        media_type=EVENT_STREAM,
        headers={"x-acs-request-id": request_id, "Cache-Control": "no-cache"},
    )


def _instances(config: SimulatorConfig, request_id: str) -> dict[str, Any]:
    """ListInstances: the one instance this simulator serves."""
    instance = {
        "InstanceId": str(config.instance_id),
        "InstanceAlias": "simulated-instance",
        "InstanceType": "mysql",
        "InstanceSource": "RDS",
        "EnvType": "dev",
        "State": "NORMAL",
    }
    return {
        "RequestId": request_id,
        "Success": True,
        "TotalCount": 1,
        "InstanceList": {"Instance": [instance]},
    }


async def not_found(request: Request, exc: Exception) -> Response:
    error = ApiError(404, "InvalidAction.NotFound", "Specified api is not found.")
    return error.response(str(uuid.uuid4()).upper())


def create_app(config: SimulatorConfig) -> Starlette:
    app = Starlette(
        routes=[
            # The seed doc's `/worknode/innerapi/services` (Q1) is served like `/`.
            Route("/", chat, methods=["POST"]),
            Route("/worknode/innerapi/services", chat, methods=["POST"]),
            *control.ROUTES,
        ],
        exception_handlers={404: not_found, 405: not_found},
    )
    app.state.sim = Simulator.open(config)
    return app

"""The simulator's own control API under /_simulator (not part of Yunxiao).

Every route except `health` needs the same `x-yunxiao-token` as the OpenAPI.
"""

from __future__ import annotations

import hmac
import json
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from .faults import parse_fault
from .state import Simulator

ControlHandler = Callable[[Request, Simulator], Awaitable[Response]]


def _refusal(status: int, message: str) -> JSONResponse:
    return JSONResponse({"ok": False, "error": message}, status_code=status)


def token_matches(sim: Simulator, token: str | None) -> bool:
    return token is not None and hmac.compare_digest(token.encode(), sim.config.token.encode())


def guarded(handler: ControlHandler) -> Callable[[Request], Awaitable[Response]]:
    async def endpoint(request: Request) -> Response:
        sim: Simulator = request.app.state.sim
        if not token_matches(sim, request.headers.get("x-yunxiao-token")):
            return _refusal(401, "The control API needs the x-yunxiao-token header.")
        return await handler(request, sim)

    return endpoint


async def _json_object(request: Request) -> dict[str, Any]:
    raw = await request.body()
    value = json.loads(raw) if raw else {}
    if not isinstance(value, dict):
        raise ValueError("the body must be a JSON object")
    return value


async def health(request: Request) -> Response:
    return JSONResponse({"ok": True})


async def add_fault(request: Request, sim: Simulator) -> Response:
    try:
        fault = parse_fault(await _json_object(request))
    except (ValueError, TypeError) as exc:
        return _refusal(400, str(exc))
    sim.faults.add(fault)
    return JSONResponse({"ok": True})


async def list_faults(request: Request, sim: Simulator) -> Response:
    return JSONResponse({"ok": True, "faults": sim.faults.pending()})


async def clear_faults(request: Request, sim: Simulator) -> Response:
    sim.faults.clear()
    return JSONResponse({"ok": True})


async def configure(request: Request, sim: Simulator) -> Response:
    if request.method == "POST":
        try:
            sim.config.update(await _json_object(request))
        except (ValueError, TypeError) as exc:
            return _refusal(400, str(exc))
    return JSONResponse({"ok": True, **sim.config.describe()})


async def requests(request: Request, sim: Simulator) -> Response:
    return JSONResponse(sim.log.recent())


async def clear_requests(request: Request, sim: Simulator) -> Response:
    sim.log.clear()
    return JSONResponse({"ok": True})

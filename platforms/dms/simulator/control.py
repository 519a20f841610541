"""The simulator's own control API under /_simulator (not part of DMS; loopback use only)."""

from __future__ import annotations

import json
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from .faults import parse_fault
from .state import Simulator


def _sim(request: Request) -> Simulator:
    sim: Simulator = request.app.state.sim
    return sim


def _refusal(message: str) -> JSONResponse:
    return JSONResponse({"ok": False, "error": message}, status_code=400)


async def _json_object(request: Request) -> dict[str, Any]:
    raw = await request.body()
    value = json.loads(raw) if raw else {}
    if not isinstance(value, dict):
        raise ValueError("the body must be a JSON object")
    return value


async def health(request: Request) -> Response:
    config = _sim(request).config
    return JSONResponse(
        {"ok": True, "access_key_id": config.access_key_id, "instance_id": config.instance_id}
    )


async def faults(request: Request) -> Response:
    sim = _sim(request)
    if request.method == "POST":
        try:
            sim.faults.add(parse_fault(await _json_object(request)))
        except (ValueError, TypeError) as exc:
            return _refusal(str(exc))
    elif request.method == "DELETE":
        sim.faults.clear()
    return JSONResponse({"ok": True, "faults": sim.faults.pending()})


async def configure(request: Request) -> Response:
    config = _sim(request).config
    if request.method == "POST":
        try:
            config.update_pacing(await _json_object(request))
        except (ValueError, TypeError) as exc:
            return _refusal(str(exc))
    return JSONResponse({"ok": True, **config.pacing()})


async def requests(request: Request) -> Response:
    """The chat requests received, oldest first, as decoded (no Authorization header)."""
    return JSONResponse(list(_sim(request).requests))


async def clear_requests(request: Request) -> Response:
    _sim(request).requests.clear()
    return JSONResponse({"ok": True})


ROUTES = (
    Route("/_simulator/health", health, methods=["GET"]),
    Route("/_simulator/faults", faults, methods=["GET", "POST", "DELETE"]),
    Route("/_simulator/config", configure, methods=["GET", "POST"]),
    Route("/_simulator/requests", requests, methods=["GET"]),
    Route("/_simulator/requests", clear_requests, methods=["DELETE"]),
)

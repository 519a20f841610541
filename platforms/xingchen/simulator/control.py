"""The simulator's own control API under /_simulator (not part of Xingchen).

Every route except `health` and `files` needs the same `Authorization: Bearer <key>` as /v2.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, PlainTextResponse, Response

from . import characters
from .errors import ApiError
from .faults import parse_fault
from .gateway import authorized
from .state import Simulator
from .streaming import EventStamps

ControlHandler = Callable[[Request, Simulator], Awaitable[Response]]


def _refusal(status: int, message: str) -> JSONResponse:
    return JSONResponse({"ok": False, "error": message}, status_code=status)


def guarded(handler: ControlHandler) -> Callable[[Request], Awaitable[Response]]:
    async def endpoint(request: Request) -> Response:
        sim: Simulator = request.app.state.sim
        if not authorized(sim, request):
            return _refusal(401, "The control API needs Authorization: Bearer <api key>.")
        return await handler(request, sim)

    return endpoint


async def _json_object(request: Request) -> dict[str, Any]:
    raw = await request.body()
    if not raw:
        return {}
    value = json.loads(raw)
    if not isinstance(value, dict):
        raise ValueError("the body must be a JSON object")
    return value


async def health(request: Request) -> Response:
    return JSONResponse({"ok": True})


async def add_fault(request: Request, sim: Simulator) -> Response:
    try:
        servicename, fault = parse_fault(await _json_object(request))
    except ValueError as exc:
        return _refusal(400, str(exc))
    sim.faults.add(servicename, fault)
    return JSONResponse({"ok": True})


async def list_faults(request: Request, sim: Simulator) -> Response:
    return JSONResponse({"ok": True, "faults": sim.faults.pending()})


async def clear_faults(request: Request, sim: Simulator) -> Response:
    sim.faults.clear()
    return JSONResponse({"ok": True})


def _stamps(request: Request) -> EventStamps:
    stamps: EventStamps = request.app.state.stamps
    return stamps


def _flag(value: Any, key: str) -> bool:
    if not isinstance(value, bool):
        raise ValueError(f"{key} must be true or false")
    return value


async def configure(request: Request, sim: Simulator) -> Response:
    stamps = _stamps(request)
    if request.method == "POST":
        try:
            changes = await _json_object(request)
            stamp_events = _flag(changes.pop("stamp_events", stamps.enabled), "stamp_events")
            sim.config.update_pacing(changes)
        except (ValueError, TypeError) as exc:
            return _refusal(400, str(exc))
        stamps.enabled = stamp_events
    return JSONResponse({"ok": True, **sim.config.pacing(), "stamp_events": stamps.enabled})


async def list_stamps(request: Request, sim: Simulator) -> Response:
    return JSONResponse(_stamps(request).recorded(request.query_params.get("userId")))


async def clear_stamps(request: Request, sim: Simulator) -> Response:
    _stamps(request).clear()
    return JSONResponse({"ok": True})


async def requests(request: Request, sim: Simulator) -> Response:
    return JSONResponse(sim.log.recent(request.query_params.get("servicename")))


async def character_status(request: Request, sim: Simulator) -> Response:
    character_id = request.path_params["character_id"]
    try:
        statuses = characters.set_statuses(sim, character_id, await _json_object(request))
    except ApiError as error:
        return _refusal(error.status, error.message)
    except ValueError as exc:
        return _refusal(400, str(exc))
    return JSONResponse({"ok": True, **statuses})


async def serve_file(request: Request) -> Response:
    sim: Simulator = request.app.state.sim
    name = request.path_params["name"]
    path = sim.files.path(name)
    if path is None or not path.is_file():
        return PlainTextResponse("NoSuchKey: The specified key does not exist.", status_code=404)
    problem = sim.files.link_problem(
        name, request.query_params.get("Expires"), request.query_params.get("Signature")
    )
    if problem is not None:
        return PlainTextResponse(f"AccessDenied: {problem}", status_code=403)
    return FileResponse(path)

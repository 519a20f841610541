"""The Starlette application: every Xingchen v2 endpoint behind the gateway, plus /_simulator.

Routes are a table: method, path, the servicenames that may call it (XINGCHEN_API.md §2), and a
thin handler that reads the call and delegates to the module that owns the behaviour.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from . import (
    autodesc,
    characters,
    chat,
    completions,
    control,
    documents,
    group,
    history,
    images,
    knowledge,
    memory,
)
from .config import SimulatorConfig
from .gateway import Call, Endpoint, unknown_api
from .params import integer, text
from .state import Simulator
from .streaming import EventStamps


async def _chat_stop(call: Call) -> Any:
    return chat.stop(call.sim, call.body)


async def _chat_reset(call: Call) -> Any:
    return history.reset(call.sim, call.body)


async def _histories(call: Call) -> Any:
    return history.histories(call.sim, call.body)


async def _rating(call: Call) -> Any:
    return history.rate(call.sim, call.body)


async def _reminder(call: Call) -> Any:
    return history.remind(call.sim, call.body)


async def _polling_image(call: Call) -> Any:
    return images.poll(call.sim, call.query)


async def _character_create(call: Call) -> Any:
    return await characters.create(call.sim, call.body)


async def _character_update(call: Call) -> Any:
    return await characters.update(call.sim, call.body)


async def _character_details(call: Call) -> Any:
    character_id = text(call.query, "characterId", required=True)
    return characters.details(call.sim, character_id, integer(call.query.get("version"), "version"))


async def _character_delete(call: Call) -> Any:
    # The SDK sends characterId and version both in the query string and in the body.
    source = {**call.query, **{k: v for k, v in call.body.items() if v is not None}}
    character_id = text(source, "characterId", required=True)
    return characters.delete(call.sim, character_id, integer(source.get("version"), "version"))


async def _character_search(call: Call) -> Any:
    return characters.search(call.sim, call.body)


async def _character_versions(call: Call) -> Any:
    return characters.versions(call.sim, call.path_params["character_id"])


async def _character_recommend(call: Call) -> Any:
    return characters.recommend_version(call.sim, call.path_params["character_id"])


async def _character_save_version(call: Call) -> Any:
    return await characters.save_version(call.sim, call.body)


async def _auto_desc(call: Call) -> Any:
    return await autodesc.auto_desc(call.sim, call.body, call.request_id)


async def _extract_kv(call: Call) -> Any:
    return {**memory.extract_kv(call.body), "context": {"requestId": call.request_id}}


async def _extract_summary(call: Call) -> Any:
    return {**memory.extract_summary(call.body), "context": {"requestId": call.request_id}}


async def _convert_submit(call: Call) -> Any:
    return await documents.submit(call.sim, call.body)


async def _convert_result(call: Call) -> Any:
    return documents.result(call.sim, call.query)


def _kb(operation: Any) -> Any:
    async def handler(call: Call) -> Any:
        return operation(call.sim, call.body)

    return handler


async def _next_speaker(call: Call) -> Any:
    return group.next_speaker(call)


CHAT = "/v2/api/chat"
CHARACTER = "/v2/api/character"
KB = "/v2/api/knowledge_base"
ENDPOINTS = (
    Endpoint("POST", f"{CHAT}/send", ("aca-chat-send", "aca-chat-send-sse"), chat.send),
    Endpoint("POST", f"{CHAT}/stop", ("aca-chat-stop",), _chat_stop),
    Endpoint("POST", f"{CHAT}/reset", ("aca-chat-reset",), _chat_reset),
    Endpoint("POST", f"{CHAT}/message/histories", ("aca-message-history",), _histories),
    Endpoint("POST", f"{CHAT}/rating", ("aca-message-rating",), _rating),
    Endpoint("POST", f"{CHAT}/reminder", ("aca-chat-reminder",), _reminder),
    Endpoint("GET", f"{CHAT}/polling/image", ("aca-polling-image",), _polling_image),
    Endpoint("POST", f"{CHARACTER}/create", ("aca-character-create",), _character_create),
    Endpoint("POST", f"{CHARACTER}/update", ("aca-character-update",), _character_update),
    Endpoint("GET", f"{CHARACTER}/details", ("aca-character-details",), _character_details),
    Endpoint("POST", f"{CHARACTER}/delete", ("aca-character-delete",), _character_delete),
    Endpoint("POST", f"{CHARACTER}/search", ("aca-character-search",), _character_search),
    Endpoint(
        "GET",
        f"{CHARACTER}/versions/{{character_id}}",
        ("aca-character-versions",),
        _character_versions,
    ),
    Endpoint(
        "GET",
        f"{CHARACTER}/newversion/recommend/{{character_id}}",
        ("aca-character-version-recommend",),
        _character_recommend,
    ),
    Endpoint(
        "POST",
        f"{CHARACTER}/createOrUpdateVersion",
        ("aca-character-version-mgmt",),
        _character_save_version,
    ),
    Endpoint("POST", f"{CHARACTER}/auto/desc", ("aca-char-auto-desc",), _auto_desc),
    Endpoint("POST", "/v2/api/extract/kv", ("aca-extract-memory-kv",), _extract_kv),
    Endpoint("POST", "/v2/api/extract/summary", ("aca-extract-memory-summary",), _extract_summary),
    Endpoint(
        "POST", "/v2/api/common/file/asyn/upload", ("aca-doc-converter-submit",), _convert_submit
    ),
    Endpoint(
        "GET", "/v2/api/common/file/asyn/download", ("aca-doc-converter-result",), _convert_result
    ),
    Endpoint("POST", f"{KB}/create", ("aca-kb-create",), _kb(knowledge.create)),
    Endpoint("POST", f"{KB}/update", ("aca-kb-update",), _kb(knowledge.update)),
    Endpoint("POST", f"{KB}/search", ("aca-kb-search",), _kb(knowledge.search)),
    Endpoint("POST", f"{KB}/delete", ("aca-kb-delete",), _kb(knowledge.delete)),
    Endpoint("POST", f"{KB}/detail/upload", ("aca-kb-detail-upload",), _kb(knowledge.upload)),
    Endpoint("POST", f"{KB}/detail/update", ("aca-kb-detail-update",), _kb(knowledge.rename)),
    Endpoint("POST", f"{KB}/detail/search", ("aca-kb-detail-search",), _kb(knowledge.file_search)),
    Endpoint("POST", f"{KB}/detail/delete", ("aca-kb-detail-delete",), _kb(knowledge.file_delete)),
    Endpoint(
        "POST",
        "/v2/api/groupchat/send",
        ("aca-groupchat-send", "aca-groupchat-send-sse"),
        group.send,
    ),
    Endpoint(
        "POST", "/v2/api/groupchat/nextSpeaker", ("aca-groupchat-nextspeaker",), _next_speaker
    ),
    Endpoint("POST", "/v2/api/completions", ("aca-completion",), completions.complete),
    Endpoint("POST", "/v2/api/chat/completions", ("aca-chat-completions",), completions.complete),
)

CONTROL_ROUTES = (
    Route("/_simulator/health", control.health, methods=["GET"]),
    Route("/_simulator/faults", control.guarded(control.add_fault), methods=["POST"]),
    Route("/_simulator/faults", control.guarded(control.clear_faults), methods=["DELETE"]),
    Route("/_simulator/faults", control.guarded(control.list_faults), methods=["GET"]),
    Route("/_simulator/config", control.guarded(control.configure), methods=["GET", "POST"]),
    Route("/_simulator/requests", control.guarded(control.requests), methods=["GET"]),
    Route("/_simulator/stamps", control.guarded(control.list_stamps), methods=["GET"]),
    Route("/_simulator/stamps", control.guarded(control.clear_stamps), methods=["DELETE"]),
    Route(
        "/_simulator/characters/{character_id}/status",
        control.guarded(control.character_status),
        methods=["POST"],
    ),
    Route("/_simulator/files/{name}", control.serve_file, methods=["GET", "HEAD"]),
)


async def _http_error(request: Request, exc: Exception) -> Response:
    if request.url.path.startswith("/v2/"):
        return unknown_api(request)
    status = exc.status_code if isinstance(exc, HTTPException) else 500
    return JSONResponse({"ok": False, "error": "not found"}, status_code=status)


def create_app(config: SimulatorConfig) -> Starlette:
    sim = Simulator.open(config)
    characters.seed_built_ins(sim)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        yield
        await sim.aclose()

    app = Starlette(
        routes=[*(e.route() for e in ENDPOINTS), *CONTROL_ROUTES],
        exception_handlers={404: _http_error, 405: _http_error},
        lifespan=lifespan,
    )
    app.state.sim = sim
    app.state.stamps = EventStamps()
    return app

"""`/healthz`: whether the parts the product depends on answer right now."""

from __future__ import annotations

import time
import uuid

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.http import require_GET

from project.celery import app as celery_app
from project.upstream import call_sync


def _check_database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")


def _check_channel_layer() -> None:
    layer = get_channel_layer()

    async def round_trip() -> None:
        channel = await layer.new_channel("healthz.")
        token = uuid.uuid4().hex
        await layer.send(channel, {"type": "healthz.ping", "token": token})
        message = await layer.receive(channel)
        if message.get("token") != token:
            raise RuntimeError("channel layer returned a different message")

    async_to_sync(round_trip)()


def _check_broker() -> None:
    with celery_app.connection_for_write() as conn:
        conn.ensure_connection(max_retries=1, timeout=3)


def _check_upstream() -> None:
    call_sync(lambda client: client.character_search(scope="my", page_size=1), timeout=10)


CHECKS = {
    "database": _check_database,
    "channel_layer": _check_channel_layer,
    "broker": _check_broker,
    "upstream": _check_upstream,
}


def _run(check: object) -> dict[str, object]:
    started = time.monotonic()
    try:
        check()  # type: ignore[operator]
    except Exception as exc:  # any failure is reported, never raised
        return {"ok": False, "error": type(exc).__name__ + ": " + str(exc)[:200]}
    return {"ok": True, "ms": round((time.monotonic() - started) * 1000, 1)}


@login_not_required
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    checks = {name: _run(check) for name, check in CHECKS.items()}
    healthy = all(result["ok"] for result in checks.values())
    body = {
        "status": "ok" if healthy else "degraded",
        "upstream": "simulator" if settings.XINGCHEN_USES_SIMULATOR else "xingchen",
        "checks": checks,
    }
    return JsonResponse(body, status=200 if healthy else 503)

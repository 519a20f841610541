"""`/healthz`: whether the parts the product depends on answer.

The database and the channel layer are local and checked on every request. The broker and the
chat platforms (Xingchen as `upstream`, DMS and Lingma) are probed at most once per interval per
process, whoever asks, and the answer is reused with its age: anonymous callers must not be able
to spend the API keys' rate limits.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
import uuid
from collections.abc import Callable

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.http import require_GET

from project.celery import app as celery_app
from project.upstream import call_sync, dms, lingma, run_sync

CheckResult = dict[str, object]


def _check_database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")


def _check_channel_layer() -> None:
    layer = get_channel_layer()

    async def round_trip() -> None:
        channel = await layer.new_channel("healthz.")
        token = uuid.uuid4().hex
        try:
            await layer.send(channel, {"type": "healthz.ping", "token": token})
            message = await asyncio.wait_for(layer.receive(channel), 5)
        finally:
            # Layers drop a channel only when a receive on it is cancelled (channels_redis's
            # pub/sub layer would otherwise keep one subscription per request).
            pending = asyncio.ensure_future(layer.receive(channel))
            await asyncio.sleep(0)
            pending.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await pending
        if message.get("token") != token:
            raise RuntimeError("channel layer returned a different message")

    async_to_sync(round_trip)()


def _check_broker() -> None:
    with celery_app.connection_for_write() as conn:
        conn.ensure_connection(max_retries=1, timeout=3)


def _check_upstream() -> None:
    call_sync(lambda client: client.character_search(scope="my", page_size=1), timeout=10)


def _check_dms() -> None:
    run_sync(lambda: dms().list_instances(page_size=1), timeout=10)


def _check_lingma() -> None:
    run_sync(lambda: lingma().list_knowledge_bases(per_page=1), timeout=10)


def _run(check: Callable[[], None]) -> CheckResult:
    started = time.monotonic()
    try:
        check()
    except Exception as exc:  # any failure is reported, never raised
        return {"ok": False, "error": type(exc).__name__ + ": " + str(exc)[:200]}
    return {"ok": True, "ms": round((time.monotonic() - started) * 1000, 1)}


class CachedProbe:
    """A check run at most once per `interval()` seconds; concurrent callers share one run.

    Failures are cached too, so an outage is not hammered by everyone polling /healthz.
    """

    def __init__(self, check: Callable[[], None], interval: Callable[[], float]) -> None:
        self._check = check
        self._interval = interval
        self._lock = threading.Lock()
        self._result: CheckResult | None = None
        self._checked_at = 0.0

    def result(self) -> CheckResult:
        # Callers wait on the lock while one of them probes: that is the single flight.
        with self._lock:
            if self._result is None or self._age() >= self._interval():
                self._result = _run(self._check)
                self._checked_at = time.monotonic()
            return {**self._result, "age_s": round(self._age(), 1)}

    def forget(self) -> None:
        with self._lock:
            self._result = None

    def _age(self) -> float:
        return time.monotonic() - self._checked_at


_broker_probe = CachedProbe(_check_broker, lambda: settings.HEALTHZ_BROKER_INTERVAL)
_upstream_probe = CachedProbe(_check_upstream, lambda: settings.HEALTHZ_UPSTREAM_INTERVAL)
_dms_probe = CachedProbe(_check_dms, lambda: settings.HEALTHZ_UPSTREAM_INTERVAL)
_lingma_probe = CachedProbe(_check_lingma, lambda: settings.HEALTHZ_UPSTREAM_INTERVAL)

CHECKS: dict[str, Callable[[], CheckResult]] = {
    "database": lambda: _run(_check_database),
    "channel_layer": lambda: _run(_check_channel_layer),
    "broker": _broker_probe.result,
    "upstream": _upstream_probe.result,
}
# Probed only where this server offers them (settings.DMS_ENABLED / LINGMA_ENABLED).
PLATFORM_CHECKS: dict[str, tuple[str, Callable[[], CheckResult]]] = {
    "dms": ("DMS_ENABLED", _dms_probe.result),
    "lingma": ("LINGMA_ENABLED", _lingma_probe.result),
}


def forget_cached_probes() -> None:
    """Makes the next request probe the broker and Xingchen again (tests, a settings change)."""
    for probe in (_broker_probe, _upstream_probe, _dms_probe, _lingma_probe):
        probe.forget()


def _mode(enabled: bool, uses_simulator: bool) -> str:
    if not enabled:
        return "off"
    return "simulator" if uses_simulator else "live"


@login_not_required
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    checks = {name: check() for name, check in CHECKS.items()}
    for name, (enabled, check) in PLATFORM_CHECKS.items():
        if getattr(settings, enabled):
            checks[name] = check()
    healthy = all(result["ok"] for result in checks.values())
    body = {
        "status": "ok" if healthy else "degraded",
        "upstream": "simulator" if settings.XINGCHEN_USES_SIMULATOR else "xingchen",
        # Which chat platforms are real services and which the bundled simulators.
        "platforms": {
            "xingchen": _mode(True, settings.XINGCHEN_USES_SIMULATOR),
            "dms": _mode(settings.DMS_ENABLED, settings.DMS_USES_SIMULATOR),
            "lingma": _mode(settings.LINGMA_ENABLED, settings.LINGMA_USES_SIMULATOR),
        },
        "checks": checks,
    }
    return JsonResponse(body, status=200 if healthy else 503)

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.conf import settings
from django.db import connections
from django.test import Client

from project.health import forget_cached_probes
from project.upstream import reset_clients

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _fresh_probes() -> Iterator[None]:
    forget_cached_probes()
    yield
    forget_cached_probes()


def _search_ids(sim) -> set[str]:
    return {entry["requestId"] for entry in sim.requests("aca-character-search")}


def test_healthz_reports_every_part_ok_without_login(client, sim):
    response = client.get("/healthz")

    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["upstream"] == "simulator"
    assert set(body["checks"]) == {
        "database",
        "channel_layer",
        "broker",
        "upstream",
        "dms",
        "lingma",
    }
    assert all(check["ok"] for check in body["checks"].values())
    assert body["platforms"] == {"xingchen": "simulator", "dms": "simulator", "lingma": "simulator"}


@pytest.mark.parametrize(
    ("platform", "setting", "check"),
    [
        ("dms", "DMS_ACCESS_KEY_SECRET", "dms"),
        ("lingma", "LINGMA_TOKEN", "lingma"),
    ],
)
def test_healthz_reports_a_platform_that_refuses_its_credentials(
    client, settings, platform, setting, check
):
    setattr(settings, setting, f"wrong-{platform}-credential-1234")
    reset_clients()

    response = client.get("/healthz")

    assert response.status_code == 503
    body = response.json()
    assert body["checks"][check]["ok"] is False
    assert body["checks"]["upstream"]["ok"] is True
    assert f"wrong-{platform}-credential-1234" not in response.content.decode()


def test_healthz_says_degraded_when_upstream_refuses_and_hides_the_key(client, sim):
    sim.inject("aca-character-search", status=401, count=10)

    response = client.get("/healthz")

    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "degraded"
    assert body["checks"]["upstream"]["ok"] is False
    assert body["checks"]["database"]["ok"] is True
    assert sim.api_key not in response.content.decode()


def test_healthz_refuses_post(client):
    assert client.post("/healthz").status_code == 405


def test_fifty_concurrent_healthz_requests_call_xingchen_at_most_once(sim):
    before = _search_ids(sim)

    def get_healthz(_: int) -> tuple[int, dict]:
        try:
            response = Client().get("/healthz")
        finally:
            connections.close_all()  # the test client keeps each thread's connection open
        return response.status_code, response.json()

    with ThreadPoolExecutor(max_workers=50) as pool:
        answers = list(pool.map(get_healthz, range(50)))

    assert len(_search_ids(sim) - before) <= 1
    assert all(status == 200 and body["status"] == "ok" for status, body in answers)


def test_a_cached_upstream_answer_reports_its_age_and_is_reused_within_the_interval(
    client, sim, settings
):
    settings.HEALTHZ_UPSTREAM_INTERVAL = 60
    client.get("/healthz")
    before = _search_ids(sim)

    upstream = client.get("/healthz").json()["checks"]["upstream"]

    assert _search_ids(sim) == before
    assert upstream["ok"] is True and upstream["age_s"] >= 0


def test_the_upstream_is_probed_again_once_the_interval_has_passed(client, sim, settings):
    settings.HEALTHZ_UPSTREAM_INTERVAL = 0
    client.get("/healthz")
    before = _search_ids(sim)

    client.get("/healthz")

    assert len(_search_ids(sim) - before) == 1


def test_a_failed_upstream_probe_is_cached_too_so_polling_does_not_hammer_xingchen(
    client, sim, settings
):
    settings.HEALTHZ_UPSTREAM_INTERVAL = 60
    sim.inject("aca-character-search", status=401, count=10)
    client.get("/healthz")
    before = _search_ids(sim)

    response = client.get("/healthz")

    assert response.status_code == 503
    assert _search_ids(sim) == before


@pytest.mark.skipif(not settings.REDIS_URL, reason="the pub/sub layer lives on Redis")
async def test_channel_layer_checks_leave_no_subscription_behind_on_redis():
    import redis
    from asgiref.sync import sync_to_async

    from project import health

    # On the server's loop the layer lives as long as the process: run the check there.
    for _ in range(5):
        await sync_to_async(health._check_channel_layer)()
    client = redis.Redis.from_url(settings.REDIS_URL)
    try:
        leftovers = client.pubsub_channels("*healthz.*")
    finally:
        client.close()
    assert leftovers == []


def test_platforms_this_server_does_not_offer_are_not_probed(client, settings):
    settings.DMS_ENABLED = False

    body = client.get("/healthz").json()

    assert "dms" not in body["checks"] and body["checks"]["lingma"]["ok"] is True
    assert body["platforms"]["dms"] == "off"

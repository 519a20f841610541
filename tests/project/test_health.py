from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db


def test_healthz_reports_every_part_ok_without_login(client, sim):
    response = client.get("/healthz")

    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["upstream"] == "simulator"
    assert set(body["checks"]) == {"database", "channel_layer", "broker", "upstream"}
    assert all(check["ok"] for check in body["checks"].values())


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

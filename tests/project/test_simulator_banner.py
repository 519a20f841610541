from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db


def test_the_banner_names_the_platforms_served_by_simulators(client, alice, settings):
    client.force_login(alice)
    settings.DMS_USES_SIMULATOR = False

    page = client.get("/characters/").content.decode()

    assert "bundled simulators of Xingchen, Lingma:" in page


def test_no_banner_when_every_platform_is_real(client, alice, settings):
    client.force_login(alice)
    settings.XINGCHEN_USES_SIMULATOR = False
    settings.DMS_USES_SIMULATOR = False
    settings.LINGMA_USES_SIMULATOR = False

    assert "banner-simulator" not in client.get("/characters/").content.decode()

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest


def upstream(request: HttpRequest) -> dict[str, object]:
    """Tells every page which chat platforms are the bundled simulators (shown as a banner)."""
    simulated = [
        name
        for name, uses_simulator in (
            ("Xingchen", settings.XINGCHEN_USES_SIMULATOR),
            ("DMS", settings.DMS_ENABLED and settings.DMS_USES_SIMULATOR),
            ("Lingma", settings.LINGMA_ENABLED and settings.LINGMA_USES_SIMULATOR),
        )
        if uses_simulator
    ]
    return {"uses_simulator": bool(simulated), "simulated_platforms": ", ".join(simulated)}

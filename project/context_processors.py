from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest
from django.utils.translation import gettext


def upstream(request: HttpRequest) -> dict[str, object]:
    """Tells every page which chat platforms are the bundled simulators (shown as a banner)."""
    simulated = [
        name
        for name, uses_simulator in (
            (gettext("Xingchen"), settings.XINGCHEN_USES_SIMULATOR),
            (gettext("DMS"), settings.DMS_ENABLED and settings.DMS_USES_SIMULATOR),
            (gettext("Lingma"), settings.LINGMA_ENABLED and settings.LINGMA_USES_SIMULATOR),
        )
        if uses_simulator
    ]
    return {
        "uses_simulator": bool(simulated),
        "simulated_platforms": ", ".join(simulated),
    }

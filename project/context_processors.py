from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest


def upstream(request: HttpRequest) -> dict[str, object]:
    """Tells every page whether replies come from the bundled simulator (shown as a banner)."""
    return {"uses_simulator": settings.XINGCHEN_USES_SIMULATOR}

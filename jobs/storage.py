"""Where job results live: outside MEDIA_ROOT, so nothing reaches them but `jobs.views.job_file`,
which checks who asks."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.core.files.storage import FileSystemStorage


class PrivateStorage(FileSystemStorage):
    """Files under PRIVATE_MEDIA_ROOT, read at each use (tests point it elsewhere), with no URL."""

    def __init__(self) -> None:
        super().__init__(base_url=None)

    @property
    def base_location(self) -> Path:  # type: ignore[override]
        return Path(settings.PRIVATE_MEDIA_ROOT)

    @property
    def location(self) -> str:  # type: ignore[override]
        return str(self.base_location.resolve())

    def url(self, name: str | None) -> str:
        raise ValueError("Private files have no public URL; link to jobs:file instead.")


private_storage = PrivateStorage()


def private() -> PrivateStorage:
    """The storage of JobFile.file (a callable, so migrations do not freeze a location)."""
    return private_storage

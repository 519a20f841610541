"""Fetching a file from a URL handed out by an upstream platform (signed, expiring links)."""

from __future__ import annotations

from urllib.parse import urlsplit

import httpx


class DownloadError(Exception):
    """The file could not be fetched, or was larger than allowed."""


async def download(url: str, *, max_bytes: int, timeout: float = 20.0) -> bytes:
    """The body at `url`, refusing anything but http(s) and bodies over `max_bytes`."""
    if urlsplit(url).scheme not in ("http", "https"):
        raise DownloadError(f"Not an http(s) URL: {url[:200]}")
    try:
        async with (
            httpx.AsyncClient(timeout=timeout, follow_redirects=True) as client,
            client.stream("GET", url) as response,
        ):
            if response.status_code != 200:
                raise DownloadError(f"HTTP {response.status_code} fetching the file")
            body = bytearray()
            async for chunk in response.aiter_bytes():
                body += chunk
                if len(body) > max_bytes:
                    raise DownloadError(f"The file is larger than {max_bytes} bytes")
            return bytes(body)
    except httpx.HTTPError as exc:
        raise DownloadError(f"Could not fetch the file: {exc.__class__.__name__}") from exc

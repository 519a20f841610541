"""Fetching a file from a URL handed out by an upstream platform (signed, expiring links).

One `Downloader` holds one pooled `httpx.AsyncClient`, which belongs to the event loop that first
uses it: keep one per loop and `aclose()` it on shutdown.
"""

from __future__ import annotations

from urllib.parse import urlsplit

import httpx

DEFAULT_TIMEOUT_SECONDS = 20.0


class DownloadError(Exception):
    """The file could not be fetched, or was larger than allowed."""


class Downloader:
    """Fetches files over one connection pool. Safe to share between tasks of one event loop."""

    def __init__(
        self,
        *,
        timeout: float = DEFAULT_TIMEOUT_SECONDS,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self._http = httpx.AsyncClient(
            timeout=timeout,
            follow_redirects=True,
            transport=transport,
            limits=httpx.Limits(max_connections=20, max_keepalive_connections=5),
        )

    @property
    def is_closed(self) -> bool:
        return self._http.is_closed

    async def aclose(self) -> None:
        await self._http.aclose()

    async def download(self, url: str, *, max_bytes: int, timeout: float | None = None) -> bytes:
        """The body at `url`, refusing anything but http(s) and bodies over `max_bytes`."""
        if urlsplit(url).scheme not in ("http", "https"):
            raise DownloadError(f"Not an http(s) URL: {url[:200]}")
        request_timeout = httpx.USE_CLIENT_DEFAULT if timeout is None else timeout
        try:
            async with self._http.stream("GET", url, timeout=request_timeout) as response:
                if response.status_code != 200:
                    raise DownloadError(f"HTTP {response.status_code} fetching the file")
                return await _read_capped(response, max_bytes)
        except httpx.HTTPError as exc:
            raise DownloadError(f"Could not fetch the file: {exc.__class__.__name__}") from exc


async def _read_capped(response: httpx.Response, max_bytes: int) -> bytes:
    # Stop reading as soon as the cap is passed: a huge body is never held in memory.
    body = bytearray()
    async for chunk in response.aiter_bytes():
        body += chunk
        if len(body) > max_bytes:
            raise DownloadError(f"The file is larger than {max_bytes} bytes")
    return bytes(body)

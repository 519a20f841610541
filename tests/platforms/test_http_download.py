from __future__ import annotations

import httpx
import pytest

from platforms.http_download import Downloader, DownloadError


def _serving(body: bytes, status: int = 200) -> tuple[httpx.MockTransport, list[httpx.Request]]:
    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(status, content=body)

    return httpx.MockTransport(answer), seen


async def test_one_downloader_fetches_many_files_over_its_one_pool():
    transport, seen = _serving(b"avatar bytes")
    downloader = Downloader(transport=transport)

    first = await downloader.download("https://oss.example/a.png", max_bytes=100)
    second = await downloader.download("https://oss.example/b.png", max_bytes=100)

    assert first == second == b"avatar bytes"
    assert [r.url.path for r in seen] == ["/a.png", "/b.png"]
    await downloader.aclose()
    assert downloader.is_closed


async def test_a_body_over_the_limit_is_refused():
    transport, _ = _serving(b"x" * 101)
    downloader = Downloader(transport=transport)

    with pytest.raises(DownloadError, match="larger than 100 bytes"):
        await downloader.download("https://oss.example/big.png", max_bytes=100)
    await downloader.aclose()


async def test_anything_but_http_is_refused_without_a_request():
    transport, seen = _serving(b"")
    downloader = Downloader(transport=transport)

    with pytest.raises(DownloadError, match="Not an http"):
        await downloader.download("file:///etc/passwd", max_bytes=100)
    assert seen == []
    await downloader.aclose()


async def test_an_error_status_is_a_download_error():
    transport, _ = _serving(b"gone", status=403)
    downloader = Downloader(transport=transport)

    with pytest.raises(DownloadError, match="HTTP 403"):
        await downloader.download("https://oss.example/expired.png", max_bytes=100)
    await downloader.aclose()

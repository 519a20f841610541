"""Files the simulator hands out (images, documents, re-hosted avatars) behind OSS-like links.

URLs carry `Expires` and `Signature` like Alibaba OSS signed links. The files route refuses a
link whose `Expires` has passed or whose signature does not match, as OSS does; a bare path
without those parameters is served too, for convenience when browsing the data directory.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import time
from pathlib import Path
from urllib.parse import quote, unquote, urlsplit

import httpx

LINK_LIFETIME_SECONDS = 3600
ACCESS_KEY_ID = "LTAISimulator"
SAFE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,120}$")
MAX_FETCH_BYTES = 20 * 1024 * 1024
EXTENSIONS = {
    "image/png": ".png",
    "image/jpeg": ".jpg",
    "image/gif": ".gif",
    "image/webp": ".webp",
}


class FetchError(Exception):
    """A source URL could not be fetched; the message is safe to show to the caller."""


class FileShelf:
    def __init__(self, directory: Path, public_url: str, secret: str) -> None:
        self.directory = directory
        self.public_url = public_url.rstrip("/")
        self._secret = hashlib.sha256(f"simulator-files:{secret}".encode()).digest()
        directory.mkdir(parents=True, exist_ok=True)

    def path(self, name: str) -> Path | None:
        if not SAFE_NAME.match(name):
            return None
        return self.directory / name

    def exists(self, name: str) -> bool:
        path = self.path(name)
        return path is not None and path.is_file()

    def save(self, name: str, content: bytes) -> None:
        path = self.path(name)
        if path is None:
            raise ValueError(f"unsafe file name {name!r}")
        path.write_bytes(content)

    def _signature(self, name: str, expires: int) -> str:
        digest = hmac.new(self._secret, f"{name}\n{expires}".encode(), hashlib.sha1).digest()
        return base64.b64encode(digest).decode()

    def signed_url(self, name: str) -> str:
        expires = int(time.time()) + LINK_LIFETIME_SECONDS
        signature = quote(self._signature(name, expires), safe="")
        return (
            f"{self.public_url}/_simulator/files/{name}"
            f"?Expires={expires}&OSSAccessKeyId={ACCESS_KEY_ID}&Signature={signature}"
        )

    def link_problem(self, name: str, expires: str | None, signature: str | None) -> str | None:
        """Why a request for `name` must be refused, or None when it may be served."""
        if expires is None and signature is None:
            return None
        if expires is None or signature is None or not expires.isdigit():
            return "Request is missing Expires or Signature"
        if int(expires) < time.time():
            return "Request has expired"
        if not hmac.compare_digest(self._signature(name, int(expires)), unquote(signature)):
            return "The request signature we calculated does not match the signature you provided"
        return None

    def own_name(self, url: str) -> str | None:
        """The file name when `url` points at this shelf, else None."""
        parts = urlsplit(url)
        prefix = "/_simulator/files/"
        if not parts.path.startswith(prefix):
            return None
        name = parts.path[len(prefix) :]
        return name if self.exists(name) else None


async def fetch(client: httpx.AsyncClient, url: str, *, timeout: float) -> httpx.Response:
    """GETs an external URL with a hard timeout; raises FetchError with a readable reason."""
    if urlsplit(url).scheme not in ("http", "https"):
        raise FetchError(f"unsupported URL: {url}")
    try:
        response = await client.get(url, timeout=timeout, follow_redirects=True)
    except httpx.HTTPError as exc:
        raise FetchError(f"could not fetch {url}: {exc.__class__.__name__}") from exc
    if response.status_code != 200:
        raise FetchError(f"could not fetch {url}: HTTP {response.status_code}")
    if len(response.content) > MAX_FETCH_BYTES:
        raise FetchError(f"file at {url} is larger than {MAX_FETCH_BYTES} bytes")
    return response


def guess_extension(url: str, content_type: str) -> str:
    suffix = Path(urlsplit(url).path).suffix.lower()
    if suffix and len(suffix) <= 6 and suffix[1:].isalnum():
        return suffix
    return EXTENSIONS.get(content_type.split(";")[0].strip().lower(), ".bin")


def url_filename(url: str) -> str:
    return unquote(Path(urlsplit(url).path).name) or "file"

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tests.factories import png_bytes


class _PngHandler(BaseHTTPRequestHandler):
    body = png_bytes(96, 96, "#c46a2d")

    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "image/png")
        self.send_header("Content-Length", str(len(self.body)))
        self.end_headers()
        self.wfile.write(self.body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="session")
def png_url() -> Iterator[str]:
    """URL of a small PNG served over HTTP, for avatars the upstream fetches and re-hosts."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _PngHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/avatar.png"
    server.shutdown()

"""Alibaba Cloud V3 request signatures (ACS3-HMAC-SHA256), for the client and the simulator.

Pure functions over strings and bytes (DMS_LINGMA_API.md §1.3). The simulator verifies with
the same functions the client signs with, so the golden vector pins both sides at once.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import parse_qsl, quote

ALGORITHM = "ACS3-HMAC-SHA256"
EMPTY_BODY_SHA256 = hashlib.sha256(b"").hexdigest()

_AUTHORIZATION = re.compile(
    rf"^{ALGORITHM}\s+Credential=(?P<key>[^,\s]+)\s*,\s*SignedHeaders=(?P<headers>[^,\s]+)"
    r"\s*,\s*Signature=(?P<signature>[0-9a-fA-F]+)\s*$"
)


def percent_encode(value: str) -> str:
    """RFC 3986: only `A-Z a-z 0-9 - _ . ~` stay as they are (space is %20, `*` is %2A)."""
    return quote(value, safe="~")


def content_sha256(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()


def canonical_query(params: Mapping[str, str]) -> str:
    """Sorted `name=value` pairs joined by `&`; a parameter with no value reads `name=`."""
    pairs = sorted((percent_encode(name), percent_encode(value)) for name, value in params.items())
    return "&".join(f"{name}={value}" for name, value in pairs)


def decode_query(raw_query: str) -> dict[str, str]:
    """A received query string as the signer saw it: `+` and `%20` both read as a space."""
    return dict(parse_qsl(raw_query, keep_blank_values=True))


def _canonical_headers(headers: Mapping[str, str]) -> tuple[str, str]:
    lowered = sorted((name.strip().lower(), value.strip()) for name, value in headers.items())
    lines = "".join(f"{name}:{value}\n" for name, value in lowered)
    return lines, ";".join(name for name, _ in lowered)


def signature(
    *,
    method: str,
    path: str,
    query: Mapping[str, str],
    headers: Mapping[str, str],
    access_key_secret: str,
) -> tuple[str, str]:
    """(signed header names joined by `;`, hex signature) over exactly `headers`.

    `headers` must hold `x-acs-content-sha256`: the payload hash is taken from it.
    """
    lines, signed_headers = _canonical_headers(headers)
    lowered = {name.strip().lower(): value.strip() for name, value in headers.items()}
    payload_hash = lowered.get("x-acs-content-sha256", "")
    canonical_request = "\n".join(
        [method.upper(), path or "/", canonical_query(query), lines, signed_headers, payload_hash]
    )
    string_to_sign = f"{ALGORITHM}\n{content_sha256(canonical_request.encode())}"
    digest = hmac.new(access_key_secret.encode(), string_to_sign.encode(), hashlib.sha256)
    return signed_headers, digest.hexdigest()


def authorization(
    *,
    method: str,
    path: str,
    query: Mapping[str, str],
    headers: Mapping[str, str],
    access_key_id: str,
    access_key_secret: str,
) -> str:
    """The `Authorization` header value signing exactly `headers` (names lower-cased)."""
    signed_headers, hex_signature = signature(
        method=method,
        path=path,
        query=query,
        headers=headers,
        access_key_secret=access_key_secret,
    )
    return (
        f"{ALGORITHM} Credential={access_key_id},SignedHeaders={signed_headers},"
        f"Signature={hex_signature}"
    )


@dataclass(frozen=True)
class ParsedAuthorization:
    access_key_id: str
    signed_headers: tuple[str, ...]
    signature: str


def parse_authorization(value: str | None) -> ParsedAuthorization | None:
    """The parts of an `ACS3-HMAC-SHA256 ...` header, or None when it is missing or garbled."""
    match = _AUTHORIZATION.match((value or "").strip())
    if match is None:
        return None
    names = tuple(name.strip().lower() for name in match["headers"].split(";") if name.strip())
    return ParsedAuthorization(match["key"], names, match["signature"].lower())


def verify(
    *,
    parsed: ParsedAuthorization,
    method: str,
    path: str,
    raw_query: str,
    headers: Mapping[str, str],
    access_key_secret: str,
) -> bool:
    """Whether `parsed` is the signature of this received request (constant-time compare).

    `headers` are the received ones; only those `parsed` lists are signed, with their received
    values (a listed header that did not arrive signs as empty, so the check fails).
    """
    received = {name.lower(): value for name, value in headers.items()}
    signed = {name: received.get(name, "") for name in parsed.signed_headers}
    _, expected = signature(
        method=method,
        path=path,
        query=decode_query(raw_query),
        headers=signed,
        access_key_secret=access_key_secret,
    )
    return hmac.compare_digest(expected, parsed.signature)

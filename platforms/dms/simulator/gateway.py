"""The POP gateway's checks before the action runs: signature, date window, nonce, action."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime

from platforms.dms import signing
from platforms.dms.client import ACTION, API_VERSION, LIST_INSTANCES

from .config import DATE_WINDOW_SECONDS, SimulatorConfig
from .errors import ApiError
from .nonces import NonceBook

# The V3 pages require these (and content-type when sent) among the signed headers.
REQUIRED_SIGNED = (
    "host",
    "x-acs-action",
    "x-acs-version",
    "x-acs-date",
    "x-acs-signature-nonce",
    "x-acs-content-sha256",
)
BAD_SIGNATURE = (
    "The request signature we calculated does not match the signature you provided. "
    "Check your key and signing method."
)


def authenticate(
    config: SimulatorConfig,
    nonces: NonceBook,
    *,
    method: str,
    path: str,
    raw_query: str,
    headers: Mapping[str, str],
    body: bytes,
) -> str:
    """The caller's access key id, or ApiError the way the gateway refuses the call."""
    parsed = signing.parse_authorization(headers.get("authorization"))
    if parsed is None:
        raise ApiError(400, "IncompleteSignature", "The request signature is missing or garbled.")
    _check_signed_headers(parsed.signed_headers, headers)
    if parsed.access_key_id != config.access_key_id:
        raise ApiError(404, "InvalidAccessKeyId.NotFound", "Specified access key is not found.")
    _check_action(headers)
    _check_date(headers["x-acs-date"])
    if signing.content_sha256(body) != headers["x-acs-content-sha256"].strip().lower():
        raise ApiError(
            403, "SignatureDoesNotMatch", "x-acs-content-sha256 does not match the body."
        )
    if not signing.verify(
        parsed=parsed,
        method=method,
        path=path,
        raw_query=raw_query,
        headers=headers,
        access_key_secret=config.access_key_secret,
    ):
        raise ApiError(403, "SignatureDoesNotMatch", BAD_SIGNATURE)
    # Only a correctly signed request spends its nonce, so garbage cannot burn real ones.
    if not nonces.use(headers["x-acs-signature-nonce"].strip()):
        raise ApiError(400, "SignatureNonceUsed", "Specified signature nonce was used already.")
    return parsed.access_key_id


def _check_signed_headers(signed: tuple[str, ...], headers: Mapping[str, str]) -> None:
    required = [*REQUIRED_SIGNED, *(["content-type"] if "content-type" in headers else [])]
    missing = [name for name in required if name not in signed or not headers.get(name)]
    if missing:
        raise ApiError(
            400,
            "IncompleteSignature",
            f"These headers must be sent and signed: {', '.join(missing)}.",
        )


def _check_action(headers: Mapping[str, str]) -> None:
    if headers["x-acs-action"] not in (ACTION, LIST_INSTANCES):
        raise ApiError(404, "InvalidAction.NotFound", "Specified api is not found.")
    if headers["x-acs-version"] != API_VERSION:
        raise ApiError(400, "InvalidVersion", "Specified parameter Version is not valid.")


def _check_date(value: str) -> None:
    try:
        sent = datetime.strptime(value.strip(), "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    except ValueError:
        raise ApiError(
            400, "InvalidTimeStamp.Format", "x-acs-date must read YYYY-MM-DDTHH:MM:SSZ (UTC)."
        ) from None
    if abs((datetime.now(UTC) - sent).total_seconds()) > DATE_WINDOW_SECONDS:
        raise ApiError(
            400,
            "InvalidTimeStamp.Expired",
            "x-acs-date is more than 15 minutes away from the server time.",
        )

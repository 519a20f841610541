"""A vault's values encrypted at rest, with a key derived from the server's secret.

Fernet (AES-128-CBC with HMAC-SHA256, from `cryptography`) does the encryption; HKDF turns
the secret into a key of the right shape, so the secret itself is never the key. The first
secret seals; all of them unseal, so a rotated secret (Django's `SECRET_KEY_FALLBACKS`) keeps
older vaults readable.
"""

from __future__ import annotations

import base64
import functools
import json
from collections.abc import Mapping, Sequence

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

_SALT = b"persona-studio/privacy-vault"
_INFO = b"v1"


class VaultUnreadable(Exception):
    """No known secret opens the vault: it was sealed under a secret since removed."""


def seal(values: Mapping[str, str], secrets: Sequence[str]) -> str:
    plain = json.dumps(dict(values), ensure_ascii=False, separators=(",", ":")).encode()
    return _fernet(secrets).encrypt(plain).decode("ascii")


def unseal(token: str, secrets: Sequence[str]) -> dict[str, str]:
    if not token:
        return {}
    try:
        plain = _fernet(secrets).decrypt(token.encode("ascii"))
    except (InvalidToken, UnicodeEncodeError) as exc:
        raise VaultUnreadable from exc
    values = json.loads(plain)
    return {str(k): str(v) for k, v in values.items()} if isinstance(values, dict) else {}


def _fernet(secrets: Sequence[str]) -> MultiFernet:
    if not secrets:
        raise ValueError("sealing needs at least one secret")
    return MultiFernet([Fernet(_key(secret)) for secret in secrets])


@functools.lru_cache(maxsize=8)
def _key(secret: str) -> bytes:
    derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=_SALT, info=_INFO).derive(
        secret.encode()
    )
    return base64.urlsafe_b64encode(derived)

"""Deterministic PII masking, applied to system and user messages when NeedDesensitization is on.

One format for every DesensitizationRule (Q4 choice), the first and last characters kept:
- email `alice.w@example.com` -> `a***@example.com`
- 18-character ID card `11010119900307123X` -> `110101********123X`
- bank card, 16 to 19 digits `6222021234567890` -> `6222********7890` (one `*` per hidden digit)
- mainland mobile `13812345678` -> `138****5678`
Digit runs are matched whole (no digit just before or after), ID cards before bank cards, so an
18-digit run reads as an ID card. Cards written with spaces or dashes are left as they are.
"""

from __future__ import annotations

import re

_EMAIL = re.compile(
    r"([A-Za-z0-9])[A-Za-z0-9._%+-]*@([A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,})"
)
_ID_CARD = re.compile(r"(?<![0-9Xx])(\d{6})\d{8}(\d{3}[0-9Xx])(?![0-9Xx])")
_BANK_CARD = re.compile(r"(?<!\d)(\d{4})(\d{8,11})(\d{4})(?!\d)")
_MOBILE = re.compile(r"(?<!\d)(1[3-9]\d)\d{4}(\d{4})(?!\d)")


def mask(text: str) -> str:
    text = _EMAIL.sub(r"\1***@\2", text)
    text = _ID_CARD.sub(r"\1********\2", text)
    text = _BANK_CARD.sub(lambda m: f"{m[1]}{'*' * len(m[2])}{m[3]}", text)
    return _MOBILE.sub(r"\1****\2", text)

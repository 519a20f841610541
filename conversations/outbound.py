"""The one door every user-written text passes through on its way to an upstream platform.

Chat content, the user's profile and the scenario all go through `outbound_text`, so personal
data masking (placeholders out, originals restored for the user) can be added here alone.
"""

from __future__ import annotations


def outbound_text(text: str) -> str:
    """`text` as it may leave for an upstream; today it leaves unchanged."""
    return text

"""Reversible masking: personal data out as placeholders, the real values back in the replies.

A `Vault` belongs to one conversation. It gives each value one placeholder such as
`[CN_MOBILE_1]` for good, so the model can refer to "the number from before" across turns,
and it knows the same number written another way ("138 1234 5678", "+86 13812345678") as the
same value. Text going out is masked with `mask`; a reply coming back in pieces is restored by
a `StreamRestorer`, which holds back what could still become a placeholder, so nobody ever
sees half of one.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from typing import cast

from privacy.detection import ENTITY_TYPES, Entity, EntityType, detect

PLACEHOLDER = re.compile(r"\[(" + "|".join(ENTITY_TYPES) + r")_([1-9][0-9]{0,5})\]")
# The longest text a placeholder can be: "[" + longest type + "_" + six digits + "]".
_LONGEST = 1 + max(len(kind) for kind in ENTITY_TYPES) + 1 + 6 + 1
_PREFIXES = tuple(f"[{kind}_" for kind in ENTITY_TYPES)
_MOBILE_PREFIX = re.compile(r"^(?:\+?86)")
_SEPARATORS = re.compile(r"[\s-]")
_ALNUM = re.compile(r"[0-9A-Za-z]")


def _canonical(kind: str, value: str) -> str:
    """One spelling per value: the same number or address written another way is the same."""
    if kind in ("CN_MOBILE", "BANK_CARD"):
        digits = _SEPARATORS.sub("", value)
        return _MOBILE_PREFIX.sub("", digits) if kind == "CN_MOBILE" else digits
    if kind in ("CN_ID_CARD", "EMAIL", "IPV6"):
        return value.upper()
    return " ".join(value.split())


class Vault:
    """The placeholders of one conversation and the values they stand for.

    `changed` tells the owner a new value was added and the vault must be stored again.
    """

    def __init__(self, values: Mapping[str, str] | None = None) -> None:
        self._values: dict[str, str] = {}
        self._by_key: dict[tuple[str, str], str] = {}
        self._kinds: dict[str, EntityType] = {}
        self._known: list[tuple[str, EntityType]] | None = None
        self._count: Counter[str] = Counter()
        self.changed = False
        for placeholder, value in (values or {}).items():
            match = PLACEHOLDER.fullmatch(placeholder)
            if match is None:
                continue  # written by a later version with other types: not ours to guess
            kind, number = cast(EntityType, match.group(1)), int(match.group(2))
            self._add(placeholder, kind, value)
            self._count[kind] = max(self._count[kind], number)

    def placeholder(self, kind: EntityType, value: str) -> str:
        """The value's placeholder, a new one the first time the value is seen."""
        existing = self._by_key.get((kind, _canonical(kind, value)))
        if existing is not None:
            return existing
        self._count[kind] += 1
        placeholder = f"[{kind}_{self._count[kind]}]"
        self._add(placeholder, kind, value)
        self.changed = True
        return placeholder

    def value(self, placeholder: str) -> str | None:
        return self._values.get(placeholder)

    def values(self) -> dict[str, str]:
        """Placeholder to value, as the owner stores it."""
        return dict(self._values)

    def counts(self) -> dict[str, int]:
        """How many distinct values of each type the conversation has had masked."""
        return {kind: self._count[kind] for kind in ENTITY_TYPES if self._count[kind]}

    def known(self) -> list[tuple[str, EntityType]]:
        """(value, type) of every value, the longest first, so no value is found inside
        another."""
        if self._known is None:
            self._known = sorted(self._kinds.items(), key=lambda row: -len(row[0]))
        return self._known

    def _add(self, placeholder: str, kind: EntityType, value: str) -> None:
        self._values[placeholder] = value
        self._by_key.setdefault((kind, _canonical(kind, value)), placeholder)
        self._kinds.setdefault(value, kind)
        self._known = None


@dataclass(frozen=True)
class Masked:
    text: str
    types: frozenset[str]  # the types of the values replaced, never the values


def mask(text: str, vault: Vault) -> Masked:
    """`text` with every detected value, and every value the vault already holds, replaced by
    its placeholder."""
    detected = detect(text)
    spans = sorted([*detected, *_known_spans(text, vault, taken=detected)], key=_start)
    if not spans:
        return Masked(text, frozenset())
    return Masked(_replace(text, spans, vault), frozenset(entity.type for entity in spans))


def remask(text: str, vault: Vault) -> str:
    """`text` with the values the vault already holds replaced; nothing new is detected, so
    the vault does not change (for a reply's own text going back upstream)."""
    return _replace(text, _known_spans(text, vault, taken=[]), vault)


def restore(text: str, vault: Vault) -> tuple[str, frozenset[str]]:
    """`text` with the vault's placeholders replaced by their values, and the types restored.

    A placeholder the vault does not hold (one the model made up) stays as it is.
    """
    restored: set[str] = set()

    def value_of(match: re.Match[str]) -> str:
        value = vault.value(match.group(0))
        if value is None:
            return match.group(0)
        restored.add(match.group(1))
        return value

    return PLACEHOLDER.sub(value_of, text), frozenset(restored)


class StreamRestorer:
    """Restores a reply that arrives in pieces; what it returns never holds part of a
    placeholder, and all the pieces returned, with `flush`, equal `restore` of the whole."""

    def __init__(self, vault: Vault) -> None:
        self._vault = vault
        self._held = ""
        self.types: set[str] = set()

    def feed(self, piece: str) -> str:
        text = self._held + piece
        cut = _held_back_from(text)
        self._held = text[cut:]
        return self._restore(text[:cut])

    def restart(self, text: str) -> str:
        """Restores `text` as the whole reply anew (the upstream rewrote what it sent)."""
        self._held = ""
        return self.feed(text)

    def flush(self) -> str:
        """What is held back, at the end of the stream (it was not a placeholder after all)."""
        text, self._held = self._held, ""
        return self._restore(text)

    def _restore(self, text: str) -> str:
        restored, types = restore(text, self._vault)
        self.types |= types
        return restored


def _held_back_from(text: str) -> int:
    """Where a possible unfinished placeholder at the end of `text` begins (len when none)."""
    start = text.rfind("[", max(0, len(text) - _LONGEST))
    if start == -1:
        return len(text)
    tail = text[start:]
    if "]" in tail:
        return len(text)
    for prefix in _PREFIXES:
        if prefix.startswith(tail) or (
            tail.startswith(prefix) and tail[len(prefix) :].isdigit() and len(tail) < _LONGEST
        ):
            return start
    return len(text)


def _start(entity: Entity) -> int:
    return entity.start


def _replace(text: str, spans: list[Entity], vault: Vault) -> str:
    out: list[str] = []
    position = 0
    for entity in spans:
        out.append(text[position : entity.start])
        out.append(vault.placeholder(entity.type, text[entity.start : entity.end]))
        position = entity.end
    out.append(text[position:])
    return "".join(out)


def _known_spans(text: str, vault: Vault, *, taken: list[Entity]) -> list[Entity]:
    """Where the values the vault already holds occur in `text`, outside the `taken` spans:
    a name said once after "我叫" is masked wherever it comes back."""
    found: list[Entity] = []
    occupied = [(e.start, e.end) for e in taken]
    for value, kind in vault.known():
        start = text.find(value)
        while start != -1:
            end = start + len(value)
            if _free(occupied, start, end) and _standalone(text, start, end, value):
                found.append(Entity(start, end, kind))
                occupied.append((start, end))
            start = text.find(value, end)
    return sorted(found, key=_start)


def _free(occupied: list[tuple[int, int]], start: int, end: int) -> bool:
    return all(end <= taken_start or start >= taken_end for taken_start, taken_end in occupied)


def _standalone(text: str, start: int, end: int, value: str) -> bool:
    """A known number or address glued to other letters or digits is another thing."""
    before = text[start - 1] if start else ""
    after = text[end] if end < len(text) else ""
    glued_before = bool(before) and _ALNUM.match(before) and _ALNUM.match(value[0])
    glued_after = bool(after) and _ALNUM.match(after) and _ALNUM.match(value[-1])
    return not (glued_before or glued_after)

"""Personal data in Chinese, English or mixed text: what counts, and where it starts and ends.

Offsets are `str` indices, end exclusive; entities never overlap and come sorted by start.
- CN_ID_CARD: 17 digits + digit/X/x, a real province code, a real birth date between 1900 and
  today, and a correct ISO 7064 MOD 11-2 check character.
- CN_MOBILE: 1[3-9] + 9 digits, unbroken or 3-4-4 with spaces or dashes; a +86/86 prefix (with an
  optional space or dash) is part of the span. Hotlines (10086, 95588, 400-...) are not mobiles.
- BANK_CARD: 16-19 digits passing Luhn, unbroken or in space-separated groups of 4 (the last group
  may be shorter).
- EMAIL: without enclosing brackets or trailing punctuation. IPV4: four octets 0-255, without the
  port; a dotted run of more than four parts (a version string) is not an address. IPV6: every
  valid form (compressed, IPv4-embedded, with a zone id), without brackets or port; clock times
  and MAC addresses are not addresses.
- Numbers touching other ASCII letters or digits are never entities ("abc13812345678"); neither are
  order/tracking numbers, QQ numbers, verification codes or @handles, recognised by the cue before.
- PERSON and ADDRESS only after an explicit cue (我叫/我是/姓名/收件人/联系人/My name is/I'm/I am/
  name:, and 住在/地址/收货地址/寄到/送到/ship it to/send it to/I live at/address:/address is).
  A Chinese name is a known family name + 1-2 characters and no common word ("我是学生" is not a
  name); an English name is 1-3 capitalised words that are not places or common words. A Chinese
  address runs from the first place name to the last 号/室/层/栋/单元/楼; an English one from the
  house number through the street type and an optional ", Apt/Suite/Unit/Room/Floor n".
"""

from __future__ import annotations

import bisect
import datetime
import ipaddress
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Literal

from stdnum import luhn
from stdnum.cn import ric
from stdnum.exceptions import ValidationError

from privacy import names

EntityType = Literal[
    "CN_ID_CARD", "CN_MOBILE", "BANK_CARD", "EMAIL", "IPV4", "IPV6", "PERSON", "ADDRESS"
]
ENTITY_TYPES: tuple[EntityType, ...] = (
    "CN_ID_CARD",
    "CN_MOBILE",
    "BANK_CARD",
    "EMAIL",
    "IPV4",
    "IPV6",
    "PERSON",
    "ADDRESS",
)


@dataclass(frozen=True, slots=True)
class Entity:
    start: int
    end: int
    type: EntityType


# The longest reading wins (an email holding a mobile, an IPv6 holding an IPv4); on equal length
# the more specific one does: an 18-digit ID that also passes Luhn is an ID.
_PRIORITY: dict[EntityType, int] = {
    "EMAIL": 0,
    "IPV6": 1,
    "IPV4": 2,
    "CN_ID_CARD": 3,
    "BANK_CARD": 4,
    "CN_MOBILE": 5,
    "ADDRESS": 6,
    "PERSON": 7,
}

_PROVINCE_RANGES = ((11, 15), (21, 23), (31, 37), (41, 46), (50, 54), (61, 65), (71, 71), (81, 82))
_PROVINCES = frozenset(f"{code}" for low, high in _PROVINCE_RANGES for code in range(low, high + 1))

# Every pattern starts with a lookbehind that fails inside a run, so a long run of digits or
# letters is scanned once from its start, never from each of its characters.
_ALNUM_BEFORE = r"(?<![0-9A-Za-z@])"
_ALNUM_AFTER = r"(?![0-9A-Za-z])"
_ID = re.compile(rf"{_ALNUM_BEFORE}[0-9]{{17}}[0-9Xx]{_ALNUM_AFTER}")
# A regex rather than phonenumbers: the rules (1[3-9] only, 3-4-4 grouping, the +86 prefix in the
# span) are narrower than what its matcher accepts, and it would also find landlines and hotlines.
_MOBILE = re.compile(
    r"(?<![0-9A-Za-z@+])(?:\+?86[ -]?)?1[3-9][0-9](?:[0-9]{8}|[ -][0-9]{4}[ -][0-9]{4})"
    + _ALNUM_AFTER
)
_CARD = re.compile(
    rf"{_ALNUM_BEFORE}(?:[0-9]{{16,19}}{_ALNUM_AFTER}"
    rf"|[0-9]{{4}}(?: [0-9]{{4}}){{3}}(?: [0-9]{{1,4}})?(?![0-9A-Za-z]| [0-9]))"
)
_EMAIL = re.compile(
    r"(?<![A-Za-z0-9._%+-])[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}"
    r"(?![A-Za-z0-9-])"
)
_IPV4 = re.compile(r"(?<![0-9A-Za-z.])(?:[0-9]{1,3}\.){3}[0-9]{1,3}(?![0-9A-Za-z]|\.[0-9A-Za-z])")
# A maximal run of hex digits, colons and dots holding a colon; validation trims and checks it.
_HEX_RUN = re.compile(r"(?<![0-9A-Fa-f:.])[0-9A-Fa-f.]*:[0-9A-Fa-f:.]*")
_ZONE = re.compile(r"%[0-9A-Za-z_.-]+")
_IPV6_MAX = 45

# Cues after which a number is a reference, not personal data; matched against the text just
# before the number.
_EN_REFERENCE = r"(?:#|no\.?|number|id)"
_REFERENCE_CUE = re.compile(
    r"(?:订单号码?|订单编号|订单|运单号码?|运单编号|快递单号|物流单号|单号|QQ号码?|QQ|扣扣"
    r"|验证码|校验码|动态码"
    rf"|(?<![A-Za-z])(?:order(?:\s*{_EN_REFERENCE})?|tracking(?:\s*{_EN_REFERENCE})?|code))"
    r"\s*(?:is|是|为)?\s*[:：#]?\s*$",
    re.IGNORECASE,
)
_VERSION_CUE = re.compile(r"(?<![A-Za-z])(?:version|ver\.?|版本号?)\s*[:：]?\s*$", re.IGNORECASE)
_CUE_WINDOW = 24


def detect(text: str) -> list[Entity]:
    """The personal data in `text`, sorted by start, non-overlapping."""
    candidates = [
        *_emails(text),
        *_ipv6s(text),
        *_ipv4s(text),
        *_id_cards(text),
        *_bank_cards(text),
        *_mobiles(text),
        *_addresses(text),
        *_persons(text),
    ]
    return _without_overlaps(candidates)


def _without_overlaps(candidates: list[Entity]) -> list[Entity]:
    candidates.sort(key=lambda e: (e.start - e.end, _PRIORITY[e.type], e.start))
    kept: list[Entity] = []  # sorted by start, so by end too
    for entity in candidates:
        at = bisect.bisect_left(kept, entity.start, key=_start)
        if at > 0 and kept[at - 1].end > entity.start:
            continue
        if at < len(kept) and kept[at].start < entity.end:
            continue
        kept.insert(at, entity)
    return kept


def _start(entity: Entity) -> int:
    return entity.start


def _after_cue(text: str, start: int, cue: re.Pattern[str]) -> bool:
    return cue.search(text, max(0, start - _CUE_WINDOW), start) is not None


def _numbers(text: str, pattern: re.Pattern[str]) -> Iterator[re.Match[str]]:
    for match in pattern.finditer(text):
        if not _after_cue(text, match.start(), _REFERENCE_CUE):
            yield match


def _id_cards(text: str) -> Iterator[Entity]:
    today = datetime.datetime.now(datetime.UTC).date()
    for match in _numbers(text, _ID):
        if _is_id_card(match.group().upper(), today):
            yield Entity(match.start(), match.end(), "CN_ID_CARD")


def _is_id_card(number: str, today: datetime.date) -> bool:
    if number[:2] not in _PROVINCES or ric.calc_check_digit(number) != number[-1]:
        return False
    try:
        born = ric.get_birth_date(number)
    except ValidationError:
        return False
    return born.year >= 1900 and born <= today


def _mobiles(text: str) -> Iterator[Entity]:
    for match in _numbers(text, _MOBILE):
        yield Entity(match.start(), match.end(), "CN_MOBILE")


def _bank_cards(text: str) -> Iterator[Entity]:
    for match in _numbers(text, _CARD):
        digits = match.group().replace(" ", "")
        if 16 <= len(digits) <= 19 and luhn.is_valid(digits):
            yield Entity(match.start(), match.end(), "BANK_CARD")


def _emails(text: str) -> Iterator[Entity]:
    for match in _EMAIL.finditer(text):
        yield Entity(match.start(), match.end(), "EMAIL")


def _ipv4s(text: str) -> Iterator[Entity]:
    for match in _IPV4.finditer(text):
        if _after_cue(text, match.start(), _VERSION_CUE):
            continue
        try:
            ipaddress.IPv4Address(match.group())
        except ValueError:
            continue
        yield Entity(match.start(), match.end(), "IPV4")


def _ipv6s(text: str) -> Iterator[Entity]:
    for match in _HEX_RUN.finditer(text):
        if match.end() - match.start() > _IPV6_MAX:
            continue
        span = _ipv6_span(text, match.start(), match.end())
        if span is not None:
            yield Entity(*span, "IPV6")


def _ipv6_span(text: str, start: int, end: int) -> tuple[int, int] | None:
    """The address inside the run text[start:end], trimmed of a label before it ("ip:") and of
    sentence punctuation after it, or None."""
    while end > start and text[end - 1] in ".:" and not text.endswith("::", start, end):
        end -= 1
    label_before = start > 0 and _is_ascii_alnum(text[start - 1])
    if label_before or (text.startswith(":", start) and not text.startswith("::", start)):
        colon = text.find(":", start, end)
        if colon < 0 or text.startswith("::", colon):
            return None
        start = colon + 1
    if end < len(text) and _is_ascii_alnum(text[end]):
        return None
    value = text[start:end]
    if value.count(":") < 2 or value.strip(":.") == "":
        return None
    try:
        ipaddress.IPv6Address(value)
    except ValueError:
        return None
    zone = _ZONE.match(text, end)
    return start, zone.end() if zone else end


def _is_ascii_alnum(char: str) -> bool:
    return char.isascii() and char.isalnum()


# --- PERSON -----------------------------------------------------------------------------------

_HAN = re.compile(r"[\u4e00-\u9fff]")
_PERSON_CUE = re.compile(
    r"(?:我叫|我是|(?:姓名|收件人|联系人)(?:是|为|叫)?"
    r"|(?<![A-Za-z])(?i:my name is|i['’]m|i am|name(?=\s*[:：]))(?![A-Za-z]))"
    r"[ \t]*[:：]?[ \t]*"
)
_EN_WORD = r"(?:[A-Z][a-z]*['’])?[A-Z][a-z]+(?:[A-Z][a-z]+)?(?:-[A-Z][a-z]+)?"
_EN_NAME = re.compile(rf"{_EN_WORD}(?: {_EN_WORD}){{0,2}}(?![A-Za-z])")
_NOT_NAME_AFTER = frozenset("人省市县区州")
_CN_NOT_NAMES = tuple(names.CN_NOT_NAMES)
_CN_NAME_ENDINGS = tuple(names.CN_NAME_ENDINGS)


def _persons(text: str) -> Iterator[Entity]:
    for cue in _PERSON_CUE.finditer(text):
        pos = cue.end()
        end = _chinese_name_end(text, pos) or _english_name_end(text, pos)
        if end:
            yield Entity(pos, end, "PERSON")


def _chinese_name_end(text: str, pos: int) -> int | None:
    if text.startswith(_CN_NOT_NAMES, pos):
        return None
    if text[pos : pos + 2] in names.COMPOUND_FAMILY_NAMES:
        end = pos + 2
    elif text[pos : pos + 1] in names.SINGLE_FAMILY_NAMES:
        end = pos + 1
    else:
        return None
    given = 0
    while given < 2 and end < len(text) and _HAN.match(text, end):
        if text.startswith(_CN_NAME_ENDINGS, end):
            break
        end += 1
        given += 1
    if not given or text[end - 1] in _NOT_NAME_AFTER or text[end : end + 1] in _NOT_NAME_AFTER:
        return None
    return end


def _english_name_end(text: str, pos: int) -> int | None:
    match = _EN_NAME.match(text, pos)
    if match is None:
        return None
    end = pos
    for word in re.finditer(r"\S+", match.group()):
        if word.group() in names.EN_NOT_NAMES:
            break
        end = pos + word.end()
    return end if end > pos else None


# --- ADDRESS ----------------------------------------------------------------------------------

_ADDRESS_CUE = re.compile(
    r"(?:收货地址|地址|住在|寄到|送到)(?:是|为|在)?[ \t]*[:：]?[ \t]*"
    r"|(?<![A-Za-z])(?i:ship it to|send it to|i live at|address is|address[ \t]*[:：])[ \t]*"
)
_CN_ADDRESS_RUN = re.compile(r"[\u4e00-\u9fff0-9A-Za-z#-]{2,80}")
_CN_ADDRESS_STOP = re.compile(r"电话|手机|联系|邮箱|收件人|姓名|的|号码")
_CN_ADDRESS_END = re.compile(r".*(?:号|室|层|栋|单元|楼)", re.DOTALL)
_CN_PLACE = re.compile(r"[省市区县镇乡街路巷弄村道园厦苑城]")
_STREET_TYPES = "Street|St|Road|Rd|Avenue|Ave|Lane|Ln|Boulevard|Blvd|Drive|Dr|Way|Court|Ct|Place|Pl"
_EN_ADDRESS = re.compile(
    r"[0-9]+[A-Za-z]?(?: (?:[A-Z][A-Za-z'’.-]*|[0-9]+(?:st|nd|rd|th))){1,4}?"
    rf" (?:{_STREET_TYPES})(?![A-Za-z])"
    r"(?:,? (?:Apt|Apartment|Suite|Unit|Room|Floor)\.? ?#?[0-9A-Za-z-]+)?"
)


def _addresses(text: str) -> Iterator[Entity]:
    for cue in _ADDRESS_CUE.finditer(text):
        pos = cue.end()
        end = _chinese_address_end(text, pos) or _english_address_end(text, pos)
        if end:
            yield Entity(pos, end, "ADDRESS")


def _chinese_address_end(text: str, pos: int) -> int | None:
    run = _CN_ADDRESS_RUN.match(text, pos)
    if run is None:
        return None
    value = run.group()
    stop = _CN_ADDRESS_STOP.search(value)
    if stop is not None:
        value = value[: stop.start()]
    last = _CN_ADDRESS_END.match(value)
    if last is None or not _CN_PLACE.search(value, 0, last.end()):
        return None
    return pos + last.end()


def _english_address_end(text: str, pos: int) -> int | None:
    match = _EN_ADDRESS.match(text, pos)
    return match.end() if match else None

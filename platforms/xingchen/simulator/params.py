"""Reading request fields the way Xingchen validates them (HTTP 400 with a named error)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .errors import ApiError, bad_request

MAX_PAGE_SIZE = 50
DEFAULT_PAGE_SIZE = 10


def obj(value: Any, where: str) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise bad_request("InvalidParameter", f"{where} must be an object.")
    return value


def text(
    body: dict[str, Any], key: str, where: str | None = None, *, required: bool = False
) -> str:
    value = body.get(key)
    label = where or key
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise bad_request("MissingParameter", f"{label} is required.")
        return ""
    if not isinstance(value, str | int) or isinstance(value, bool):
        raise bad_request("InvalidParameter", f"{label} must be a string.")
    return str(value)


def integer(value: Any, label: str) -> int | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise bad_request("InvalidParameter", f"{label} must be an integer.")
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value)
    raise bad_request("InvalidParameter", f"{label} must be an integer.")


def str_list(value: Any, label: str) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise bad_request("InvalidParameter", f"{label} must be a list of strings.")
    return value


@dataclass(frozen=True)
class Paging:
    page: int
    size: int

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.size

    def result(self, items: list[Any], total: int) -> dict[str, Any]:
        return {
            "list": items,
            "page": self.page,
            "pageSize": self.size,
            "total": total,
            "pageOffsetValue": self.offset,
        }


def paging(body: dict[str, Any]) -> Paging:
    # Xingchen counts pages from 1; the SDK's docs say 0, so 0 is read as the first page.
    page = integer(body.get("pageNum"), "pageNum") or 1
    size = integer(body.get("pageSize"), "pageSize")
    if page < 1:
        raise bad_request("InvalidPageNum", "pageNum must be 1 or more.")
    if size is None:
        size = DEFAULT_PAGE_SIZE
    if not 1 <= size <= MAX_PAGE_SIZE:
        raise bad_request("InvalidPageSize", f"pageSize must be between 1 and {MAX_PAGE_SIZE}.")
    return Paging(page, size)


def order_by(value: Any, fields: dict[str, str], default: str) -> list[tuple[str, str]]:
    """Parses `["gmtCreate desc", ...]` into (column, direction) pairs; unknown fields are a 400."""
    items = str_list(value, "orderBy") or [default]
    parsed: list[tuple[str, str]] = []
    for item in items:
        words = item.split()
        if not words or len(words) > 2 or words[0] not in fields:
            allowed = ", ".join(sorted(fields))
            raise ApiError(400, "InvalidOrderBy", f"orderBy {item!r} is not supported ({allowed}).")
        direction = words[1].lower() if len(words) == 2 else "desc"
        if direction not in ("asc", "desc"):
            raise ApiError(
                400, "InvalidOrderBy", f"orderBy direction {words[1]!r} is not asc/desc."
            )
        parsed.append((fields[words[0]], direction.upper()))
    return parsed

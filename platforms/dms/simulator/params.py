"""Reading a ChatWithDesensitizeSSE call: parameters from the query and the form body alike."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from .errors import ApiError

ROLES = frozenset({"system", "user", "assistant"})
RESPONSE_FORMATS = frozenset({"text", "json_object"})


def _invalid(message: str) -> ApiError:
    return ApiError(400, "InvalidParameter", message)


@dataclass(frozen=True)
class ChatCall:
    instance_id: int
    model: str
    messages: list[dict[str, str]]
    need_desensitization: bool = False
    desensitization_rule: str = ""
    include_usage: bool = False
    max_tokens: int | None = None
    stop: list[str] = field(default_factory=list)
    enable_thinking: bool = False
    thinking_budget: int | None = None
    enable_search: bool = False
    response_format: str = "text"
    seed: int | None = None


def boolean(params: Mapping[str, str], name: str) -> bool:
    """`true`/`false` in any case (the Python SDK sends `True`); absent reads as false."""
    value = params.get(name, "").strip().lower()
    if value in ("", "false"):
        return False
    if value == "true":
        return True
    raise _invalid(f"{name} must be true or false.")


def _number(
    params: Mapping[str, str], name: str, parse: Callable[[str], Any], ok: Callable[[Any], bool]
) -> Any:
    raw = params.get(name, "").strip()
    if not raw:
        return None
    try:
        value = parse(raw)
    except ValueError:
        raise _invalid(f"{name} is not a number: {raw!r}.") from None
    if not ok(value):
        raise _invalid(f"{name} is out of range: {raw}.")
    return value


def _json_list(params: Mapping[str, str], name: str) -> list[Any]:
    raw = params.get(name, "").strip()
    if not raw:
        return []
    try:
        value = json.loads(raw)
    except ValueError:
        raise _invalid(f"{name} must be a JSON array.") from None
    if not isinstance(value, list):
        raise _invalid(f"{name} must be a JSON array.")
    return value


def _messages(params: Mapping[str, str]) -> list[dict[str, str]]:
    items = _json_list(params, "Messages")
    if not items:
        raise ApiError(400, "MissingMessages", "Messages is mandatory for this action.")
    messages = []
    for item in items:
        if not isinstance(item, dict) or item.get("role") not in ROLES:
            raise _invalid("Each of Messages needs a role of system, user or assistant.")
        if not isinstance(item.get("content"), str):
            raise _invalid("Each of Messages needs a string content.")
        messages.append({"role": item["role"], "content": item["content"]})
    return messages


def _instance_id(params: Mapping[str, str], configured: int) -> int:
    raw = params.get("InstanceId", "").strip()
    if not raw:
        raise ApiError(400, "MissingInstanceId", "InstanceId is mandatory for this action.")
    if not raw.isascii() or not raw.isdigit():
        raise _invalid(f"InstanceId must be an integer: {raw!r}.")
    if int(raw) != configured:
        raise ApiError(404, "InvalidInstance.NotFound", f"The instance {raw} does not exist.")
    return int(raw)


def parse_chat(params: Mapping[str, str], configured_instance: int) -> ChatCall:
    """The call's parameters checked like the service would; raises ApiError (400/404)."""
    instance_id = _instance_id(params, configured_instance)
    model = params.get("Model", "").strip()
    if not model:
        raise ApiError(400, "MissingModel", "Model is mandatory for this action.")
    need_desensitization = boolean(params, "NeedDesensitization")
    rule = params.get("DesensitizationRule", "").strip()
    if need_desensitization and not rule:
        raise ApiError(
            400,
            "MissingDesensitizationRule",
            "DesensitizationRule cannot be empty when NeedDesensitization is true.",
        )
    _number(params, "Temperature", float, lambda v: 0 <= v < 2)
    _number(params, "TopP", float, lambda v: 0 < v <= 1)
    _number(params, "PresencePenalty", float, lambda v: -2 <= v <= 2)
    _number(params, "TopK", int, lambda v: v >= 0)
    _number(params, "TopLogprobs", int, lambda v: 0 <= v <= 5)
    for flag in ("Stream", "IncludeUsage", "EnableThinking", "EnableSearch", "Logprobs"):
        boolean(params, flag)
    response_format = params.get("ResponseFormat", "").strip() or "text"
    if response_format not in RESPONSE_FORMATS:
        raise _invalid("ResponseFormat must be text or json_object.")
    stop = _json_list(params, "Stop")
    if not all(isinstance(word, str) for word in stop):
        raise _invalid("Stop must be a JSON array of strings.")
    return ChatCall(
        instance_id=instance_id,
        model=model,
        messages=_messages(params),
        need_desensitization=need_desensitization,
        desensitization_rule=rule,
        include_usage=boolean(params, "IncludeUsage"),
        max_tokens=_number(params, "MaxTokens", int, lambda v: v >= 1),
        stop=[word for word in stop if word],
        enable_thinking=boolean(params, "EnableThinking"),
        thinking_budget=_number(params, "ThinkingBudget", int, lambda v: v >= 1),
        enable_search=boolean(params, "EnableSearch"),
        response_format=response_format,
        seed=_number(params, "Seed", int, lambda v: 0 <= v <= 2**31 - 1),
    )

"""Wire types of ChatWithDesensitizeSSE: the request and the events of its stream.

The request renders itself as the query string and form body the action takes
(DMS_LINGMA_API.md §1.2); each SSE event's envelope decodes into one normalised `DmsChatEvent`
per the reference's "robust client parsing rule" (§1.4), since what `Data` holds is undocumented.
"""

from __future__ import annotations

import json
from typing import Any, Literal
from urllib.parse import quote

from pydantic import (
    AliasChoices,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic.alias_generators import to_pascal

from .errors import DmsError

# Documented ranges (seed 000), for forms and admin validation to reuse.
TEMPERATURE_MIN = 0.0
TEMPERATURE_MAX = 2.0  # exclusive
TOP_P_MIN = 0.0  # exclusive
TOP_P_MAX = 1.0
PRESENCE_PENALTY_MIN = -2.0
PRESENCE_PENALTY_MAX = 2.0
SEED_MIN = 0
SEED_MAX = 2**31 - 1
TOP_LOGPROBS_MIN = 0
TOP_LOGPROBS_MAX = 5
DEFAULT_DESENSITIZATION_RULE = "UserInfo"
RESPONSE_FORMATS = ("text", "json_object")


def compact_json(value: Any) -> str:
    """The SDK's "json" shrink style: no spaces, non-ASCII kept as raw UTF-8."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


class DmsMessage(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    role: Literal["system", "user", "assistant"]
    content: str


class DmsChatRequest(BaseModel):
    """One ChatWithDesensitizeSSE call. Ranges are checked at construction (ValidationError).

    Fields are named after the wire parameters (`top_p` is `TopP`); `Stream=true` is always sent.
    Unknown fields are refused rather than dropped, so a misspelt option cannot go silently unsent.
    """

    model_config = ConfigDict(
        frozen=True, extra="forbid", alias_generator=to_pascal, populate_by_name=True
    )

    instance_id: int = Field(gt=0)
    messages: list[DmsMessage] = Field(min_length=1)
    model: str = Field(min_length=1)
    need_desensitization: bool = False
    desensitization_rule: str | None = None
    include_usage: bool = True
    max_tokens: int | None = Field(default=None, ge=1)
    temperature: float | None = Field(default=None, ge=TEMPERATURE_MIN, lt=TEMPERATURE_MAX)
    top_p: float | None = Field(default=None, gt=TOP_P_MIN, le=TOP_P_MAX)
    top_k: int | None = Field(default=None, ge=0)
    presence_penalty: float | None = Field(
        default=None, ge=PRESENCE_PENALTY_MIN, le=PRESENCE_PENALTY_MAX
    )
    seed: int | None = Field(default=None, ge=SEED_MIN, le=SEED_MAX)
    stop: list[str] | None = None
    response_format: Literal["text", "json_object"] | None = None
    enable_thinking: bool | None = None
    thinking_budget: int | None = Field(default=None, ge=1)
    enable_search: bool | None = None
    search_options: dict[str, str] | None = None
    enable_code_interpreter: bool | None = None
    logprobs: bool | None = None
    top_logprobs: int | None = Field(default=None, ge=TOP_LOGPROBS_MIN, le=TOP_LOGPROBS_MAX)
    modalities_list: list[str] | None = None
    audio_json: dict[str, Any] | None = None
    vl_high_resolution_images: bool | None = None
    x_dash_scope_data_inspection: dict[str, Any] | None = None
    input: str | None = None
    dimensions: int | None = Field(default=None, ge=1)
    parameters: dict[str, Any] | None = None
    # SDK 3.0.0 only, semantics undocumented (Q5): passed through as given.
    tools: list[dict[str, Any]] | None = None
    tool_choice: str | None = None

    @field_validator("desensitization_rule")
    @classmethod
    def _rule_not_blank(cls, value: str | None) -> str | None:
        if value is None:
            return None
        return value.strip() or None

    @model_validator(mode="after")
    def _rule_when_masking(self) -> DmsChatRequest:
        if self.need_desensitization and not self.desensitization_rule:
            raise ValueError("desensitization_rule is required when need_desensitization is true")
        return self

    def query_params(self) -> dict[str, str]:
        """Every parameter but Messages, as the strings the query string carries."""
        wire = self.model_dump(by_alias=True, exclude_none=True, exclude={"messages"})
        params = {name: _wire_value(value) for name, value in wire.items()}
        params["Stream"] = "true"
        return params

    def form_body(self) -> bytes:
        """`Messages=<RFC 3986 percent-encoded compact JSON>`: the only form field."""
        messages = compact_json([m.model_dump() for m in self.messages])
        return f"Messages={quote(messages, safe='~')}".encode()


def _wire_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | dict):
        return compact_json(value)
    return str(value)


# --- stream events ---------------------------------------------------------------------------


class _Tolerant(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True)


class DmsUsage(_Tolerant):
    prompt_tokens: int = Field(
        default=0, validation_alias=AliasChoices("prompt_tokens", "PromptTokens")
    )
    completion_tokens: int = Field(
        default=0, validation_alias=AliasChoices("completion_tokens", "CompletionTokens")
    )
    total_tokens: int | None = Field(
        default=None, validation_alias=AliasChoices("total_tokens", "TotalTokens")
    )


class _Delta(_Tolerant):
    content: str | None = Field(default=None, validation_alias=AliasChoices("content", "Content"))
    reasoning_content: str | None = Field(
        default=None, validation_alias=AliasChoices("reasoning_content", "ReasoningContent")
    )


class _Choice(_Tolerant):
    delta: _Delta | None = Field(default=None, validation_alias=AliasChoices("delta", "Delta"))
    message: _Delta | None = Field(
        default=None, validation_alias=AliasChoices("message", "Message")
    )
    finish_reason: str | None = Field(
        default=None, validation_alias=AliasChoices("finish_reason", "FinishReason")
    )


class _Chunk(_Tolerant):
    """An OpenAI-style chat.completion.chunk, snake_case or the PascalCase DMS re-spelling."""

    choices: list[_Choice] | None = Field(
        default=None, validation_alias=AliasChoices("choices", "Choices")
    )
    usage: DmsUsage | None = Field(default=None, validation_alias=AliasChoices("usage", "Usage"))


class _Envelope(_Tolerant):
    request_id: str = Field(default="", validation_alias=AliasChoices("RequestId", "requestId"))
    success: bool | None = Field(default=None, validation_alias=AliasChoices("Success", "success"))
    data: Any = Field(default=None, validation_alias=AliasChoices("Data", "data"))
    error_code: str | None = Field(
        default=None, validation_alias=AliasChoices("ErrorCode", "errorCode")
    )
    error_message: str | None = Field(
        default=None, validation_alias=AliasChoices("ErrorMessage", "errorMessage")
    )

    @field_validator("request_id", "error_code", "error_message", mode="before")
    @classmethod
    def _as_text(cls, value: Any) -> Any:
        return None if value is None else str(value)


# DashScope's native stream spells "not finished yet" as the string "null".
_NOT_FINISHED = frozenset({"", "null", "none"})


class DmsChatEvent(BaseModel):
    """One SSE event of the reply, normalised: answer text and thinking kept apart."""

    model_config = ConfigDict(frozen=True)

    request_id: str
    text: str = ""
    reasoning: str = ""
    finish_reason: str | None = None
    usage: DmsUsage | None = None

    @classmethod
    def from_sse_data(cls, data: str) -> DmsChatEvent:
        """Decode one event's `data:` text.

        Raises DmsError kind "malformed" when the envelope is not a JSON object and kind
        "stream" when it says `Success:false`.
        """
        try:
            envelope = _Envelope.model_validate_json(data)
        except ValidationError:
            raise DmsError(
                f"DMS sent an event that is not a JSON envelope: {_snippet(data)}",
                kind="malformed",
            ) from None
        if envelope.success is False:
            code = envelope.error_code or "UnknownError"
            raise DmsError(
                f"DMS reported an error during the reply: {envelope.error_message or code}",
                kind="stream",
                code=code,
                request_id=envelope.request_id,
            )
        return cls._from_data(envelope.request_id, envelope.data)

    @classmethod
    def _from_data(cls, request_id: str, data: Any) -> DmsChatEvent:
        if isinstance(data, str):
            try:
                data = json.loads(data)
            except ValueError:
                return cls(request_id=request_id, text=data)  # plain text delta
        if not isinstance(data, dict):
            return cls(request_id=request_id)
        try:
            chunk = _Chunk.model_validate(data)
        except ValidationError:
            return cls(request_id=request_id)
        choice = chunk.choices[0] if chunk.choices else None
        part = (choice.delta or choice.message) if choice else None
        finish = choice.finish_reason if choice else None
        return cls(
            request_id=request_id,
            text=(part.content or "") if part else "",
            reasoning=(part.reasoning_content or "") if part else "",
            finish_reason=None if (finish or "").lower() in _NOT_FINISHED else finish,
            usage=chunk.usage,
        )


def _snippet(text: str, limit: int = 200) -> str:
    return " ".join(text.split())[:limit]


# --- ListInstances (the instances whose masking rules a chat can use) -------------------------


class DmsInstance(_Tolerant):
    model_config = ConfigDict(extra="ignore", populate_by_name=True, alias_generator=to_pascal)

    instance_id: str
    instance_alias: str = ""
    instance_type: str = ""
    env_type: str = ""
    state: str = ""

    @field_validator("instance_id", mode="before")
    @classmethod
    def _as_text(cls, value: Any) -> Any:
        return str(value) if isinstance(value, int) else value  # a string here, a long in chat


class _InstanceList(_Tolerant):
    instance: list[DmsInstance] = Field(default_factory=list, alias="Instance")


class DmsInstancePage(_Tolerant):
    """`ListInstances`' answer: the page of instances and how many there are in all."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True, alias_generator=to_pascal)

    request_id: str = ""
    total_count: int = 0
    instance_list: _InstanceList = Field(default_factory=_InstanceList)

    @property
    def items(self) -> list[DmsInstance]:
        return self.instance_list.instance

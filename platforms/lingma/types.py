"""Wire types of Yunxiao Lingma ExecuteChat and ListKnowledgeBases (DMS_LINGMA_API.md Part 2).

The chat body keeps the API's snake_case parameter names (`max_tokens`, `top_p`); the envelope
and the knowledge-base items are camelCase (`kbIds`, `requestId`, `fileCount`). Parsing is
tolerant: unknown fields are ignored and the documented variant spellings are accepted.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, field_validator, model_validator
from pydantic.alias_generators import to_camel

# Documented ranges and defaults of `parameters` (seed 001); the admin form reuses them.
MAX_TOKENS_MIN = 1
MAX_TOKENS_MAX = 4096
TEMPERATURE_MIN = 0.0
TEMPERATURE_MAX = 1.0
TOP_P_MIN = 0.0
TOP_P_MAX = 1.0
DEFAULT_MAX_TOKENS = 512
DEFAULT_SEED = 1234
DEFAULT_TEMPERATURE = 0.2
DEFAULT_TOP_K = 1024
DEFAULT_TOP_P = 0.6

# The values of `finish_reason` that mean "not finished yet".
UNFINISHED_REASONS = frozenset({"", "null"})


def _wire_flag(value: bool) -> str:
    return "true" if value else "false"


class _Wire(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="ignore")


class LingmaMessage(BaseModel):
    model_config = ConfigDict(extra="ignore")

    role: Literal["system", "user", "assistant"]
    content: str


class LingmaParameters(BaseModel):
    """Model parameters; unset ones are left to the server's defaults."""

    model_config = ConfigDict(extra="ignore")

    max_tokens: int | None = Field(default=None, ge=MAX_TOKENS_MIN, le=MAX_TOKENS_MAX)
    seed: int | None = None
    temperature: float | None = Field(default=None, ge=TEMPERATURE_MIN, le=TEMPERATURE_MAX)
    top_k: int | None = Field(default=None, ge=0)
    top_p: float | None = Field(default=None, ge=TOP_P_MIN, le=TOP_P_MAX)


class LingmaChatRequest(_Wire):
    """One ExecuteChat call: the whole history each turn (the API keeps no conversation)."""

    messages: list[LingmaMessage]
    team_docs: bool = False
    kb_ids: list[str] = Field(default_factory=list)
    parameters: LingmaParameters | None = None

    @field_validator("messages")
    @classmethod
    def _system_first(cls, messages: list[LingmaMessage]) -> list[LingmaMessage]:
        if any(m.role == "system" for m in messages[1:]):
            raise ValueError("a system message may only be the first message")
        return messages

    def query_params(self, stream: bool) -> dict[str, str]:
        return {"stream": _wire_flag(stream), "teamDocs": _wire_flag(self.team_docs)}

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {"input": {"messages": [m.model_dump() for m in self.messages]}}
        if self.kb_ids:
            body["kbIds"] = list(self.kb_ids)
        if self.parameters is not None:
            parameters = self.parameters.model_dump(exclude_none=True)
            if parameters:
                body["parameters"] = parameters
        return body


class LingmaUsage(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    input_tokens: int = Field(
        default=0, validation_alias=AliasChoices("input_tokens", "inputTokens")
    )
    output_tokens: int = Field(
        default=0, validation_alias=AliasChoices("output_tokens", "outputTokens")
    )


def finish_reason_or_none(value: Any) -> str | None:
    """The finish reason, or None while the answer goes on ("null", "" and null alike)."""
    if value is None:
        return None
    text = str(value).strip()
    return None if text.lower() in UNFINISHED_REASONS else text


class LingmaChatEvent(BaseModel):
    """One streamed piece of the answer: `text` holds only the text new in this event."""

    request_id: str
    text: str
    finish_reason: str | None = None
    usage: LingmaUsage | None = None


class LingmaChatResult(BaseModel):
    """A whole answer (stream=false)."""

    request_id: str
    text: str
    finish_reason: str | None = None
    usage: LingmaUsage | None = None


class ChatOutput(BaseModel):
    model_config = ConfigDict(extra="ignore")

    text: str | None = None
    finish_reason: str | None = Field(
        default=None, validation_alias=AliasChoices("finish_reason", "finishReason")
    )

    @field_validator("finish_reason", mode="before")
    @classmethod
    def _normalise_reason(cls, value: Any) -> str | None:
        return finish_reason_or_none(value)


class ChatPayload(BaseModel):
    """The JSON of a non-streamed answer and of each `data:` event of a streamed one."""

    model_config = ConfigDict(extra="ignore")

    output: ChatOutput = Field(default_factory=ChatOutput)
    request_id: str | None = Field(
        default=None, validation_alias=AliasChoices("requestId", "request_id")
    )
    usage: LingmaUsage | None = None


def _scalar_text(value: Any) -> Any:
    return str(value) if isinstance(value, int | float) and not isinstance(value, bool) else value


class KnowledgeBase(_Wire):
    id: str
    name: str
    description: str = ""
    size: int = 0
    file_count: int = 0
    scene_type: str = ""
    # 0 (private) and 10 (public) in the docs; kept as text whatever JSON type it arrives in.
    access_level: str = ""
    state: str = ""

    @field_validator("id", "access_level", mode="before")
    @classmethod
    def _as_text(cls, value: Any) -> Any:
        return _scalar_text(value)

    @model_validator(mode="before")
    @classmethod
    def _no_nulls(cls, data: Any) -> Any:
        # The API may send null for an empty description or size; take the defaults instead.
        if isinstance(data, dict):
            return {key: value for key, value in data.items() if value is not None}
        return data


class KnowledgeBasePage(BaseModel):
    items: list[KnowledgeBase]
    total: int

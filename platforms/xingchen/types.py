"""Typed request and response shapes of the Xingchen v2 API, declared as pydantic dataclasses.

Fields are snake_case; the wire names are camelCase (`to_camel`), snake_case only for
completions. `to_wire()` builds the JSON the API expects and leaves out None values.
`from_wire()` accepts what the server sends: scalars are read leniently (the `Str`, `Int`,
`Flag`... types below), every known disagreement between the API's own documents
(XINGCHEN_API.md §12) is an `AliasChoices` or a validator, unknown fields are ignored, and
types with a `raw` field keep the received dict so fields this module does not model are not lost.

They are pydantic *dataclasses*, not BaseModels, so callers keep positional construction,
`dataclasses.replace()` and equality that ignores `raw`.
"""

from __future__ import annotations

import dataclasses
import json
import secrets
from collections.abc import Callable
from dataclasses import field
from datetime import UTC, datetime
from functools import cache
from typing import Annotated, Any, Generic, TypeVar

from pydantic import (
    AliasChoices,
    AliasPath,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    TypeAdapter,
    model_serializer,
    model_validator,
)
from pydantic.alias_generators import to_camel
from pydantic.dataclasses import dataclass

T = TypeVar("T")
Wire = dict[str, Any]

# Sent as `input.prompt` on single-character chat, exactly as the official SDK does.
SYSTEM_PROMPT = "|<system>|"
SEED_MAX = 2**31 - 1

_camel = dataclass(
    frozen=True,
    config=ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="ignore"),
)
_snake = dataclass(frozen=True, config=ConfigDict(populate_by_name=True, extra="ignore"))


def new_seed() -> int:
    """A fresh seed in [1, 2**31 - 1]: xingchen-plus-v2 repeats itself when a seed is reused."""
    return secrets.randbelow(SEED_MAX) + 1


def _seed(seed: int | None) -> int:
    return new_seed() if seed is None else seed


# --- tolerant scalar parsing ----------------------------------------------------------------


def _str(value: Any) -> str | None:
    if value is None:
        return None
    return value if isinstance(value, str) else str(value)


def _int(value: Any) -> int | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int):
        return value
    try:
        return int(float(value))
    except (TypeError, ValueError):
        return None


def _bool(value: Any, default: bool | None = None) -> bool | None:
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return value != 0
    if isinstance(value, str) and value.strip().lower() in ("true", "false", "1", "0"):
        return value.strip().lower() in ("true", "1")
    return default


def _dict(value: Any) -> Wire:
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _strs(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    return [str(item) for item in _list(value) if item is not None]


def _compact(wire: Wire) -> Wire:
    return {key: value for key, value in wire.items() if value is not None}


def _is_object(value: Any) -> bool:
    # A wire dict, or an instance a caller built (passed through without revalidation).
    return isinstance(value, dict) or dataclasses.is_dataclass(value)


def _object_or_none(value: Any) -> Any:
    return value if _is_object(value) else None


def _objects(value: Any) -> list[Any]:
    return [item for item in _list(value) if _is_object(item)]


def parse_time(value: Any) -> datetime | None:
    """ISO-8601 (any offset, or none meaning UTC) or epoch milliseconds -> aware datetime."""
    if isinstance(value, datetime):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return datetime.fromtimestamp(value / 1000, tz=UTC)
    if not isinstance(value, str) or not value.strip():
        return None
    text = value.strip()
    if text.isdigit():
        return datetime.fromtimestamp(int(text) / 1000, tz=UTC)
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


def normalize_stop_reason(value: Any) -> str | None:
    """None for "not finished": the docs use both JSON null and the string "null"."""
    text = _str(value)
    if text is None or text.strip().lower() in ("", "null", "none"):
        return None
    return text


def _normalize_status(value: Any) -> str | None:
    # The API's own document spells the review-passed status "succcess".
    text = _str(value)
    return "success" if text == "succcess" else text


# Lenient field types: whatever the server sends, they read as the declared type or as missing.
Str = Annotated[str | None, BeforeValidator(_str)]
Text = Annotated[str, BeforeValidator(lambda v: _str(v) or "")]
Int = Annotated[int | None, BeforeValidator(_int)]
Count = Annotated[int, BeforeValidator(lambda v: _int(v) or 0)]
Flag = Annotated[bool | None, BeforeValidator(_bool)]
Switch = Annotated[bool, BeforeValidator(lambda v: bool(_bool(v, False)))]
Strs = Annotated[list[str], BeforeValidator(_strs)]
Time = Annotated[datetime | None, BeforeValidator(parse_time)]
Status = Annotated[str | None, BeforeValidator(_normalize_status)]
StopReason = Annotated[str | None, BeforeValidator(normalize_stop_reason)]
# Nested shapes: a non-object reads as missing, non-object list items are dropped.
Maybe = Annotated[T | None, BeforeValidator(_object_or_none)]
Items = Annotated[list[T], BeforeValidator(_objects)]
# The API wants these switches as 0/1 integers.
BitSwitch = Annotated[Switch, PlainSerializer(int)]
# Never sent back; a server field that happens to be called "raw" cannot break decoding.
Raw = Annotated[Wire, BeforeValidator(_dict), Field(exclude=True)]


@cache
def _adapter(shape: Any) -> TypeAdapter[Any]:
    return TypeAdapter(shape)


def _decode(cls: type[T], wire: Any) -> T:
    return _adapter(cls).validate_python(_dict(wire))


def _dump(value: Any) -> Wire:
    return _adapter(type(value)).dump_python(value, by_alias=True, exclude_none=True, mode="json")


@_camel
class _Wire:
    """The two codecs every wire type shares."""

    @classmethod
    def from_wire(cls: type[T], wire: Any) -> T:
        return _decode(cls, wire)

    def to_wire(self) -> Wire:
        return _dump(self)


@_camel
class _Received(_Wire):
    """A response shape that keeps the dict it was read from in `raw`."""

    raw: Raw = field(default_factory=dict, repr=False, compare=False, kw_only=True)

    @model_validator(mode="before")
    @classmethod
    def _keep_raw(cls, data: Any) -> Any:
        return {**data, "raw": data} if isinstance(data, dict) and "raw" not in data else data


@_camel
class _Toggle(_Wire):
    """A setting with `enabled`: True when built here, False when the server left it out (the
    platform treats a missing value as disabled)."""

    @model_validator(mode="before")
    @classmethod
    def _missing_means_disabled(cls, data: Any) -> Any:
        return {"enabled": False, **data} if isinstance(data, dict) else data


# --- chat building blocks -------------------------------------------------------------------


@_camel
class Message(_Wire):
    role: Text = ""
    content: Text = ""
    name: Str = None


@_camel
class FunctionDef(_Wire):
    name: str
    description: str = ""
    parameters: Wire = field(default_factory=dict)

    def to_wire(self) -> Wire:
        # Always all three keys, an empty description included.
        return {"name": self.name, "description": self.description, "parameters": self.parameters}

    def to_tool(self) -> Wire:
        return {"type": "function", "function": self.to_wire()}


def _api_parameters(value: Any) -> Wire:
    # Documented as an object, seen as a JSON string.
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            value = {"value": value}
    return _dict(value)


@_camel
class ApiCall(_Wire):
    api_name: Text = ""
    parameters: Annotated[Wire, BeforeValidator(_api_parameters)] = Field(
        default_factory=dict, validation_alias=AliasChoices("parameters", "parameter")
    )


@_camel
class FunctionCall(_Wire):
    thought: Text = Field("", validation_alias=AliasChoices("thought", "tought"))
    api_calls: Items[ApiCall] = Field(default_factory=list, validation_alias="apiCallList")

    @classmethod
    def from_wire(cls, wire: Any) -> FunctionCall | None:
        return _decode(cls, wire) if isinstance(wire, dict) and wire else None


# An empty functionCall object means no call.
_MaybeFunctionCall = Annotated[
    FunctionCall | None, BeforeValidator(lambda v: v if v and _is_object(v) else None)
]


@_camel
class Usage(_Wire):
    input_tokens: Count = 0
    output_tokens: Count = 0
    user_tokens: Count = 0

    @classmethod
    def from_wire(cls, wire: Any) -> Usage | None:
        return _decode(cls, wire) if isinstance(wire, dict) else None


@_camel
class ChatContext(_Received):
    """Ids of one generation; `message_id`/`reply_message_id` are the API's deprecated aliases
    of `answer_id`/`query_id`."""

    request_id: Str = None
    session_id: Str = None
    chat_id: Str = None
    query_id: Str = None
    answer_id: Str = None
    message_id: Str = None
    reply_message_id: Str = None
    chat_room_id: Int = None
    model_request_id: Str = None
    model_name: Str = None
    character_pk: Int = None
    is_save: Flag = None

    def merged(self, newer: ChatContext) -> ChatContext:
        """This context updated with every value `newer` knows (stream events may carry only
        some ids each)."""
        updates = {
            f.name: getattr(newer, f.name)
            for f in dataclasses.fields(self)
            if f.name != "raw" and getattr(newer, f.name) is not None
        }
        # Most stream events repeat the ids already seen: skip the (validating) copy.
        if newer.raw.items() <= self.raw.items() and all(
            getattr(self, name) == value for name, value in updates.items()
        ):
            return self
        return dataclasses.replace(self, **updates, raw={**self.raw, **newer.raw})


@_camel
class KvSchema(_Wire):
    """One extracted fact: `role` says whose it is, `key` names it, `values` hold it."""

    role: Text = ""
    key: Text = ""
    values: Strs = Field(
        default_factory=list,
        validation_alias=AliasChoices("value", "values"),
        serialization_alias="value",
    )


@_camel
class ChatMemory(_Wire):
    """Caller-supplied long-term memory (`input.aca.memory`)."""

    summaries: list[str] = field(default_factory=list)
    tags: list[KvSchema] = field(default_factory=list)


@_camel
class AdvancedSettings(_Wire):
    """Per-call switches (`input.aca.advancedSettings`)."""

    enable_web_search: bool | None = None
    search_enhanced_keyword: str | None = None
    enable_character_kb_search: bool | None = None
    knowledge_bases: list[str] | None = None
    enable_long_term_memory: bool | None = None
    enable_debug: bool | None = None


@_camel
class ModelParameters(_Wire):
    """`modelParameter` of auto-description and memory extraction."""

    seed: int | None = None
    temperature: float | None = None
    top_p: float | None = None
    top_k: int | None = None
    max_length: int | None = None
    min_length: int | None = None
    model_name: str | None = None

    @model_serializer(mode="wrap")
    def _fresh_seed(self, handler: Callable[[Any], Wire]) -> Wire:
        return handler(self) | {"seed": _seed(self.seed)}


# --- characters -----------------------------------------------------------------------------


def _avatar(value: Any) -> Any:
    # One section of the API's document types the avatar as a plain URL string.
    if isinstance(value, str):
        return {"fileUrl": value} if value else None
    return value if _is_object(value) and value else None


@_camel
class Avatar(_Wire):
    file_save_path: Str = None
    filename: Str = None
    file_url: Str = None

    @classmethod
    def from_wire(cls, wire: Any) -> Avatar | None:
        value = _avatar(wire)
        return None if value is None else _decode(cls, value)


@_camel
class PermConfig(_Wire):
    # The API wants all three on every write.
    is_public: BitSwitch = False
    allow_chat: BitSwitch = False
    allow_api: BitSwitch = False

    @classmethod
    def from_wire(cls, wire: Any) -> PermConfig | None:
        return _decode(cls, wire) if isinstance(wire, dict) else None


@_camel
class KvMemoryConfig(_Toggle):
    enabled: Switch = True
    memory_text: Text = ""


@_camel
class LongTermMemory(_Toggle):
    enabled: Switch = True
    memory_type: Annotated[str, BeforeValidator(lambda v: _str(v) or "kv")] = "kv"
    kv_memory_configs: Items[KvMemoryConfig] = field(default_factory=list)


def _keywords(value: Any) -> list[str]:
    # On the wire each keyword is `{"value": ...}`; plain strings are accepted too.
    keywords = (_dict(k).get("value", k) for k in _list(value))
    return [str(k) for k in keywords if k is not None]


@_camel
class RejectCondition(_Toggle):
    enabled: Switch = True
    condition_type: Str = None
    keywords: Annotated[
        list[str],
        BeforeValidator(_keywords),
        PlainSerializer(lambda keywords: [{"value": k} for k in keywords]),
    ] = field(default_factory=list)
    sub_reject_condition: Maybe[RejectCondition] = None


@_camel
class PlatformPlugin(_Toggle):
    """`text_to_image_plugin` or `reject_answer_plugin`. `enabled` is always sent: the platform
    treats a missing value as disabled."""

    name: Text = ""
    enabled: Switch = True
    image_style: Str = None
    positive_desc: Str = None
    negative_desc: Str = None
    reject_conditions: Items[RejectCondition] = Field(
        default_factory=list, exclude_if=lambda conditions: not conditions
    )


@_camel
class AdvancedConfig(_Received):
    """A character's `advancedConfig`; `short_term_memory_round` is at most 100."""

    is_real_info: Flag = None
    search_keyword: Str = None
    is_real_time: Flag = None
    short_term_memory_round: Int = None
    long_term_memories: Items[LongTermMemory] = field(default_factory=list)
    platform_plugins: Items[PlatformPlugin] = field(default_factory=list)
    knowledge_bases: Strs = field(default_factory=list)
    allow_send_image: Flag = None
    image_style: Str = None
    allow_send_asr: Flag = None
    asr_style: Str = None
    chat_description: Str = None

    @classmethod
    def from_wire(cls, wire: Any) -> AdvancedConfig | None:
        return _decode(cls, wire) if isinstance(wire, dict) else None

    @model_serializer(mode="wrap")
    def _carry_unmodelled(self, handler: Callable[[Any], Wire]) -> Wire:
        """The modelled fields, plus any unmodelled ones `raw` carried in from the server (such
        as `repositoryInfo`), so a read-modify-write does not drop settings made elsewhere."""
        modelled = {to_camel(f.name) for f in dataclasses.fields(self)}
        return {k: v for k, v in self.raw.items() if k not in modelled} | handler(self)


@_camel
class CharacterInput(_Wire):
    """The fields of character create, update and createOrUpdateVersion.

    `avatar_url` is an external URL the platform re-hosts; pass `avatar_file_save_path` (the
    OSS key of an avatar the platform already holds) to keep an existing avatar as it is.
    """

    name: str
    basic_information: str
    avatar_url: str | None = Field(None, exclude=True)
    avatar_file_save_path: str | None = Field(None, exclude=True)
    introduction: str | None = None
    opening_line: str | None = None
    traits: str | None = None
    chat_example: str | None = None
    type: str | None = None
    chat_objective: str | None = None
    role_types: list[str] = field(default_factory=list)
    perm_config: PermConfig | None = None
    advanced_config: AdvancedConfig | None = None

    def to_wire(self) -> Wire:
        avatar = _compact({"fileUrl": self.avatar_url, "fileSavePath": self.avatar_file_save_path})
        return _dump(self) | ({"avatar": avatar} if avatar else {})


@_camel
class Character(_Received):
    """CharacterDTO. Review statuses are normalised ("succcess" reads as "success")."""

    character_id: Text = ""
    name: Text = ""
    avatar: Annotated[Avatar | None, BeforeValidator(_avatar)] = None
    introduction: Str = None
    basic_information: Str = None
    opening_line: Str = None
    traits: Str = None
    chat_example: Str = None
    type: Str = None
    chat_objective: Str = None
    role_types: Strs = field(default_factory=list)
    tags: Strs = field(default_factory=list)
    bubbles: Strs = field(default_factory=list)
    background_img_url: Str = None
    perm_config: Maybe[PermConfig] = None
    advanced_config: Maybe[AdvancedConfig] = None
    version: Int = None
    major_version: Int = None
    versions: Annotated[
        list[int], BeforeValidator(lambda v: [i for i in map(_int, _list(v)) if i is not None])
    ] = field(default_factory=list)
    created_at: Time = Field(None, validation_alias="gmtCreate")
    modified_at: Time = Field(None, validation_alias="gmtModified")
    user_id: Str = None
    biz_user_id: Str = None
    modified_by: Str = None
    creator: Str = None
    manageable: Flag = None
    is_pre_configured: Flag = None
    audit_status: Status = None
    config_status: Str = None
    green_status: Status = None

    def to_input(self) -> CharacterInput:
        """The editable fields, ready for update or a new version; the avatar is kept by key."""
        avatar = self.avatar or Avatar()
        return CharacterInput(
            name=self.name,
            basic_information=self.basic_information or "",
            avatar_url=avatar.file_url,
            avatar_file_save_path=avatar.file_save_path,
            introduction=self.introduction,
            opening_line=self.opening_line,
            traits=self.traits,
            chat_example=self.chat_example,
            type=self.type,
            chat_objective=self.chat_objective,
            role_types=list(self.role_types),
            perm_config=self.perm_config,
            advanced_config=self.advanced_config,
        )


@dataclasses.dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    page: int
    page_size: int
    total: int

    @classmethod
    def from_wire(cls, wire: Any, parse: Callable[[Wire], T]) -> Page[T]:
        # The request says `pageNum`, the response `page`; accept either in the response.
        wire = _dict(wire)
        items = [parse(item) for item in _list(wire.get("list")) if isinstance(item, dict)]
        return cls(
            items=items,
            page=_int(wire.get("page", wire.get("pageNum"))) or 1,
            page_size=_int(wire.get("pageSize")) or len(items),
            total=_int(wire.get("total")) or 0,
        )


# --- chat requests and results --------------------------------------------------------------


@_camel
class ChatRequest(_Wire):
    """One chat turn with a platform character.

    `seed` None means a fresh random seed on every call (one `to_wire()` per call), which the
    default model needs to avoid repeating itself; set it only to reproduce a reply.
    `incremental_output` True makes each streamed event carry only new text.
    """

    character_id: str
    user_id: str
    messages: list[Message] = field(default_factory=list)
    user_name: str | None = None
    user_basic_info: str | None = None
    scenario: str | None = None
    is_regenerate: bool = False
    query_id: str | None = None
    answer_id: str | None = None
    incremental_output: bool = True
    seed: int | None = None
    max_length: int | None = None
    temperature: float | None = None
    top_p: float | None = None
    top_k: int | None = None
    model_name: str | None = None
    function_list: list[FunctionDef] = field(default_factory=list)
    use_chat_history: bool = True
    character_version: int | None = None
    sample_messages: list[Message] = field(default_factory=list)
    memory: ChatMemory | None = None
    advanced_settings: AdvancedSettings | None = None
    platform_plugins: list[PlatformPlugin] = field(default_factory=list)

    def to_wire(self) -> Wire:
        input_ = {"prompt": SYSTEM_PROMPT, "messages": _dumps(self.messages), "aca": self._aca()}
        return _chat_body(self, input_)

    def _aca(self) -> Wire:
        settings, memory = self.advanced_settings, self.memory
        user = {
            "userId": self.user_id,
            "userName": self.user_name,
            "basicInfo": self.user_basic_info,
        }
        context = {
            "useChatHistory": self.use_chat_history,
            "isRegenerate": self.is_regenerate,
            "queryId": self.query_id,
            "answerId": self.answer_id,
        }
        return _compact(
            {
                "botProfile": _compact(
                    {"characterId": self.character_id, "version": self.character_version}
                ),
                "userProfile": _compact(user),
                "sampleMessages": _dumps(self.sample_messages) or None,
                "scenario": {"description": self.scenario} if self.scenario else None,
                "functionList": _dumps(self.function_list) or None,
                "context": _compact(context),
                "memory": memory.to_wire() if memory else None,
                "advancedSettings": settings.to_wire() if settings else None,
                "platformPlugins": _dumps(self.platform_plugins) or None,
            }
        )


def _dumps(items: list[Any]) -> list[Wire]:
    return [item.to_wire() for item in items]


def _chat_body(request: ChatRequest | GroupChatRequest, input_: Wire) -> Wire:
    parameters = {
        "seed": _seed(request.seed),
        "incrementalOutput": request.incremental_output,
        "maxLength": request.max_length,
        "temperature": request.temperature,
        "topP": request.top_p,
        "topK": request.top_k,
        "modelName": request.model_name,
    }
    body: Wire = {"parameters": _compact(parameters), "input": input_}
    if request.model_name:
        body["model"] = request.model_name
    return body


@_camel
class GroupMember(_Wire):
    """A group-chat character: a platform character by id, or an ad-hoc one by name and
    persona text."""

    character_id: str | None = None
    name: str | None = None
    content: str | None = None


@_camel
class GroupChatRequest(_Wire):
    """A group-chat turn: 1 to 10 members; `reply_bot_name` (one of the members) picks who
    answers, `reply_thought` says how."""

    members: list[GroupMember]
    user_id: str
    group_name: str
    messages: list[Message] = field(default_factory=list)
    group_description: str | None = None
    user_name: str | None = None
    reply_bot_name: str | None = None
    reply_thought: str | None = None
    incremental_output: bool = True
    seed: int | None = None
    max_length: int | None = None
    temperature: float | None = None
    top_p: float | None = None
    top_k: int | None = None
    model_name: str | None = None

    def to_wire(self) -> Wire:
        reply = _compact({"botName": self.reply_bot_name, "thought": self.reply_thought})
        aca = {
            "botProfiles": _dumps(self.members),
            "userProfile": _compact({"userId": self.user_id, "userName": self.user_name}),
            "groupInfo": _compact({"name": self.group_name, "description": self.group_description}),
            "replySetting": reply or None,
        }
        return _chat_body(self, {"messages": _dumps(self.messages), "aca": _compact(aca)})


def _choice_texts(value: Any) -> list[str]:
    # Each choice's first message text; texts a caller made pass through.
    return [item if isinstance(item, str) else _reply_text(item) for item in _list(value)]


def _reply_text(choice: Any) -> str:
    messages = _list(_dict(choice).get("messages"))
    return (_str(_dict(messages[0]).get("content")) if messages else None) or ""


# The reply is the first choice's first message.
_REPLY = ("choices", 0, "messages", 0)


@_camel
class ChatResult(_Received):
    """A whole reply. `alternatives` holds every choice's text when several were asked for."""

    request_id: Str = None
    text: Text = Field("", validation_alias=AliasPath(*_REPLY, "content"))
    stop_reason: StopReason = Field(None, validation_alias=AliasPath("choices", 0, "stopReason"))
    usage: Maybe[Usage] = None
    context: Annotated[ChatContext, BeforeValidator(lambda v: v if _is_object(v) else {})] = field(
        default_factory=ChatContext
    )
    has_risk: Switch = Field(False, validation_alias=AliasPath(*_REPLY, "meta", "hasRisk"))
    safety_std_answer: Str = Field(
        None, validation_alias=AliasPath(*_REPLY, "meta", "safetyStdAnswer")
    )
    function_call: _MaybeFunctionCall = Field(
        None, validation_alias=AliasPath(*_REPLY, "functionCall")
    )
    speaker: Str = Field(None, validation_alias=AliasPath(*_REPLY, "name"))
    alternatives: Annotated[list[str], BeforeValidator(_choice_texts)] = Field(
        default_factory=list, validation_alias="choices"
    )

    @property
    def finished(self) -> bool:
        return self.stop_reason is not None

    @classmethod
    def from_wire(cls, data: Any, request_id: str | None = None) -> ChatResult:
        """`request_id` (the envelope's) wins over the data's, and that over its context's."""
        result = _decode(cls, data)
        wanted = request_id or result.request_id or result.context.request_id
        return (
            result
            if wanted == result.request_id
            else dataclasses.replace(result, request_id=wanted)
        )


@dataclasses.dataclass(frozen=True)
class ChatEvent:
    """One streamed event. `delta` is only the new text and `text` the whole text so far,
    whichever output mode the server used; `replaced` is True when a cumulative event did not
    extend the previous text (then `delta` is the whole new text and the display must be reset).
    `request_id` is the one seen on the first event. `context` accumulates the ids seen so far.

    Assembled by the client from `ChatResult`s, never read from the wire itself.
    """

    request_id: str | None
    delta: str
    text: str
    finished: bool
    stop_reason: str | None
    usage: Usage | None
    context: ChatContext
    has_risk: bool = False
    safety_std_answer: str | None = None
    function_call: FunctionCall | None = None
    speaker: str | None = None
    replaced: bool = False
    raw: Wire = field(default_factory=dict, repr=False, compare=False)


def _epoch_ms(value: datetime) -> int:
    """Epoch milliseconds, the seed doc's form for history times; naive means UTC."""
    aware = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
    return int(aware.timestamp() * 1000)


@_camel
class HistoryQuery(_Wire):
    """Histories filter. `order_by` items look like "gmtCreate desc" (the only sort field).

    The user goes out under both names (the seed doc's `userId`, the SDK's `bizUserId`) and the
    times as epoch milliseconds (the seed doc's long), so either reading of §12 items 15-16
    finds the user's records.
    """

    character_id: str
    biz_user_id: str
    session_id: str | None = None
    message_ids: list[str] | None = None
    page_num: int = 1
    page_size: int = 50
    order_by: list[str] | None = None
    start_time: datetime | None = None
    end_time: datetime | None = None

    def to_wire(self) -> Wire:
        where = {
            "characterId": self.character_id,
            "userId": self.biz_user_id,
            "bizUserId": self.biz_user_id,
            "sessionId": self.session_id,
            "messageIds": self.message_ids,
            "startTime": _epoch_ms(self.start_time) if self.start_time else None,
            "endTime": _epoch_ms(self.end_time) if self.end_time else None,
        }
        return _compact(
            {
                "where": _compact(where),
                "pageNum": self.page_num,
                "pageSize": self.page_size,
                "orderBy": self.order_by,
            }
        )


def decode_message_content(value: Any) -> str:
    """History content is documented as a JSON string: unwrap it to the text it carries, and
    keep plain text (or JSON of an unknown shape) as it is."""
    if not isinstance(value, str):
        return "" if value is None else json.dumps(value, ensure_ascii=False)
    stripped = value.strip()
    if not stripped or stripped[0] not in '{["':
        return value
    try:
        decoded = json.loads(stripped)
    except ValueError:
        return value
    text = _text_of(decoded)
    return value if text is None else text


def _text_of(decoded: Any) -> str | None:
    if isinstance(decoded, str):
        return decoded
    if isinstance(decoded, dict):
        for key in ("content", "text", "message"):
            if isinstance(decoded.get(key), str):
                return decoded[key]
        return None
    if isinstance(decoded, list):
        parts = [_text_of(item) for item in decoded]
        texts = [p for p in parts if p is not None]
        return "".join(texts) if texts else None
    return None


def _issuer(key: str) -> Any:
    return Field(None, validation_alias=AliasPath("messageIssuer", key))


@_camel
class ChatMessage(_Received):
    """ChatMessageDTO; `content` is the decoded text, `raw_content` what the server sent.

    `user_id` is the business user the record belongs to (the record's `userId`, else its
    `bizUserId`), whoever issued it; None when the server leaves both out.
    """

    message_id: Text = ""
    session_id: Str = None
    chat_id: Str = None
    issuer_type: Str = _issuer("userType")
    message_type: Str = None
    status: Str = None
    content: Annotated[str, BeforeValidator(decode_message_content)] = ""
    created_at: Time = Field(None, validation_alias="gmtCreate")
    rating: Int = None
    regenerate_times: Int = None
    is_greeting: Flag = None
    issuer_user_id: Str = _issuer("userId")
    issuer_biz_user_id: Str = _issuer("bizUserId")
    issuer_name: Str = _issuer("userName")
    raw_content: Str = None
    user_id: Annotated[str | None, BeforeValidator(lambda v: _str(v) or None)] = None

    @classmethod
    def from_wire(cls, wire: Any) -> ChatMessage:
        wire = _dict(wire)
        # The doc's owner name first, then the SDK's; an empty one counts as missing.
        owner = _str(wire.get("userId")) or _str(wire.get("bizUserId"))
        derived = {"rawContent": wire.get("content"), "userId": owner, "raw": wire}
        return _decode(cls, {**wire, **derived})


@_camel
class ImageTask(_Received):
    """A text-to-image task: poll until `status` is no longer "running". URLs expire."""

    task_id: Str = None
    status: Annotated[str, BeforeValidator(lambda v: (_str(v) or "running").lower())] = "running"
    file_urls: Annotated[list[str], BeforeValidator(lambda v: [u for u in _strs(v) if u])] = Field(
        default_factory=list, validation_alias=AliasChoices("fileUrls", "fileUrl")
    )
    error_message: Str = None

    @property
    def done(self) -> bool:
        return self.status != "running"


@_camel
class NextSpeaker(_Received):
    name: Text = ""
    thought: Str = Field(None, validation_alias=AliasChoices("thought", "tought"))
    usage: Maybe[Usage] = None
    context: Annotated[ChatContext, BeforeValidator(lambda v: v if _is_object(v) else {})] = field(
        default_factory=ChatContext
    )


# --- generation helpers: description, memory extraction, file conversion ----------------------


@_camel
class AutoDescRequest(_Wire):
    """Describe a character from `text`, or from the file at `file_url` (type "file"; then
    `file_name` with its extension is required)."""

    type: str = "text"
    text: str | None = None
    file_url: str | None = None
    file_name: str | None = None
    model_parameters: ModelParameters | None = Field(None, serialization_alias="modelParameter")


@_camel
class CharacterDesc(_Received):
    content: Text = ""
    usage: Maybe[Usage] = None


def _unwrapped(key: str) -> BeforeValidator:
    """List items that the document nests under `key` and the examples and SDK do not."""
    return BeforeValidator(lambda v: [_dict(item).get(key, item) for item in _list(v)])


@_camel
class ExtractKV(_Received):
    schemas: Annotated[Items[KvSchema], _unwrapped("schema")] = field(default_factory=list)
    usage: Maybe[Usage] = None


def _summary_text(item: Any) -> str:
    return item if isinstance(item, str) else _str(_dict(item).get("content")) or ""


@_camel
class ExtractSummary(_Received):
    summaries: Annotated[
        list[str],
        BeforeValidator(lambda items: [_summary_text(item) for item in items]),
        _unwrapped("memoryResult"),
    ] = Field(default_factory=list, validation_alias="memoryResults")
    usage: Maybe[Usage] = None


@_camel
class FileConvert(_Wire):
    """An excel-to-docx task; status is init, success, failed or error."""

    id: Count = 0
    status: Annotated[str, BeforeValidator(lambda v: (_str(v) or "init").lower())] = "init"
    url: Annotated[str | None, BeforeValidator(lambda v: _str(v) or None)] = None

    @property
    def done(self) -> bool:
        return self.status != "init"


# --- knowledge bases ------------------------------------------------------------------------


@_camel
class KnowledgeBase(_Received):
    knowledge_base_id: Text = ""
    name: Text = ""
    description: Str = None
    id: Int = None
    user_id: Str = None
    biz_user_id: Str = None
    count: Int = None
    created_at: Time = Field(None, validation_alias="gmtCreate")
    modified_at: Time = Field(None, validation_alias="gmtModified")


@_camel
class KnowledgeBaseFile(_Received):
    knowledge_base_id: Text = ""
    name: Text = ""
    type: Str = None
    status: Str = None
    id: Int = None
    created_at: Time = Field(None, validation_alias="gmtCreate")
    modified_at: Time = Field(None, validation_alias="gmtModified")


@_camel
class KbFileInfo(_Wire):
    filename: str
    file_url: str
    file_save_path: str | None = None


# --- completions (OpenAI-style, snake_case, not wrapped in the envelope) ----------------------


@_snake
class CompletionRequest(_Wire):
    """`user` identifies the end user (the platform caches sessions by it); the persona goes
    in a system message. Always non-streaming."""

    model: str
    messages: list[Message]
    user: str
    max_tokens: int | None = None
    seed: int | None = None
    temperature: float | None = None
    top_p: float | None = None
    tools: list[FunctionDef] = Field(default_factory=list, exclude=True)
    tool_choice: str | Wire | None = None

    def to_wire(self) -> Wire:
        tools = {"tools": [t.to_tool() for t in self.tools]} if self.tools else {}
        return _dump(self) | tools | {"seed": _seed(self.seed), "stream": False}


def _arguments(value: Any) -> str:
    if isinstance(value, str):
        return value
    return json.dumps(value if value is not None else {}, ensure_ascii=False)


@_snake
class ToolCall(_Wire):
    id: Str = None
    name: Text = Field("", validation_alias=AliasPath("function", "name"))
    arguments: Annotated[str, BeforeValidator(_arguments)] = Field(
        "{}", validation_alias=AliasPath("function", "arguments")
    )
    type: Annotated[str, BeforeValidator(lambda v: _str(v) or "function")] = "function"


@_snake
class CompletionChoice(_Wire):
    index: Count = 0
    finish_reason: StopReason = None
    role: Annotated[str, BeforeValidator(lambda v: _str(v) or "assistant")] = Field(
        "assistant", validation_alias=AliasPath("message", "role")
    )
    content: Text = Field("", validation_alias=AliasPath("message", "content"))
    name: Str = Field(None, validation_alias=AliasPath("message", "name"))
    tool_calls: Items[ToolCall] = Field(
        default_factory=list, validation_alias=AliasPath("message", "tool_calls")
    )


@_snake
class CompletionUsage(_Wire):
    prompt_tokens: Count = 0
    completion_tokens: Count = 0
    total_tokens: Count = 0

    @classmethod
    def from_wire(cls, wire: Any) -> CompletionUsage | None:
        return _decode(cls, wire) if isinstance(wire, dict) else None


@_snake
class Completion(_Received):
    id: Str = None
    created: Int = None
    model: Str = None
    choices: Items[CompletionChoice] = field(default_factory=list)
    usage: Maybe[CompletionUsage] = None

    @property
    def text(self) -> str:
        return self.choices[0].content if self.choices else ""

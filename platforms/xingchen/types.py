"""Typed request and response shapes of the Xingchen v2 API.

`to_wire()` builds the camelCase JSON the API expects (snake_case only for completions) and
leaves out None values. `from_wire()` accepts what the server sends, tolerating every known
disagreement between the API's own documents (XINGCHEN_API.md §12), and keeps the received dict
in `raw` so fields this module does not model are not lost.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field, fields, replace
from datetime import UTC, datetime
from typing import Any, Generic, TypeVar

T = TypeVar("T")
Wire = dict[str, Any]

# Sent as `input.prompt` on single-character chat, exactly as the official SDK does.
SYSTEM_PROMPT = "|<system>|"
SEED_MAX = 2**31 - 1


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


def parse_time(value: Any) -> datetime | None:
    """ISO-8601 (any offset, or none meaning UTC) or epoch milliseconds -> aware datetime."""
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


def format_time(value: datetime) -> str:
    """The format the API itself emits (`2023-07-14T02:02:19.000+00:00`); naive means UTC."""
    aware = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
    return aware.astimezone(UTC).isoformat(timespec="milliseconds")


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


# --- chat building blocks -------------------------------------------------------------------


@dataclass(frozen=True)
class Message:
    role: str
    content: str
    name: str | None = None

    def to_wire(self) -> Wire:
        return _compact({"role": self.role, "content": self.content, "name": self.name})

    @classmethod
    def from_wire(cls, wire: Wire) -> Message:
        return cls(
            role=_str(wire.get("role")) or "",
            content=_str(wire.get("content")) or "",
            name=_str(wire.get("name")),
        )


@dataclass(frozen=True)
class FunctionDef:
    name: str
    description: str = ""
    parameters: Wire = field(default_factory=dict)

    def to_wire(self) -> Wire:
        return {"name": self.name, "description": self.description, "parameters": self.parameters}

    def to_tool(self) -> Wire:
        return {"type": "function", "function": self.to_wire()}


@dataclass(frozen=True)
class ApiCall:
    api_name: str
    parameters: Wire = field(default_factory=dict)

    @classmethod
    def from_wire(cls, wire: Wire) -> ApiCall:
        params = wire.get("parameters", wire.get("parameter"))
        if isinstance(params, str):
            try:
                params = json.loads(params)
            except ValueError:
                params = {"value": params}
        return cls(api_name=_str(wire.get("apiName")) or "", parameters=_dict(params))


@dataclass(frozen=True)
class FunctionCall:
    thought: str
    api_calls: list[ApiCall] = field(default_factory=list)

    @classmethod
    def from_wire(cls, wire: Any) -> FunctionCall | None:
        if not isinstance(wire, dict) or not wire:
            return None
        thought = wire.get("thought", wire.get("tought"))
        calls = [
            ApiCall.from_wire(c) for c in _list(wire.get("apiCallList")) if isinstance(c, dict)
        ]
        return cls(thought=_str(thought) or "", api_calls=calls)


@dataclass(frozen=True)
class Usage:
    input_tokens: int = 0
    output_tokens: int = 0
    user_tokens: int = 0

    @classmethod
    def from_wire(cls, wire: Any) -> Usage | None:
        if not isinstance(wire, dict):
            return None
        return cls(
            input_tokens=_int(wire.get("inputTokens")) or 0,
            output_tokens=_int(wire.get("outputTokens")) or 0,
            user_tokens=_int(wire.get("userTokens")) or 0,
        )


@dataclass(frozen=True)
class ChatContext:
    """Ids of one generation; `message_id`/`reply_message_id` are the API's deprecated aliases
    of `answer_id`/`query_id`."""

    request_id: str | None = None
    session_id: str | None = None
    chat_id: str | None = None
    query_id: str | None = None
    answer_id: str | None = None
    message_id: str | None = None
    reply_message_id: str | None = None
    chat_room_id: int | None = None
    model_request_id: str | None = None
    model_name: str | None = None
    character_pk: int | None = None
    is_save: bool | None = None
    raw: Wire = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_wire(cls, wire: Any) -> ChatContext:
        wire = _dict(wire)
        return cls(
            request_id=_str(wire.get("requestId")),
            session_id=_str(wire.get("sessionId")),
            chat_id=_str(wire.get("chatId")),
            query_id=_str(wire.get("queryId")),
            answer_id=_str(wire.get("answerId")),
            message_id=_str(wire.get("messageId")),
            reply_message_id=_str(wire.get("replyMessageId")),
            chat_room_id=_int(wire.get("chatRoomId")),
            model_request_id=_str(wire.get("modelRequestId")),
            model_name=_str(wire.get("modelName")),
            character_pk=_int(wire.get("characterPk")),
            is_save=_bool(wire.get("isSave")),
            raw=wire,
        )

    def merged(self, newer: ChatContext) -> ChatContext:
        """This context updated with every value `newer` knows (stream events may carry only
        some ids each)."""
        updates = {
            f.name: getattr(newer, f.name)
            for f in fields(self)
            if f.name != "raw" and getattr(newer, f.name) is not None
        }
        return replace(self, **updates, raw={**self.raw, **newer.raw})


@dataclass(frozen=True)
class KvSchema:
    """One extracted fact: `role` says whose it is, `key` names it, `values` hold it."""

    role: str
    key: str
    values: list[str] = field(default_factory=list)

    def to_wire(self) -> Wire:
        return {"role": self.role, "key": self.key, "value": list(self.values)}

    @classmethod
    def from_wire(cls, wire: Wire) -> KvSchema:
        return cls(
            role=_str(wire.get("role")) or "",
            key=_str(wire.get("key")) or "",
            values=_strs(wire.get("value", wire.get("values"))),
        )


@dataclass(frozen=True)
class ChatMemory:
    """Caller-supplied long-term memory (`input.aca.memory`)."""

    summaries: list[str] = field(default_factory=list)
    tags: list[KvSchema] = field(default_factory=list)

    def to_wire(self) -> Wire:
        return {"summaries": list(self.summaries), "tags": [t.to_wire() for t in self.tags]}


@dataclass(frozen=True)
class AdvancedSettings:
    """Per-call switches (`input.aca.advancedSettings`)."""

    enable_web_search: bool | None = None
    search_enhanced_keyword: str | None = None
    enable_character_kb_search: bool | None = None
    knowledge_bases: list[str] | None = None
    enable_long_term_memory: bool | None = None
    enable_debug: bool | None = None

    def to_wire(self) -> Wire:
        return _compact(
            {
                "enableWebSearch": self.enable_web_search,
                "searchEnhancedKeyword": self.search_enhanced_keyword,
                "enableCharacterKbSearch": self.enable_character_kb_search,
                "knowledgeBases": self.knowledge_bases,
                "enableLongTermMemory": self.enable_long_term_memory,
                "enableDebug": self.enable_debug,
            }
        )


@dataclass(frozen=True)
class ModelParameters:
    """`modelParameter` of auto-description and memory extraction."""

    seed: int | None = None
    temperature: float | None = None
    top_p: float | None = None
    top_k: int | None = None
    max_length: int | None = None
    min_length: int | None = None
    model_name: str | None = None

    def to_wire(self) -> Wire:
        return _compact(
            {
                "seed": _seed(self.seed),
                "temperature": self.temperature,
                "topP": self.top_p,
                "topK": self.top_k,
                "maxLength": self.max_length,
                "minLength": self.min_length,
                "modelName": self.model_name,
            }
        )


# --- characters -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Avatar:
    file_save_path: str | None = None
    filename: str | None = None
    file_url: str | None = None

    @classmethod
    def from_wire(cls, wire: Any) -> Avatar | None:
        # One section of the API's document types the avatar as a plain URL string.
        if isinstance(wire, str):
            return cls(file_url=wire) if wire else None
        if not isinstance(wire, dict) or not wire:
            return None
        return cls(
            file_save_path=_str(wire.get("fileSavePath")),
            filename=_str(wire.get("filename")),
            file_url=_str(wire.get("fileUrl")),
        )


@dataclass(frozen=True)
class PermConfig:
    is_public: bool = False
    allow_chat: bool = False
    allow_api: bool = False

    def to_wire(self) -> Wire:
        # The API wants all three, as 0/1 integers.
        return {
            "isPublic": int(self.is_public),
            "allowChat": int(self.allow_chat),
            "allowApi": int(self.allow_api),
        }

    @classmethod
    def from_wire(cls, wire: Any) -> PermConfig | None:
        if not isinstance(wire, dict):
            return None
        return cls(
            is_public=bool(_bool(wire.get("isPublic"), False)),
            allow_chat=bool(_bool(wire.get("allowChat"), False)),
            allow_api=bool(_bool(wire.get("allowApi"), False)),
        )


@dataclass(frozen=True)
class KvMemoryConfig:
    enabled: bool = True
    memory_text: str = ""

    def to_wire(self) -> Wire:
        return {"enabled": self.enabled, "memoryText": self.memory_text}

    @classmethod
    def from_wire(cls, wire: Wire) -> KvMemoryConfig:
        return cls(
            enabled=bool(_bool(wire.get("enabled"), False)),
            memory_text=_str(wire.get("memoryText")) or "",
        )


@dataclass(frozen=True)
class LongTermMemory:
    enabled: bool = True
    memory_type: str = "kv"
    kv_memory_configs: list[KvMemoryConfig] = field(default_factory=list)

    def to_wire(self) -> Wire:
        return {
            "enabled": self.enabled,
            "memoryType": self.memory_type,
            "kvMemoryConfigs": [c.to_wire() for c in self.kv_memory_configs],
        }

    @classmethod
    def from_wire(cls, wire: Wire) -> LongTermMemory:
        configs = _list(wire.get("kvMemoryConfigs"))
        return cls(
            enabled=bool(_bool(wire.get("enabled"), False)),
            memory_type=_str(wire.get("memoryType")) or "kv",
            kv_memory_configs=[KvMemoryConfig.from_wire(c) for c in configs if isinstance(c, dict)],
        )


@dataclass(frozen=True)
class RejectCondition:
    enabled: bool = True
    condition_type: str | None = None
    keywords: list[str] = field(default_factory=list)
    sub_reject_condition: RejectCondition | None = None

    def to_wire(self) -> Wire:
        sub = self.sub_reject_condition
        return _compact(
            {
                "enabled": self.enabled,
                "conditionType": self.condition_type,
                "keywords": [{"value": k} for k in self.keywords],
                "subRejectCondition": sub.to_wire() if sub else None,
            }
        )

    @classmethod
    def from_wire(cls, wire: Wire) -> RejectCondition:
        sub = wire.get("subRejectCondition")
        keywords = [_dict(k).get("value", k) for k in _list(wire.get("keywords"))]
        return cls(
            enabled=bool(_bool(wire.get("enabled"), False)),
            condition_type=_str(wire.get("conditionType")),
            keywords=[str(k) for k in keywords if k is not None],
            sub_reject_condition=cls.from_wire(sub) if isinstance(sub, dict) else None,
        )


@dataclass(frozen=True)
class PlatformPlugin:
    """`text_to_image_plugin` or `reject_answer_plugin`. `enabled` is always sent: the platform
    treats a missing value as disabled."""

    name: str
    enabled: bool = True
    image_style: str | None = None
    positive_desc: str | None = None
    negative_desc: str | None = None
    reject_conditions: list[RejectCondition] = field(default_factory=list)

    def to_wire(self) -> Wire:
        wire = _compact(
            {
                "name": self.name,
                "enabled": self.enabled,
                "imageStyle": self.image_style,
                "positiveDesc": self.positive_desc,
                "negativeDesc": self.negative_desc,
            }
        )
        if self.reject_conditions:
            wire["rejectConditions"] = [c.to_wire() for c in self.reject_conditions]
        return wire

    @classmethod
    def from_wire(cls, wire: Wire) -> PlatformPlugin:
        conditions = _list(wire.get("rejectConditions"))
        return cls(
            name=_str(wire.get("name")) or "",
            enabled=bool(_bool(wire.get("enabled"), False)),
            image_style=_str(wire.get("imageStyle")),
            positive_desc=_str(wire.get("positiveDesc")),
            negative_desc=_str(wire.get("negativeDesc")),
            reject_conditions=[
                RejectCondition.from_wire(c) for c in conditions if isinstance(c, dict)
            ],
        )


@dataclass(frozen=True)
class AdvancedConfig:
    """A character's `advancedConfig`; `short_term_memory_round` is at most 100."""

    is_real_info: bool | None = None
    search_keyword: str | None = None
    is_real_time: bool | None = None
    short_term_memory_round: int | None = None
    long_term_memories: list[LongTermMemory] = field(default_factory=list)
    platform_plugins: list[PlatformPlugin] = field(default_factory=list)
    knowledge_bases: list[str] = field(default_factory=list)
    allow_send_image: bool | None = None
    image_style: str | None = None
    allow_send_asr: bool | None = None
    asr_style: str | None = None
    chat_description: str | None = None
    raw: Wire = field(default_factory=dict, repr=False, compare=False)

    def to_wire(self) -> Wire:
        """The modelled fields, plus any unmodelled ones `raw` carried in from the server (such
        as `repositoryInfo`), so a read-modify-write does not drop settings made elsewhere."""
        known = {
            "isRealInfo": self.is_real_info,
            "searchKeyword": self.search_keyword,
            "isRealTime": self.is_real_time,
            "shortTermMemoryRound": self.short_term_memory_round,
            "longTermMemories": [m.to_wire() for m in self.long_term_memories],
            "platformPlugins": [p.to_wire() for p in self.platform_plugins],
            "knowledgeBases": list(self.knowledge_bases),
            "allowSendImage": self.allow_send_image,
            "imageStyle": self.image_style,
            "allowSendAsr": self.allow_send_asr,
            "asrStyle": self.asr_style,
            "chatDescription": self.chat_description,
        }
        carried = {key: value for key, value in self.raw.items() if key not in known}
        return carried | _compact(known)

    @classmethod
    def from_wire(cls, wire: Any) -> AdvancedConfig | None:
        if not isinstance(wire, dict):
            return None
        memories = [m for m in _list(wire.get("longTermMemories")) if isinstance(m, dict)]
        plugins = [p for p in _list(wire.get("platformPlugins")) if isinstance(p, dict)]
        return cls(
            is_real_info=_bool(wire.get("isRealInfo")),
            search_keyword=_str(wire.get("searchKeyword")),
            is_real_time=_bool(wire.get("isRealTime")),
            short_term_memory_round=_int(wire.get("shortTermMemoryRound")),
            long_term_memories=[LongTermMemory.from_wire(m) for m in memories],
            platform_plugins=[PlatformPlugin.from_wire(p) for p in plugins],
            knowledge_bases=_strs(wire.get("knowledgeBases")),
            allow_send_image=_bool(wire.get("allowSendImage")),
            image_style=_str(wire.get("imageStyle")),
            allow_send_asr=_bool(wire.get("allowSendAsr")),
            asr_style=_str(wire.get("asrStyle")),
            chat_description=_str(wire.get("chatDescription")),
            raw=wire,
        )


@dataclass(frozen=True)
class CharacterInput:
    """The fields of character create, update and createOrUpdateVersion.

    `avatar_url` is an external URL the platform re-hosts; pass `avatar_file_save_path` (the
    OSS key of an avatar the platform already holds) to keep an existing avatar as it is.
    """

    name: str
    basic_information: str
    avatar_url: str | None = None
    avatar_file_save_path: str | None = None
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
        return _compact(
            {
                "name": self.name,
                "basicInformation": self.basic_information,
                "avatar": avatar or None,
                "introduction": self.introduction,
                "openingLine": self.opening_line,
                "traits": self.traits,
                "chatExample": self.chat_example,
                "type": self.type,
                "chatObjective": self.chat_objective,
                "roleTypes": list(self.role_types),
                "permConfig": self.perm_config.to_wire() if self.perm_config else None,
                "advancedConfig": self.advanced_config.to_wire() if self.advanced_config else None,
            }
        )


@dataclass(frozen=True)
class Character:
    """CharacterDTO. Review statuses are normalised ("succcess" reads as "success")."""

    character_id: str
    name: str = ""
    avatar: Avatar | None = None
    introduction: str | None = None
    basic_information: str | None = None
    opening_line: str | None = None
    traits: str | None = None
    chat_example: str | None = None
    type: str | None = None
    chat_objective: str | None = None
    role_types: list[str] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    bubbles: list[str] = field(default_factory=list)
    background_img_url: str | None = None
    perm_config: PermConfig | None = None
    advanced_config: AdvancedConfig | None = None
    version: int | None = None
    major_version: int | None = None
    versions: list[int] = field(default_factory=list)
    created_at: datetime | None = None
    modified_at: datetime | None = None
    user_id: str | None = None
    biz_user_id: str | None = None
    modified_by: str | None = None
    creator: str | None = None
    manageable: bool | None = None
    is_pre_configured: bool | None = None
    audit_status: str | None = None
    config_status: str | None = None
    green_status: str | None = None
    raw: Wire = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_wire(cls, wire: Wire) -> Character:
        versions = (_int(v) for v in _list(wire.get("versions")))
        return cls(
            character_id=_str(wire.get("characterId")) or "",
            name=_str(wire.get("name")) or "",
            avatar=Avatar.from_wire(wire.get("avatar")),
            introduction=_str(wire.get("introduction")),
            basic_information=_str(wire.get("basicInformation")),
            opening_line=_str(wire.get("openingLine")),
            traits=_str(wire.get("traits")),
            chat_example=_str(wire.get("chatExample")),
            type=_str(wire.get("type")),
            chat_objective=_str(wire.get("chatObjective")),
            role_types=_strs(wire.get("roleTypes")),
            tags=_strs(wire.get("tags")),
            bubbles=_strs(wire.get("bubbles")),
            background_img_url=_str(wire.get("backgroundImgUrl")),
            perm_config=PermConfig.from_wire(wire.get("permConfig")),
            advanced_config=AdvancedConfig.from_wire(wire.get("advancedConfig")),
            version=_int(wire.get("version")),
            major_version=_int(wire.get("majorVersion")),
            versions=[v for v in versions if v is not None],
            created_at=parse_time(wire.get("gmtCreate")),
            modified_at=parse_time(wire.get("gmtModified")),
            user_id=_str(wire.get("userId")),
            biz_user_id=_str(wire.get("bizUserId")),
            modified_by=_str(wire.get("modifiedBy")),
            creator=_str(wire.get("creator")),
            manageable=_bool(wire.get("manageable")),
            is_pre_configured=_bool(wire.get("isPreConfigured")),
            audit_status=_normalize_status(wire.get("auditStatus")),
            config_status=_str(wire.get("configStatus")),
            green_status=_normalize_status(wire.get("greenStatus")),
            raw=wire,
        )

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


@dataclass(frozen=True)
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


@dataclass(frozen=True)
class ChatRequest:
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
        body: Wire = {
            "parameters": _chat_parameters(self),
            "input": {
                "prompt": SYSTEM_PROMPT,
                "messages": [m.to_wire() for m in self.messages],
                "aca": self._aca(),
            },
        }
        if self.model_name:
            body["model"] = self.model_name
        return body

    def _aca(self) -> Wire:
        settings, memory = self.advanced_settings, self.memory
        return _compact(
            {
                "botProfile": _compact(
                    {"characterId": self.character_id, "version": self.character_version}
                ),
                "userProfile": _compact(
                    {
                        "userId": self.user_id,
                        "userName": self.user_name,
                        "basicInfo": self.user_basic_info,
                    }
                ),
                "sampleMessages": [m.to_wire() for m in self.sample_messages] or None,
                "scenario": {"description": self.scenario} if self.scenario else None,
                "functionList": [f.to_wire() for f in self.function_list] or None,
                "context": _compact(
                    {
                        "useChatHistory": self.use_chat_history,
                        "isRegenerate": self.is_regenerate,
                        "queryId": self.query_id,
                        "answerId": self.answer_id,
                    }
                ),
                "memory": memory.to_wire() if memory else None,
                "advancedSettings": settings.to_wire() if settings else None,
                "platformPlugins": [p.to_wire() for p in self.platform_plugins] or None,
            }
        )


def _chat_parameters(request: ChatRequest | GroupChatRequest) -> Wire:
    return _compact(
        {
            "seed": _seed(request.seed),
            "incrementalOutput": request.incremental_output,
            "maxLength": request.max_length,
            "temperature": request.temperature,
            "topP": request.top_p,
            "topK": request.top_k,
            "modelName": request.model_name,
        }
    )


@dataclass(frozen=True)
class GroupMember:
    """A group-chat character: a platform character by id, or an ad-hoc one by name and
    persona text."""

    character_id: str | None = None
    name: str | None = None
    content: str | None = None

    def to_wire(self) -> Wire:
        return _compact(
            {"characterId": self.character_id, "name": self.name, "content": self.content}
        )


@dataclass(frozen=True)
class GroupChatRequest:
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
        aca = _compact(
            {
                "botProfiles": [m.to_wire() for m in self.members],
                "userProfile": _compact({"userId": self.user_id, "userName": self.user_name}),
                "groupInfo": _compact(
                    {"name": self.group_name, "description": self.group_description}
                ),
                "replySetting": reply or None,
            }
        )
        body: Wire = {
            "parameters": _chat_parameters(self),
            "input": {"messages": [m.to_wire() for m in self.messages], "aca": aca},
        }
        if self.model_name:
            body["model"] = self.model_name
        return body


def _first_choice_message(payload: Wire) -> tuple[Wire, Wire]:
    choice = next((c for c in _list(payload.get("choices")) if isinstance(c, dict)), {})
    message = next((m for m in _list(choice.get("messages")) if isinstance(m, dict)), {})
    return choice, message


@dataclass(frozen=True)
class ChatResult:
    """A whole reply. `alternatives` holds every choice's text when several were asked for."""

    request_id: str | None
    text: str
    stop_reason: str | None
    usage: Usage | None
    context: ChatContext
    has_risk: bool = False
    safety_std_answer: str | None = None
    function_call: FunctionCall | None = None
    speaker: str | None = None
    alternatives: list[str] = field(default_factory=list)
    raw: Wire = field(default_factory=dict, repr=False, compare=False)

    @property
    def finished(self) -> bool:
        return self.stop_reason is not None

    @classmethod
    def from_wire(cls, data: Any, request_id: str | None = None) -> ChatResult:
        data = _dict(data)
        choice, message = _first_choice_message(data)
        meta = _dict(message.get("meta"))
        context = ChatContext.from_wire(data.get("context"))
        alternatives = []
        for item in _list(data.get("choices")):
            _, alt = _first_choice_message({"choices": [item]})
            alternatives.append(_str(alt.get("content")) or "")
        return cls(
            request_id=request_id or _str(data.get("requestId")) or context.request_id,
            text=_str(message.get("content")) or "",
            stop_reason=normalize_stop_reason(choice.get("stopReason")),
            usage=Usage.from_wire(data.get("usage")),
            context=context,
            has_risk=bool(_bool(meta.get("hasRisk"), False)),
            safety_std_answer=_str(meta.get("safetyStdAnswer")),
            function_call=FunctionCall.from_wire(message.get("functionCall")),
            speaker=_str(message.get("name")),
            alternatives=alternatives,
            raw=data,
        )


@dataclass(frozen=True)
class ChatEvent:
    """One streamed event. `delta` is only the new text and `text` the whole text so far,
    whichever output mode the server used; `replaced` is True when a cumulative event did not
    extend the previous text (then `delta` is the whole new text and the display must be reset).
    `request_id` is the one seen on the first event. `context` accumulates the ids seen so far.
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


@dataclass(frozen=True)
class HistoryQuery:
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
        where = _compact(
            {
                "characterId": self.character_id,
                "userId": self.biz_user_id,
                "bizUserId": self.biz_user_id,
                "sessionId": self.session_id,
                "messageIds": self.message_ids,
                "startTime": _epoch_ms(self.start_time) if self.start_time else None,
                "endTime": _epoch_ms(self.end_time) if self.end_time else None,
            }
        )
        return _compact(
            {
                "where": where,
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


@dataclass(frozen=True)
class ChatMessage:
    """ChatMessageDTO; `content` is the decoded text, `raw_content` what the server sent.

    `user_id` is the business user the record belongs to (the record's `userId`, else its
    `bizUserId`), whoever issued it; None when the server leaves both out.
    """

    message_id: str
    session_id: str | None
    chat_id: str | None
    issuer_type: str | None
    message_type: str | None
    status: str | None
    content: str
    created_at: datetime | None
    rating: int | None = None
    regenerate_times: int | None = None
    is_greeting: bool | None = None
    issuer_user_id: str | None = None
    issuer_biz_user_id: str | None = None
    issuer_name: str | None = None
    raw_content: str | None = None
    user_id: str | None = None
    raw: Wire = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_wire(cls, wire: Wire) -> ChatMessage:
        issuer = _dict(wire.get("messageIssuer"))
        return cls(
            message_id=_str(wire.get("messageId")) or "",
            session_id=_str(wire.get("sessionId")),
            chat_id=_str(wire.get("chatId")),
            issuer_type=_str(issuer.get("userType")),
            message_type=_str(wire.get("messageType")),
            status=_str(wire.get("status")),
            content=decode_message_content(wire.get("content")),
            created_at=parse_time(wire.get("gmtCreate")),
            rating=_int(wire.get("rating")),
            regenerate_times=_int(wire.get("regenerateTimes")),
            is_greeting=_bool(wire.get("isGreeting")),
            issuer_user_id=_str(issuer.get("userId")),
            issuer_biz_user_id=_str(issuer.get("bizUserId")),
            issuer_name=_str(issuer.get("userName")),
            raw_content=_str(wire.get("content")),
            # The doc's name first, then the SDK's; ids may arrive as numbers.
            user_id=_str(wire.get("userId")) or _str(wire.get("bizUserId")) or None,
            raw=wire,
        )


@dataclass(frozen=True)
class ImageTask:
    """A text-to-image task: poll until `status` is no longer "running". URLs expire."""

    task_id: str | None
    status: str
    file_urls: list[str] = field(default_factory=list)
    error_message: str | None = None
    raw: Wire = field(default_factory=dict, repr=False, compare=False)

    @property
    def done(self) -> bool:
        return self.status != "running"

    @classmethod
    def from_wire(cls, wire: Any) -> ImageTask:
        wire = _dict(wire)
        urls = wire.get("fileUrls", wire.get("fileUrl"))
        return cls(
            task_id=_str(wire.get("taskId")),
            status=(_str(wire.get("status")) or "running").lower(),
            file_urls=[u for u in _strs(urls) if u],
            error_message=_str(wire.get("errorMessage")),
            raw=wire,
        )


@dataclass(frozen=True)
class NextSpeaker:
    name: str
    thought: str | None
    usage: Usage | None
    context: ChatContext
    raw: Wire = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_wire(cls, wire: Any) -> NextSpeaker:
        wire = _dict(wire)
        return cls(
            name=_str(wire.get("name")) or "",
            thought=_str(wire.get("thought", wire.get("tought"))),
            usage=Usage.from_wire(wire.get("usage")),
            context=ChatContext.from_wire(wire.get("context")),
            raw=wire,
        )


# --- generation helpers: description, memory extraction, file conversion ----------------------


@dataclass(frozen=True)
class AutoDescRequest:
    """Describe a character from `text`, or from the file at `file_url` (type "file"; then
    `file_name` with its extension is required)."""

    type: str = "text"
    text: str | None = None
    file_url: str | None = None
    file_name: str | None = None
    model_parameters: ModelParameters | None = None

    def to_wire(self) -> Wire:
        params = self.model_parameters
        return _compact(
            {
                "type": self.type,
                "text": self.text,
                "fileUrl": self.file_url,
                "fileName": self.file_name,
                "modelParameter": params.to_wire() if params else None,
            }
        )


@dataclass(frozen=True)
class CharacterDesc:
    content: str
    usage: Usage | None
    raw: Wire = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_wire(cls, wire: Any) -> CharacterDesc:
        wire = _dict(wire)
        usage = Usage.from_wire(wire.get("usage"))
        return cls(content=_str(wire.get("content")) or "", usage=usage, raw=wire)


@dataclass(frozen=True)
class ExtractKV:
    schemas: list[KvSchema]
    usage: Usage | None
    raw: Wire = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_wire(cls, wire: Any) -> ExtractKV:
        wire = _dict(wire)
        items = [_dict(s).get("schema", s) for s in _list(wire.get("schemas"))]
        schemas = [KvSchema.from_wire(s) for s in items if isinstance(s, dict)]
        return cls(schemas=schemas, usage=Usage.from_wire(wire.get("usage")), raw=wire)


@dataclass(frozen=True)
class ExtractSummary:
    summaries: list[str]
    usage: Usage | None
    raw: Wire = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_wire(cls, wire: Any) -> ExtractSummary:
        wire = _dict(wire)
        # The document nests each item as `memoryResult`; the examples and SDK are flat.
        items = [_dict(r).get("memoryResult", r) for r in _list(wire.get("memoryResults"))]
        summaries = [_str(_dict(r).get("content")) or "" for r in items]
        return cls(summaries=summaries, usage=Usage.from_wire(wire.get("usage")), raw=wire)


@dataclass(frozen=True)
class FileConvert:
    """An excel-to-docx task; status is init, success, failed or error."""

    id: int
    status: str
    url: str | None

    @property
    def done(self) -> bool:
        return self.status != "init"

    @classmethod
    def from_wire(cls, wire: Any) -> FileConvert:
        wire = _dict(wire)
        return cls(
            id=_int(wire.get("id")) or 0,
            status=(_str(wire.get("status")) or "init").lower(),
            url=_str(wire.get("url")) or None,
        )


# --- knowledge bases ------------------------------------------------------------------------


@dataclass(frozen=True)
class KnowledgeBase:
    knowledge_base_id: str
    name: str
    description: str | None = None
    id: int | None = None
    user_id: str | None = None
    biz_user_id: str | None = None
    count: int | None = None
    created_at: datetime | None = None
    modified_at: datetime | None = None
    raw: Wire = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_wire(cls, wire: Any) -> KnowledgeBase:
        wire = _dict(wire)
        return cls(
            knowledge_base_id=_str(wire.get("knowledgeBaseId")) or "",
            name=_str(wire.get("name")) or "",
            description=_str(wire.get("description")),
            id=_int(wire.get("id")),
            user_id=_str(wire.get("userId")),
            biz_user_id=_str(wire.get("bizUserId")),
            count=_int(wire.get("count")),
            created_at=parse_time(wire.get("gmtCreate")),
            modified_at=parse_time(wire.get("gmtModified")),
            raw=wire,
        )


@dataclass(frozen=True)
class KnowledgeBaseFile:
    knowledge_base_id: str
    name: str
    type: str | None = None
    status: str | None = None
    id: int | None = None
    created_at: datetime | None = None
    modified_at: datetime | None = None
    raw: Wire = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_wire(cls, wire: Any) -> KnowledgeBaseFile:
        wire = _dict(wire)
        return cls(
            knowledge_base_id=_str(wire.get("knowledgeBaseId")) or "",
            name=_str(wire.get("name")) or "",
            type=_str(wire.get("type")),
            status=_str(wire.get("status")),
            id=_int(wire.get("id")),
            created_at=parse_time(wire.get("gmtCreate")),
            modified_at=parse_time(wire.get("gmtModified")),
            raw=wire,
        )


@dataclass(frozen=True)
class KbFileInfo:
    filename: str
    file_url: str
    file_save_path: str | None = None

    def to_wire(self) -> Wire:
        return _compact(
            {
                "fileSavePath": self.file_save_path,
                "filename": self.filename,
                "fileUrl": self.file_url,
            }
        )


# --- completions (OpenAI-style, snake_case, not wrapped in the envelope) ----------------------


@dataclass(frozen=True)
class CompletionRequest:
    """`user` identifies the end user (the platform caches sessions by it); the persona goes
    in a system message. Always non-streaming."""

    model: str
    messages: list[Message]
    user: str
    max_tokens: int | None = None
    seed: int | None = None
    temperature: float | None = None
    top_p: float | None = None
    tools: list[FunctionDef] = field(default_factory=list)
    tool_choice: str | Wire | None = None

    def to_wire(self) -> Wire:
        return _compact(
            {
                "model": self.model,
                "messages": [m.to_wire() for m in self.messages],
                "user": self.user,
                "max_tokens": self.max_tokens,
                "seed": _seed(self.seed),
                "temperature": self.temperature,
                "top_p": self.top_p,
                "tools": [t.to_tool() for t in self.tools] or None,
                "tool_choice": self.tool_choice,
                "stream": False,
            }
        )


@dataclass(frozen=True)
class ToolCall:
    id: str | None
    name: str
    arguments: str
    type: str = "function"

    @classmethod
    def from_wire(cls, wire: Wire) -> ToolCall:
        function = _dict(wire.get("function"))
        arguments = function.get("arguments")
        if not isinstance(arguments, str):
            arguments = json.dumps(arguments if arguments is not None else {}, ensure_ascii=False)
        return cls(
            id=_str(wire.get("id")),
            name=_str(function.get("name")) or "",
            arguments=arguments,
            type=_str(wire.get("type")) or "function",
        )


@dataclass(frozen=True)
class CompletionChoice:
    index: int
    finish_reason: str | None
    role: str
    content: str
    name: str | None = None
    tool_calls: list[ToolCall] = field(default_factory=list)

    @classmethod
    def from_wire(cls, wire: Wire) -> CompletionChoice:
        message = _dict(wire.get("message"))
        calls = [c for c in _list(message.get("tool_calls")) if isinstance(c, dict)]
        return cls(
            index=_int(wire.get("index")) or 0,
            finish_reason=normalize_stop_reason(wire.get("finish_reason")),
            role=_str(message.get("role")) or "assistant",
            content=_str(message.get("content")) or "",
            name=_str(message.get("name")),
            tool_calls=[ToolCall.from_wire(c) for c in calls],
        )


@dataclass(frozen=True)
class CompletionUsage:
    prompt_tokens: int = 0
    completion_tokens: int = 0
    total_tokens: int = 0

    @classmethod
    def from_wire(cls, wire: Any) -> CompletionUsage | None:
        if not isinstance(wire, dict):
            return None
        return cls(
            prompt_tokens=_int(wire.get("prompt_tokens")) or 0,
            completion_tokens=_int(wire.get("completion_tokens")) or 0,
            total_tokens=_int(wire.get("total_tokens")) or 0,
        )


@dataclass(frozen=True)
class Completion:
    id: str | None
    created: int | None
    model: str | None
    choices: list[CompletionChoice]
    usage: CompletionUsage | None
    raw: Wire = field(default_factory=dict, repr=False, compare=False)

    @property
    def text(self) -> str:
        return self.choices[0].content if self.choices else ""

    @classmethod
    def from_wire(cls, wire: Any) -> Completion:
        wire = _dict(wire)
        choices = [c for c in _list(wire.get("choices")) if isinstance(c, dict)]
        return cls(
            id=_str(wire.get("id")),
            created=_int(wire.get("created")),
            model=_str(wire.get("model")),
            choices=[CompletionChoice.from_wire(c) for c in choices],
            usage=CompletionUsage.from_wire(wire.get("usage")),
            raw=wire,
        )

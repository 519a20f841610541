from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime, timedelta, timezone

import pytest

from platforms.xingchen.types import (
    AdvancedConfig,
    ApiCall,
    Avatar,
    Character,
    CharacterInput,
    ChatContext,
    ChatMessage,
    ChatRequest,
    ChatResult,
    CompletionRequest,
    ExtractKV,
    ExtractSummary,
    FunctionCall,
    FunctionDef,
    GroupChatRequest,
    GroupMember,
    HistoryQuery,
    ImageTask,
    KvMemoryConfig,
    KvSchema,
    LongTermMemory,
    Message,
    NextSpeaker,
    Page,
    PermConfig,
    PlatformPlugin,
    Usage,
    decode_message_content,
    normalize_stop_reason,
    parse_time,
)

CHARACTER_WIRE = {
    "characterId": "c1",
    "name": "Guan Yu",
    "avatar": {"fileSavePath": "oss/key.png", "filename": "key.png", "fileUrl": "https://x/a.png"},
    "basicInformation": "A general.",
    "permConfig": {"isPublic": 0, "allowChat": 1, "allowApi": 1},
    "advancedConfig": {
        "shortTermMemoryRound": 20,
        "platformPlugins": [{"name": "text_to_image_plugin", "enabled": True}],
        "knowledgeBases": ["kb1"],
        "repositoryInfo": {"status": "ok"},
    },
    "version": 2,
    "versions": [1, 2],
    "gmtCreate": "2023-07-14T02:02:19.000+00:00",
    "gmtModified": "2023-07-14T10:02:19.000+08:00",
    "auditStatus": "succcess",
    "greenStatus": "review",
    "somethingNew": 1,
}


def test_chat_request_sends_the_documented_body():
    request = ChatRequest(
        character_id="c1",
        user_id="u1",
        messages=[Message("user", "hello")],
        user_name="Alice",
        scenario="night",
        answer_id="a9",
        max_length=200,
        top_p=0.9,
    )
    wire = request.to_wire()
    assert wire["input"]["prompt"] == "|<system>|"
    assert wire["input"]["messages"] == [{"role": "user", "content": "hello"}]
    aca = wire["input"]["aca"]
    assert aca["botProfile"] == {"characterId": "c1"}
    assert aca["userProfile"] == {"userId": "u1", "userName": "Alice"}
    assert aca["scenario"] == {"description": "night"}
    assert aca["context"] == {"useChatHistory": True, "isRegenerate": False, "answerId": "a9"}
    params = wire["parameters"]
    assert params["incrementalOutput"] is True
    assert params["maxLength"] == 200 and params["topP"] == 0.9
    assert "temperature" not in params and "model" not in wire
    assert None not in aca.values()


def test_chat_request_draws_a_fresh_seed_per_call_unless_given():
    request = ChatRequest(character_id="c1", user_id="u1")
    seeds = {request.to_wire()["parameters"]["seed"] for _ in range(20)}
    assert len(seeds) > 1
    assert all(1 <= seed <= 2**31 - 1 for seed in seeds)
    fixed = ChatRequest(character_id="c1", user_id="u1", seed=42)
    assert fixed.to_wire()["parameters"]["seed"] == 42


def test_model_name_goes_top_level_and_into_parameters():
    wire = ChatRequest(character_id="c1", user_id="u1", model_name="xingchen-plus").to_wire()
    assert wire["model"] == "xingchen-plus"
    assert wire["parameters"]["modelName"] == "xingchen-plus"


def test_group_chat_request_has_no_prompt():
    request = GroupChatRequest(
        members=[GroupMember(character_id="c1"), GroupMember(name="Bo", content="A cat.")],
        user_id="u1",
        group_name="Tea",
        reply_bot_name="Bo",
    )
    wire = request.to_wire()
    assert "prompt" not in wire["input"]
    aca = wire["input"]["aca"]
    assert aca["botProfiles"] == [{"characterId": "c1"}, {"name": "Bo", "content": "A cat."}]
    assert aca["groupInfo"] == {"name": "Tea"}
    assert aca["replySetting"] == {"botName": "Bo"}


def test_completion_request_is_snake_case():
    request = CompletionRequest(
        model="xingchen-plus-latest",
        messages=[Message("system", "You are Bo."), Message("user", "hi")],
        user="u1",
        max_tokens=50,
        top_p=0.8,
        tools=[FunctionDef("lookup", "Look up", {"type": "object"})],
    )
    wire = request.to_wire()
    assert wire["max_tokens"] == 50 and wire["top_p"] == 0.8 and wire["stream"] is False
    assert wire["tools"][0] == {
        "type": "function",
        "function": {"name": "lookup", "description": "Look up", "parameters": {"type": "object"}},
    }


def test_character_input_omits_none_and_sends_plugins_enabled_explicitly():
    config = AdvancedConfig(
        platform_plugins=[PlatformPlugin("text_to_image_plugin", enabled=False)],
        long_term_memories=[LongTermMemory(kv_memory_configs=[KvMemoryConfig(True, "name")])],
    )
    character = CharacterInput(
        name="Bo",
        basic_information="A cat.",
        avatar_url="https://x/a.png",
        perm_config=PermConfig(allow_chat=True),
        advanced_config=config,
    )
    wire = character.to_wire()
    assert wire["avatar"] == {"fileUrl": "https://x/a.png"}
    assert wire["permConfig"] == {"isPublic": 0, "allowChat": 1, "allowApi": 0}
    assert wire["advancedConfig"]["platformPlugins"] == [
        {"name": "text_to_image_plugin", "enabled": False}
    ]
    memory = wire["advancedConfig"]["longTermMemories"][0]
    assert memory == {
        "enabled": True,
        "memoryType": "kv",
        "kvMemoryConfigs": [{"enabled": True, "memoryText": "name"}],
    }
    assert "introduction" not in wire and "traits" not in wire


def test_character_from_wire_reads_every_field_and_keeps_raw():
    character = Character.from_wire(CHARACTER_WIRE)
    assert character.character_id == "c1"
    assert character.avatar == Avatar("oss/key.png", "key.png", "https://x/a.png")
    assert character.perm_config == PermConfig(is_public=False, allow_chat=True, allow_api=True)
    assert character.advanced_config.short_term_memory_round == 20
    assert character.advanced_config.platform_plugins[0].enabled is True
    assert character.advanced_config.raw["repositoryInfo"] == {"status": "ok"}
    assert character.versions == [1, 2]
    assert character.created_at == datetime(2023, 7, 14, 2, 2, 19, tzinfo=UTC)
    assert character.modified_at == datetime(2023, 7, 14, 2, 2, 19, tzinfo=UTC)
    assert character.audit_status == "success"
    assert character.raw["somethingNew"] == 1


def test_character_avatar_may_be_a_plain_url():
    character = Character.from_wire({"characterId": "c1", "avatar": "https://x/a.png"})
    assert character.avatar == Avatar(file_url="https://x/a.png")


def test_character_round_trips_to_input_keeping_the_avatar_key():
    again = Character.from_wire(CHARACTER_WIRE).to_input().to_wire()
    assert again["avatar"] == {"fileUrl": "https://x/a.png", "fileSavePath": "oss/key.png"}
    assert again["basicInformation"] == "A general."


def test_function_call_accepts_both_spellings():
    doc = FunctionCall.from_wire(
        {"tought": "plan", "apiCallList": [{"apiName": "f", "parameter": {"x": 1}}]}
    )
    sdk = FunctionCall.from_wire(
        {"thought": "plan", "apiCallList": [{"apiName": "f", "parameters": {"x": 1}}]}
    )
    assert doc == sdk
    assert doc.thought == "plan" and doc.api_calls[0].parameters == {"x": 1}
    assert FunctionCall.from_wire(None) is None


def test_chat_result_reads_choices_meta_and_context():
    data = {
        "choices": [
            {
                "stopReason": "stop",
                "messages": [
                    {
                        "role": "assistant",
                        "content": "Hi",
                        "meta": {"hasRisk": True, "safetyStdAnswer": "…"},
                    }
                ],
            }
        ],
        "usage": {"inputTokens": 3, "outputTokens": 1, "userTokens": 1},
        "context": {"requestId": "ctx-r", "queryId": "q", "answerId": "a", "chatRoomId": 5},
    }
    result = ChatResult.from_wire(data, "env-r")
    assert result.request_id == "env-r"
    assert result.text == "Hi" and result.finished and result.stop_reason == "stop"
    assert result.has_risk and result.safety_std_answer == "…"
    assert result.usage.input_tokens == 3
    assert result.context.query_id == "q" and result.context.chat_room_id == 5
    assert ChatResult.from_wire(data).request_id == "ctx-r"


def test_stop_reason_null_in_both_forms_means_unfinished():
    assert normalize_stop_reason(None) is None
    assert normalize_stop_reason("null") is None
    assert normalize_stop_reason("length") == "length"


def test_history_query_names_the_user_both_ways_and_sends_times_as_epoch_millis():
    start = datetime(2024, 1, 1, 8, tzinfo=timezone(timedelta(hours=8)))
    end = datetime(2024, 1, 2, 0, 0, 0, 250000)  # noqa: DTZ001 (naive on purpose: means UTC)
    query = HistoryQuery(character_id="c1", biz_user_id="u1", start_time=start, end_time=end)
    wire = query.to_wire()
    assert wire["where"] == {
        "characterId": "c1",
        "userId": "u1",
        "bizUserId": "u1",
        "startTime": 1704067200000,
        "endTime": 1704153600250,
    }
    assert isinstance(wire["where"]["startTime"], int)
    assert wire["pageNum"] == 1 and wire["pageSize"] == 50


def test_history_query_leaves_out_the_times_it_was_not_given():
    wire = HistoryQuery(character_id="c1", biz_user_id="u1").to_wire()
    assert wire["where"] == {"characterId": "c1", "userId": "u1", "bizUserId": "u1"}


def test_chat_message_decodes_json_string_content_and_keeps_plain_text():
    base = {"messageId": "m1", "messageIssuer": {"userType": "character", "userName": "Bo"}}
    as_json = ChatMessage.from_wire({**base, "content": json.dumps({"content": "Hello"})})
    plain = ChatMessage.from_wire({**base, "content": "Hello", "gmtCreate": "2024-01-01T00:00:00"})
    assert as_json.content == "Hello" and as_json.raw_content == '{"content": "Hello"}'
    assert plain.content == "Hello" and plain.issuer_type == "character"
    assert plain.created_at == datetime(2024, 1, 1, tzinfo=UTC)


def test_chat_message_owner_is_read_from_user_id_or_else_biz_user_id():
    base = {"messageId": "m1", "content": "Hi", "messageIssuer": {"userId": "char-1"}}
    both = ChatMessage.from_wire({**base, "userId": "doc-user", "bizUserId": "sdk-user"})
    sdk_only = ChatMessage.from_wire({**base, "bizUserId": "sdk-user"})
    empty_doc_name = ChatMessage.from_wire({**base, "userId": "", "bizUserId": "sdk-user"})
    numeric = ChatMessage.from_wire({**base, "userId": 12345})
    assert both.user_id == "doc-user" and sdk_only.user_id == "sdk-user"
    assert empty_doc_name.user_id == "sdk-user" and numeric.user_id == "12345"
    assert ChatMessage.from_wire(base).user_id is None
    assert both.issuer_user_id == "char-1"


def test_decode_message_content_handles_odd_shapes():
    assert decode_message_content('"quoted"') == "quoted"
    assert decode_message_content('[{"text": "a"}, {"text": "b"}]') == "ab"
    assert decode_message_content("{not json") == "{not json"
    assert decode_message_content('{"unknown": 1}') == '{"unknown": 1}'


def test_image_task_reads_file_urls_or_file_url():
    doc = ImageTask.from_wire({"taskId": "t", "status": "SUCCESS", "fileUrls": ["u1", "u2"]})
    sdk = ImageTask.from_wire({"taskId": "t", "status": "failure", "fileUrl": "u1"})
    assert doc.file_urls == ["u1", "u2"] and doc.status == "success" and doc.done
    assert sdk.file_urls == ["u1"]
    assert not ImageTask.from_wire({"status": "running"}).done


def test_page_reads_page_or_page_num():
    page = Page.from_wire(
        {"list": [{"characterId": "c1"}], "pageNum": 2, "pageSize": 10, "total": 11},
        Character.from_wire,
    )
    assert page.page == 2 and page.page_size == 10 and page.total == 11
    assert page.items[0].character_id == "c1"
    assert Page.from_wire({"list": [], "page": 3}, Character.from_wire).page == 3


def test_parse_time_accepts_offsets_zulu_and_epoch_millis():
    assert parse_time("2023-07-14T02:02:19Z") == datetime(2023, 7, 14, 2, 2, 19, tzinfo=UTC)
    assert parse_time(0) == datetime(1970, 1, 1, tzinfo=UTC)
    assert parse_time("garbage") is None


def test_advanced_config_keeps_unmodelled_server_fields_through_a_round_trip():
    remote = AdvancedConfig.from_wire(CHARACTER_WIRE["advancedConfig"])
    edited = dataclasses.replace(remote, short_term_memory_round=5, knowledge_bases=[])
    wire = edited.to_wire()
    assert wire["repositoryInfo"] == {"status": "ok"}
    assert wire["shortTermMemoryRound"] == 5 and wire["knowledgeBases"] == []
    assert wire["platformPlugins"] == [{"name": "text_to_image_plugin", "enabled": True}]


def test_documented_variant_spellings_read_the_same():
    assert KvSchema.from_wire({"role": "user", "key": "k", "value": ["v"]}) == KvSchema.from_wire(
        {"role": "user", "key": "k", "values": "v"}
    )
    nested = ExtractSummary.from_wire({"memoryResults": [{"memoryResult": {"content": "a"}}]})
    flat = ExtractSummary.from_wire({"memoryResults": [{"content": "a"}]})
    assert nested.summaries == flat.summaries == ["a"]
    wrapped = ExtractKV.from_wire({"schemas": [{"schema": {"role": "user", "key": "k"}}]})
    assert (
        wrapped.schemas == ExtractKV.from_wire({"schemas": [{"role": "user", "key": "k"}]}).schemas
    )
    as_text = ApiCall.from_wire({"apiName": "f", "parameters": '{"x": 1}'})
    assert as_text.parameters == {"x": 1}
    assert NextSpeaker.from_wire({"name": "Bo", "tought": "why"}).thought == "why"
    assert Character.from_wire({"characterId": "c1", "greenStatus": "succcess"}).green_status == (
        "success"
    )


def test_scalars_are_read_leniently_and_unknown_fields_ignored():
    context = ChatContext.from_wire(
        {"chatRoomId": "5", "characterPk": 7.0, "isSave": "true", "sessionId": 12, "new": 1}
    )
    assert (context.chat_room_id, context.character_pk, context.is_save) == (5, 7, True)
    assert context.session_id == "12" and context.raw["new"] == 1
    garbage = ChatContext.from_wire({"chatRoomId": "many", "isSave": "maybe"})
    assert garbage.chat_room_id is None and garbage.is_save is None
    assert Usage.from_wire({"inputTokens": None, "outputTokens": "3"}) == Usage(0, 3, 0)
    assert Usage.from_wire("nothing") is None


def test_settings_the_server_sends_without_enabled_read_as_disabled():
    config = AdvancedConfig.from_wire(
        {"platformPlugins": [{"name": "text_to_image_plugin"}], "longTermMemories": [{}]}
    )
    assert config.platform_plugins[0].enabled is False
    assert config.long_term_memories[0].enabled is False
    assert PlatformPlugin("text_to_image_plugin").enabled is True


def test_chat_result_request_id_falls_back_to_the_contexts():
    result = ChatResult.from_wire({"requestId": "", "context": {"requestId": "ctx"}})
    assert result.request_id == "ctx" and not result.finished


def test_wire_types_behave_as_frozen_dataclasses_with_raw_out_of_equality_and_repr():
    one = Character.from_wire({"characterId": "c1", "name": "Bo", "secretish": "x"})
    two = Character(character_id="c1", name="Bo")
    assert one == two and "secretish" not in repr(one)
    assert dataclasses.replace(one, name="Al").raw == one.raw
    with pytest.raises(dataclasses.FrozenInstanceError):
        one.name = "Al"  # type: ignore[misc]

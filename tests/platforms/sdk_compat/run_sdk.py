"""Drives every API of the official `xingchen` SDK 1.1.5 against a running simulator.

Runs in the SDK's own virtualenv (the SDK pins pydantic 1), not in the project's:

    .venv-sdk/bin/python tests/platforms/sdk_compat/run_sdk.py BASE_URL API_KEY XLSX_URL

XLSX_URL is a workbook the simulator can fetch, for the excel-to-docx calls. Prints one line per
step and exits non-zero at the first failure, saying which step failed and why.
"""

from __future__ import annotations

import json
import sys
import time
import traceback
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import requests
from xingchen import (
    AcACompletionApiSub,
    AcACompletionReq,
    AcAReqMessage,
    ApiClient,
    ApiException,
    BaseChatRequest,
    CharacterAdvancedConfig,
    CharacterApiSub,
    CharacterCreateDTO,
    CharacterDescGeneratedRequest,
    CharacterKey,
    CharacterPermissionConfig,
    CharacterQueryDTO,
    CharacterQueryWhere,
    CharacterUpdateDTO,
    CharacterVersionCreateOrUpdateDTO,
    ChatApiSub,
    ChatContext,
    ChatExtractMessageApiSub,
    ChatHistoryQueryDTO,
    ChatHistoryQueryWhere,
    ChatMessageApiSub,
    ChatReqParams,
    CommonApiSub,
    Configuration,
    ExtractMemoryRequest,
    FileConvertRequest,
    FileInfoVO,
    Function,
    GroupChatApiSub,
    GroupChatExtParam,
    GroupChatReplySetting,
    GroupChatRoomInfo,
    Input,
    KnowledgeBaseApiSub,
    KnowledgeBaseCreateDTO,
    KnowledgeBaseDeleteDTO,
    KnowledgeBaseDetailDeleteDTO,
    KnowledgeBaseDetailQueryDTO,
    KnowledgeBaseDetailUpdateDTO,
    KnowledgeBaseDetailUploadDTO,
    KnowledgeBaseQueryDTO,
    KnowledgeBaseUpdateDTO,
    KVMemoryConfig,
    Message,
    MessageRatingRequest,
    ModelParameters,
    ResetChatHistoryRequest,
    StopChatRequest,
    SysReminderRequest,
    TextToImagePlugin,
    UserProfile,
)


class Failure(Exception):
    pass


def check(condition: object, message: str) -> None:
    if not condition:
        raise Failure(message)


def envelope_ok(result: Any, what: str) -> Any:
    """The SDK's ResultDTO*: success must be true; returns `data`."""
    check(result is not None, f"{what}: no response")
    check(result.success is True, f"{what}: success={result.success!r} ({result!r})")
    return result.data


class Run:
    def __init__(self, base_url: str, api_key: str, xlsx_url: str) -> None:
        client = ApiClient(Configuration(host=base_url.rstrip("/"), access_token=api_key))
        self.base_url = base_url
        self.control = {"Authorization": f"Bearer {api_key}"}
        self.xlsx_url = xlsx_url
        self.characters = CharacterApiSub(client)
        self.chat_api = ChatApiSub(client)
        self.messages = ChatMessageApiSub(client)
        self.extract = ChatExtractMessageApiSub(client)
        self.common = CommonApiSub(client)
        self.kb = KnowledgeBaseApiSub(client)
        self.group = GroupChatApiSub(client)
        self.completion = AcACompletionApiSub(client)
        self.tag = uuid.uuid4().hex[:8]
        self.user_id = f"sdk-{self.tag}"
        # polling_image_detail types userId as an int: the drawing chat is this user's.
        self.numeric_user_id = int(self.tag, 16)
        self.name = f"SDK{self.tag}"
        self.character_id = ""
        self.answer_id = ""
        self.query_id = ""

    # --- characters ----------------------------------------------------------------------

    def character_create(self) -> None:
        advanced = CharacterAdvancedConfig(
            platform_plugins=[TextToImagePlugin(name="text_to_image_plugin", enabled=True)]
        )
        dto = CharacterCreateDTO(
            name=self.name,
            basic_information="You are a patient tea master who loves long stories.",
            opening_line="Welcome to my tea house!",
            traits="Always polite.",
            advanced_config=advanced,
            perm_config=CharacterPermissionConfig(is_public=0, allow_chat=1, allow_api=1),
            role_types=["Lifestyle"],
        )
        data = envelope_ok(self.characters.create(dto), "create")
        check(data.character_id, "create: no characterId")
        self.character_id = data.character_id

    def character_details(self) -> None:
        data = envelope_ok(self.characters.character_details(self.character_id), "details")
        check(data.name == self.name, f"details: name {data.name!r}")
        check(data.gmt_create is not None and data.version == 1, "details: version/gmtCreate")
        check(data.advanced_config.platform_plugins, "details: platformPlugins were lost")

    def character_update(self) -> None:
        dto = CharacterUpdateDTO(
            character_id=self.character_id,
            name=self.name,
            basic_information="You are a tea master and a storyteller.",
            version=1,
        )
        check(envelope_ok(self.characters.update(dto), "update") is True, "update: data not true")
        data = envelope_ok(self.characters.character_details(self.character_id), "details")
        check(data.basic_information.startswith("You are a tea master and"), "update not stored")

    def character_search(self) -> None:
        query = CharacterQueryDTO(
            where=CharacterQueryWhere(scope="my", character_name=self.name),
            page_num=1,
            page_size=10,
            order_by=["gmtModified desc"],
        )
        data = envelope_ok(self.characters.search(query), "search")
        check([c.character_id for c in data.list] == [self.character_id], "search: wrong list")
        check(data.total == 1 and data.page == 1, "search: paging")
        builtin = CharacterQueryDTO(where=CharacterQueryWhere(scope="pre_configured"))
        check(envelope_ok(self.characters.search(builtin), "search").list, "no built-ins")

    def character_versions(self) -> None:
        dto = CharacterVersionCreateOrUpdateDTO(
            character_id=self.character_id,
            version=2,
            name=self.name,
            basic_information="You are a tea master, version two.",
            advanced_config=CharacterAdvancedConfig(
                platform_plugins=[TextToImagePlugin(name="text_to_image_plugin", enabled=True)]
            ),
        )
        saved = envelope_ok(self.characters.create_or_update_version(dto), "createOrUpdateVersion")
        check(saved.version == 2, f"createOrUpdateVersion: version {saved.version}")
        listed = envelope_ok(self.characters.list_character_versions(self.character_id), "versions")
        check([v.version for v in listed] == [1, 2], "versions: expected [1, 2]")
        recommended = envelope_ok(
            self.characters.recommend_character_version(self.character_id), "recommend"
        )
        check(recommended.version == 3, f"recommend: version {recommended.version}")

    def character_auto_desc(self) -> None:
        request = CharacterDescGeneratedRequest(type="text", text="关羽，东汉末年名将，字云长。")
        data = envelope_ok(self.characters.auto_generate_desc(request), "auto desc")
        check("【基本信息】" in data.content, "auto desc: no 【基本信息】 section")

    # --- chat ----------------------------------------------------------------------------

    def _chat(self, text: str, *, streaming: bool = False, **fields: Any) -> Any:
        user_id = fields.pop("user_id", self.user_id)
        params = ChatReqParams(
            bot_profile=CharacterKey(character_id=self.character_id),
            model_parameters=fields.pop("model_parameters", ModelParameters(seed=42)),
            messages=[Message(role="user", content=text)],
            user_profile=UserProfile(user_id=user_id, user_name="Tester"),
            # The SDK leaves useChatHistory out unless set; Xingchen's doc requires it true.
            context=fields.pop("context", ChatContext(use_chat_history=True)),
            streaming=streaming,
            **fields,
        )
        return self.chat_api.chat(params)

    def chat_send(self) -> None:
        response = self._chat("Hello, which tea do you recommend?")
        check(response.success is True, f"chat: {response!r}")
        choice = response.data.choices[0]
        check(choice.stop_reason == "stop", f"chat: stopReason {choice.stop_reason!r}")
        check(choice.messages[0].content, "chat: empty reply")
        context = response.data.context
        check(context.answer_id and context.query_id and context.session_id, "chat: ids missing")
        check(response.data.usage.output_tokens > 0, "chat: usage")
        self.answer_id, self.query_id = context.answer_id, context.query_id

    def chat_stream(self) -> None:
        events = list(self._chat("Tell me about green tea", streaming=True))
        check(len(events) > 2, f"stream: only {len(events)} events")
        check(all(e.success is True for e in events), "stream: an event failed")
        reasons = [e.data.choices[0].stop_reason for e in events]
        check(reasons[-1] == "stop" and set(reasons[:-1]) == {"null"}, f"stream: {reasons}")
        ids = {e.data.context.request_id for e in events}
        check(len(ids) == 1 and None not in ids, "stream: context.requestId")
        texts = [e.data.choices[0].messages[0].content for e in events]
        check(
            all(b.startswith(a) for a, b in zip(texts, texts[1:], strict=False)),
            "stream: not cumulative",
        )

    def _pacing(self, **changes: float) -> dict[str, Any]:
        """The simulator's own control API: slows replies so a stop lands mid-stream."""
        response = requests.post(
            f"{self.base_url}/_simulator/config", json=changes, headers=self.control, timeout=10
        )
        response.raise_for_status()
        return {k: v for k, v in response.json().items() if k != "ok"}

    def chat_stop(self) -> None:
        before = self._pacing()
        self._pacing(tokens_per_second=20)
        try:
            stream = self._chat(
                "Tell me a long story",
                streaming=True,
                model_parameters=ModelParameters(seed=7, incremental_output=True),
            )
            first = next(stream)
            partial = first.data.choices[0].messages[0].content
            stop = StopChatRequest(request_id=first.data.context.request_id, content=partial)
            check(envelope_ok(self.chat_api.stop_chat(stop), "stop") is True, "stop: not true")
            rest = list(stream)
        finally:
            self._pacing(**before)
        check(rest and rest[-1].data.choices[0].stop_reason == "stop", "stop: no final event")
        check(all(e.data.choices[0].messages[0].content == "" for e in rest), "stop: more text")

    def chat_regenerate_and_adopt(self) -> None:
        context = ChatContext(use_chat_history=True, is_regenerate=True, query_id=self.query_id)
        again = self._chat(
            "Hello, which tea do you recommend?",
            context=context,
            model_parameters=ModelParameters(seed=43),
        )
        check(again.success is True, f"regenerate: {again!r}")
        check(again.data.context.query_id == self.query_id, "regenerate: other query")
        check(again.data.context.answer_id != self.answer_id, "regenerate: same answer")
        adopt = ChatContext(use_chat_history=True, answer_id=self.answer_id)
        check(self._chat("Thanks!", context=adopt).success is True, "adopt failed")

    def chat_function_call(self) -> None:
        weather = Function(
            name="get_weather",
            description="Weather of a city",
            parameters={"type": "object", "properties": {"city": {"type": "string"}}},
        )
        response = self._chat("Please get_weather for Hangzhou", functions=[weather])
        call = response.data.choices[0].messages[0].function_call
        check(call is not None and call.thought, "function call: missing")
        check(call.api_call_list[0].api_name == "get_weather", "function call: apiName")
        check("Hangzhou" in call.api_call_list[0].parameters.get("city", ""), "function args")

    def histories(self) -> None:
        # The SDK sends naive datetimes as ISO strings; the simulator reads them as UTC.
        now = datetime.now(UTC).replace(tzinfo=None)
        where = ChatHistoryQueryWhere(
            character_id=self.character_id,
            biz_user_id=self.user_id,
            start_time=now - timedelta(hours=1),
            end_time=now + timedelta(hours=1),
        )
        query = ChatHistoryQueryDTO(
            where=where, page_num=1, page_size=50, order_by=["gmtCreate asc"]
        )
        page = envelope_ok(self.messages.chat_histories(query), "histories")
        check(page.total >= 5 and page.list, f"histories: total {page.total}")
        first = page.list[0]
        check(first.message_type == "user", f"histories: first is {first.message_type}")
        check(
            json.loads(first.content) == {"text": "Hello, which tea do you recommend?"}, "content"
        )
        check(all(m.gmt_create is not None for m in page.list), "histories: gmtCreate")
        check(any(m.message_id == self.answer_id for m in page.list), "histories: answer")

    def rating(self) -> None:
        request = MessageRatingRequest(message_id=self.answer_id, rating=5)
        check(envelope_ok(self.messages.rate_message(request), "rating") is True, "rating")

    def reminder(self) -> None:
        request = SysReminderRequest(
            character_id=self.character_id, biz_user_id=self.user_id, content="Tea is ready!"
        )
        check(envelope_ok(self.messages.sys_reminder(request), "reminder") is True, "reminder")

    def polling_image(self) -> None:
        response = self._chat("请帮我画一壶茶", user_id=str(self.numeric_user_id))
        message_id = response.data.context.answer_id
        statuses = []
        for _ in range(3):
            detail = self.messages.polling_image_detail(message_id, self.numeric_user_id)
            statuses.append(envelope_ok(detail, "polling image"))
        check([s.status for s in statuses] == ["running", "running", "success"], "image status")
        url = statuses[-1].file_url[0]
        png = requests.get(url, timeout=10)
        check(png.status_code == 200 and png.content[:4] == b"\x89PNG", "image: not a PNG")

    def reset(self) -> None:
        request = ResetChatHistoryRequest(character_id=self.character_id, user_id=self.user_id)
        check(envelope_ok(self.messages.reset_chat_history(request), "reset") is True, "reset")

    # --- memory, files, knowledge bases --------------------------------------------------

    def extract_kv(self) -> None:
        request = ExtractMemoryRequest(
            messages=[Message(role="user", content="你好，我叫小明。I work as a nurse.")],
            kv_memory_configs=[
                KVMemoryConfig(enabled=True, memory_text="姓名"),
                KVMemoryConfig(enabled=True, memory_text="职业"),
            ],
        )
        data = envelope_ok(self.extract.extract_memory_kv(request), "extract kv")
        found = {s.key: s.value for s in data.schemas}
        check(found == {"姓名": ["小明"], "职业": ["nurse"]}, f"extract kv: {found}")

    def extract_summary(self) -> None:
        request = ExtractMemoryRequest(messages=[Message(role="user", content="我喜欢喝龙井。")])
        data = envelope_ok(self.extract.extract_memory_summary(request), "extract summary")
        check(any("龙井" in r.content for r in data.memory_results), "summary: no fact")

    def file_convert(self) -> None:
        request = FileConvertRequest(type="excelToDocx", source_url=self.xlsx_url)
        task = envelope_ok(self.common.file_convert(request), "file convert")
        check(isinstance(task.id, int) and task.status == "init", f"file convert: {task!r}")
        first = envelope_ok(self.common.file_convert_result(task.id), "convert result")
        done = envelope_ok(self.common.file_convert_result(task.id), "convert result")
        check(
            first.status == "init" and done.status == "success",
            f"convert: statuses {first.status!r}, {done.status!r} (is {self.xlsx_url} reachable?)",
        )
        docx = requests.get(done.url, timeout=10)
        check(docx.status_code == 200 and docx.content[:2] == b"PK", "convert: not a docx")

    def knowledge_base(self) -> None:
        owner = UserProfile(user_id=self.user_id)
        created = envelope_ok(
            self.kb.create(
                KnowledgeBaseCreateDTO(name="Teas", description="All about tea", user_profile=owner)
            ),
            "kb create",
        )
        kb_id = created.knowledge_base_id
        check(kb_id and created.count == 0, "kb create: no id")
        check(
            envelope_ok(
                self.kb.update(
                    KnowledgeBaseUpdateDTO(
                        knowledge_base_id=kb_id, name="Tea", description="d", user_profile=owner
                    )
                ),
                "kb update",
            )
            is True,
            "kb update",
        )
        listed = envelope_ok(
            self.kb.search(KnowledgeBaseQueryDTO(page_num=1, page_size=10, user_profile=owner)),
            "kb search",
        )
        check([k.knowledge_base_id for k in listed.list] == [kb_id], "kb search: list")
        files = [FileInfoVO(filename="a.txt", file_url=f"{self.base_url}/missing.txt")]
        check(
            envelope_ok(
                self.kb.detail_upload(
                    KnowledgeBaseDetailUploadDTO(
                        knowledge_base_id=kb_id, type="file", file_infos=files, user_profile=owner
                    )
                ),
                "kb upload",
            )
            is True,
            "kb upload",
        )
        check(
            envelope_ok(
                self.kb.detail_update(
                    KnowledgeBaseDetailUpdateDTO(
                        knowledge_base_id=kb_id, name="a.txt", new_name="b.txt", user_profile=owner
                    )
                ),
                "kb rename",
            )
            is True,
            "kb rename",
        )
        found = envelope_ok(
            self.kb.detail_search(
                KnowledgeBaseDetailQueryDTO(
                    knowledge_base_id=kb_id, page_num=1, page_size=10, user_profile=owner
                )
            ),
            "kb file search",
        )
        check([f.name for f in found.list] == ["b.txt"], "kb file search: list")
        check(
            envelope_ok(
                self.kb.detail_delete(
                    KnowledgeBaseDetailDeleteDTO(
                        knowledge_base_id=kb_id, name="b.txt", user_profile=owner
                    )
                ),
                "kb file delete",
            )
            is True,
            "kb file delete",
        )
        check(
            envelope_ok(
                self.kb.delete(KnowledgeBaseDeleteDTO(knowledge_base_id=kb_id, user_profile=owner)),
                "kb delete",
            )
            is True,
            "kb delete",
        )

    # --- group chat, completions ---------------------------------------------------------

    def _group_request(self, bot_name: str | None = None) -> BaseChatRequest:
        # GroupChatExtParam only accepts its wire (camelCase) names.
        aca = GroupChatExtParam(
            botProfiles=[
                CharacterKey(character_id=self.character_id),
                CharacterKey(name="Ben", content="You are Ben, a coffee fan."),
            ],
            userProfile=UserProfile(user_id=self.user_id),
            groupInfo=GroupChatRoomInfo(name="Tea club"),
            replySetting=GroupChatReplySetting(bot_name=bot_name) if bot_name else None,
        )
        return BaseChatRequest(
            parameters=ModelParameters(seed=5),
            input=Input(
                messages=[Message(role="user", name="me", content="Who wants tea?")], aca=aca
            ),
        )

    def group_chat(self) -> None:
        response = self.group.chat(self._group_request("Ben"))
        check(response.success is True, f"group chat: {response!r}")
        check(response.data.choices[0].messages[0].name == "Ben", "group chat: speaker")
        events = list(self.group.chat(self._group_request(), _headers={"X-AcA-SSE": "enable"}))
        check(len(events) > 2 and events[-1].data.choices[0].stop_reason == "stop", "group sse")
        speaker = envelope_ok(self.group.get_next_speaker(self._group_request()), "next speaker")
        check(speaker.name and speaker.thought, "next speaker: empty")

    def completions(self) -> None:
        messages = [
            AcAReqMessage(role="system", content="You are Kai, a poet."),
            AcAReqMessage(role="user", content="Write about rain"),
        ]
        request = AcACompletionReq(
            model="xingchen-plus-latest", messages=messages, user="u1", seed=3
        )
        plain = self.completion.completions(request)
        check(plain.choices[0].finish_reason == "stop", f"completions: {plain!r}")
        text = plain.choices[0].message.content
        check(text and plain.usage.total_tokens > 0, "completions: empty")
        request.stream = True
        chunks = list(self.completion.completions(request))
        streamed = "".join(c.choices[0].message.content or "" for c in chunks)
        check(streamed == text and chunks[-1].choices[0].finish_reason == "stop", "stream")

    def character_delete(self) -> None:
        # The SDK's convenience methods always send version=1; other versions go through the
        # *_with_http_info variants.
        check(envelope_ok(self.characters.delete(self.character_id), "delete") is True, "delete")
        second = self.characters.delete_with_http_info(
            self.character_id, 2, _return_http_data_only=True
        )
        check(envelope_ok(second, "delete version 2") is True, "delete version 2")
        try:
            self.characters.character_details_with_http_info(
                self.character_id, 2, _return_http_data_only=True
            )
        except ApiException as exc:
            check(exc.status == 404, f"details after delete: HTTP {exc.status}")
        else:
            raise Failure("details after delete: the character is still there")

    def steps(self) -> list[Callable[[], None]]:
        return [
            self.character_create, self.character_details, self.character_update,
            self.character_search, self.character_versions, self.character_auto_desc,
            self.chat_send, self.chat_stream, self.chat_stop, self.chat_regenerate_and_adopt,
            self.chat_function_call, self.histories, self.rating, self.reminder,
            self.polling_image, self.reset, self.extract_kv, self.extract_summary,
            self.file_convert, self.knowledge_base, self.group_chat, self.completions,
            self.character_delete,
        ]  # fmt: skip


def main(argv: list[str]) -> int:
    if len(argv) != 4:
        print(__doc__, file=sys.stderr)
        return 2
    run = Run(argv[1], argv[2], argv[3])
    for step in run.steps():
        started = time.monotonic()
        try:
            step()
        except Exception as exc:  # report any SDK failure as this step's failure
            print(f"FAIL {step.__name__}: {exc.__class__.__name__}: {exc}", file=sys.stderr)
            traceback.print_exc()
            return 1
        print(f"ok   {step.__name__} ({time.monotonic() - started:.2f}s)")
    print(f"all {len(run.steps())} SDK steps passed")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

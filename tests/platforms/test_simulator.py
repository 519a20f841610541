"""The Xingchen simulator speaks the v2 wire protocol: checked over real HTTP with raw httpx."""

from __future__ import annotations

import ast
import io
import json
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import openpyxl
import pytest
from docx import Document
from PIL import Image

from platforms.xingchen.simulator import replies, streaming
from tests.simulator_fixture import make_simulator

CHAT_SEND = "/v2/api/chat/send"
CONTEXT_KEYS = {
    "requestId",
    "sessionId",
    "chatId",
    "chatRoomId",
    "queryId",
    "answerId",
    "messageId",
    "replyMessageId",
    "modelRequestId",
    "isSave",
    "characterPk",
    "modelName",
}
IMAGE_PLUGIN = {"name": "text_to_image_plugin", "enabled": True}

# method, path, servicename: XINGCHEN_API.md §2, all 33 rows (completions under both names).
ENDPOINTS = [
    ("POST", "/v2/api/chat/send", "aca-chat-send"),
    ("POST", "/v2/api/chat/send", "aca-chat-send-sse"),
    ("POST", "/v2/api/chat/stop", "aca-chat-stop"),
    ("POST", "/v2/api/chat/reset", "aca-chat-reset"),
    ("POST", "/v2/api/chat/message/histories", "aca-message-history"),
    ("POST", "/v2/api/chat/rating", "aca-message-rating"),
    ("POST", "/v2/api/chat/reminder", "aca-chat-reminder"),
    ("GET", "/v2/api/chat/polling/image", "aca-polling-image"),
    ("POST", "/v2/api/character/create", "aca-character-create"),
    ("POST", "/v2/api/character/update", "aca-character-update"),
    ("GET", "/v2/api/character/details", "aca-character-details"),
    ("POST", "/v2/api/character/delete", "aca-character-delete"),
    ("POST", "/v2/api/character/search", "aca-character-search"),
    ("GET", "/v2/api/character/versions/abc", "aca-character-versions"),
    ("GET", "/v2/api/character/newversion/recommend/abc", "aca-character-version-recommend"),
    ("POST", "/v2/api/character/createOrUpdateVersion", "aca-character-version-mgmt"),
    ("POST", "/v2/api/character/auto/desc", "aca-char-auto-desc"),
    ("POST", "/v2/api/extract/kv", "aca-extract-memory-kv"),
    ("POST", "/v2/api/extract/summary", "aca-extract-memory-summary"),
    ("POST", "/v2/api/common/file/asyn/upload", "aca-doc-converter-submit"),
    ("GET", "/v2/api/common/file/asyn/download", "aca-doc-converter-result"),
    ("POST", "/v2/api/knowledge_base/create", "aca-kb-create"),
    ("POST", "/v2/api/knowledge_base/update", "aca-kb-update"),
    ("POST", "/v2/api/knowledge_base/search", "aca-kb-search"),
    ("POST", "/v2/api/knowledge_base/delete", "aca-kb-delete"),
    ("POST", "/v2/api/knowledge_base/detail/upload", "aca-kb-detail-upload"),
    ("POST", "/v2/api/knowledge_base/detail/update", "aca-kb-detail-update"),
    ("POST", "/v2/api/knowledge_base/detail/search", "aca-kb-detail-search"),
    ("POST", "/v2/api/knowledge_base/detail/delete", "aca-kb-detail-delete"),
    ("POST", "/v2/api/groupchat/send", "aca-groupchat-send"),
    ("POST", "/v2/api/groupchat/send", "aca-groupchat-send-sse"),
    ("POST", "/v2/api/groupchat/nextSpeaker", "aca-groupchat-nextspeaker"),
    ("POST", "/v2/api/completions", "aca-completion"),
    ("POST", "/v2/api/chat/completions", "aca-chat-completions"),
]


# --- helpers ---------------------------------------------------------------------------------


@dataclass
class Frame:
    event: str | None
    data: str

    def json(self) -> dict[str, Any]:
        return json.loads(self.data)


def iter_frames(lines: Iterator[str]) -> Iterator[Frame]:
    event: str | None = None
    data: list[str] = []
    for line in lines:
        if line == "":
            if data:
                yield Frame(event, "\n".join(data))
            event, data = None, []
        elif line.startswith("event:"):
            event = line[len("event:") :].strip()
        elif line.startswith("data:"):
            data.append(line[len("data:") :])
    if data:
        yield Frame(event, "\n".join(data))


def content_of(frame: Frame) -> str:
    return frame.json()["choices"][0]["messages"][0]["content"]


def stop_reason(frame: Frame) -> str:
    return frame.json()["choices"][0]["stopReason"]


class Api:
    def __init__(self, sim: Any) -> None:
        self.sim = sim
        self.http = httpx.Client(base_url=sim.base_url, timeout=30)

    def headers(self, servicename: str | None, key: str | None = None) -> dict[str, str]:
        headers = {"Authorization": f"Bearer {key or self.sim.api_key}", "x-fag-appcode": "aca"}
        if servicename:
            headers["x-fag-servicename"] = servicename
            if servicename.endswith("-sse"):
                headers["X-AcA-SSE"] = "enable"
        return headers

    def call(
        self,
        servicename: str | None,
        path: str,
        body: Any = None,
        *,
        method: str = "POST",
        params: dict[str, Any] | None = None,
        key: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> httpx.Response:
        merged = {**self.headers(servicename, key), **(headers or {})}
        return self.http.request(method, path, json=body, params=params, headers=merged)

    def data(self, servicename: str, path: str, body: Any = None, **kwargs: Any) -> Any:
        response = self.call(servicename, path, body, **kwargs)
        assert response.status_code == 200, response.text
        envelope = response.json()
        assert envelope["success"] is True and envelope["code"] == 200, envelope
        assert "errorCode" not in envelope and envelope["requestId"]
        return envelope["data"]

    def stream(
        self, body: dict[str, Any], servicename: str = "aca-chat-send-sse", path: str = CHAT_SEND
    ) -> list[Frame]:
        response = self.call(servicename, path, body)
        assert response.status_code == 200, response.text
        return list(iter_frames(iter(response.text.split("\n"))))

    def character(self, **fields: Any) -> str:
        body = {
            "name": "Bo",
            "basicInformation": "You are Bo, a cheerful cat who runs a tea house.",
            "openingLine": "Meow, welcome in!",
            "traits": "Always polite.",
            **fields,
        }
        return self.data("aca-character-create", "/v2/api/character/create", body)["characterId"]

    def histories(self, character_id: str, user_id: str, **body: Any) -> dict[str, Any]:
        payload = {
            "where": {"characterId": character_id, "bizUserId": user_id, **body.pop("where", {})},
            "pageSize": 50,
            "orderBy": ["gmtCreate asc"],
            **body,
        }
        return self.data("aca-message-history", "/v2/api/chat/message/histories", payload)


def chat_body(
    character_id: str,
    user_id: str,
    text: str = "Hello, what tea do you recommend?",
    *,
    context: dict[str, Any] | None = None,
    **parameters: Any,
) -> dict[str, Any]:
    return {
        "parameters": {"seed": 7, **parameters},
        "input": {
            "prompt": "|<system>|",
            "messages": [{"role": "user", "content": text}],
            "aca": {
                "botProfile": {"characterId": character_id},
                "userProfile": {"userId": user_id, "userName": None},
                "context": {"useChatHistory": True, **(context or {})},
            },
        },
    }


def unique(prefix: str = "user") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def wait_for(predicate: Any, what: str, seconds: float = 10.0) -> Any:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        result = predicate()
        if result:
            return result
        time.sleep(0.02)
    raise AssertionError(f"timed out waiting for {what}")


def error_of(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["success"] is False and body["errorCode"] == status
    assert body["httpStatusCode"] == status and body["requestId"] and body["errorMessage"]
    return body


@pytest.fixture
def api(sim: Any) -> Iterator[Api]:
    client = Api(sim)
    yield client
    client.http.close()


# --- gateway ---------------------------------------------------------------------------------


def test_a_successful_call_is_wrapped_in_the_envelope(api):
    response = api.call(
        "aca-character-create",
        "/v2/api/character/create",
        {"name": "Envelope", "basicInformation": "Checks the wrapper."},
    )
    body = response.json()
    assert response.status_code == 200
    assert set(body) == {"requestId", "code", "success", "data"}
    assert body["code"] == 200 and body["success"] is True
    assert isinstance(body["data"]["characterId"], str)


@pytest.mark.parametrize(("method", "path", "servicename"), ENDPOINTS)
def test_every_documented_endpoint_answers_only_its_own_servicename(api, method, path, servicename):
    wrong = api.call("aca-not-a-service", path, {}, method=method)
    assert error_of(wrong, 404)["errorName"] == "ServiceNotFound"
    right = api.call(servicename, path, {}, method=method)
    if right.status_code != 200:
        assert error_of(right, right.status_code)["errorName"] not in (
            "ServiceNotFound",
            "ApiNotFound",
            "MissingGatewayHeader",
        )


def test_missing_gateway_headers_and_a_foreign_appcode_are_refused(api):
    missing = api.http.post(
        "/v2/api/character/search", json={}, headers={"Authorization": f"Bearer {api.sim.api_key}"}
    )
    assert error_of(missing, 400)["errorName"] == "MissingGatewayHeader"
    foreign = api.call(
        "aca-character-search", "/v2/api/character/search", {}, headers={"x-fag-appcode": "other"}
    )
    assert error_of(foreign, 404)["errorName"] == "AppNotFound"
    unknown = api.call("aca-character-search", "/v2/api/character/nothing", {})
    assert error_of(unknown, 404)["errorName"] == "ApiNotFound"


def test_any_other_api_key_gets_the_documented_401(api):
    response = api.call("aca-character-search", "/v2/api/character/search", {}, key="sk-wrong")
    body = error_of(response, 401)
    assert body["errorMessage"] == "Unauthorized user! apikey is invalid."


def test_the_request_log_keeps_bodies_but_never_the_key(api, sim):
    api.data("aca-character-search", "/v2/api/character/search", {"where": {"scope": "my"}})
    entry = sim.requests("aca-character-search")[-1]
    assert entry["json"] == {"where": {"scope": "my"}} and entry["status"] == 200
    assert entry["method"] == "POST" and entry["path"] == "/v2/api/character/search"
    assert "authorization" not in {k.lower() for k in entry["headers"]}
    assert sim.api_key not in json.dumps(sim.requests("aca-character-search"))


def test_control_calls_need_the_key(sim):
    response = httpx.get(f"{sim.base_url}/_simulator/requests", params={"servicename": "x"})
    assert response.status_code == 401
    assert httpx.get(f"{sim.base_url}/_simulator/health").json() == {"ok": True}


# --- characters ------------------------------------------------------------------------------


def test_character_lifecycle_with_versions(api):
    character_id = api.character(name="Lifecycle")
    details = api.data(
        "aca-character-details",
        "/v2/api/character/details",
        method="GET",
        params={"characterId": character_id, "version": 1},
    )
    assert details["name"] == "Lifecycle" and details["version"] == 1
    assert details["auditStatus"] == "success" and details["configStatus"] == "normal"
    assert details["gmtCreate"].endswith("+00:00") and details["manageable"] is True
    update = {"characterId": character_id, "name": "Lifecycle", "basicInformation": "Changed."}
    assert api.data("aca-character-update", "/v2/api/character/update", update) is True
    saved = api.data(
        "aca-character-version-mgmt",
        "/v2/api/character/createOrUpdateVersion",
        {**update, "version": 2, "basicInformation": "Second."},
    )
    assert saved["version"] == 2 and saved["basicInformation"] == "Second."
    versions = api.data(
        "aca-character-versions", f"/v2/api/character/versions/{character_id}", method="GET"
    )
    assert [v["version"] for v in versions] == [1, 2]
    assert versions[0]["basicInformation"] == "Changed."
    recommended = api.data(
        "aca-character-version-recommend",
        f"/v2/api/character/newversion/recommend/{character_id}",
        method="GET",
    )
    assert recommended["version"] == 3
    deleted = api.call(
        "aca-character-delete",
        "/v2/api/character/delete",
        {"characterId": character_id},
        params={"characterId": character_id},
    )
    assert deleted.json()["data"] is True
    gone = api.call(
        "aca-character-details",
        "/v2/api/character/details",
        method="GET",
        params={"characterId": character_id},
    )
    assert error_of(gone, 404)["errorName"] == "CharacterNotFound"


@pytest.mark.parametrize(
    ("body", "error_name"),
    [
        ({"name": "", "basicInformation": "x"}, "InvalidCharacterName"),
        ({"name": "n" * 21, "basicInformation": "x"}, "InvalidCharacterName"),
        ({"name": "Ok"}, "MissingBasicInformation"),
        (
            {"name": "Ok", "basicInformation": "x", "advancedConfig": {"isRealInfo": True}},
            "MissingSearchKeyword",
        ),
    ],
)
def test_character_create_is_validated_as_xingchen_does(api, body, error_name):
    response = api.call("aca-character-create", "/v2/api/character/create", body)
    assert error_of(response, 400)["errorName"] == error_name


@pytest.mark.parametrize(
    ("statuses", "error_name"),
    [
        ({"auditStatus": "review"}, "CharacterUnderAudit"),
        ({"auditStatus": "update"}, "CharacterUnderAudit"),
        ({"greenStatus": "review"}, "CharacterUnderGreenReview"),
        ({"configStatus": "out"}, "CharacterOffShelf"),
    ],
)
def test_update_is_refused_while_under_review_or_off_shelf(api, sim, statuses, error_name):
    character_id = api.character()
    assert sim.set_character_status(character_id, **statuses)["ok"] is True
    update = {"characterId": character_id, "name": "Bo", "basicInformation": "New."}
    response = api.call("aca-character-update", "/v2/api/character/update", update)
    assert error_of(response, 400)["errorName"] == error_name


def test_an_off_shelf_character_cannot_chat(api, sim):
    character_id = api.character()
    sim.set_character_status(character_id, configStatus="out")
    response = api.call("aca-chat-send", CHAT_SEND, chat_body(character_id, unique()))
    assert error_of(response, 400)["errorName"] == "CharacterOffShelf"


def test_search_by_scope_prefix_and_paging(api):
    prefix = uuid.uuid4().hex[:6]
    ids = [api.character(name=f"{prefix}-{i}") for i in range(3)]
    api.character(name=f"x{prefix}")
    page = api.data(
        "aca-character-search",
        "/v2/api/character/search",
        {
            "where": {"scope": "my", "characterName": prefix},
            "pageNum": 1,
            "pageSize": 2,
            "orderBy": ["gmtCreate asc"],
        },
    )
    assert page["total"] == 3 and page["page"] == 1 and page["pageSize"] == 2
    assert [c["characterId"] for c in page["list"]] == ids[:2]
    second = api.data(
        "aca-character-search",
        "/v2/api/character/search",
        {
            "where": {"scope": "my", "characterName": prefix},
            "pageNum": 2,
            "pageSize": 2,
            "orderBy": ["gmtCreate asc"],
        },
    )
    assert [c["characterId"] for c in second["list"]] == ids[2:]
    built_in = api.data(
        "aca-character-search", "/v2/api/character/search", {"where": {"scope": "pre_configured"}}
    )
    assert built_in["total"] >= 3 and all(c["isPreConfigured"] for c in built_in["list"])


def test_an_avatar_is_rehosted_behind_a_signed_link(api, file_server):
    base, root = file_server
    (root / "cat.png").write_bytes(replies_png())
    character_id = api.character(avatar={"fileUrl": f"{base}/cat.png"})
    details = api.data(
        "aca-character-details",
        "/v2/api/character/details",
        method="GET",
        params={"characterId": character_id},
    )
    avatar = details["avatar"]
    assert avatar["filename"] == "cat.png" and avatar["fileSavePath"]
    assert "/_simulator/files/" in avatar["fileUrl"] and "Expires=" in avatar["fileUrl"]
    assert "Signature=" in avatar["fileUrl"]
    assert httpx.get(avatar["fileUrl"]).content == (root / "cat.png").read_bytes()

    unreachable = f"{base}/missing.png"
    kept = api.character(avatar={"fileUrl": unreachable})
    details = api.data(
        "aca-character-details",
        "/v2/api/character/details",
        method="GET",
        params={"characterId": kept},
    )
    assert details["avatar"]["fileUrl"] == unreachable


def replies_png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (4, 4), (200, 10, 10)).save(out, format="PNG")
    return out.getvalue()


# --- chat: streaming -------------------------------------------------------------------------


def test_stream_frames_carry_every_id_in_every_event(api):
    character_id = api.character()
    response = api.call("aca-chat-send-sse", CHAT_SEND, chat_body(character_id, unique()))
    assert response.headers["content-type"] == "text/event-stream;charset=UTF-8"
    assert "\n\nevent:result\ndata:{" in "\n\n" + response.text
    frames = list(iter_frames(iter(response.text.split("\n"))))
    assert len(frames) > 3 and {f.event for f in frames} == {"result"}
    request_ids = set()
    for frame in frames:
        event = frame.json()
        assert set(event["context"]) >= CONTEXT_KEYS
        assert set(event["usage"]) == {"userTokens", "inputTokens", "outputTokens"}
        message = event["choices"][0]["messages"][0]
        assert message["role"] == "assistant" and message["meta"]["hasRisk"] is False
        request_ids |= {event["requestId"], event["context"]["requestId"]}
    assert len(request_ids) == 1
    assert [stop_reason(f) for f in frames[:-1]] == ["null"] * (len(frames) - 1)
    assert stop_reason(frames[-1]) == "stop"
    context = frames[-1].json()["context"]
    assert context["messageId"] == context["answerId"]
    assert context["replyMessageId"] == context["queryId"]
    assert isinstance(context["chatRoomId"], int) and isinstance(context["characterPk"], int)


def test_incremental_pieces_add_up_to_the_cumulative_text(api):
    character_id = api.character()
    pieces = api.stream(chat_body(character_id, unique(), incrementalOutput=True))
    cumulative = api.stream(chat_body(character_id, unique()))
    assert "".join(content_of(f) for f in pieces) == content_of(cumulative[-1])
    texts = [content_of(f) for f in cumulative]
    assert all(b.startswith(a) for a, b in zip(texts, texts[1:], strict=False))
    assert len(content_of(cumulative[-1])) > 100


def test_the_same_seed_repeats_the_reply_and_another_seed_changes_it(api):
    character_id = api.character()
    first = api.data("aca-chat-send", CHAT_SEND, chat_body(character_id, unique(), seed=11))
    again = api.data("aca-chat-send", CHAT_SEND, chat_body(character_id, unique(), seed=11))
    other = api.data("aca-chat-send", CHAT_SEND, chat_body(character_id, unique(), seed=12))
    text = first["choices"][0]["messages"][0]["content"]
    assert text == again["choices"][0]["messages"][0]["content"]
    assert text != other["choices"][0]["messages"][0]["content"]
    assert "**" in text


def test_a_chinese_question_gets_a_chinese_reply(api):
    character_id = api.character(name="小墨", basicInformation="你是一位温柔的插画师。")
    result = api.data(
        "aca-chat-send", CHAT_SEND, chat_body(character_id, unique(), "你好呀，今天天气真好")
    )
    text = result["choices"][0]["messages"][0]["content"]
    assert replies.is_chinese(text) and "小墨" in text


def test_max_length_cuts_the_reply_with_stop_reason_length(api):
    character_id = api.character()
    frames = api.stream(chat_body(character_id, unique(), maxLength=5))
    last = frames[-1].json()
    assert last["choices"][0]["stopReason"] == "length"
    assert last["usage"]["outputTokens"] == 5
    assert len(replies.tokenize(content_of(frames[-1]))) == 5


def test_stop_ends_the_stream_and_keeps_the_partial_text_as_the_answer(api, sim):
    sim.configure(tokens_per_second=20)
    character_id, user_id = api.character(), unique()
    body = chat_body(character_id, user_id, incrementalOutput=True)
    with api.http.stream(
        "POST", CHAT_SEND, json=body, headers=api.headers("aca-chat-send-sse")
    ) as r:
        frames = iter_frames(r.iter_lines())
        first = next(frames).json()
        partial = first["choices"][0]["messages"][0]["content"]
        stop = {"requestId": first["requestId"], "content": partial}
        assert api.data("aca-chat-stop", "/v2/api/chat/stop", stop) is True
        rest = list(frames)
    assert rest and all(content_of(f) == "" for f in rest)
    assert stop_reason(rest[-1]) == "stop"
    answers = [
        m for m in api.histories(character_id, user_id)["list"] if m["messageType"] == "character"
    ]
    assert [json.loads(m["content"])["text"] for m in answers] == [partial]


def test_stop_is_refused_unless_the_request_is_a_stream_still_running(api):
    character_id, user_id = api.character(), unique()
    plain = api.call("aca-chat-send", CHAT_SEND, chat_body(character_id, user_id))
    ended = api.stream(chat_body(character_id, unique()))
    for request_id in (plain.json()["requestId"], ended[0].json()["requestId"], uuid.uuid4().hex):
        stop = {"requestId": request_id, "content": "kept?"}
        response = api.call("aca-chat-stop", "/v2/api/chat/stop", stop)
        assert error_of(response, 404)["errorName"] == "RequestNotFound"
    answer_id = plain.json()["data"]["context"]["answerId"]
    (answer,) = api.histories(character_id, user_id, where={"messageIds": [answer_id]})["list"]
    assert json.loads(answer["content"])["text"] != "kept?"


def test_a_non_streaming_chat_cannot_be_stopped_even_while_it_runs(api, sim):
    sim.configure(tokens_per_second=10)
    character_id = api.character()
    before = {e["requestId"] for e in sim.requests("aca-chat-send")}
    send = {
        "json": chat_body(character_id, unique(), maxLength=20),
        "headers": api.headers("aca-chat-send"),
        "timeout": 30,
    }
    with ThreadPoolExecutor(max_workers=1) as pool:
        running = pool.submit(httpx.post, f"{sim.base_url}{CHAT_SEND}", **send)
        (entry,) = wait_for(
            lambda: [e for e in sim.requests("aca-chat-send") if e["requestId"] not in before],
            "the chat to reach the simulator",
        )
        stop = {"requestId": entry["requestId"], "content": "cut short"}
        response = api.call("aca-chat-stop", "/v2/api/chat/stop", stop)
        assert error_of(response, 404)["errorName"] == "RequestNotFound"
        assert not running.done()
        finished = running.result(timeout=30).json()["data"]
    # It ran to its maxLength: the stop neither ended it early nor replaced its text.
    assert len(replies.tokenize(finished["choices"][0]["messages"][0]["content"])) == 20


def test_a_second_chat_for_the_same_user_is_refused_while_one_is_in_flight(api, sim):
    sim.configure(tokens_per_second=20)
    character_id, user_id = api.character(), unique()
    body = chat_body(character_id, user_id)
    with api.http.stream(
        "POST", CHAT_SEND, json=body, headers=api.headers("aca-chat-send-sse")
    ) as r:
        frames = iter_frames(r.iter_lines())  # keep a reference: dropping it hangs up
        next(frames)
        busy = api.call("aca-chat-send", CHAT_SEND, chat_body(character_id, user_id))
        assert error_of(busy, 429)["errorName"] == "ConcurrentChatNotAllowed"
        other_user = api.call(
            "aca-chat-send", CHAT_SEND, chat_body(character_id, unique(), maxLength=3)
        )
        assert other_user.status_code == 200
    sim.configure(tokens_per_second=2000)
    wait_for(
        lambda: api.call("aca-chat-send", CHAT_SEND, body).status_code == 200,
        "the user's chat slot to be released after the client hung up",
    )


def test_risk_marker_and_function_names_shape_the_answer(api):
    character_id = api.character()
    risky = api.data(
        "aca-chat-send", CHAT_SEND, chat_body(character_id, unique(), "tell me [risk]")
    )
    meta = risky["choices"][0]["messages"][0]["meta"]
    assert meta["hasRisk"] is True and meta["safetyStdAnswer"]

    body = chat_body(character_id, unique(), "Please get_weather for Hangzhou tomorrow")
    body["input"]["aca"]["functionList"] = [
        {
            "name": "get_weather",
            "description": "Weather of a city",
            "parameters": {
                "type": "object",
                "properties": {"city": {"type": "string"}},
                "required": ["city"],
            },
        }
    ]
    called = api.data("aca-chat-send", CHAT_SEND, body)
    call = called["choices"][0]["messages"][0]["functionCall"]
    assert call["thought"] and call["apiCallList"][0]["apiName"] == "get_weather"
    assert "Hangzhou" in call["apiCallList"][0]["parameters"]["city"]


def test_chat_validation(api):
    character_id = api.character()
    no_user = chat_body(character_id, "u")
    del no_user["input"]["aca"]["userProfile"]["userId"]
    assert error_of(api.call("aca-chat-send", CHAT_SEND, no_user), 400)["errorName"] == (
        "MissingParameter"
    )
    last_not_user = chat_body(character_id, unique())
    last_not_user["input"]["messages"].append({"role": "assistant", "content": "hi"})
    response = api.call("aca-chat-send", CHAT_SEND, last_not_user)
    assert error_of(response, 400)["errorName"] == "LastMessageNotUser"
    no_sse_header = api.call(
        "aca-chat-send-sse",
        CHAT_SEND,
        chat_body(character_id, unique()),
        headers={"X-AcA-SSE": "disable"},
    )
    assert error_of(no_sse_header, 400)["errorName"] == "MissingSSEHeader"


@pytest.mark.parametrize("servicename", ["aca-chat-send", "aca-chat-send-sse"])
@pytest.mark.parametrize(
    ("context", "error_name"),
    [
        ({}, "MissingParameter"),
        ({"useChatHistory": None}, "MissingParameter"),
        ({"useChatHistory": False}, "InvalidParameter"),
        ({"useChatHistory": "true"}, "InvalidParameter"),
    ],
)
def test_chat_send_requires_use_chat_history_to_be_true(api, servicename, context, error_name):
    body = chat_body(api.character(), unique())
    body["input"]["aca"]["context"] = context
    response = api.call(servicename, CHAT_SEND, body)
    error = error_of(response, 400)
    assert error["errorName"] == error_name and "useChatHistory" in error["errorMessage"]


# --- chat: platform history ------------------------------------------------------------------


def test_reset_starts_a_new_session_and_marks_old_messages(api):
    character_id, user_id = api.character(), unique()
    before = api.data("aca-chat-send", CHAT_SEND, chat_body(character_id, user_id))["context"]
    reset = {"characterId": character_id, "userId": user_id}
    assert api.data("aca-chat-reset", "/v2/api/chat/reset", reset) is True
    after = api.data("aca-chat-send", CHAT_SEND, chat_body(character_id, user_id))["context"]
    assert after["sessionId"] != before["sessionId"]
    messages = api.histories(character_id, user_id)["list"]
    old = [m for m in messages if m["sessionId"] == before["sessionId"]]
    new = [m for m in messages if m["sessionId"] == after["sessionId"]]
    assert old and {m["status"] for m in old} == {"reset"}
    assert {m["status"] for m in new} == {"normal"}
    assert [m["messageType"] for m in new] == ["opening_remarks", "user", "character"]
    assert json.loads(new[0]["content"]) == {"text": "Meow, welcome in!"}


def test_regenerate_then_adopt_keeps_the_chosen_answer_only(api):
    character_id, user_id = api.character(), unique()
    first = api.data("aca-chat-send", CHAT_SEND, chat_body(character_id, user_id, seed=1))[
        "context"
    ]
    regen = chat_body(
        character_id, user_id, seed=2, context={"isRegenerate": True, "queryId": first["queryId"]}
    )
    regen["input"]["messages"] = []
    second = api.data("aca-chat-send", CHAT_SEND, regen)["context"]
    assert second["chatId"] == first["chatId"] and second["queryId"] == first["queryId"]
    assert second["answerId"] != first["answerId"]
    answers = {m["messageId"]: m for m in api.histories(character_id, user_id)["list"]}
    assert answers[second["answerId"]]["regenerateTimes"] == 1
    assert first["answerId"] in answers

    adopt = chat_body(
        character_id, user_id, "And a snack?", context={"answerId": first["answerId"]}
    )
    api.data("aca-chat-send", CHAT_SEND, adopt)
    ids = {m["messageId"] for m in api.histories(character_id, user_id)["list"]}
    assert first["answerId"] in ids and second["answerId"] not in ids


def test_histories_filter_page_and_order(api, sim):
    character_id, user_id = api.character(), unique()
    contexts = [
        api.data("aca-chat-send", CHAT_SEND, chat_body(character_id, user_id, f"question {i}"))[
            "context"
        ]
        for i in range(3)
    ]
    everything = api.histories(character_id, user_id)
    assert everything["total"] == 7  # the opening line, then three questions and answers
    newest_first = api.histories(character_id, user_id, orderBy=["gmtCreate desc"], pageSize=2)
    assert [m["messageId"] for m in newest_first["list"]] == [
        contexts[2]["answerId"],
        contexts[2]["queryId"],
    ]
    second_page = api.histories(character_id, user_id, pageNum=2, pageSize=3)
    assert [m["messageId"] for m in second_page["list"]] == [
        m["messageId"] for m in everything["list"][3:6]
    ]
    assert second_page["page"] == 2 and second_page["total"] == 7
    picked = api.histories(character_id, user_id, where={"messageIds": [contexts[1]["queryId"]]})
    (message,) = picked["list"]
    assert json.loads(message["content"]) == {"text": "question 1"}
    assert (
        message["messageIssuer"]["userType"] == "user"
        and message["chatId"] == contexts[1]["chatId"]
    )

    by_doc_name = api.data(
        "aca-message-history",
        "/v2/api/chat/message/histories",
        {"where": {"characterId": character_id, "userId": user_id}},
    )
    assert by_doc_name["total"] == 7 and by_doc_name["pageSize"] == 10
    created = [m["gmtCreate"] for m in everything["list"]]
    ms = int(datetime.fromisoformat(created[-1]).timestamp() * 1000)
    assert api.histories(character_id, user_id, where={"startTime": ms})["total"] >= 1
    assert (
        api.histories(character_id, user_id, where={"endTime": "2000-01-01T00:00:00"})["total"] == 0
    )
    too_big = api.call(
        "aca-message-history",
        "/v2/api/chat/message/histories",
        {"where": {"characterId": character_id, "userId": user_id}, "pageSize": 51},
    )
    assert error_of(too_big, 400)["errorName"] == "InvalidPageSize"


def test_histories_without_a_user_are_refused_instead_of_mixing_users(api):
    character_id = api.character()
    for user_id in (unique(), unique()):
        api.data("aca-chat-send", CHAT_SEND, chat_body(character_id, user_id))
    path = "/v2/api/chat/message/histories"
    for where in ({"characterId": character_id}, {"characterId": character_id, "userId": ""}):
        response = api.call("aca-message-history", path, {"where": where})
        error = error_of(response, 400)
        assert error["errorName"] == "MissingParameter" and "userId" in error["errorMessage"]
    both = {"characterId": character_id, "userId": unique(), "bizUserId": unique()}
    conflicting = api.call("aca-message-history", path, {"where": both})
    assert error_of(conflicting, 400)["errorName"] == "InvalidParameter"


@pytest.mark.parametrize("user_key", ["userId", "bizUserId"])
def test_histories_return_only_the_named_users_records_each_carrying_its_owner(api, user_key):
    character_id, user_id = api.character(), unique()
    api.data("aca-chat-send", CHAT_SEND, chat_body(character_id, user_id))
    api.data("aca-chat-send", CHAT_SEND, chat_body(character_id, unique()))
    api.data(
        "aca-chat-reminder",
        "/v2/api/chat/reminder",
        {"characterId": character_id, "bizUserId": user_id, "content": "Tea is ready!"},
    )
    page = api.data(
        "aca-message-history",
        "/v2/api/chat/message/histories",
        {"where": {"characterId": character_id, user_key: user_id}, "orderBy": ["gmtCreate asc"]},
    )
    records = page["list"]
    assert [m["messageType"] for m in records] == [
        "opening_remarks",
        "user",
        "character",
        "character",
    ]
    assert {(m["userId"], m["bizUserId"]) for m in records} == {(user_id, user_id)}


@pytest.mark.parametrize("form", ["epoch millis", "epoch millis string", "iso"])
def test_history_times_are_read_as_epoch_millis_or_iso_strings(api, form):
    character_id, user_id = api.character(), unique()
    api.data("aca-chat-send", CHAT_SEND, chat_body(character_id, user_id))
    now_ms = int(time.time() * 1000)

    def at(ms: int) -> Any:
        if form == "iso":
            return datetime.fromtimestamp(ms / 1000, tz=UTC).isoformat()
        return ms if form == "epoch millis" else str(ms)

    hour = 3_600_000
    around = {"startTime": at(now_ms - hour), "endTime": at(now_ms + hour)}
    assert api.histories(character_id, user_id, where=around)["total"] == 3
    later = {"startTime": at(now_ms + hour)}
    assert api.histories(character_id, user_id, where=later)["total"] == 0


def test_rating_and_reminder_are_stored_on_the_history(api):
    character_id, user_id = api.character(), unique()
    answer = api.data("aca-chat-send", CHAT_SEND, chat_body(character_id, user_id))["context"]
    rate = {"messageId": answer["answerId"], "rating": 5}
    assert api.data("aca-message-rating", "/v2/api/chat/rating", rate) is True
    out_of_range = api.call(
        "aca-message-rating", "/v2/api/chat/rating", {"messageId": answer["answerId"], "rating": 6}
    )
    assert error_of(out_of_range, 400)["errorName"] == "InvalidRating"
    remind = {"characterId": character_id, "bizUserId": user_id, "content": "Tea is ready!"}
    assert api.data("aca-chat-reminder", "/v2/api/chat/reminder", remind) is True
    messages = api.histories(character_id, user_id)["list"]
    rated = next(m for m in messages if m["messageId"] == answer["answerId"])
    assert rated["rating"] == 5
    last = messages[-1]
    assert json.loads(last["content"])["text"] == "Tea is ready!"
    assert last["messageType"] == "character" and last["messageIssuer"]["userType"] == "character"


@pytest.mark.parametrize(("rating", "accepted"), [(0, True), (5, True), (-1, False), (3, False)])
def test_only_the_seed_docs_ratings_0_and_5_are_accepted(api, rating, accepted):
    character_id, user_id = api.character(), unique()
    answer = api.data("aca-chat-send", CHAT_SEND, chat_body(character_id, user_id))["context"]
    rate = {"messageId": answer["answerId"], "rating": rating}
    response = api.call("aca-message-rating", "/v2/api/chat/rating", rate)
    if accepted:
        assert response.json()["data"] is True
    else:
        error = error_of(response, 400)
        assert error["errorName"] == "InvalidRating" and "0" in error["errorMessage"]
    (stored,) = api.histories(character_id, user_id, where={"messageIds": [answer["answerId"]]})[
        "list"
    ]
    assert stored["rating"] == (rating if accepted else None)


# --- slow jobs -------------------------------------------------------------------------------


def test_an_image_task_runs_then_succeeds_with_a_real_png(api):
    character_id = api.character(advancedConfig={"platformPlugins": [IMAGE_PLUGIN]})
    user_id = unique()
    answer = api.data(
        "aca-chat-send", CHAT_SEND, chat_body(character_id, user_id, "请帮我画一只猫")
    )
    message_id = answer["context"]["answerId"]
    params = {"messageId": message_id, "userId": user_id}
    statuses = [
        api.data("aca-polling-image", "/v2/api/chat/polling/image", method="GET", params=params)
        for _ in range(3)
    ]
    assert [s["status"] for s in statuses] == ["running", "running", "success"]
    url = statuses[-1]["fileUrls"][0]
    assert statuses[-1]["fileUrl"] == [url] and "Expires=" in url
    png = httpx.get(url)
    assert png.status_code == 200 and png.content.startswith(b"\x89PNG\r\n\x1a\n")
    assert Image.open(io.BytesIO(png.content)).size == (256, 256)

    parts = urlsplit(url)
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    tampered = f"{parts.scheme}://{parts.netloc}{parts.path}?" + urlencode(
        {**query, "Expires": str(int(query["Expires"]) + 1)}
    )
    assert httpx.get(tampered).status_code == 403


def test_an_image_task_is_found_only_by_the_owner_of_its_message(api):
    character_id = api.character(advancedConfig={"platformPlugins": [IMAGE_PLUGIN]})
    owner = unique()
    answer = api.data("aca-chat-send", CHAT_SEND, chat_body(character_id, owner, "请帮我画一只猫"))
    message_id, path = answer["context"]["answerId"], "/v2/api/chat/polling/image"
    for params in (
        {"messageId": message_id, "userId": unique()},
        {"messageId": uuid.uuid4().hex, "userId": owner},
    ):
        response = api.call("aca-polling-image", path, method="GET", params=params)
        assert error_of(response, 404)["errorName"] == "ImageTaskNotFound"
    anyone = api.call("aca-polling-image", path, method="GET", params={"messageId": message_id})
    assert error_of(anyone, 400)["errorName"] == "MissingParameter"
    mine = api.data(
        "aca-polling-image", path, method="GET", params={"messageId": message_id, "userId": owner}
    )
    assert mine["status"] == "running"


def test_excel_is_converted_to_a_docx_whose_tables_hold_the_cells(api, file_server):
    base, root = file_server
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = "Teas"
    for row in (["name", "price"], ["龙井", 38], ["Earl Grey", 12.5]):
        sheet.append(row)
    workbook.create_sheet("Empty")
    workbook.save(root / "menu.xlsx")
    task = api.data(
        "aca-doc-converter-submit",
        "/v2/api/common/file/asyn/upload",
        {"sourceUrl": f"{base}/menu.xlsx", "type": "excelToDocx"},
    )
    assert task["status"] == "init" and isinstance(task["id"], int)
    poll = {"taskId": task["id"]}
    path = "/v2/api/common/file/asyn/download"
    first = api.data("aca-doc-converter-result", path, method="GET", params=poll)
    done = api.data("aca-doc-converter-result", path, method="GET", params=poll)
    assert first["status"] == "init" and done["status"] == "success"
    document = Document(io.BytesIO(httpx.get(done["url"]).content))
    cells = [[cell.text for cell in row.cells] for row in document.tables[0].rows]
    assert cells == [["name", "price"], ["龙井", "38"], ["Earl Grey", "12.5"]]
    assert [p.text for p in document.paragraphs if p.style.name.startswith("Heading")] == [
        "Teas",
        "Empty",
    ]


@pytest.mark.parametrize("source", ["missing.xlsx", "not-a-workbook.xlsx"])
def test_an_unusable_source_fails_the_conversion_with_a_message(api, file_server, source):
    base, root = file_server
    (root / "not-a-workbook.xlsx").write_text("plain text")
    task = api.data(
        "aca-doc-converter-submit",
        "/v2/api/common/file/asyn/upload",
        {"sourceUrl": f"{base}/{source}", "type": "excelToDocx"},
    )
    path = "/v2/api/common/file/asyn/download"
    api.data("aca-doc-converter-result", path, method="GET", params={"taskId": task["id"]})
    failed = api.data("aca-doc-converter-result", path, method="GET", params={"taskId": task["id"]})
    assert failed["status"] == "failed" and failed["errorMessage"]


def test_kv_extraction_finds_the_facts_under_the_configured_keys(api):
    body = {
        "messages": [
            {"role": "user", "content": "你好，我叫小明，我喜欢画画和唱歌。"},
            {"role": "assistant", "content": "你好小明！"},
            {"role": "user", "content": "By the way, I work as a nurse."},
        ],
        "kvMemoryConfigs": [
            {"enabled": True, "memoryText": "姓名"},
            {"enabled": True, "memoryText": "职业"},
            {"enabled": True, "memoryText": "爱好"},
        ],
    }
    data = api.data("aca-extract-memory-kv", "/v2/api/extract/kv", body)
    schemas = {s["key"]: s for s in data["schemas"]}
    assert schemas["姓名"]["value"] == ["小明"] and schemas["姓名"]["role"] == "user"
    assert schemas["职业"]["value"] == ["nurse"]
    assert schemas["爱好"]["value"] == ["画画", "唱歌"]
    assert data["usage"]["inputTokens"] > 0

    summary = api.data(
        "aca-extract-memory-summary", "/v2/api/extract/summary", {"messages": body["messages"]}
    )
    contents = [r["content"] for r in summary["memoryResults"]]
    assert "用户的名字是小明。" in contents and "The user works as nurse." in contents


def test_auto_description_is_sectioned(api):
    data = api.data(
        "aca-char-auto-desc",
        "/v2/api/character/auto/desc",
        {"type": "text", "text": "关羽，东汉末年名将，字云长。"},
    )
    assert data["content"].startswith("【基本信息】\n关羽") and "【性格特点】" in data["content"]
    assert data["usage"]["outputTokens"] > 0


def test_auto_description_reads_a_text_file(api, file_server):
    base, root = file_server
    (root / "hero.txt").write_text("Ada is a travelling storyteller from the north.")
    data = api.data(
        "aca-char-auto-desc",
        "/v2/api/character/auto/desc",
        {"type": "file", "fileUrl": f"{base}/hero.txt", "fileName": "hero.txt"},
    )
    assert data["content"].startswith("【基本信息】\nAda. Ada is a travelling storyteller")
    no_extension = api.call(
        "aca-char-auto-desc",
        "/v2/api/character/auto/desc",
        {"type": "file", "fileUrl": f"{base}/hero.txt", "fileName": "hero"},
    )
    assert error_of(no_extension, 400)["errorName"] == "InvalidFileName"


def test_knowledge_bases_belong_to_their_user(api):
    owner = {"userId": unique()}
    kb = api.data(
        "aca-kb-create",
        "/v2/api/knowledge_base/create",
        {"name": "Teas", "description": "All about tea", "userProfile": owner},
    )
    kb_id = kb["knowledgeBaseId"]
    assert kb["count"] == 0 and isinstance(kb["id"], int)
    upload = {
        "knowledgeBaseId": kb_id,
        "type": "file",
        "userProfile": owner,
        "fileInfos": [{"filename": "a.txt", "fileUrl": "http://example.invalid/a.txt"}],
    }
    assert api.data("aca-kb-detail-upload", "/v2/api/knowledge_base/detail/upload", upload)
    rename = {"knowledgeBaseId": kb_id, "name": "a.txt", "newName": "b.txt", "userProfile": owner}
    assert api.data("aca-kb-detail-update", "/v2/api/knowledge_base/detail/update", rename)
    files = api.data(
        "aca-kb-detail-search",
        "/v2/api/knowledge_base/detail/search",
        {"knowledgeBaseId": kb_id, "userProfile": owner},
    )
    assert [f["name"] for f in files["list"]] == ["b.txt"]
    stranger = api.call(
        "aca-kb-search", "/v2/api/knowledge_base/search", {"userProfile": {"userId": unique()}}
    )
    assert stranger.json()["data"]["total"] == 0
    listed = api.data("aca-kb-search", "/v2/api/knowledge_base/search", {"userProfile": owner})
    assert [k["knowledgeBaseId"] for k in listed["list"]] == [kb_id] and listed["list"][0][
        "count"
    ] == 1
    delete_file = {"knowledgeBaseId": kb_id, "name": "b.txt", "userProfile": owner}
    assert api.data("aca-kb-detail-delete", "/v2/api/knowledge_base/detail/delete", delete_file)
    assert api.data(
        "aca-kb-delete",
        "/v2/api/knowledge_base/delete",
        {"knowledgeBaseId": kb_id, "userProfile": owner},
    )
    assert (
        api.data("aca-kb-search", "/v2/api/knowledge_base/search", {"userProfile": owner})["total"]
        == 0
    )


def group_body(**reply_setting: str) -> dict[str, Any]:
    return {
        "parameters": {"seed": 3, "incrementalOutput": True},
        "input": {
            "messages": [{"role": "user", "name": "me", "content": "Who wants tea?"}],
            "aca": {
                "botProfiles": [
                    {"name": "Ann", "content": "You are Ann, a tea lover."},
                    {"name": "Ben", "content": "You are Ben, a coffee fan."},
                ],
                "userProfile": {"userId": unique()},
                "groupInfo": {"name": "Tea club"},
                "replySetting": reply_setting or None,
            },
        },
    }


def test_group_chat_replies_as_the_named_bot(api):
    path = "/v2/api/groupchat/send"
    result = api.data("aca-groupchat-send", path, group_body(botName="Ben"))
    assert result["choices"][0]["messages"][0]["name"] == "Ben"
    frames = api.stream(group_body(), servicename="aca-groupchat-send-sse", path=path)
    assert {f.json()["choices"][0]["messages"][0]["name"] for f in frames} == {"Ann"}
    assert stop_reason(frames[-1]) == "stop"
    speaker = api.data("aca-groupchat-nextspeaker", "/v2/api/groupchat/nextSpeaker", group_body())
    assert speaker["name"] == "Ann" and speaker["thought"]
    unknown = api.call("aca-groupchat-send", path, group_body(botName="Zed"))
    assert error_of(unknown, 400)["errorName"] == "InvalidBotName"


@pytest.mark.parametrize(
    ("path", "servicename"),
    [
        ("/v2/api/completions", "aca-completion"),
        ("/v2/api/chat/completions", "aca-chat-completions"),
    ],
)
def test_completions_are_openai_shaped_and_not_wrapped(api, path, servicename):
    body = {
        "model": "xingchen-plus-latest",
        "user": "u1",
        "seed": 5,
        "messages": [
            {"role": "system", "content": "You are Kai, a poet."},
            {"role": "user", "content": "Write about rain"},
        ],
    }
    plain = api.call(servicename, path, body).json()
    assert plain["model"] == "xingchen-plus-latest" and "success" not in plain
    assert plain["choices"][0]["finish_reason"] == "stop"
    text = plain["choices"][0]["message"]["content"]
    assert plain["usage"]["total_tokens"] == (
        plain["usage"]["prompt_tokens"] + plain["usage"]["completion_tokens"]
    )
    frames = api.stream({**body, "stream": True}, servicename=servicename, path=path)
    assert frames[-1].event == "stop" and frames[-1].json()["choices"][0]["finish_reason"] == "stop"
    assert "".join(f.json()["choices"][0]["delta"]["content"] for f in frames) == text
    missing_model = api.call(servicename, path, {"messages": body["messages"]})
    assert error_of(missing_model, 400)["errorName"] == "MissingParameter"


def test_completions_honour_max_tokens_stop_sequences_and_tools(api):
    path, servicename = "/v2/api/completions", "aca-completion"
    messages = [{"role": "user", "content": "Write about rain and the sea"}]
    body = {"model": "xingchen-plus-latest", "user": "u1", "seed": 5, "messages": messages}
    full = api.call(servicename, path, body).json()["choices"][0]["message"]["content"]
    short = api.call(servicename, path, {**body, "max_tokens": 4}).json()["choices"][0]
    assert (
        short["finish_reason"] == "length"
        and len(replies.tokenize(short["message"]["content"])) == 4
    )
    stop_word = full.split()[3]
    cut = api.call(servicename, path, {**body, "stop": [stop_word]}).json()["choices"][0]
    assert cut["message"]["content"] == full[: full.index(stop_word)]
    tool = {
        "type": "function",
        "function": {
            "name": "rain_report",
            "description": "Rain",
            "parameters": {"type": "object", "properties": {}},
        },
    }
    called = api.call(servicename, path, {**body, "tools": [tool], "tool_choice": "required"})
    choice = called.json()["choices"][0]
    assert choice["finish_reason"] == "tool_calls"
    assert choice["message"]["tool_calls"][0]["function"]["name"] == "rain_report"


# --- faults ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "name"),
    [(401, "InvalidApiKey"), (500, "InternalError"), (503, "ServiceUnavailable")],
)
def test_a_status_fault_fails_the_next_calls_only(api, sim, status, name):
    sim.inject("aca-character-search", status=status, count=2)
    body = {"where": {"scope": "my"}}
    for _ in range(2):
        response = api.call("aca-character-search", "/v2/api/character/search", body)
        assert error_of(response, status)["errorName"] == name
    assert api.call("aca-character-search", "/v2/api/character/search", body).status_code == 200


def test_a_429_fault_says_when_to_retry(api, sim):
    sim.inject("aca-character-search", status=429, retry_after=2)
    response = api.call("aca-character-search", "/v2/api/character/search", {})
    assert error_of(response, 429)["errorName"] == "Throttling.RateQuota"
    assert response.headers["Retry-After"] == "2"


def test_a_cut_stream_ends_without_a_final_event(api, sim):
    character_id = api.character()
    sim.inject("aca-chat-send-sse", kind="cut", after_events=3)
    frames = api.stream(chat_body(character_id, unique()))
    assert len(frames) == 3 and {stop_reason(f) for f in frames} == {"null"}
    assert stop_reason(api.stream(chat_body(character_id, unique()))[-1]) == "stop"


def test_a_malformed_event_is_followed_by_the_rest_of_the_stream(api, sim):
    character_id = api.character()
    sim.inject("aca-chat-send-sse", kind="malformed", after_events=2)
    frames = api.stream(chat_body(character_id, unique()))
    with pytest.raises(ValueError):
        frames[2].json()
    assert stop_reason(frames[-1]) == "stop" and len(frames) > 4


def test_an_error_event_ends_the_stream(api, sim):
    character_id = api.character()
    sim.inject("aca-chat-send-sse", kind="error_event", after_events=2, status=500)
    frames = api.stream(chat_body(character_id, unique()))
    assert [f.event for f in frames] == ["result", "result", "error"]
    error = frames[-1].json()
    assert error["errorCode"] == 500 and error["success"] is False and error["errorName"]


def test_a_stalled_stream_goes_silent_and_frees_the_user_when_the_client_leaves(api, sim):
    character_id, user_id = api.character(), unique()
    sim.inject("aca-chat-send-sse", kind="stall", after_events=2)
    silent = httpx.Client(base_url=sim.base_url, timeout=httpx.Timeout(10, read=0.5))
    received: list[Frame] = []
    request = {
        "json": chat_body(character_id, user_id),
        "headers": api.headers("aca-chat-send-sse"),
    }
    with (
        pytest.raises(httpx.ReadTimeout),
        silent.stream("POST", CHAT_SEND, **request) as response,
    ):
        received.extend(iter_frames(response.iter_lines()))
    silent.close()
    assert len(received) == 2
    body = chat_body(character_id, user_id)
    wait_for(
        lambda: api.call("aca-chat-send", CHAT_SEND, body).status_code == 200,
        "the stalled chat to release its user",
    )


def test_fault_bodies_are_validated(sim):
    response = httpx.post(
        f"{sim.base_url}/_simulator/faults",
        json={"kind": "explode"},
        headers={"Authorization": f"Bearer {sim.api_key}"},
    )
    assert response.status_code == 400 and response.json()["ok"] is False


# --- benchmark stamps ------------------------------------------------------------------------


@pytest.fixture
def stamping(sim: Any) -> Iterator[Any]:
    control = {"Authorization": f"Bearer {sim.api_key}"}
    httpx.delete(f"{sim.base_url}/_simulator/stamps", headers=control).raise_for_status()
    assert sim.configure(stamp_events=True)["stamp_events"] is True
    yield sim
    sim.configure(stamp_events=False)


def test_stamps_give_each_result_events_reply_length_so_far_and_send_time(api, stamping):
    character_id, user_id = api.character(), unique()
    started = time.time()
    frames = api.stream(chat_body(character_id, user_id, incrementalOutput=True))
    ended = time.time()
    (stamped,) = stamping.stamps(user_id)
    assert stamped["requestId"] == frames[0].json()["requestId"] and stamped["userId"] == user_id
    pieces = [len(content_of(f)) for f in frames]
    assert [chars for chars, _ in stamped["events"]] == [
        sum(pieces[: i + 1]) for i in range(len(pieces))
    ]
    sent_at = [at for _, at in stamped["events"]]
    assert started <= sent_at[0] and sent_at == sorted(sent_at) and sent_at[-1] <= ended


def test_stamps_cover_streamed_chats_only_oldest_first_per_user(api, stamping):
    character_id, user_id, other = api.character(), unique(), unique()
    first = api.stream(chat_body(character_id, user_id))
    api.stream(chat_body(character_id, other))
    api.data("aca-chat-send", CHAT_SEND, chat_body(character_id, user_id))
    second = api.stream(chat_body(character_id, user_id))
    mine = stamping.stamps(user_id)
    assert [s["requestId"] for s in mine] == [f[0].json()["requestId"] for f in (first, second)]
    # Cumulative output: each event's content is the whole reply so far.
    assert [c for c, _ in mine[0]["events"]] == [len(content_of(f)) for f in first]
    assert {s["userId"] for s in stamping.stamps()} >= {user_id, other}


def test_stamps_are_off_by_default_and_cleared_by_delete(api, sim):
    assert sim.configure()["stamp_events"] is False
    character_id, user_id = api.character(), unique()
    api.stream(chat_body(character_id, user_id))
    assert sim.stamps(user_id) == []
    try:
        sim.configure(stamp_events=True)
        api.stream(chat_body(character_id, user_id))
        assert len(sim.stamps(user_id)) == 1
        control = {"Authorization": f"Bearer {sim.api_key}"}
        cleared = httpx.delete(f"{sim.base_url}/_simulator/stamps", headers=control)
        assert cleared.json() == {"ok": True} and sim.stamps(user_id) == []
    finally:
        sim.configure(stamp_events=False)


def test_stamp_events_must_be_a_boolean_and_leaves_pacing_alone_when_refused(sim):
    control = {"Authorization": f"Bearer {sim.api_key}"}
    response = httpx.post(
        f"{sim.base_url}/_simulator/config",
        json={"stamp_events": "yes", "tokens_per_second": 7},
        headers=control,
    )
    assert response.status_code == 400 and "stamp_events" in response.json()["error"]
    config = sim.configure()
    assert config["stamp_events"] is False and config["tokens_per_second"] != 7


def test_stamps_keep_only_the_most_recent_requests():
    book = streaming.EventStamps(keep=2)
    assert book.start("r0", "u") is None
    book.enabled = True
    for index in range(3):
        record = book.start(f"r{index}", "u")
        assert record is not None
        record.events.append([index, 0.0])
    assert [r["requestId"] for r in book.recorded("u")] == ["r1", "r2"]
    assert streaming.STAMPED_REQUESTS_KEPT == 5000


# --- process ---------------------------------------------------------------------------------


def test_state_survives_a_restart(tmp_path):
    data_dir = tmp_path / "simulator"
    first = make_simulator(data_dir)
    try:
        api = Api(first)
        character_id, user_id = api.character(name="Persistent"), unique()
        answer = api.data("aca-chat-send", CHAT_SEND, chat_body(character_id, user_id))
    finally:
        first.stop()
    second = make_simulator(data_dir)
    try:
        api = Api(second)
        details = api.data(
            "aca-character-details",
            "/v2/api/character/details",
            method="GET",
            params={"characterId": character_id},
        )
        assert details["name"] == "Persistent"
        ids = [m["messageId"] for m in api.histories(character_id, user_id)["list"]]
        assert answer["context"]["answerId"] in ids and answer["context"]["queryId"] in ids
    finally:
        second.stop()


def test_replies_tokenize_back_into_the_same_text():
    persona = replies.Persona(key="k", name="Bo", basic_information="You are Bo, a cat.")
    for text in ("Hello **there**,\n\n- one\n- two  ", "你好，**小明**！\n\n我 is here."):
        assert "".join(replies.tokenize(text)) == text
        reply = replies.compose(persona, text, seed=1)
        assert "".join(replies.tokenize(reply.text)) == reply.text


def test_the_simulator_imports_nothing_from_the_client():
    package = Path(replies.__file__).parent
    for source in package.glob("*.py"):
        tree = ast.parse(source.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                assert not node.module.startswith("platforms"), f"{source.name}: {node.module}"
            if isinstance(node, ast.ImportFrom) and node.level > 1:
                raise AssertionError(f"{source.name} imports from outside the simulator")
            if isinstance(node, ast.Import):
                assert not any(a.name.startswith("platforms") for a in node.names), source.name

"""The Lingma simulator over real HTTP, spoken to directly: access checks, validation, the wire
form of its answers, knowledge bases (and their persistence), and its control API."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.lingma_simulator_fixture import LingmaSimulatorHandle, make_lingma_simulator

CHAT = "/oapi/v1/lingma/organizations/sim-org/model/chat"
KBS = "/oapi/v1/lingma/organizations/sim-org/knowledgeBases"
ERROR_KEYS = {
    "errorCode", "errorMessage", "requestId", "traceId", "httpStatus", "title",
    "hasDetailSolution",
}  # fmt: skip


def _body(*messages: tuple[str, str], **extra: Any) -> dict[str, Any]:
    return {"input": {"messages": [{"role": r, "content": c} for r, c in messages]}, **extra}


QUESTION = _body(("system", "You are Mei."), ("user", "Where do I park?"))


@pytest.fixture
def http(lingma_sim: LingmaSimulatorHandle) -> Iterator[httpx.Client]:
    headers = {"x-yunxiao-token": lingma_sim.token}
    with httpx.Client(base_url=lingma_sim.base_url, headers=headers, timeout=10) as client:
        yield client


def _sse_payloads(text: str) -> list[str]:
    return [line.removeprefix("data:") for line in text.splitlines() if line.startswith("data:")]


def test_a_call_without_a_token_is_unauthorized(lingma_sim: LingmaSimulatorHandle) -> None:
    response = httpx.post(f"{lingma_sim.base_url}{CHAT}", json=QUESTION)
    assert response.status_code == 401
    body = response.json()
    assert set(body) == ERROR_KEYS
    assert (body["errorCode"], body["httpStatus"]) == ("Unauthorized", "401")


def test_a_wrong_token_is_invalid_and_not_echoed(lingma_sim: LingmaSimulatorHandle) -> None:
    headers = {"x-yunxiao-token": "pt-guess-123"}
    response = httpx.get(f"{lingma_sim.base_url}{KBS}", headers=headers)
    assert (response.status_code, response.json()["errorCode"]) == (401, "InvalidTokenError")
    assert "pt-guess-123" not in response.text


@pytest.mark.parametrize(
    ("body", "query", "mentions"),
    [
        (_body(("user", "Hi"), parameters={"max_tokens": 0}), "", "max_tokens"),
        (_body(("user", "Hi"), parameters={"max_tokens": 4097}), "", "max_tokens"),
        (_body(("user", "Hi"), parameters={"temperature": 1.5}), "", "temperature"),
        (_body(("user", "Hi"), parameters={"top_p": -0.1}), "", "top_p"),
        (_body(("user", "Hi"), ("system", "You are Mei.")), "", "system message"),
        (_body(("user", "Hi"), ("assistant", "Hello")), "", "user"),
        (_body(("user", "Hi"), kbIds=["kb-code-snippets"]), "", "kb-code-snippets"),
        (_body(("user", "Hi")), "?stream=maybe", "stream"),
        ({"input": {}}, "", "input.messages"),
    ],
)
def test_invalid_chats_are_bad_requests_saying_why(
    http: httpx.Client, body: dict[str, Any], query: str, mentions: str
) -> None:
    response = http.post(CHAT + query, json=body)
    assert response.status_code == 400
    assert response.json()["errorCode"] == "BadRequest"
    assert mentions in response.json()["errorMessage"]


def test_stream_events_carry_null_until_stop_and_usage_on_each(http: httpx.Client) -> None:
    response = http.post(CHAT, params={"stream": "true"}, json=QUESTION)
    assert response.headers["content-type"].startswith("text/event-stream")
    payloads = [json.loads(p) for p in _sse_payloads(response.text)]
    reasons = [p["output"]["finish_reason"] for p in payloads]
    assert reasons == ["null"] * (len(payloads) - 1) + ["stop"]
    assert all(set(p["usage"]) == {"input_tokens", "output_tokens"} for p in payloads)
    assert len({p["requestId"] for p in payloads}) == 1


def test_end_markers_follow_the_configuration(
    http: httpx.Client, lingma_sim: LingmaSimulatorHandle
) -> None:
    lingma_sim.configure(end_marker="done")
    done = http.post(CHAT, params={"stream": "true"}, json=QUESTION).text
    assert _sse_payloads(done)[-1] == "[DONE]"
    lingma_sim.configure(end_marker="event")
    event = http.post(CHAT, params={"stream": "true"}, json=QUESTION).text
    assert "\nevent:finish\ndata:" in event
    lingma_sim.configure(end_marker="none")
    plain = http.post(CHAT, params={"stream": "true"}, json=QUESTION).text
    assert "[DONE]" not in plain and "event:" not in plain


def test_cumulative_mode_sends_the_whole_text_so_far(
    http: httpx.Client, lingma_sim: LingmaSimulatorHandle
) -> None:
    lingma_sim.configure(text_mode="cumulative")
    texts = [
        json.loads(p)["output"]["text"]
        for p in _sse_payloads(http.post(CHAT, params={"stream": "true"}, json=QUESTION).text)
    ]
    assert all(later.startswith(earlier) for earlier, later in zip(texts, texts[1:], strict=False))
    whole = http.post(CHAT, json=QUESTION).json()["output"]["text"]
    assert texts[-1] == whole


def test_the_same_question_gets_the_same_answer(http: httpx.Client) -> None:
    first = http.post(CHAT, json=QUESTION).json()
    second = http.post(CHAT, json=QUESTION).json()
    assert first["output"] == second["output"]
    assert first["requestId"] != second["requestId"]


def test_knowledge_bases_list_orders_filters_and_pages(http: httpx.Client) -> None:
    by_name = http.get(KBS, params={"orderBy": "name", "sort": "asc"}).json()
    names = [kb["name"] for kb in by_name]
    assert names == sorted(names)
    answer = http.get(KBS, params={"sceneType": "answer"}).json()
    assert answer == http.get(KBS, params={"sceneType": "chat"}).json()
    assert len(answer) >= 3
    page = http.get(KBS, params={"perPage": 1, "page": 2})
    assert len(page.json()) == 1
    assert page.headers["x-total"] == str(len(by_name))
    assert page.headers["x-page"] == "2"
    assert http.get(KBS, params={"perPage": 101}).status_code == 400


def test_created_knowledge_bases_survive_a_restart(tmp_path: Path) -> None:
    simulator = make_lingma_simulator(tmp_path)
    try:
        with httpx.Client(
            base_url=simulator.base_url, headers={"x-yunxiao-token": simulator.token}
        ) as http:
            refused = http.post(KBS, json={"name": "x" * 100, "sceneType": "chat"})
            assert refused.status_code == 400
            created = http.post(
                KBS,
                json={"name": "Sales Playbook", "description": "How we sell",
                      "sceneType": "chat", "accessLevel": 10},
            )  # fmt: skip
        kb_id = created.json()["kbId"]
    finally:
        simulator.stop()
    restarted = make_lingma_simulator(tmp_path)
    try:
        listed = {kb["id"]: kb for kb in restarted.knowledge_bases()}
    finally:
        restarted.stop()
    assert listed[kb_id]["name"] == "Sales Playbook"
    assert (listed[kb_id]["fileCount"], listed[kb_id]["accessLevel"]) == (0, 10)


def test_control_api_needs_the_token(lingma_sim: LingmaSimulatorHandle) -> None:
    assert httpx.get(f"{lingma_sim.base_url}/_simulator/health").json() == {"ok": True}
    response = httpx.get(f"{lingma_sim.base_url}/_simulator/requests")
    assert response.status_code == 401


def test_control_api_refuses_unknown_settings_and_faults(http: httpx.Client) -> None:
    assert http.post("/_simulator/config", json={"text_mode": "sideways"}).status_code == 400
    assert http.post("/_simulator/faults", json={"kind": "explode"}).status_code == 400


def test_a_fault_with_a_count_strikes_that_many_calls(
    http: httpx.Client, lingma_sim: LingmaSimulatorHandle
) -> None:
    lingma_sim.inject(kind="http", status=500, count=2)
    statuses = [http.post(CHAT, json=QUESTION).status_code for _ in range(3)]
    assert statuses == [500, 500, 200]


def test_stream_faults_wait_for_a_streamed_chat(
    http: httpx.Client, lingma_sim: LingmaSimulatorHandle
) -> None:
    lingma_sim.inject(kind="stream_error", after_events=0, code="InternalServerError")
    assert http.post(CHAT, json=QUESTION).status_code == 200
    streamed = http.post(CHAT, params={"stream": "true"}, json=QUESTION)
    assert json.loads(_sse_payloads(streamed.text)[0])["errorCode"] == "InternalServerError"


def test_request_log_keeps_what_was_sent_but_never_the_token(
    http: httpx.Client, lingma_sim: LingmaSimulatorHandle
) -> None:
    http.post(CHAT, params={"teamDocs": "true"}, json=QUESTION)
    entry = lingma_sim.requests()[-1]
    assert (entry["query"], entry["body"], entry["status"]) == ({"teamDocs": "true"}, QUESTION, 200)
    assert "x-yunxiao-token" not in entry["headers"]
    assert lingma_sim.token not in json.dumps(lingma_sim.requests())


def test_a_chinese_name_after_you_are_is_the_persona():
    from platforms.lingma.simulator.replies import persona_name

    assert persona_name("You are 林晚秋. Stay in character.", True) == ("林晚秋", "")

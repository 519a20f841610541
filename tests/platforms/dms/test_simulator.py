"""The simulator's own behaviour: its masking format, its replies, and its control API."""

from __future__ import annotations

import httpx
import pytest

from platforms.dms.simulator.masking import mask
from platforms.dms.simulator.params import ChatCall
from platforms.dms.simulator.replies import compose, persona_name, tokenize


@pytest.mark.parametrize(
    ("clear", "masked"),
    [
        ("call 13812345678 now", "call 138****5678 now"),
        ("电话：19900001111。", "电话：199****1111。"),
        ("id 11010119900307123X ok", "id 110101********123X ok"),
        ("card 6222021234567890", "card 6222********7890"),
        ("card 6222021234567890123", "card 6222***********0123"),
        ("mail alice.w@example.com", "mail a***@example.com"),
        ("order 123456789012 and 12345", "order 123456789012 and 12345"),
        ("phone-like 2381234567890", "phone-like 2381234567890"),
    ],
)
def test_masking_format(clear, masked):
    assert mask(clear) == masked


def _call(**fields: object) -> ChatCall:
    return ChatCall(**({"instance_id": 1, "model": "qwen-plus", "messages": []} | fields))


def _messages(system: str, said: str) -> list[dict[str, str]]:
    return [{"role": "system", "content": system}, {"role": "user", "content": said}]


def test_persona_name_comes_from_the_system_message():
    assert persona_name("You are Captain Nemo, of the Nautilus.", False) == "Captain Nemo"
    assert persona_name("你是小明。", True) == "小明"
    assert persona_name("Be helpful.", False) == "Assistant"
    assert persona_name("", True) == "助手"


def test_tokens_join_back_into_the_text():
    text = "Hello **world**,  你好！\n\n- item"
    assert "".join(tokenize(text)) == text


def test_search_cites_a_source_and_json_object_is_json():
    searched = compose(_call(enable_search=True), _messages("You are Ann.", "news?"))
    assert "Source: [Simulated web search]" in "".join(searched.answer)
    as_json = compose(_call(response_format="json_object"), _messages("You are Ann.", "hi"))
    assert "".join(as_json.answer).startswith('{"speaker": "Ann", "you_said": "hi"')


def test_stop_words_end_the_reply():
    reply = compose(_call(stop=["Thank"]), _messages("You are Ann.", "hi"))
    assert "".join(reply.answer).rstrip().endswith('You said: "hi"')
    assert reply.finish_reason == "stop"


def test_control_api_refuses_unknown_faults_and_bad_pacing(dms_sim):
    with httpx.Client(base_url=dms_sim.base_url, timeout=10) as control:
        assert control.post("/_simulator/faults", json={"kind": "explode"}).status_code == 400
        bad_status = {"kind": "http", "status": 200}
        assert control.post("/_simulator/faults", json=bad_status).status_code == 400
        pacing = {"tokens_per_second": 0}
        assert control.post("/_simulator/config", json=pacing).status_code == 400
        health = control.get("/_simulator/health").json()
    assert health == {"ok": True, "access_key_id": "sim-dms-id", "instance_id": 1001}


def test_faults_queue_and_clear(dms_sim):
    dms_sim.inject(kind="cut", after_events=2, count=2)
    with httpx.Client(base_url=dms_sim.base_url, timeout=10) as control:
        queued = control.get("/_simulator/faults").json()["faults"]
        assert [(f["kind"], f["remaining"]) for f in queued] == [("cut", 2)]
        dms_sim.clear_faults()
        assert control.get("/_simulator/faults").json()["faults"] == []


def test_a_chinese_name_after_you_are_is_the_persona():
    from platforms.dms.simulator.replies import persona_name

    assert persona_name("You are 林晚秋. Stay in character.", chinese=True) == "林晚秋"

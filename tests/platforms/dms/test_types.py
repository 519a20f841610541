"""The request's exact wire form, its range checks, and decoding every documented Data shape."""

from __future__ import annotations

import json

import pytest
from pydantic import ValidationError

from platforms.dms import DmsChatEvent, DmsChatRequest, DmsError, DmsMessage, DmsUsage
from platforms.dms.types import TEMPERATURE_MAX, TOP_LOGPROBS_MAX

HELLO = [DmsMessage(role="user", content="hi")]


def request(**fields: object) -> DmsChatRequest:
    return DmsChatRequest(
        **({"instance_id": 123, "messages": HELLO, "model": "qwen-plus"} | fields)
    )


def test_minimal_request_sends_the_required_parameters_and_stream_true():
    assert request().query_params() == {
        "InstanceId": "123",
        "Model": "qwen-plus",
        "NeedDesensitization": "false",
        "IncludeUsage": "true",
        "Stream": "true",
    }


def test_every_parameter_has_its_wire_form():
    params = request(
        need_desensitization=True,
        desensitization_rule="UserInfo",
        include_usage=False,
        max_tokens=256,
        temperature=0.7,
        top_p=0.8,
        top_k=50,
        presence_penalty=-1.5,
        seed=42,
        stop=["\n", "END", "完"],
        response_format="json_object",
        enable_thinking=True,
        thinking_budget=100,
        enable_search=True,
        search_options={"forced_search": "false"},
        enable_code_interpreter=False,
        logprobs=True,
        top_logprobs=3,
        modalities_list=["text", "audio"],
        audio_json={"voice": "Cherry", "format": "wav"},
        vl_high_resolution_images=False,
        x_dash_scope_data_inspection={"input": "cip", "output": "cip"},
        input="text to embed",
        dimensions=512,
        parameters={"a": 1},
        tools=[{"type": "function", "function": {"name": "f"}}],
        tool_choice="auto",
    ).query_params()
    assert params == {
        "InstanceId": "123",
        "Model": "qwen-plus",
        "NeedDesensitization": "true",
        "DesensitizationRule": "UserInfo",
        "IncludeUsage": "false",
        "MaxTokens": "256",
        "Temperature": "0.7",
        "TopP": "0.8",
        "TopK": "50",
        "PresencePenalty": "-1.5",
        "Seed": "42",
        "Stop": '["\\n","END","完"]',
        "ResponseFormat": "json_object",
        "EnableThinking": "true",
        "ThinkingBudget": "100",
        "EnableSearch": "true",
        "SearchOptions": '{"forced_search":"false"}',
        "EnableCodeInterpreter": "false",
        "Logprobs": "true",
        "TopLogprobs": "3",
        "ModalitiesList": '["text","audio"]',
        "AudioJson": '{"voice":"Cherry","format":"wav"}',
        "VlHighResolutionImages": "false",
        "XDashScopeDataInspection": '{"input":"cip","output":"cip"}',
        "Input": "text to embed",
        "Dimensions": "512",
        "Parameters": '{"a":1}',
        "Tools": '[{"type":"function","function":{"name":"f"}}]',
        "ToolChoice": "auto",
        "Stream": "true",
    }


def test_form_body_is_percent_encoded_compact_json_of_the_messages():
    assert request().form_body() == (
        b"Messages=%5B%7B%22role%22%3A%22user%22%2C%22content%22%3A%22hi%22%7D%5D"
    )
    body = request(
        messages=[
            DmsMessage(role="system", content="你是小明 a*b"),
            DmsMessage(role="user", content="x~y"),
        ]
    ).form_body()
    assert body == (
        b"Messages=%5B%7B%22role%22%3A%22system%22%2C%22content%22%3A%22%E4%BD%A0%E6%98%AF"
        b"%E5%B0%8F%E6%98%8E%20a%2Ab%22%7D%2C%7B%22role%22%3A%22user%22%2C%22content%22"
        b"%3A%22x~y%22%7D%5D"
    )


@pytest.mark.parametrize(
    "field",
    [
        {"temperature": TEMPERATURE_MAX},
        {"temperature": -0.1},
        {"top_p": 0},
        {"top_p": 1.01},
        {"presence_penalty": 2.1},
        {"presence_penalty": -2.1},
        {"seed": -1},
        {"seed": 2**31},
        {"top_logprobs": TOP_LOGPROBS_MAX + 1},
        {"max_tokens": 0},
        {"instance_id": 0},
        {"messages": []},
        {"model": ""},
        {"response_format": "xml"},
        {"need_desensitization": True},
        {"need_desensitization": True, "desensitization_rule": "  "},
        {"no_such_option": 1},
    ],
)
def test_out_of_range_or_inconsistent_requests_are_refused_at_construction(field):
    with pytest.raises(ValidationError):
        request(**field)


def test_range_edges_that_the_reference_allows_are_accepted():
    edge = request(temperature=1.99, top_p=1, presence_penalty=-2, seed=2**31 - 1, top_logprobs=0)
    assert edge.query_params()["Temperature"] == "1.99"
    assert edge.query_params()["TopP"] == "1.0"


def envelope(data: object, **fields: object) -> str:
    return json.dumps({"RequestId": "req-1", "Success": True, "Data": data} | fields)


def test_openai_chunk_gives_text_reasoning_and_finish():
    text = DmsChatEvent.from_sse_data(
        envelope(json.dumps({"choices": [{"delta": {"content": "Hel"}, "finish_reason": None}]}))
    )
    assert (text.request_id, text.text, text.reasoning, text.finish_reason) == (
        "req-1",
        "Hel",
        "",
        None,
    )
    thinking = DmsChatEvent.from_sse_data(
        envelope(json.dumps({"choices": [{"delta": {"reasoning_content": "hmm"}}]}))
    )
    assert (thinking.text, thinking.reasoning) == ("", "hmm")
    last = DmsChatEvent.from_sse_data(
        envelope(json.dumps({"choices": [{"delta": {}, "finish_reason": "length"}]}))
    )
    assert last.finish_reason == "length"


def test_usage_chunk_with_empty_choices():
    usage = {"prompt_tokens": 10, "completion_tokens": 20, "total_tokens": 30}
    event = DmsChatEvent.from_sse_data(envelope(json.dumps({"choices": [], "usage": usage})))
    assert event.usage == DmsUsage(prompt_tokens=10, completion_tokens=20, total_tokens=30)
    assert event.text == ""


def test_pascal_case_chunk_is_read_the_same():
    data = {
        "Choices": [{"Delta": {"Content": "Hi", "ReasoningContent": "r"}, "FinishReason": "stop"}],
        "Usage": {"PromptTokens": 3, "CompletionTokens": 4},
    }
    event = DmsChatEvent.from_sse_data(envelope(json.dumps(data)))
    assert (event.text, event.reasoning, event.finish_reason) == ("Hi", "r", "stop")
    assert event.usage == DmsUsage(prompt_tokens=3, completion_tokens=4, total_tokens=None)


def test_message_content_and_native_null_finish_reason():
    data = {"choices": [{"message": {"content": "whole"}, "finish_reason": "null"}]}
    event = DmsChatEvent.from_sse_data(envelope(json.dumps(data)))
    assert (event.text, event.finish_reason) == ("whole", None)


def test_data_already_an_object_is_read_too():
    event = DmsChatEvent.from_sse_data(envelope({"choices": [{"delta": {"content": "x"}}]}))
    assert event.text == "x"


@pytest.mark.parametrize("data", ["true", "42", '"quoted"', '{"other": 1}', None, "[1]"])
def test_other_json_data_carries_no_text(data):
    event = DmsChatEvent.from_sse_data(envelope(data))
    assert (event.text, event.reasoning, event.finish_reason, event.usage) == ("", "", None, None)


def test_non_json_data_is_a_plain_text_delta():
    assert DmsChatEvent.from_sse_data(envelope("Hello, world")).text == "Hello, world"


def test_success_false_raises_a_stream_error_with_its_code():
    with pytest.raises(DmsError) as caught:
        DmsChatEvent.from_sse_data(
            envelope(None, Success=False, ErrorCode="ModelBusy", ErrorMessage="try later")
        )
    error = caught.value
    assert (error.kind, error.code, error.request_id) == ("stream", "ModelBusy", "req-1")
    assert "try later" in str(error)


def test_an_envelope_that_is_not_json_is_malformed():
    with pytest.raises(DmsError) as caught:
        DmsChatEvent.from_sse_data("[DONE]")
    assert caught.value.kind == "malformed"

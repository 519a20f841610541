"""Lingma wire types: the exact query and body a chat sends, and the ranges it refuses."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from platforms.lingma.types import (
    MAX_TOKENS_MAX,
    ChatPayload,
    KnowledgeBase,
    LingmaChatRequest,
    LingmaMessage,
    LingmaParameters,
)


def _request(**fields: object) -> LingmaChatRequest:
    messages = [
        LingmaMessage(role="system", content="You are Mei."),
        LingmaMessage(role="user", content="Hi"),
    ]
    return LingmaChatRequest(messages=messages, **fields)


def test_query_params_are_lowercase_true_false_strings() -> None:
    assert _request(team_docs=True).query_params(stream=True) == {
        "stream": "true",
        "teamDocs": "true",
    }
    assert _request().query_params(stream=False) == {"stream": "false", "teamDocs": "false"}


def test_body_has_the_documented_shape_with_unset_fields_left_out() -> None:
    parameters = LingmaParameters(max_tokens=256, temperature=0.5)
    body = _request(kb_ids=["kb-1", "kb-2"], parameters=parameters).body()
    assert body == {
        "input": {
            "messages": [
                {"role": "system", "content": "You are Mei."},
                {"role": "user", "content": "Hi"},
            ]
        },
        "kbIds": ["kb-1", "kb-2"],
        "parameters": {"max_tokens": 256, "temperature": 0.5},
    }


def test_body_without_knowledge_bases_or_parameters_is_just_the_messages() -> None:
    assert _request(parameters=LingmaParameters()).body() == {
        "input": {
            "messages": [
                {"role": "system", "content": "You are Mei."},
                {"role": "user", "content": "Hi"},
            ]
        }
    }


def test_request_accepts_the_wire_spelling_of_its_fields() -> None:
    request = LingmaChatRequest.model_validate(
        {"messages": [{"role": "user", "content": "Hi"}], "teamDocs": True, "kbIds": ["kb-1"]}
    )
    assert request.team_docs is True
    assert request.kb_ids == ["kb-1"]


@pytest.mark.parametrize(
    "fields",
    [
        {"max_tokens": 0},
        {"max_tokens": MAX_TOKENS_MAX + 1},
        {"temperature": -0.1},
        {"temperature": 1.01},
        {"top_p": -0.5},
        {"top_p": 1.5},
    ],
)
def test_parameters_outside_the_documented_ranges_are_refused(fields: dict[str, float]) -> None:
    with pytest.raises(ValidationError):
        LingmaParameters(**fields)


def test_parameters_at_the_edges_of_the_ranges_are_accepted() -> None:
    edges = LingmaParameters(max_tokens=1, temperature=1.0, top_p=0.0, seed=7, top_k=5)
    assert edges.model_dump(exclude_none=True) == {
        "max_tokens": 1,
        "temperature": 1.0,
        "top_p": 0.0,
        "seed": 7,
        "top_k": 5,
    }
    assert LingmaParameters(max_tokens=MAX_TOKENS_MAX).max_tokens == MAX_TOKENS_MAX


def test_a_system_message_after_the_first_is_refused() -> None:
    with pytest.raises(ValidationError, match="system message"):
        LingmaChatRequest(
            messages=[
                LingmaMessage(role="user", content="Hi"),
                LingmaMessage(role="system", content="You are Mei."),
            ]
        )


def test_an_unknown_role_is_refused() -> None:
    with pytest.raises(ValidationError):
        LingmaMessage.model_validate({"role": "tool", "content": "x"})


@pytest.mark.parametrize("reason", [None, "null", "", "NULL"])
def test_unfinished_reasons_all_read_as_none(reason: str | None) -> None:
    payload = ChatPayload.model_validate({"output": {"text": "a", "finish_reason": reason}})
    assert payload.output.finish_reason is None


def test_payload_reads_request_id_and_usage_in_either_spelling() -> None:
    payload = ChatPayload.model_validate(
        {
            "output": {"text": "a", "finish_reason": "stop"},
            "request_id": "r-1",
            "usage": {"inputTokens": 3, "output_tokens": 4},
            "extra": {"ignored": True},
        }
    )
    assert (payload.request_id, payload.output.finish_reason) == ("r-1", "stop")
    assert (payload.usage.input_tokens, payload.usage.output_tokens) == (3, 4)


def test_knowledge_base_reads_camel_case_and_tolerates_numbers_and_nulls() -> None:
    kb = KnowledgeBase.model_validate(
        {
            "id": 42,
            "name": "Handbook",
            "description": None,
            "size": 10,
            "fileCount": 3,
            "sceneType": "chat",
            "accessLevel": 10,
            "state": "enable",
            "gmtCreated": 1,
        }
    )
    assert (kb.id, kb.description, kb.file_count, kb.scene_type) == ("42", "", 3, "chat")
    assert kb.access_level == "10"

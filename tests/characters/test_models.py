from __future__ import annotations

from io import BytesIO

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from characters import sync
from characters.models import Character
from characters.validators import validate_avatar, validate_function_list
from tests.factories import character_create, png_bytes

WEATHER = {
    "name": "get_weather",
    "description": "Weather of a city",
    "parameters": {
        "type": "object",
        "properties": {"city": {"type": "string"}, "days": {"type": "integer"}},
        "required": ["city"],
    },
}


def test_a_well_formed_function_list_is_accepted():
    validate_function_list([WEATHER, {**WEATHER, "name": "get_forecast"}])


@pytest.mark.parametrize(
    ("functions", "message"),
    [
        ([WEATHER, WEATHER], "used twice"),
        ([{**WEATHER, "name": "has space"}], "must be an identifier"),
        ([{**WEATHER, "extra": 1}], "unknown keys extra"),
        ([{**WEATHER, "parameters": {"type": "object", "properties": []}}], "must be an object"),
        (
            [{**WEATHER, "parameters": {"type": "object", "properties": {"a": {"type": "text"}}}}],
            "unknown type",
        ),
        ([WEATHER] * 51, "At most 50"),
    ],
)
def test_a_malformed_function_list_is_refused_with_a_reason(functions, message):
    with pytest.raises(ValidationError, match=message):
        validate_function_list(functions)


def test_a_gif_avatar_is_a_real_image():
    buffer = BytesIO()
    Image.new("RGB", (80, 80), "red").save(buffer, format="GIF")
    validate_avatar(SimpleUploadedFile("a.gif", buffer.getvalue(), "image/gif"))


def test_a_pdf_named_png_is_not_an_avatar():
    with pytest.raises(ValidationError, match="valid image"):
        validate_avatar(SimpleUploadedFile("a.png", b"%PDF-1.4 ...", "image/png"))


def test_web_search_needs_a_keyword():
    character = Character(name="N", basic_information="B", is_real_info=True)

    with pytest.raises(ValidationError) as excinfo:
        character.full_clean()

    assert "search_keyword" in excinfo.value.message_dict


@pytest.mark.django_db
def test_the_wire_payload_carries_every_editable_field(settings):
    character = character_create(
        name="Lin",
        traits="Poetic.",
        role_types=["古风"],
        perm_allow_chat=True,
        is_real_info=True,
        search_keyword="苏州",
        short_term_memory_round=30,
        long_term_memories=[
            {
                "enabled": True,
                "memoryType": "kv",
                "kvMemoryConfigs": [{"enabled": True, "memoryText": "favourite poem"}],
            }
        ],
        platform_plugins=[{"name": "text_to_image_plugin", "enabled": True, "imageStyle": "ink"}],
        knowledge_bases=["kb-1"],
    )
    character.avatar.save("a.png", SimpleUploadedFile("a.png", png_bytes()), save=True)

    wire = sync.character_to_input(character).to_wire()

    assert wire["avatar"] == {
        "fileUrl": f"{settings.PUBLIC_BASE_URL}/media/{character.avatar.name}"
    }
    assert wire["permConfig"] == {"isPublic": 0, "allowChat": 1, "allowApi": 0}
    advanced = wire["advancedConfig"]
    assert (advanced["isRealInfo"], advanced["searchKeyword"]) == (True, "苏州")
    assert advanced["shortTermMemoryRound"] == 30
    assert advanced["platformPlugins"] == [
        {"name": "text_to_image_plugin", "enabled": True, "imageStyle": "ink"}
    ]
    assert advanced["longTermMemories"][0]["kvMemoryConfigs"][0]["memoryText"] == "favourite poem"
    assert advanced["knowledgeBases"] == ["kb-1"]
    assert sync.local_editable_values(character)["traits"] == "Poetic."


@pytest.mark.django_db
def test_an_avatar_xingchen_already_holds_is_kept_by_its_key():
    character = character_create(avatar_remote_path="oss/key.png", remote_id="r-1")

    wire = sync.character_to_input(character).to_wire()

    assert wire["avatar"] == {"fileSavePath": "oss/key.png"}


@pytest.mark.django_db
def test_function_definitions_for_chat_come_from_the_function_list():
    character = character_create(function_list=[WEATHER])

    [function] = sync.character_function_defs(character)

    assert (function.name, function.parameters["required"]) == ("get_weather", ["city"])

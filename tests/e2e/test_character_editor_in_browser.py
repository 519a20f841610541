"""Creating a character with the admin's structured editor, then chatting with it, in Chromium."""

from __future__ import annotations

import json
import re

import pytest
from playwright.sync_api import expect

from characters.models import Character
from tests.e2e.conftest import ARTIFACTS, login

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

REPLY_TIMEOUT_MS = 30_000
CITY_SCHEMA = {
    "type": "object",
    "properties": {"city": {"type": "string", "description": "City name"}},
    "required": ["city"],
}


def _shot(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"character_editor_{name}.png"), full_page=True)


def test_a_character_made_with_the_structured_editor_chats(own_asgi, page, admin_user):
    login(page, own_asgi, admin_user.username)
    page.goto(f"{own_asgi}/admin/characters/character/add/")

    page.fill("#id_name", "Juniper")
    page.fill("#id_introduction", "A cheerful weather guide.")
    page.fill("#id_basic_information", "You are Juniper, who knows the weather of every city.")
    page.fill("#id_opening_line", "*waves* Hello, **traveller**!")
    preview = page.locator("[data-opening-preview]")
    expect(preview.locator("strong")).to_have_text("traveller")
    expect(preview.locator("em")).to_have_text("waves")

    tags = page.locator("[data-tag-input]").first
    tags.fill("guide")
    tags.press("Enter")
    expect(page.locator("#id_role_types .tag-choice", has_text="guide")).to_be_visible()
    expect(page).to_have_url(re.compile(r"/add/$"))  # Enter added a tag, it did not submit

    functions = page.locator("#id_function_list")
    first = functions.locator("[data-row]").first
    first.locator("input[name$='-name']").fill("get_weather")
    first.locator("input[name$='-description']").fill("The weather of a city today")
    params = first.locator("textarea")
    params.fill('{"type": "object",')
    expect(first.locator("[data-json-status]")).not_to_be_empty()
    params.fill(json.dumps({**CITY_SCHEMA, "properties": {"city": {"minLength": "three"}}}))
    expect(first.locator("[data-json-status]")).to_be_empty()

    functions.get_by_role("button", name="Add a function").click()
    expect(functions.locator("[data-row]")).to_have_count(2)
    expect(functions.locator("[data-row-number]").last).to_have_text("2")
    functions.locator("[data-row]").last.get_by_role("button", name="Remove").click()
    expect(functions.locator("[data-row]")).to_have_count(1)

    memories = page.locator("#id_long_term_memories")
    memories.locator("[data-row] input[type=text]").first.fill("The user's home city")
    page.get_by_label("Draws pictures").check()
    page.fill("input[name='platform_plugins-text_to_image_plugin-imageStyle']", "watercolour")
    _shot(page, "1_new_character")

    page.click("input[name=_continue]")
    error = page.locator(".form-row.field-function_list .errorlist")
    expect(error).to_contain_text("Function 1 (get_weather)")
    expect(error).to_contain_text("not a valid JSON Schema")
    expect(functions.locator("[data-row]").first).to_contain_text("needs fixing")
    _shot(page, "2_schema_error")

    functions.locator("[data-row]").first.locator("textarea").fill(json.dumps(CITY_SCHEMA))
    page.click("input[name=_continue]")
    expect(page.locator(".messagelist li")).to_have_count(1)
    expect(page.locator(".messagelist")).to_contain_text("“Juniper” was saved")
    expect(page.locator(".pushes-table")).to_contain_text("Sent")
    _shot(page, "3_saved")

    juniper = Character.objects.get(name="Juniper")
    assert juniper.role_types == ["guide"]
    assert juniper.function_list == [
        {
            "name": "get_weather",
            "description": "The weather of a city today",
            "parameters": CITY_SCHEMA,
        }
    ]
    assert juniper.long_term_memories == [
        {
            "enabled": True,
            "memoryType": "kv",
            "kvMemoryConfigs": [{"enabled": True, "memoryText": "The user's home city"}],
        }
    ]
    assert juniper.platform_plugins == [
        {"name": "text_to_image_plugin", "enabled": True, "imageStyle": "watercolour"}
    ]
    assert juniper.remote_id

    page.goto(f"{own_asgi}/characters/")
    page.locator(".character-card", has_text="Juniper").locator("a").first.click()
    page.get_by_role("button", name=re.compile("chat", re.IGNORECASE)).first.click()
    page.wait_for_url(re.compile(r"/chat/\d+/$"))
    expect(page.locator(".msg-opening strong")).to_have_text("traveller")
    expect(page.locator("[data-role=connection]")).to_have_attribute("data-status", "open")
    page.fill("#composer-input", "Hello Juniper, is it sunny?")
    page.press("#composer-input", "Enter")
    reply = page.locator(".msg-assistant:not(.msg-opening)").last
    expect(reply).to_have_attribute("data-state", "complete", timeout=REPLY_TIMEOUT_MS)
    expect(reply.locator(".msg-body")).not_to_be_empty()
    _shot(page, "4_chat")

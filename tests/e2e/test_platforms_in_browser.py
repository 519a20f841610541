"""Switching a character's reply platform in the admin, then chatting with it, in Chromium."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from characters.models import Character
from tests.e2e.conftest import ARTIFACTS, login
from tests.factories import character_create_synced

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

REPLY_TIMEOUT_MS = 30_000


def _shot(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"platforms_{name}.png"), full_page=True)


def _fieldset(page, platform: str):
    return page.locator(f"fieldset.platform-{platform}").first


def _chat(page, base_url: str, character: Character, text: str):
    page.goto(f"{base_url}/characters/{character.pk}/")
    page.get_by_role("button", name=re.compile("chat", re.IGNORECASE)).first.click()
    page.wait_for_url(re.compile(r"/chat/\d+/$"))
    expect(page.locator("[data-role=connection]")).to_have_attribute("data-status", "open")
    page.fill("#composer-input", text)
    page.press("#composer-input", "Enter")
    reply = page.locator(".msg-assistant:not(.msg-opening)").last
    expect(reply).to_have_attribute("data-state", "complete", timeout=REPLY_TIMEOUT_MS)
    return reply


# One test for both platforms, so no flush falls between the admin saves (see `own_asgi`).
def test_characters_switched_to_dms_and_lingma_chat_through_them(
    own_asgi, page, admin_user, dms_sim, lingma_sim
):
    login(page, own_asgi, admin_user.username)
    _switch_to_dms_and_chat(page, own_asgi)
    _switch_to_lingma_and_chat(page, own_asgi, lingma_sim)


def _switch_to_dms_and_chat(page, live_asgi) -> None:
    wen = character_create_synced(name="Wen", basic_information="You are Wen, a bank clerk.")

    page.goto(f"{live_asgi}/admin/characters/character/{wen.pk}/change/")
    expect(_fieldset(page, "xingchen")).to_be_visible()
    expect(_fieldset(page, "dms")).to_be_hidden()
    page.select_option("#id_reply_platform", "dms")
    expect(_fieldset(page, "dms")).to_be_visible()
    expect(_fieldset(page, "xingchen")).to_be_hidden()
    expect(_fieldset(page, "lingma")).to_be_hidden()
    page.check("#id_dms_masking")
    page.fill("#id_dms_temperature", "0.5")
    _shot(page, "1_admin_dms")
    page.click("input[name=_save]")
    expect(page.locator(".messagelist")).to_contain_text("Wen")

    wen.refresh_from_db()
    assert (wen.reply_platform, wen.dms_masking, wen.dms_temperature) == ("dms", True, 0.5)
    reply = _chat(page, live_asgi, wen, "My phone is 13812345678, please call me back.")
    expect(reply).to_contain_text("138****5678")
    expect(reply).not_to_contain_text("13812345678")
    expect(reply.locator(".msg-body strong").first).to_have_text("Wen")
    _shot(page, "2_dms_chat")


def _switch_to_lingma_and_chat(page, live_asgi, lingma_sim) -> None:
    ada = character_create_synced(name="Ada", basic_information="You are Ada, a colleague.")
    chosen = next(kb for kb in lingma_sim.knowledge_bases() if kb["sceneType"] != "complement")

    page.goto(f"{live_asgi}/admin/characters/character/{ada.pk}/change/")
    page.select_option("#id_reply_platform", "lingma")
    lingma = _fieldset(page, "lingma")
    expect(lingma).to_be_visible()
    lingma.get_by_label(re.compile(re.escape(chosen["name"]))).check()
    _shot(page, "3_admin_lingma")
    page.click("input[name=_save]")
    expect(page.locator(".messagelist")).to_contain_text("Ada")

    ada.refresh_from_db()
    assert (ada.reply_platform, ada.lingma_kb_ids) == ("lingma", [chosen["id"]])
    reply = _chat(page, live_asgi, ada, f"What does the {chosen['name']} say?")
    expect(reply).to_contain_text(f"Source: [{chosen['name']}")
    _shot(page, "4_lingma_chat")

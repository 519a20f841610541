"""A Chinese Chromium (locale zh-CN) on the product's main pages, desktop and phone: no English left
on screen but the brand, what users typed, and code. English Chromium gets English, and the switch
in the top bar changes the language and keeps it. Screenshots land in test-artifacts/i18n_*.png."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from conversations import services
from tests.e2e.conftest import ARTIFACTS, login
from tests.factories import character_create_synced, message_create

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

VIEWPORTS = {"desktop": {"width": 1280, "height": 800}, "phone": {"width": 390, "height": 844}}
# What may stay in Latin letters on a Chinese page: the brand, product and platform names, file
# formats and keys, the language switch's "English", and the user data the fixtures below create.
ALLOWED = {
    *("Persona", "Studio", "DMS", "Lingma", "Qwen", "README", "API", "ID", "IP", "JSON", "Schema"),
    *(
        "token",
        "tokens",
        "top",
        "Top",
        "Markdown",
        "Excel",
        "Word",
        "PNG",
        "JPEG",
        "GIF",
        "WebP",
        "MB",
    ),
    *("xlsx", "Enter", "Shift", "Esc", "Ctrl", "Kappa", "Cohen", "English", "teamDocs", "Axes"),
    *("kappa", "CSV", "JSONL"),
    *("user", "char", "My", "name", "is", "CN_MOBILE_1", "review", "update", "succcess"),
    *("refuse", "out", "parameters", "get_weather", "root", "Lin", "Mira", "Hangzhou"),
    *("tea", "master", "in", "A", "starship", "captain", "Welcome", "traveller"),
    *("Which", "for", "cold", "morning", "roasted", "oolong", "brewed", "hot", "three", "short"),
    *("steeps", "C", "water"),
    # The alt text of the admin's yes/no icons, which Django leaves untranslated.
    *("True", "False"),
}
# Text nodes, and the labels a screen reader speaks, of everything rendered and visible.
VISIBLE_TEXT = """() => {
  const texts = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const parent = node.parentElement;
    if (!parent || parent.closest('script, style, textarea, pre, code, template')) continue;
    if (!parent.checkVisibility({visibilityProperty: true})) continue;
    texts.push(node.textContent);
  }
  for (const el of document.querySelectorAll('[placeholder], [title], [aria-label], img[alt]')) {
    // Code fields (JSON, function names) show code examples as placeholders.
    if (el.spellcheck === false || !el.checkVisibility({visibilityProperty: true})) continue;
    for (const name of ['placeholder', 'title', 'aria-label', 'alt']) {
      if (el.getAttribute(name)) texts.push(el.getAttribute(name));
    }
  }
  return texts;
}"""


def _english_texts(page) -> set[str]:
    """The visible texts holding a Latin word (two letters or more, no digits) outside ALLOWED."""
    return {
        " ".join(text.split())
        for text in page.evaluate(VISIBLE_TEXT)
        if set(re.findall(r"\b[A-Za-z]{2,}\b", text)) - ALLOWED
    }


def _shot(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"i18n_{name}.png"), full_page=True)


@pytest.fixture
def lin(sim):
    return character_create_synced(
        name="Lin",
        introduction="A tea master in Hangzhou.",
        basic_information="你是林，一位杭州的茶艺师。",
        opening_line="Welcome, traveller.",
    )


@pytest.fixture
def chat(lin, admin_user):
    session = services.session_start(user=admin_user, character=lin)
    question = message_create(session=session, content="Which tea for a cold morning?")
    message_create(
        session=session,
        role="assistant",
        query=question,
        content="A **roasted oolong**, brewed hot.\n\n- 95 °C water\n- *three* short steeps",
    )
    return session


@pytest.mark.parametrize("viewport", VIEWPORTS)
def test_a_chinese_browser_sees_no_english_ui_on_the_main_pages(
    live_asgi, browser, lin, chat, admin_user, viewport
):
    character_create_synced(name="Mira", introduction="A starship captain.")
    context = browser.new_context(viewport=VIEWPORTS[viewport], locale="zh-CN")
    page = context.new_page()
    page.goto(f"{live_asgi}/accounts/login/")
    expect(page.locator("html")).to_have_attribute("lang", "zh-hans")
    assert _english_texts(page) == set(), "login"
    _shot(page, f"login_{viewport}")
    login(page, live_asgi, admin_user.username)

    pages = {
        "gallery": "/characters/",
        "chat": f"/chat/{chat.pk}/",
        "chats": "/chat/",
        "jobs": "/jobs/",
        "convert": "/jobs/convert/",
        "character": f"/characters/{lin.pk}/",
        "memories": f"/memories/{lin.pk}/",
        "profile": "/accounts/profile/",
        "ratings": "/staff/ratings/",
        "dashboard": "/staff/ratings/dashboard/",
        "not_found": "/no-such-page/",
        "admin_character": f"/admin/characters/character/{lin.pk}/change/",
    }
    leaks = {}
    for name, path in pages.items():
        page.goto(f"{live_asgi}{path}")
        page.wait_for_load_state("networkidle")
        leaks[name] = _english_texts(page)
        _shot(page, f"{name}_{viewport}")
    context.close()

    assert leaks == dict.fromkeys(pages, set()), "\n".join(
        f"{k}: {sorted(v)}" for k, v in leaks.items()
    )


def test_the_switch_in_the_top_bar_turns_an_english_browser_chinese_and_keeps_it(
    live_asgi, browser, lin, admin_user
):
    context = browser.new_context(viewport=VIEWPORTS["desktop"], locale="en-US")
    page = context.new_page()
    login(page, live_asgi, admin_user.username)
    page.goto(f"{live_asgi}/characters/")
    expect(page.get_by_role("link", name="Characters", exact=True)).to_be_visible()

    page.get_by_role("button", name="简体中文").click()

    expect(page).to_have_url(f"{live_asgi}/characters/")
    expect(page.get_by_role("link", name="角色", exact=True)).to_be_visible()
    page.goto(f"{live_asgi}/jobs/")
    expect(page.get_by_role("link", name="任务", exact=True)).to_be_visible()
    _shot(page, "switched_to_chinese")

    page.get_by_role("button", name="English").click()
    expect(page.get_by_role("link", name="Jobs", exact=True)).to_be_visible()
    context.close()

"""Chinese and English: a complete catalogue, pages in the reader's language, a lasting switch."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest
from django.test import Client
from django.urls import reverse

from project.catalogue import CATALOGUE, extract, load
from tests.factories import character_create_synced, chat_session_create, message_create

PLACEHOLDER = re.compile(r"%\(\w+\)[sdr]|%%")
CHINESE = "zh-CN,zh;q=0.9"


class _VisibleText(HTMLParser):
    """What a reader sees or hears: text outside script/style, titles, labels, placeholders."""

    SPOKEN = ("title", "placeholder", "aria-label", "alt")

    def __init__(self) -> None:
        super().__init__()
        self.texts: list[str] = []
        self._hidden = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style", "template"):
            self._hidden += 1
        named = dict(attrs)
        for name, value in attrs:
            if name in self.SPOKEN and value:
                self.texts.append(value)
        if tag == "input" and named.get("type") in ("submit", "button") and named.get("value"):
            self.texts.append(named["value"])

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style", "template") and self._hidden:
            self._hidden -= 1

    def handle_data(self, data: str) -> None:
        if not self._hidden and data.strip():
            self.texts.append(data)


def _visible_texts(html: str) -> set[str]:
    parser = _VisibleText()
    parser.feed(html)
    return {" ".join(text.split()) for text in parser.texts}


def _english_ui_strings() -> set[str]:
    """The catalogue's English ids that read differently in Chinese (the brand stays as it is)."""
    english = set()
    for message in load():
        if message.id and isinstance(message.id, str) and message.string != message.id:
            english.add(" ".join(message.id.split()))
    return english


def _strings(message) -> tuple[str, ...]:
    return message.string if isinstance(message.string, tuple) else (message.string,)


def _untranslated_on(client: Client, url: str) -> set[str]:
    response = client.get(url, HTTP_ACCEPT_LANGUAGE=CHINESE)
    assert response.status_code == 200, url
    return _visible_texts(response.content.decode()) & _english_ui_strings()


def test_it_translates_every_string_the_templates_and_the_code_ask_for() -> None:
    catalogue = load()
    missing = []
    for message in extract():
        if not message.id:
            continue
        found = catalogue.get(message.id, context=message.context)
        if found is None or found.fuzzy or not all(_strings(found)):
            missing.append(message.id)
    assert missing == [], "run `make extract-messages` and translate these in the .po"


def test_it_keeps_every_placeholder_in_the_chinese_text() -> None:
    for message in load():
        if not message.id:
            continue
        english = message.id if isinstance(message.id, str) else message.id[-1]
        chinese = message.string if isinstance(message.string, str) else message.string[0]
        placeholders = sorted(PLACEHOLDER.findall(english))
        assert sorted(PLACEHOLDER.findall(chinese)) == placeholders, english


def test_it_serves_a_compiled_catalogue_as_new_as_its_source() -> None:
    compiled = CATALOGUE.with_suffix(".mo")
    assert compiled.exists(), "run `make messages`"
    assert compiled.stat().st_mtime >= CATALOGUE.stat().st_mtime, "run `make messages`"


@pytest.mark.django_db
def test_a_chinese_browser_gets_the_login_page_in_chinese() -> None:
    response = Client().get(reverse("login"), HTTP_ACCEPT_LANGUAGE=CHINESE)

    assert response["Content-Language"] == "zh-hans"
    texts = _visible_texts(response.content.decode())
    assert {"登录", "用户名", "密码"} <= texts
    assert not texts & {"Log in", "Username", "Password", "Forgot your password?"}


@pytest.mark.django_db
def test_an_english_browser_gets_the_login_page_in_english() -> None:
    response = Client().get(reverse("login"), HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9")

    texts = _visible_texts(response.content.decode())
    assert {"Log in", "Username", "Password"} <= texts
    assert "登录" not in texts


@pytest.mark.django_db
def test_alices_pages_leave_no_english_ui_string_for_a_chinese_browser(alice) -> None:
    character = character_create_synced(name="Captain Nemo", opening_line="Welcome aboard.")
    session = chat_session_create(user=alice, character=character)
    message_create(session=session, role="user", content="Hello there")
    client = Client()
    client.force_login(alice)

    for url in (
        reverse("characters:gallery"),
        reverse("characters:detail", args=[character.pk]),
        reverse("conversations:sessions"),
        reverse("conversations:chat", args=[session.pk]),
        reverse("jobs:list"),
        reverse("accounts:profile"),
        reverse("password_change"),
    ):
        assert _untranslated_on(client, url) == set(), url


@pytest.mark.django_db
def test_the_admin_speaks_chinese_about_the_products_characters(admin_user) -> None:
    character = character_create_synced(name="Captain Nemo")
    client = Client()
    client.force_login(admin_user)

    page = reverse("admin:characters_character_change", args=[character.pk])
    response = client.get(page, HTTP_ACCEPT_LANGUAGE=CHINESE)

    texts = _visible_texts(response.content.decode())
    assert {"立即推送", "生成描述", "角色"} <= texts
    assert _untranslated_on(client, page) == set()
    assert _untranslated_on(client, reverse("admin:index")) == set()


@pytest.mark.django_db
def test_the_switch_remembers_chinese_over_an_english_browser(alice) -> None:
    client = Client()
    login = reverse("login")

    response = client.post(reverse("set_language"), {"language": "zh-hans", "next": login})

    assert response.status_code == 302
    assert response["Location"] == login
    texts = _visible_texts(client.get(login, HTTP_ACCEPT_LANGUAGE="en").content.decode())
    assert "登录" in texts


@pytest.mark.django_db
def test_the_switch_is_offered_in_the_other_language_on_every_page(alice) -> None:
    client = Client()
    client.force_login(alice)

    english = client.get(reverse("characters:gallery"), HTTP_ACCEPT_LANGUAGE="en").content
    chinese = client.get(reverse("characters:gallery"), HTTP_ACCEPT_LANGUAGE=CHINESE).content

    assert 'name="language" value="zh-hans"' in english.decode()
    assert 'name="language" value="en"' in chinese.decode()

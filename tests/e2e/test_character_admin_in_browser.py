from __future__ import annotations

import pytest
from django.db.models import F
from playwright.sync_api import expect

from characters import services
from characters.models import Character, SyncState
from tests.characters.helpers import edit_remotely, remote_character
from tests.e2e.conftest import ARTIFACTS, login
from tests.factories import character_create, character_create_synced

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def _shot(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"character_admin_{name}.png"), full_page=True)


def test_an_admin_edit_shows_in_the_gallery(live_asgi, page, admin_user):
    character = character_create_synced(name="Captain Mira", introduction="Old introduction.")
    character_create_synced(
        name="林晚秋",
        introduction="江南才女，爱诗爱花。",
        opening_line="这园子里的海棠又落了一地。",
    )
    character_create(name="Draft persona", introduction="Not on Xingchen yet.")
    login(page, live_asgi, admin_user.username)

    page.goto(f"{live_asgi}/admin/characters/character/{character.pk}/change/")
    page.fill("#id_name", "Captain Mira Vance")
    page.fill("#id_introduction", "Veteran starship captain with a thousand stories.")
    _shot(page, "1_change_form")
    page.click("input[name=_save]")

    page.wait_for_url(f"{live_asgi}/admin/characters/character/")
    expect(page.locator(".messagelist")).to_contain_text("Captain Mira Vance")
    expect(page.locator("#result_list")).to_contain_text("Synced")
    _shot(page, "2_changelist")

    page.goto(f"{live_asgi}/characters/")
    card = page.locator(".character-card", has_text="Captain Mira Vance")
    expect(card).to_contain_text("Veteran starship captain with a thousand stories.")
    _shot(page, "3_gallery")

    page.fill("input[name=q]", "林")
    expect(page.locator(".character-card")).to_have_count(1)
    expect(page.locator(".character-card")).to_contain_text("林晚秋")
    expect(page).to_have_url(f"{live_asgi}/characters/?q=%E6%9E%97")
    _shot(page, "4_search")

    page.click(".character-card a")
    expect(page.locator("h1")).to_have_text("林晚秋")
    expect(page.get_by_role("button", name="Start chat")).to_be_visible()
    _shot(page, "5_character_page")

    character.refresh_from_db()
    assert character.sync_state == SyncState.SYNCED
    assert remote_character(character.remote_id).name == "Captain Mira Vance"


def test_an_editor_resolves_a_conflict_in_the_admin(live_asgi, page, admin_user):
    character = character_create_synced(name="Base name", introduction="Base introduction.")
    # A local edit whose push has not run yet, then a different edit made on Xingchen itself.
    Character.objects.filter(pk=character.pk).update(name="My name", revision=F("revision") + 1)
    edit_remotely(character.remote_id, name="Their name", introduction="Their introduction.")
    services.character_pull(character=character)
    login(page, live_asgi, admin_user.username)

    page.goto(f"{live_asgi}/admin/characters/character/{character.pk}/change/")
    panel = page.locator(".conflict-panel")
    expect(panel).to_contain_text("My name")
    expect(panel).to_contain_text("Their name")
    _shot(page, "6_conflict")
    page.get_by_role("button", name="Keep mine (push it to Xingchen)").click()

    expect(page.locator(".messagelist")).to_contain_text("Your version is being sent to Xingchen")
    expect(page.locator(".conflict-panel")).to_have_count(0)
    character.refresh_from_db()
    assert character.sync_state == SyncState.SYNCED
    remote = remote_character(character.remote_id)
    assert (remote.name, remote.introduction) == ("My name", "Base introduction.")

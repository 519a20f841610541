from __future__ import annotations

import json

import pytest
from django.contrib.auth.models import Permission
from django.core.files.uploadedfile import SimpleUploadedFile

from characters import services
from characters.models import Character, CharacterPush, PushState, SyncState
from tests.characters.helpers import edit_remotely, remote_character, set_remote_status
from tests.conftest import password
from tests.factories import character_create, character_create_synced, png_bytes

pytestmark = pytest.mark.django_db

WEATHER = {"name": "get_weather", "description": "Weather of a city", "parameters": {}}
ADD_URL = "/admin/characters/character/add/"
CHANGELIST_URL = "/admin/characters/character/"


def _change_url(character: Character) -> str:
    return f"/admin/characters/character/{character.pk}/change/"


def _form(**overrides: object) -> dict[str, object]:
    data: dict[str, object] = {
        "name": "Lin",
        "introduction": "A poet.",
        "basic_information": "You are Lin, a poet from Suzhou.",
        "opening_line": "Hello.",
        "traits": "",
        "chat_example": "",
        "character_type": "virtual",
        "chat_objective": "",
        "reply_platform": "xingchen",
        "privacy_mode": "off",
        "dms_masking_rule": "UserInfo",
        "lingma_team_docs": "on",
        "role_types": "[]",
        "model_name": "",
        "temperature": "",
        "top_p": "",
        "top_k": "",
        "max_length": "",
        "function_list": "[]",
        "search_keyword": "",
        "short_term_memory_round": "",
        "long_term_memories": "[]",
        "platform_plugins": "[]",
        "knowledge_bases": "[]",
    }
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


@pytest.fixture
def admin_client(client, admin_user):
    client.force_login(admin_user)
    return client


def _errors(response) -> dict[str, list[str]]:
    return {
        name: list(errors) for name, errors in response.context["adminform"].form.errors.items()
    }


def test_adding_a_character_in_the_admin_pushes_it_to_the_simulator(
    admin_client, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(ADD_URL, _form(name="林晚秋"), follow=True)

    character = Character.objects.get(name="林晚秋")
    assert response.status_code == 200
    assert character.sync_state == SyncState.SYNCED
    assert remote_character(character.remote_id).basic_information.startswith("You are Lin")
    assert "Synced" in admin_client.get(CHANGELIST_URL).content.decode()


def test_an_admin_edit_reaches_the_simulator(admin_client, django_capture_on_commit_callbacks):
    character = character_create_synced(name="Old")
    functions = [
        {
            "name": "get_weather",
            "description": "Weather of a city",
            "parameters": {
                "type": "object",
                "properties": {"city": {"type": "string"}},
                "required": ["city"],
            },
        }
    ]

    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            _change_url(character),
            _form(name="New", function_list=json.dumps(functions), temperature="0.9"),
        )

    assert response.status_code == 302
    character.refresh_from_db()
    assert (character.name, character.function_list, character.temperature) == (
        "New",
        functions,
        0.9,
    )
    assert remote_character(character.remote_id).name == "New"


def test_saving_in_the_admin_never_calls_xingchen_itself(admin_client, sim):
    character = character_create_synced(name="Old")
    before = {r["requestId"] for r in sim.requests("aca-character-update")}

    admin_client.post(_change_url(character), _form(name="Queued"))

    assert {r["requestId"] for r in sim.requests("aca-character-update")} <= before
    assert CharacterPush.objects.get(character=character, state="pending").operation == "update"


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"name": "x" * 21}, "name", "at most 20 characters"),
        ({"name": ""}, "name", "This field is required."),
        ({"name": "   "}, "name", "This field is required."),
        ({"basic_information": ""}, "basic_information", "This field is required."),
        ({"is_real_info": "on"}, "search_keyword", "search keyword is required"),
        (
            {"short_term_memory_round": "101"},
            "short_term_memory_round",
            "less than or equal to 100",
        ),
        ({"temperature": "3"}, "temperature", "less than or equal to 2"),
        ({"function_list": "{not json"}, "function_list", "Enter a valid JSON."),
        ({"function_list": '{"name": "f"}'}, "function_list", "must be a JSON list"),
        (
            {"function_list": json.dumps([{**WEATHER, "parameters": {"type": "string"}}])},
            "function_list",
            '"type": "object"',
        ),
        (
            {
                "function_list": json.dumps(
                    [
                        {
                            "name": "f",
                            "description": "d",
                            "parameters": {
                                "type": "object",
                                "properties": {"a": {"type": "string"}},
                                "required": ["b"],
                            },
                        }
                    ]
                )
            },
            "function_list",
            "which are not in “properties”",
        ),
        (
            {"function_list": '[{"name": "f", "parameters": {"type": "object"}}]'},
            "function_list",
            "“description” is required",
        ),
        (
            {"platform_plugins": '[{"name": "text_to_image_plugin"}]'},
            "platform_plugins",
            "set “enabled”",
        ),
        (
            {"platform_plugins": '[{"name": "card_plugin", "enabled": true}]'},
            "platform_plugins",
            "must be one of",
        ),
        (
            {"long_term_memories": '[{"memoryType": "vector"}]'},
            "long_term_memories",
            "must be one of",
        ),
        ({"role_types": '["ok", 3]'}, "role_types", "list of strings"),
    ],
)
def test_bad_input_gets_an_error_on_its_field(admin_client, overrides, field, message):
    response = admin_client.post(ADD_URL, _form(**overrides))

    assert response.status_code == 200
    errors = _errors(response)
    assert any(message in error for error in errors.get(field, [])), errors
    assert not Character.objects.exists()


@pytest.mark.parametrize(
    ("upload", "message"),
    [
        (SimpleUploadedFile("a.png", b"not an image", "image/png"), "valid image"),
        (SimpleUploadedFile("a.png", png_bytes(32, 32), "image/png"), "at least 64×64"),
        (SimpleUploadedFile("a.png", png_bytes(2100, 64), "image/png"), "at most 2048×2048"),
        (
            SimpleUploadedFile("a.png", png_bytes(64, 64) + b"\0" * (2 * 1024 * 1024), "image/png"),
            "2 MB or smaller",
        ),
    ],
)
def test_a_bad_avatar_upload_is_refused(admin_client, upload, message):
    response = admin_client.post(ADD_URL, {**_form(), "avatar": upload})

    errors = _errors(response)
    assert any(message in error for error in errors.get("avatar", [])), errors


def test_a_good_avatar_upload_is_stored_under_a_random_name(admin_client):
    upload = SimpleUploadedFile("my face.png", png_bytes(256, 256), "image/png")

    response = admin_client.post(ADD_URL, {**_form(), "avatar": upload})

    assert response.status_code == 302
    character = Character.objects.get()
    assert character.avatar.name.startswith("avatars/")
    assert "my face" not in character.avatar.name


def test_non_staff_users_are_sent_to_the_admin_login(client, alice):
    client.login(username="alice", password=password())

    response = client.get(CHANGELIST_URL)

    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


def test_staff_without_permissions_cannot_edit_characters(client, staff):
    character = character_create()
    client.login(username="staff", password=password())

    assert client.get(CHANGELIST_URL).status_code == 403
    assert client.post(_change_url(character), _form(name="Hacked")).status_code == 403


def test_staff_with_permissions_can_edit_characters(client, staff):
    staff.user_permissions.add(*Permission.objects.filter(codename__endswith="_character"))
    character = character_create_synced()
    client.login(username="staff", password=password())

    response = client.post(_change_url(character), _form(name="By staff"))

    assert response.status_code == 302
    character.refresh_from_db()
    assert character.name == "By staff"


def test_the_changelist_filters_by_sync_state(admin_client):
    character_create(name="Pending one")
    character_create(name="Synced one", remote_id="r-x")

    response = admin_client.get(CHANGELIST_URL, {"sync_state__exact": "synced"})

    content = response.content.decode()
    assert "Synced one" in content
    assert "Pending one" not in content


def test_the_change_page_shows_why_a_push_waits(
    admin_client, sim, django_capture_on_commit_callbacks
):
    character = character_create_synced()
    set_remote_status(sim, character.remote_id, auditStatus="review")

    with django_capture_on_commit_callbacks(execute=True):
        admin_client.post(_change_url(character), _form(name="Waiting"))

    changelist = admin_client.get(CHANGELIST_URL).content.decode()
    assert "Waiting (refused by Xingchen)" in changelist
    assert "under review" in changelist
    page = admin_client.get(_change_url(character)).content.decode()
    assert "Not on Xingchen yet" in page
    assert "under review" in page


def test_push_now_action_reports_the_result(admin_client):
    character = character_create(name="Pushed now")

    response = admin_client.post(
        CHANGELIST_URL, {"action": "push_now", "_selected_action": [character.pk]}, follow=True
    )

    character.refresh_from_db()
    assert character.sync_state == SyncState.SYNCED
    assert "reached Xingchen" in response.content.decode()


def test_pull_action_refreshes_selected_characters(admin_client):
    character = character_create_synced(name="Here")
    edit_remotely(character.remote_id, name="There")

    response = admin_client.post(
        CHANGELIST_URL, {"action": "pull_selected", "_selected_action": [character.pk]}, follow=True
    )

    character.refresh_from_db()
    assert character.name == "There"
    assert "updated from Xingchen" in response.content.decode()


def test_pull_all_button_imports_from_xingchen(admin_client):
    character = character_create_synced(name="Here")
    edit_remotely(character.remote_id, name="There")

    assert "Pull all from Xingchen" in admin_client.get(CHANGELIST_URL).content.decode()
    response = admin_client.post(f"{CHANGELIST_URL}pull-all/", {"scope": "my"}, follow=True)

    character.refresh_from_db()
    assert character.name == "There"
    assert "Pulled from Xingchen" in response.content.decode()
    assert admin_client.get(f"{CHANGELIST_URL}pull-all/").status_code == 405


def test_generate_description_queues_a_job_whose_text_can_be_accepted(
    admin_client, django_capture_on_commit_callbacks
):
    character = character_create_synced(basic_information="A cheerful baker from Lyon.")

    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            CHANGELIST_URL,
            {"action": "generate_description", "_selected_action": [character.pk]},
        )
    job_page = response["Location"]
    page = admin_client.get(job_page)
    generated = page.context["job"].result["description"]
    assert "【基本信息】" in generated
    assert "【基本信息】" in page.content.decode()

    with django_capture_on_commit_callbacks(execute=True):
        admin_client.post(job_page, {"decision": "accept", "basic_information": generated})
    character.refresh_from_db()
    assert character.basic_information == generated.strip()


def test_generate_description_reports_an_upstream_failure_on_the_job(
    admin_client, sim, django_capture_on_commit_callbacks
):
    character = character_create_synced()
    sim.inject("aca-char-auto-desc", status=400, count=1)

    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            CHANGELIST_URL,
            {"action": "generate_description", "_selected_action": [character.pk]},
        )
    page = admin_client.get(response["Location"]).content.decode()

    assert "Xingchen rejected the request" in page and "Injected failure." in page


def test_list_versions_shows_the_remote_versions(admin_client):
    character = character_create_synced(name="Versioned")

    response = admin_client.post(
        CHANGELIST_URL,
        {"action": "list_versions", "_selected_action": [character.pk]},
        follow=True,
    )

    assert [v.version for v in response.context["versions"]] == [1]
    assert "Versioned" in response.content.decode()


def test_the_conflict_page_shows_both_sides_and_resolves(
    admin_client, django_capture_on_commit_callbacks
):
    character = character_create_synced(name="Base")
    character.name = "Mine"
    services.character_update(character=character)
    edit_remotely(character.remote_id, name="Theirs")
    services.character_pull(character=character)

    page = admin_client.get(_change_url(character)).content.decode()
    assert "changed both here and on Xingchen" in page
    assert "Mine" in page and "Theirs" in page

    with django_capture_on_commit_callbacks(execute=True):
        admin_client.post(f"{CHANGELIST_URL}{character.pk}/resolve/", {"keep": "mine"})
    character.refresh_from_db()
    assert character.sync_state == SyncState.SYNCED
    assert remote_character(character.remote_id).name == "Mine"


def test_retry_action_resends_a_failed_push(admin_client, sim, django_capture_on_commit_callbacks):
    character = character_create_synced()
    sim.inject("aca-character-update", status=503, count=1)
    with django_capture_on_commit_callbacks(execute=True):
        admin_client.post(_change_url(character), _form(name="Retried"))
    push = CharacterPush.objects.get(character=character, state=PushState.PENDING)
    assert "HTTP 503" in push.last_error

    pushes_page = admin_client.get("/admin/characters/characterpush/").content.decode()
    assert "HTTP 503" in pushes_page
    with django_capture_on_commit_callbacks(execute=True):
        admin_client.post(
            "/admin/characters/characterpush/",
            {"action": "retry", "_selected_action": [push.pk]},
        )

    push.refresh_from_db()
    assert push.state == PushState.SENT
    assert remote_character(character.remote_id).name == "Retried"


def test_deleting_in_the_admin_deletes_on_xingchen(
    admin_client, django_capture_on_commit_callbacks
):
    character = character_create_synced()

    with django_capture_on_commit_callbacks(execute=True):
        admin_client.post(f"/admin/characters/character/{character.pk}/delete/", {"post": "yes"})

    character.refresh_from_db()
    assert (character.is_deleted, character.sync_state) == (True, SyncState.DELETED)


def test_built_in_characters_are_read_only_in_the_admin(admin_client):
    services.character_pull_all(scopes=["pre_configured"])
    ada = Character.objects.get(remote_id="builtin-travel-guide-ada")

    response = admin_client.post(_change_url(ada), _form(name="Hacked"))

    assert response.status_code == 403
    assert admin_client.get(_change_url(ada)).status_code == 200


def test_the_change_page_names_xingchens_statuses_in_words(admin_client):
    character = character_create(
        remote_id="r-words", audit_status="success", config_status="out", green_status="review"
    )

    page = admin_client.get(_change_url(character)).content.decode()

    assert "passed" in page and "off shelf" in page and "in review" in page
    assert ">success<" not in page and ">out<" not in page


def test_the_list_filters_statuses_by_their_words(admin_client):
    character_create(remote_id="r-out", config_status="out")
    character_create(remote_id="r-normal", config_status="normal")

    page = admin_client.get(CHANGELIST_URL).content.decode()
    filtered = admin_client.get(f"{CHANGELIST_URL}?config_status=out")

    assert "off shelf" in page and "on shelf" in page
    assert [c.remote_id for c in filtered.context["cl"].result_list] == ["r-out"]


def test_a_saved_push_error_is_read_in_the_readers_language(admin_client):
    character = character_create(
        remote_id="r-failed",
        sync_state=SyncState.FAILED,
        last_sync_error="Xingchen is unavailable (HTTP 503: upstream busy); "
        "trying again automatically.",
    )

    chinese = admin_client.get(_change_url(character), HTTP_ACCEPT_LANGUAGE="zh-CN")
    english = admin_client.get(_change_url(character), HTTP_ACCEPT_LANGUAGE="en")

    assert "星尘暂不可用（HTTP 503: upstream busy），将自动重试。" in chinese.content.decode()
    assert "Xingchen is unavailable (HTTP 503: upstream busy)" in english.content.decode()

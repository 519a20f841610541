"""The character editor's structured widgets: they submit the JSON the raw textarea took."""

from __future__ import annotations

import json
from html.parser import HTMLParser

import pytest
from django.utils import translation

from characters.forms import CharacterAdminForm
from characters.models import Character, CharacterPush, PushState
from tests.factories import character_create, character_create_synced

pytestmark = pytest.mark.django_db

ADD_URL = "/admin/characters/character/add/"

WEATHER = {
    "name": "get_weather",
    "description": "Weather of a city",
    "parameters": {
        "type": "object",
        "properties": {"city": {"type": "string"}},
        "required": ["city"],
    },
}
MEMORIES = [
    {
        "enabled": True,
        "memoryType": "kv",
        "kvMemoryConfigs": [
            {"enabled": True, "memoryText": "最喜欢的食物"},
            {"enabled": False, "memoryText": "birthday"},
        ],
    },
    {"enabled": True, "memoryType": "summary", "kvMemoryConfigs": []},
]
PLUGINS = [
    {"name": "text_to_image_plugin", "enabled": True, "imageStyle": "anime"},
    {
        "name": "reject_answer_plugin",
        "enabled": False,
        "rejectConditions": [
            {"enabled": True, "conditionType": "keyword", "keywords": [{"value": "politics"}]}
        ],
    },
]


def _base(**overrides: object) -> dict[str, object]:
    data: dict[str, object] = {
        "name": "Lin",
        "basic_information": "You are Lin, a poet from Suzhou.",
        "opening_line": "Hello.",
        "character_type": "virtual",
        "reply_platform": "xingchen",
        "privacy_mode": "off",
        "dms_masking_rule": "UserInfo",
        "lingma_team_docs": "on",
    }
    data.update(overrides)
    return data


def _as_json(**values: object) -> dict[str, object]:
    """What the old raw JSON textareas posted."""
    return _base(**{name: json.dumps(value, ensure_ascii=False) for name, value in values.items()})


def _as_rows() -> dict[str, object]:
    """What the structured editor posts for WEATHER, MEMORIES, PLUGINS and two role types."""
    return _base(
        **{
            "role_types-mode": "rows",
            "role_types": ["companion"],
            "role_types-new": "poet， mentor",
            "function_list-mode": "rows",
            "function_list-count": "3",
            "function_list-0-name": "get_weather",
            "function_list-0-description": "Weather of a city",
            "function_list-0-params": json.dumps(WEATHER["parameters"], indent=2),
            "function_list-1-name": "",  # the blank row the page always offers
            "function_list-1-description": "",
            "function_list-1-params": "",
            # row 2 was removed in the page: its inputs are gone
            "long_term_memories-mode": "rows",
            "long_term_memories-count": "3",
            "long_term_memories-kv-enabled": "on",
            "long_term_memories-0-enabled": "on",
            "long_term_memories-0-text": "最喜欢的食物",
            "long_term_memories-1-text": "birthday",
            "long_term_memories-2-enabled": "on",
            "long_term_memories-2-text": "  ",
            "long_term_memories-summary-enabled": "on",
            "platform_plugins-mode": "rows",
            "platform_plugins-text_to_image_plugin-enabled": "on",
            "platform_plugins-text_to_image_plugin-imageStyle": "anime",
            "platform_plugins-reject_answer_plugin-rejectConditions": json.dumps(
                PLUGINS[1]["rejectConditions"]
            ),
            "knowledge_bases-mode": "rows",
        }
    )


def _valid(data: dict[str, object]) -> dict[str, object]:
    form = CharacterAdminForm(data=data)
    assert form.is_valid(), form.errors
    return form.cleaned_data


def test_the_structured_editor_stores_what_the_json_textarea_stored():
    values = {
        "role_types": ["companion", "poet", "mentor"],
        "function_list": [WEATHER],
        "long_term_memories": MEMORIES,
        "platform_plugins": PLUGINS,
        "knowledge_bases": [],
    }

    from_rows = _valid(_as_rows())
    from_json = _valid(_as_json(**values))

    for name, value in values.items():
        assert from_rows[name] == from_json[name] == value, name


def test_a_saved_value_shows_as_rows_and_posts_back_unchanged(client, admin_user):
    character = character_create(
        role_types=["companion"],
        function_list=[WEATHER],
        long_term_memories=MEMORIES,
        platform_plugins=PLUGINS,
    )
    client.force_login(admin_user)

    page = client.get(f"/admin/characters/character/{character.pk}/change/")
    form = page.context["adminform"].form
    posted = {
        key: value
        for name in ("role_types", "function_list", "long_term_memories", "platform_plugins")
        for key, value in _inputs_of(str(form[name])).items()
    }

    cleaned = _valid(_base(**posted))
    assert cleaned["role_types"] == ["companion"]
    assert cleaned["function_list"] == [WEATHER]
    assert cleaned["long_term_memories"] == MEMORIES
    assert cleaned["platform_plugins"] == PLUGINS


def test_a_parameter_schema_that_is_not_json_schema_is_refused_on_its_row():
    data = _as_rows()
    data["function_list-0-params"] = json.dumps(
        {"type": "object", "properties": {"city": {"type": "string", "minLength": "three"}}}
    )

    form = CharacterAdminForm(data=data)

    assert not form.is_valid()
    [error] = form.errors["function_list"]
    assert "Function 1 (get_weather)" in error
    assert "not a valid JSON Schema" in error
    assert "properties/city/minLength" in error
    assert "function-row has-error" in str(form["function_list"])


def test_a_function_error_in_chinese_still_marks_its_row():
    data = _as_rows()
    data["function_list-0-params"] = json.dumps({"type": "array"})

    with translation.override("zh-hans"):
        form = CharacterAdminForm(data=data)
        assert not form.is_valid()
        [error] = form.errors["function_list"]
        html = str(form["function_list"])

    assert error.startswith("函数 1（get_weather）：")
    assert "function-row has-error" in html


def test_parameters_that_do_not_parse_are_named_by_row_and_shown_again_as_typed():
    data = _as_rows()
    data["function_list-0-params"] = '{"type": "object",'

    form = CharacterAdminForm(data=data)

    assert not form.is_valid()
    assert "Function 1 (get_weather): the parameters are not valid JSON" in str(
        form.errors["function_list"]
    )
    assert "{&quot;type&quot;: &quot;object&quot;,</textarea>" in str(form["function_list"])


def test_empty_rows_are_ignored():
    data = _base(
        **{
            "function_list-mode": "rows",
            "function_list-count": "2",
            "function_list-0-name": " ",
            "function_list-0-description": "",
            "function_list-0-params": "",
            "long_term_memories-mode": "rows",
            "long_term_memories-count": "1",
            "long_term_memories-kv-enabled": "on",
            "long_term_memories-0-enabled": "on",
            "long_term_memories-0-text": "",
            "platform_plugins-mode": "rows",
            "role_types-mode": "rows",
            "role_types-new": " , ",
        }
    )

    cleaned = _valid(data)

    assert cleaned["function_list"] == []
    assert cleaned["long_term_memories"] == []
    assert cleaned["platform_plugins"] == []
    assert cleaned["role_types"] == []


def test_a_function_without_parameters_takes_none():
    data = _base(
        **{
            "function_list-mode": "rows",
            "function_list-count": "1",
            "function_list-0-name": "roll_dice",
            "function_list-0-description": "Rolls a die",
        }
    )

    assert _valid(data)["function_list"] == [
        {
            "name": "roll_dice",
            "description": "Rolls a die",
            "parameters": {"type": "object", "properties": {}},
        }
    ]


def test_without_javascript_the_page_offers_working_inputs_for_a_new_function():
    html = str(CharacterAdminForm()["function_list"])

    assert 'name="function_list-mode" value="rows"' in html
    assert 'name="function_list-0-name"' in html
    assert 'name="function_list-0-params"' in html
    # The add and remove buttons need the script, so they stay hidden without it.
    assert "data-add-row hidden" in html


def test_a_value_the_rows_cannot_show_is_edited_as_json_text():
    two_kv_memories = [
        {"enabled": True, "memoryType": "kv", "kvMemoryConfigs": []},
        {"enabled": False, "memoryType": "kv", "kvMemoryConfigs": []},
    ]
    form = CharacterAdminForm(initial={"long_term_memories": two_kv_memories})

    html = str(form["long_term_memories"])

    assert '<textarea name="long_term_memories"' in html
    assert 'name="long_term_memories-mode"' not in html
    posted = _as_json(long_term_memories=two_kv_memories)
    assert _valid(posted)["long_term_memories"] == two_kv_memories


def test_role_types_other_characters_use_are_offered_as_ticks():
    character_create(name="Mei", role_types=["detective"])

    html = str(CharacterAdminForm()["role_types"])

    assert 'value="detective"' in html


def test_the_fields_have_plain_labels():
    form = CharacterAdminForm()

    assert form["perm_allow_chat"].label == "Users may chat"
    assert form["perm_is_public"].label == "Listed publicly"
    assert form["function_list"].label == "Functions"


# --- the admin around the editor ------------------------------------------------------------


# Committed for real: the report is written when the save commits, as in production.
@pytest.mark.django_db(transaction=True)
def test_saving_shows_one_message(client, admin_user):
    client.force_login(admin_user)

    response = client.post(ADD_URL, _as_json(function_list=[WEATHER]), follow=True)

    shown = [str(message) for message in response.context["messages"]]
    assert shown == ["“Lin” was saved and is on Xingchen."]
    assert Character.objects.get().function_list == [WEATHER]


def test_the_change_page_previews_the_opening_line_as_the_chat_shows_it(client, admin_user):
    character = character_create(opening_line="*waves* Hello, **friend**! <script>x()</script>")
    client.force_login(admin_user)

    html = client.get(f"/admin/characters/character/{character.pk}/change/").content.decode()

    assert "<em>waves</em> Hello, <strong>friend</strong>!" in html
    assert "<script>x()</script>" not in html


def test_the_opening_line_preview_renders_typed_text(client, admin_user):
    client.force_login(admin_user)

    response = client.post(
        "/admin/characters/character/preview-opening-line/", {"text": "**Hi** there"}
    )

    assert response.status_code == 200
    assert "<strong>Hi</strong> there" in response.content.decode()
    assert client.get("/admin/characters/character/preview-opening-line/").status_code == 405


def test_pushes_show_their_real_state(client, admin_user):
    character = character_create_synced()
    sent = character.pushes.get()
    sent.sent_at = sent.updated_at
    sent.next_attempt_at = sent.updated_at
    sent.save()
    CharacterPush.objects.create(
        character=character,
        operation="update",
        state=PushState.FAILED,
        attempts=8,
        last_error="Xingchen said “name taken”",
        next_attempt_at=sent.updated_at,
    )
    client.force_login(admin_user)

    html = client.get(f"/admin/characters/character/{character.pk}/change/").content.decode()
    rows = html.split('<tr class="push-')[1:]
    failed = next(row for row in rows if row.startswith("failed"))
    done = next(row for row in rows if row.startswith("sent"))

    assert "name taken" in failed
    assert "Next attempt" in failed
    assert "Sent" in done
    assert "Next attempt" not in done
    changelist = client.get("/admin/characters/characterpush/").content.decode()
    assert "Next attempt" in changelist  # the failed one
    assert changelist.count("Next attempt") == 1


def _inputs_of(html: str) -> dict[str, object]:
    """The values a browser without JavaScript would post from a widget's HTML."""
    posted: dict[str, object] = {}

    class _Inputs(HTMLParser):
        textarea: str | None = None

        def handle_starttag(self, tag, attrs):
            attrs = dict(attrs)
            name = attrs.get("name")
            if tag == "textarea":
                self.textarea = name
                posted[name] = ""
            elif tag == "input" and name:
                if attrs.get("type") == "checkbox":
                    if "checked" in attrs:
                        value = attrs.get("value", "on")
                        if name in posted:
                            posted[name] = [*posted[name], value]
                        else:
                            posted[name] = [value] if value != "on" else "on"
                else:
                    posted[name] = attrs.get("value", "")

        def handle_data(self, data):
            if self.textarea:
                posted[self.textarea] += data

        def handle_endtag(self, tag):
            if tag == "textarea":
                self.textarea = None

    # Only the form's own inputs: the <template> row is inert until the script clones it.
    if "<template" in html:
        html = html.split("<template")[0] + html.split("</template>")[-1]
    _Inputs().feed(html)
    return posted

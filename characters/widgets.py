"""Structured editors for a character's JSON fields.

Each widget shows a list as rows or checkboxes, and reads them back into exactly the JSON the
raw textarea used to take (and `characters.sync` sends), so the wire format never depends on
which editor was used. The rows are plain form inputs: without JavaScript they still submit
(with one blank row to fill), and `character_editor.js` only adds and removes rows. A value
the rows cannot show faithfully (say two kv memories) is shown as JSON text instead, and a POST
without the widget's marker (`<name>-mode`) is read as JSON text too.
"""

from __future__ import annotations

import json
from abc import ABCMeta, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.forms.widgets import MediaDefiningClass
from django.template.loader import render_to_string
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

MAX_ROWS = 200  # far above any limit Xingchen has; bounds the loop over a forged row count
ROWS_MODE = "rows"


@dataclass(frozen=True)
class InvalidJSON:
    """Text typed into a JSON cell that does not parse; shown again as typed."""

    text: str
    error: str

    def __str__(self) -> str:
        return self.text


def json_text(value: Any) -> str:
    """Indented and unescaped, so Chinese text stays readable."""
    if isinstance(value, InvalidJSON | str):
        return str(value)
    return json.dumps(value, ensure_ascii=False, indent=2, default=str)


def _checked(data: Mapping[str, Any], key: str) -> bool:
    return data.get(key) in ("on", "true", "1", True)


def _text(data: Mapping[str, Any], key: str) -> str:
    return str(data.get(key) or "").strip()


def _parse(text: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        return InvalidJSON(text, str(exc))


class _AbstractWidgetMeta(MediaDefiningClass, ABCMeta):
    """Django's widget metaclass and ABCMeta together, so a widget lacking a hook cannot be made."""


class _StructuredWidget(forms.Widget, metaclass=_AbstractWidgetMeta):
    """Rendered with the project's template engine (the admin's form renderer does not see the
    project's `templates/` folder). Subclasses say how a value becomes rows and back."""

    template_name = ""

    class Media:
        css = {"all": ("css/character_editor.css",)}
        js = ("js/character_editor.js",)

    def render(
        self, name: str, value: Any, attrs: dict[str, Any] | None = None, renderer: Any = None
    ) -> SafeString:
        context = self.get_context(name, value, attrs)
        return mark_safe(render_to_string(self.template_name, context))  # noqa: S308 - a template

    def get_context(self, name: str, value: Any, attrs: dict[str, Any] | None) -> dict[str, Any]:
        context = super().get_context(name, value, attrs)
        shown = self.rows_of(value)
        if shown is None:
            context["widget"].update(as_json=True, json_text=json_text(value or []))
        else:
            context["widget"].update(self.structured_context(name, shown))
        return context

    def value_from_datadict(self, data: Mapping[str, Any], files: Any, name: str) -> Any:
        if data.get(f"{name}-mode") != ROWS_MODE:
            return data.get(name)
        return self.read(data, name)

    def value_omitted_from_data(self, data: Mapping[str, Any], files: Any, name: str) -> bool:
        return name not in data and f"{name}-mode" not in data

    @abstractmethod
    def rows_of(self, value: Any) -> Any:
        """What the structured editor shows for `value`, or None when only JSON text can."""

    @abstractmethod
    def structured_context(self, name: str, shown: Any) -> dict[str, Any]:
        """The template context of the rows for `shown`."""

    @abstractmethod
    def read(self, data: Mapping[str, Any], name: str) -> list[Any]:
        """The stored JSON list the submitted rows stand for."""


def _stored(value: Any) -> Any:
    if isinstance(value, str):
        try:
            return json.loads(value) if value.strip() else []
        except json.JSONDecodeError:
            return None
    return [] if value is None else value


def _row_indexes(data: Mapping[str, Any], name: str) -> range:
    try:
        count = int(data.get(f"{name}-count") or 0)
    except ValueError:
        count = 0
    return range(min(max(count, 0), MAX_ROWS))


# --- role types and other string lists -----------------------------------------------------------


class TagsWidget(_StructuredWidget):
    """Checkboxes for the known values (ticked: stored), and a box for new ones."""

    template_name = "admin/characters/widgets/tags.html"

    def __init__(self, suggestions: list[str] | None = None, attrs: dict[str, Any] | None = None):
        super().__init__(attrs)
        self.suggestions = suggestions or []

    def rows_of(self, value: Any) -> list[str] | None:
        value = _stored(value)
        if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
            return None
        return value

    def structured_context(self, name: str, shown: list[str]) -> dict[str, Any]:
        ticked = set(shown)
        choices = list(dict.fromkeys([*shown, *self.suggestions]))
        return {"choices": [(choice, choice in ticked) for choice in choices]}

    def read(self, data: Mapping[str, Any], name: str) -> list[str]:
        ticked = data.getlist(name) if hasattr(data, "getlist") else data.get(name) or []
        ticked = [ticked] if isinstance(ticked, str) else ticked
        typed = _text(data, f"{name}-new").replace("，", ",").replace("\n", ",").split(",")
        values = [str(item).strip() for item in [*ticked, *typed]]
        return list(dict.fromkeys(item for item in values if item))


# --- functions -----------------------------------------------------------------------------------

_FUNCTION_KEYS = {"name", "description", "parameters"}
EMPTY_PARAMETERS: dict[str, Any] = {"type": "object", "properties": {}}


class FunctionsWidget(_StructuredWidget):
    """One row per function: name, description and its parameters as a JSON Schema."""

    template_name = "admin/characters/widgets/functions.html"

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs)
        self.row_errors: dict[int, list[str]] = {}

    def rows_of(self, value: Any) -> list[dict[str, Any]] | None:
        value = _stored(value)
        if not isinstance(value, list):
            return None
        for function in value:
            if not isinstance(function, dict) or set(function) - _FUNCTION_KEYS:
                return None
            if not all(isinstance(function.get(key, ""), str) for key in ("name", "description")):
                return None
        return value

    def structured_context(self, name: str, shown: list[dict[str, Any]]) -> dict[str, Any]:
        rows = [
            {
                "index": index,
                "number": index + 1,
                "name": function.get("name", ""),
                "description": function.get("description", ""),
                "parameters": json_text(function["parameters"]) if "parameters" in function else "",
                "errors": self.row_errors.get(index + 1, []),
            }
            for index, function in enumerate([*shown, {}])
        ]
        blank = {"index": "__prefix__", "name": "", "description": "", "parameters": ""}
        return {"rows": rows, "count": len(rows), "blank": blank}

    def read(self, data: Mapping[str, Any], name: str) -> list[dict[str, Any]]:
        functions = []
        for index in _row_indexes(data, name):
            prefix = f"{name}-{index}-"
            cells = {key: _text(data, prefix + key) for key in ("name", "description", "params")}
            if not any(cells.values()):
                continue  # a blank or removed row
            functions.append(
                {
                    "name": cells["name"],
                    "description": cells["description"],
                    "parameters": _parse(cells["params"]) if cells["params"] else EMPTY_PARAMETERS,
                }
            )
        return functions


# --- long-term memories --------------------------------------------------------------------------

_MEMORY_KEYS = {"enabled", "memoryType", "kvMemoryConfigs"}
_SLOT_KEYS = {"enabled", "memoryText"}


class MemoriesWidget(_StructuredWidget):
    """The kv memory's slots (what the character keeps track of about the user), one a row, and
    whether older rounds are kept as a summary."""

    template_name = "admin/characters/widgets/memories.html"

    def rows_of(self, value: Any) -> dict[str, Any] | None:
        value = _stored(value)
        if not isinstance(value, list) or not all(self._plain(memory) for memory in value):
            return None
        by_type: dict[str, dict[str, Any]] = {}
        for memory in value:
            if memory["memoryType"] in by_type:
                return None
            by_type[memory["memoryType"]] = memory
        if by_type.get("summary", {}).get("kvMemoryConfigs"):
            return None
        return by_type

    @staticmethod
    def _plain(memory: Any) -> bool:
        if not isinstance(memory, dict) or set(memory) - _MEMORY_KEYS:
            return False
        slots = memory.get("kvMemoryConfigs", [])
        return memory.get("memoryType") in ("kv", "summary") and all(
            isinstance(slot, dict)
            and not set(slot) - _SLOT_KEYS
            and isinstance(slot.get("memoryText"), str)
            for slot in slots
        )

    def structured_context(self, name: str, shown: dict[str, Any]) -> dict[str, Any]:
        kv, summary = shown.get("kv"), shown.get("summary")
        slots = [*(kv or {}).get("kvMemoryConfigs", []), {"enabled": True, "memoryText": ""}]
        rows = [
            {"index": i, "enabled": slot.get("enabled", False), "text": slot["memoryText"]}
            for i, slot in enumerate(slots)
        ]
        return {
            "rows": rows,
            "count": len(rows),
            "blank": {"index": "__prefix__", "enabled": True, "text": ""},
            "kv_present": kv is not None,
            "kv_enabled": kv.get("enabled", False) if kv else True,
            "summary_present": summary is not None,
            "summary_enabled": bool(summary and summary.get("enabled")),
        }

    def read(self, data: Mapping[str, Any], name: str) -> list[dict[str, Any]]:
        slots = []
        for index in _row_indexes(data, name):
            prefix = f"{name}-{index}-"
            text = _text(data, prefix + "text")
            if text:
                slots.append({"enabled": _checked(data, prefix + "enabled"), "memoryText": text})
        memories = []
        if slots or data.get(f"{name}-kv-present"):
            enabled = _checked(data, f"{name}-kv-enabled")
            memories.append({"enabled": enabled, "memoryType": "kv", "kvMemoryConfigs": slots})
        summary = _checked(data, f"{name}-summary-enabled")
        if summary or data.get(f"{name}-summary-present"):
            memories.append({"enabled": summary, "memoryType": "summary", "kvMemoryConfigs": []})
        return memories


# --- platform plugins ----------------------------------------------------------------------------


@dataclass(frozen=True)
class _Plugin:
    name: str
    label: Any
    help: Any
    texts: tuple[tuple[str, Any], ...] = ()  # (wire key, label) of its text settings
    conditions: bool = False  # takes `rejectConditions`, edited as JSON


PLUGINS = (
    _Plugin(
        "text_to_image_plugin",
        _("Draws pictures"),
        _("The character may answer with a picture drawn from the conversation."),
        texts=(
            ("imageStyle", _("Picture style")),
            ("positiveDesc", _("Always draw")),
            ("negativeDesc", _("Never draw")),
        ),
    ),
    _Plugin(
        "reject_answer_plugin",
        _("Refuses some questions"),
        _("The character declines questions that meet these conditions."),
        conditions=True,
    ),
)
_PLUGIN_KEYS = {
    plugin.name: {"name", "enabled", *(key for key, _label in plugin.texts)}
    | ({"rejectConditions"} if plugin.conditions else set())
    for plugin in PLUGINS
}


class PluginsWidget(_StructuredWidget):
    """A checkbox per plugin Xingchen offers, with that plugin's settings under it."""

    template_name = "admin/characters/widgets/plugins.html"

    def rows_of(self, value: Any) -> dict[str, dict[str, Any]] | None:
        value = _stored(value)
        if not isinstance(value, list):
            return None
        by_name: dict[str, dict[str, Any]] = {}
        for plugin in value:
            name = plugin.get("name") if isinstance(plugin, dict) else None
            if name not in _PLUGIN_KEYS or name in by_name or set(plugin) - _PLUGIN_KEYS[name]:
                return None
            by_name[name] = plugin
        return by_name

    def structured_context(self, name: str, shown: dict[str, dict[str, Any]]) -> dict[str, Any]:
        plugins = []
        for plugin in PLUGINS:
            stored = shown.get(plugin.name)
            conditions = (stored or {}).get("rejectConditions")
            plugins.append(
                {
                    "name": plugin.name,
                    "label": plugin.label,
                    "help": plugin.help,
                    "present": stored is not None,
                    "enabled": bool(stored and stored.get("enabled") is True),
                    "texts": [
                        (key, label, (stored or {}).get(key) or "") for key, label in plugin.texts
                    ],
                    "conditions": plugin.conditions,
                    "conditions_text": json_text(conditions) if conditions else "",
                }
            )
        return {"plugins": plugins}

    def read(self, data: Mapping[str, Any], name: str) -> list[dict[str, Any]]:
        plugins = []
        for plugin in PLUGINS:
            prefix = f"{name}-{plugin.name}-"
            texts = {key: _text(data, prefix + key) for key, _label in plugin.texts}
            conditions = _text(data, prefix + "rejectConditions") if plugin.conditions else ""
            enabled = _checked(data, prefix + "enabled")
            if not (enabled or data.get(prefix + "present") or conditions or any(texts.values())):
                continue
            wire: dict[str, Any] = {"name": plugin.name, "enabled": enabled}
            wire.update({key: text for key, text in texts.items() if text})
            if conditions:
                wire["rejectConditions"] = _parse(conditions)
            plugins.append(wire)
        return plugins


# --- the field they all feed ---------------------------------------------------------------------


class StructuredJSONField(forms.Field):
    """A JSON list, from a structured widget's rows or from JSON text.

    Cells that hold JSON themselves (a function's parameters, a plugin's conditions) are parsed
    by the widget; one that does not parse is reported here, naming its row, before the model's
    validators see the list.
    """

    def __init__(self, *, encoder: Any = None, decoder: Any = None, **kwargs: Any) -> None:
        # The model field passes its JSON coders; stored values are plain JSON, so none apply.
        super().__init__(**kwargs)

    def to_python(self, value: Any) -> Any:
        if value is None or value == "":
            return []
        if isinstance(value, str):
            try:
                return json.loads(value)
            except json.JSONDecodeError as exc:
                # Django's own sentence (translated by Django), and where the text breaks.
                raise ValidationError(
                    f"{gettext('Enter a valid JSON.')} ({exc})", code="invalid"
                ) from exc
        problems = list(_unparsed_cells(value))
        if problems:
            raise ValidationError(problems, code="invalid")
        return value

    def prepare_value(self, value: Any) -> Any:
        return value

    def has_changed(self, initial: Any, data: Any) -> bool:
        try:
            return self.to_python(data) != (initial if initial is not None else [])
        except ValidationError:
            return True


def _unparsed_cells(value: list[Any]) -> list[str]:
    problems = []
    for number, item in enumerate(value, start=1):
        if not isinstance(item, dict):
            continue
        if isinstance(item.get("parameters"), InvalidJSON):
            problems.append(
                gettext(
                    "Function %(number)s (%(name)s): the parameters are not valid JSON (%(error)s)."
                )
                % {
                    "number": number,
                    "name": item.get("name") or "?",
                    "error": item["parameters"].error,
                }
            )
        if isinstance(item.get("rejectConditions"), InvalidJSON):
            problems.append(
                gettext("%(plugin)s: the conditions are not valid JSON (%(error)s).")
                % {"plugin": item.get("name"), "error": item["rejectConditions"].error}
            )
    return problems

"""Validation of character fields as Xingchen enforces it, with messages an editor understands.

The JSON fields are validated here rather than by Xingchen so that a bad value is reported on the
field the editor typed it in, instead of coming back later as a refused push.
"""

from __future__ import annotations

import re
from typing import Any

from django.core.exceptions import ValidationError
from django.core.files import File
from django.utils.translation import gettext as _
from jsonschema import Draft202012Validator, SchemaError, validators
from PIL import Image, UnidentifiedImageError
from PIL.Image import DecompressionBombError

AVATAR_MAX_BYTES = 2 * 1024 * 1024
AVATAR_MAX_SIDE = 2048
AVATAR_MIN_SIDE = 64
# The formats accepted, with the suffix a stored file of that format is named with.
AVATAR_SUFFIXES = {"PNG": ".png", "JPEG": ".jpg", "GIF": ".gif", "WEBP": ".webp"}

MAX_FUNCTIONS = 50  # Xingchen refuses more
_FUNCTION_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_\-]{0,63}$")
_JSON_SCHEMA_TYPES = frozenset(
    {"object", "array", "string", "number", "integer", "boolean", "null"}
)
MEMORY_TYPES = frozenset({"kv", "summary"})
PLUGIN_NAMES = frozenset({"text_to_image_plugin", "reject_answer_plugin"})


def validate_avatar(file: File) -> str:
    """A real image of a common format, at most 2 MB and 2048 px, at least 64 px a side.

    Returns the suffix its detected format is stored under (".png"...), whatever its name says.
    """
    if file.size is not None and file.size > AVATAR_MAX_BYTES:
        raise ValidationError(_("The avatar must be 2 MB or smaller."), code="avatar_too_large")
    try:
        file.seek(0)
        with Image.open(file) as image:
            image.verify()
            image_format, (width, height) = image.format, image.size
    except (
        UnidentifiedImageError,
        DecompressionBombError,
        OSError,
        SyntaxError,
        ValueError,
    ) as exc:
        raise ValidationError(
            _("Upload a valid image (PNG, JPEG, GIF or WebP)."), code="not_image"
        ) from exc
    finally:
        file.seek(0)
    if image_format not in AVATAR_SUFFIXES:
        raise ValidationError(_("Upload a PNG, JPEG, GIF or WebP image."), code="avatar_format")
    if max(width, height) > AVATAR_MAX_SIDE:
        raise ValidationError(
            _("The avatar is %(width)s×%(height)s; at most %(side)s×%(side)s is allowed.")
            % {"width": width, "height": height, "side": AVATAR_MAX_SIDE},
            code="avatar_too_big",
        )
    if min(width, height) < AVATAR_MIN_SIDE:
        raise ValidationError(
            _("The avatar is %(width)s×%(height)s; at least %(side)s×%(side)s is needed.")
            % {"width": width, "height": height, "side": AVATAR_MIN_SIDE},
            code="avatar_too_small",
        )
    return AVATAR_SUFFIXES[image_format]


def validate_function_list(value: Any) -> None:
    """A list of {name, description, parameters} where parameters is an object JSON schema."""
    if not isinstance(value, list):
        raise ValidationError(_("The function list must be a JSON list."), code="function_list")
    if len(value) > MAX_FUNCTIONS:
        raise ValidationError(
            _("At most %(count)s functions are allowed.") % {"count": MAX_FUNCTIONS},
            code="function_list",
        )
    names: set[str] = set()
    for index, function in enumerate(value, start=1):
        name = _validate_function(function, index)
        if name in names:
            raise ValidationError(
                _("Function %(number)s: the name “%(name)s” is used twice.")
                % {"number": index, "name": name},
                code="function_list",
            )
        names.add(name)


def _validate_function(function: Any, index: int) -> str:
    prefix = _("Function %(number)s") % {"number": index}
    if not isinstance(function, dict):
        raise ValidationError(
            _("%(prefix)s: each function must be a JSON object.") % {"prefix": prefix},
            code="function_list",
        )
    unknown = set(function) - {"name", "description", "parameters"}
    if unknown:
        raise ValidationError(
            _("%(prefix)s: unknown keys %(keys)s.")
            % {"prefix": prefix, "keys": ", ".join(sorted(unknown))},
            code="function_list",
        )
    name = function.get("name")
    if not isinstance(name, str) or not _FUNCTION_NAME.match(name):
        raise ValidationError(
            _("%(prefix)s: “name” must be an identifier (letters, digits, _ or -).")
            % {"prefix": prefix},
            code="function_list",
        )
    prefix = _("Function %(number)s (%(name)s)") % {"number": index, "name": name}
    if not isinstance(function.get("description"), str) or not function["description"].strip():
        raise ValidationError(
            _("%(prefix)s: “description” is required.") % {"prefix": prefix},
            code="function_list",
        )
    _validate_parameters_schema(function.get("parameters"), prefix)
    return name


def _validate_parameters_schema(schema: Any, prefix: str) -> None:
    if not isinstance(schema, dict) or schema.get("type") != "object":
        raise ValidationError(
            _('%(prefix)s: “parameters” must be a JSON schema with "type": "object".')
            % {"prefix": prefix},
            code="function_schema",
        )
    properties = schema.get("properties", {})
    if not isinstance(properties, dict):
        raise ValidationError(
            _("%(prefix)s: “properties” must be an object.") % {"prefix": prefix},
            code="function_schema",
        )
    for key, prop in properties.items():
        if not isinstance(prop, dict):
            raise ValidationError(
                _("%(prefix)s: property “%(key)s” must be a schema object.")
                % {"prefix": prefix, "key": key},
                code="function_schema",
            )
        if "type" in prop and prop["type"] not in _JSON_SCHEMA_TYPES:
            raise ValidationError(
                _("%(prefix)s: property “%(key)s” has an unknown type %(type)s.")
                % {"prefix": prefix, "key": key, "type": repr(prop["type"])},
                code="function_schema",
            )
    required = schema.get("required", [])
    if not isinstance(required, list) or not all(isinstance(item, str) for item in required):
        raise ValidationError(
            _("%(prefix)s: “required” must be a list of names.") % {"prefix": prefix},
            code="function_schema",
        )
    missing = [item for item in required if item not in properties]
    if missing:
        raise ValidationError(
            _("%(prefix)s: “required” names %(names)s, which are not in “properties”.")
            % {"prefix": prefix, "names": ", ".join(missing)},
            code="function_schema",
        )
    _check_json_schema(schema, prefix)


def _check_json_schema(schema: dict[str, Any], prefix: str) -> None:
    # The checks above word the common mistakes; the metaschema catches the rest (a "minimum"
    # that is not a number, an "enum" that is not a list...). Xingchen names no draft, so a
    # schema's own "$schema" decides and 2020-12 is assumed otherwise.
    validator = validators.validator_for(schema, default=Draft202012Validator)
    try:
        validator.check_schema(schema)
    except SchemaError as exc:
        where = "/".join(str(part) for part in exc.path)
        raise ValidationError(
            _("%(prefix)s: “parameters” is not a valid JSON Schema%(where)s: %(error)s")
            % {
                "prefix": prefix,
                "where": _(" (at %(path)s)") % {"path": where} if where else "",
                "error": exc.message,
            },
            code="function_schema",
        ) from exc


def validate_string_list(value: Any) -> None:
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise ValidationError(
            _('Enter a JSON list of strings, e.g. ["a", "b"].'), code="string_list"
        )


def validate_long_term_memories(value: Any) -> None:
    """[{enabled, memoryType, kvMemoryConfigs: [{enabled, memoryText}]}] as Xingchen takes it."""
    if not isinstance(value, list):
        raise ValidationError(_("Long-term memories must be a JSON list."), code="memories")
    for index, memory in enumerate(value, start=1):
        if not isinstance(memory, dict):
            raise ValidationError(
                _("Memory %(number)s: must be a JSON object.") % {"number": index},
                code="memories",
            )
        if memory.get("memoryType") not in MEMORY_TYPES:
            raise ValidationError(
                _("Memory %(number)s: “memoryType” must be one of %(types)s.")
                % {"number": index, "types": ", ".join(sorted(MEMORY_TYPES))},
                code="memories",
            )
        configs = memory.get("kvMemoryConfigs", [])
        if not isinstance(configs, list) or not all(
            isinstance(item, dict) and isinstance(item.get("memoryText"), str) for item in configs
        ):
            raise ValidationError(
                _("Memory %(number)s: “kvMemoryConfigs” must be a list of {enabled, memoryText}.")
                % {"number": index},
                code="memories",
            )


def validate_platform_plugins(value: Any) -> None:
    """Known plugins only; `enabled` must be explicit because Xingchen treats unset as off."""
    if not isinstance(value, list):
        raise ValidationError(_("Platform plugins must be a JSON list."), code="plugins")
    for index, plugin in enumerate(value, start=1):
        if not isinstance(plugin, dict) or plugin.get("name") not in PLUGIN_NAMES:
            raise ValidationError(
                _("Plugin %(number)s: “name” must be one of %(names)s.")
                % {"number": index, "names": ", ".join(sorted(PLUGIN_NAMES))},
                code="plugins",
            )
        if not isinstance(plugin.get("enabled"), bool):
            raise ValidationError(
                _("Plugin %(number)s (%(name)s): set “enabled” to true or false.")
                % {"number": index, "name": plugin["name"]},
                code="plugins",
            )

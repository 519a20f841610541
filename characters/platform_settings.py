"""A character's DMS and Lingma settings, as the wire types of their clients.

Saving a character and sending a chat build the same objects (`platforms.dms.types`,
`platforms.lingma.types`), so a setting the upstream would refuse is refused when the character is
saved, next to the field that holds it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from pydantic import ValidationError as WireError
from pydantic.alias_generators import to_camel, to_pascal

from platforms.dms.types import DmsChatRequest, DmsMessage
from platforms.lingma.types import LingmaParameters

if TYPE_CHECKING:
    from characters.models import Character

# Wire field (the client's name) -> the character's field that sets it.
DMS_FIELDS = {
    "model": "dms_model",
    "need_desensitization": "dms_masking",
    "desensitization_rule": "dms_masking_rule",
    "temperature": "dms_temperature",
    "top_p": "dms_top_p",
    "top_k": "dms_top_k",
    "presence_penalty": "dms_presence_penalty",
    "seed": "dms_seed",
    "max_tokens": "dms_max_tokens",
    "enable_thinking": "dms_thinking",
    "thinking_budget": "dms_thinking_budget",
    "enable_search": "dms_web_search",
}
LINGMA_FIELDS = {
    "temperature": "lingma_temperature",
    "top_p": "lingma_top_p",
    "top_k": "lingma_top_k",
    "seed": "lingma_seed",
    "max_tokens": "lingma_max_tokens",
}


# The character fields of the reply platform and its settings (edited locally, never pushed).
PLATFORM_FIELDS = (
    "reply_platform",
    *DMS_FIELDS.values(),
    "lingma_team_docs",
    "lingma_kb_ids",
    *LINGMA_FIELDS.values(),
)


# What a server must be given to offer a platform (see settings.DMS_ENABLED / LINGMA_ENABLED).
_CREDENTIALS = {
    "dms": ("DMS", "DMS_ENABLED", ("DMS_ACCESS_KEY_ID", "DMS_ACCESS_KEY_SECRET")),
    "lingma": ("Lingma", "LINGMA_ENABLED", ("LINGMA_TOKEN", "LINGMA_ORGANIZATION_ID")),
}


def platform_off_reason(platform: str) -> str:
    """Why this server cannot use `platform` for replies, or "" when it can."""
    if platform not in _CREDENTIALS:
        return ""
    label, enabled, (first, second) = _CREDENTIALS[platform]
    if getattr(settings, enabled):
        return ""
    needed = _("%(first)s and %(second)s") % {"first": first, "second": second}
    return _("%(platform)s is not configured on this server (it needs %(settings)s).") % {
        "platform": label,
        "settings": needed,
    }


def dms_options(character: Character) -> dict[str, Any]:
    """The `DmsChatRequest` arguments this character sets; unset ones are left to DMS."""
    masking = character.dms_masking
    thinking = character.dms_thinking
    options: dict[str, Any] = {
        "model": character.dms_model.strip() or settings.DMS_DEFAULT_MODEL,
        "need_desensitization": masking,
        "desensitization_rule": character.dms_masking_rule.strip() if masking else None,
        "temperature": character.dms_temperature,
        "top_p": character.dms_top_p,
        "top_k": character.dms_top_k,
        "presence_penalty": character.dms_presence_penalty,
        "seed": character.dms_seed,
        "max_tokens": character.dms_max_tokens,
        "enable_thinking": True if thinking else None,
        "thinking_budget": character.dms_thinking_budget if thinking else None,
        "enable_search": True if character.dms_web_search else None,
    }
    return {name: value for name, value in options.items() if value is not None}


def lingma_parameters(character: Character) -> LingmaParameters | None:
    values = {wire: getattr(character, field) for wire, field in LINGMA_FIELDS.items()}
    values = {name: value for name, value in values.items() if value is not None}
    return LingmaParameters(**values) if values else None


def check_platform_settings(character: Character) -> None:
    """Raises the upstream's own objections to the settings of the chosen platform."""
    platform = character.reply_platform
    if off := platform_off_reason(platform):
        raise ValidationError({"reply_platform": off})
    if platform == "dms" and character.dms_masking and not character.dms_masking_rule.strip():
        raise ValidationError({"dms_masking_rule": _("Masking needs a category, e.g. UserInfo.")})
    try:
        if platform == "dms":
            probe = [DmsMessage(role="user", content="?")]  # the settings alone are checked
            DmsChatRequest(instance_id=1, messages=probe, **dms_options(character))
        elif platform == "lingma":
            lingma_parameters(character)
    except WireError as exc:
        fields = DMS_FIELDS if platform == "dms" else LINGMA_FIELDS
        raise ValidationError(_by_field(exc, fields)) from exc


def _by_field(exc: WireError, fields: dict[str, str]) -> dict[str, list[str]]:
    by_wire = {spelling: field for name, field in fields.items() for spelling in _spellings(name)}
    errors: dict[str, list[str]] = {}
    for error in exc.errors():
        wire = str(error["loc"][0]) if error["loc"] else ""
        field = by_wire.get(wire, "reply_platform")
        message = error["msg"].removeprefix("Value error, ")
        errors.setdefault(field, []).append(f"{message[:1].upper()}{message[1:]}.")
    return errors


def _spellings(name: str) -> tuple[str, str, str]:
    return name, to_camel(name), to_pascal(name)

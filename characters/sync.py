"""The wire mapping between a local Character and Xingchen's, and the upstream calls.

This is the only module of the app that talks to Xingchen. It reads and fills model instances
but never saves them: services decide what is written, and when.
"""

from __future__ import annotations

import dataclasses
import io
from collections.abc import Iterator
from typing import Any

from django.conf import settings
from django.core.files.base import ContentFile
from PIL import Image

from characters.models import Character, CharacterType
from characters.validators import AVATAR_MAX_BYTES, AVATAR_SUFFIXES
from platforms.http_download import DownloadError
from platforms.xingchen.types import (
    AdvancedConfig,
    AutoDescRequest,
    CharacterInput,
    FunctionDef,
    LongTermMemory,
    PermConfig,
    PlatformPlugin,
)
from platforms.xingchen.types import Character as RemoteCharacter
from project.upstream import call_sync, downloader, run_sync

SEARCH_PAGE_SIZE = 50  # Xingchen's maximum
SEARCH_MAX_PAGES = 200  # a guard against a server whose `total` never stops growing
SCOPES = ("my", "public", "pre_configured")

# Fields an editor changes locally and Xingchen stores; a pull compares and copies exactly these.
EDITABLE_FIELDS = (
    "name",
    "introduction",
    "basic_information",
    "opening_line",
    "traits",
    "chat_example",
    "character_type",
    "chat_objective",
    "role_types",
    "perm_is_public",
    "perm_allow_chat",
    "perm_allow_api",
    "is_real_info",
    "search_keyword",
    "is_real_time",
    "short_term_memory_round",
    "long_term_memories",
    "platform_plugins",
    "knowledge_bases",
)

# Fields only Xingchen sets.
REMOTE_FIELDS = (
    "remote_version",
    "audit_status",
    "config_status",
    "green_status",
    "manageable",
    "is_pre_configured",
    "avatar_remote_path",
    "background_img_url",
    "tags",
    "bubbles",
    "remote_owner_id",
    "remote_created_at",
    "remote_modified_at",
    "remote_snapshot",
)


# --- mapping ---------------------------------------------------------------------------------


def avatar_public_url(character: Character) -> str | None:
    """Where Xingchen can fetch the local avatar from."""
    if not character.avatar:
        return None
    return f"{settings.PUBLIC_BASE_URL}{settings.MEDIA_URL}{character.avatar.name}"


def character_to_input(character: Character) -> CharacterInput:
    """The create/update payload for `character`'s current local state."""
    avatar_url, avatar_key = _avatar_reference(character)
    return CharacterInput(
        name=character.name,
        basic_information=character.basic_information,
        avatar_url=avatar_url,
        avatar_file_save_path=avatar_key,
        # Empty strings, not None: Xingchen merges an update into the stored fields, so a field
        # left out keeps its old value instead of being cleared.
        introduction=character.introduction,
        opening_line=character.opening_line,
        traits=character.traits,
        chat_example=character.chat_example,
        type=character.character_type or None,
        chat_objective=character.chat_objective,
        role_types=list(character.role_types),
        perm_config=PermConfig(
            is_public=character.perm_is_public,
            allow_chat=character.perm_allow_chat,
            allow_api=character.perm_allow_api,
        ),
        advanced_config=_advanced_config(character),
    )


def _avatar_reference(character: Character) -> tuple[str | None, str | None]:
    # A new local upload is sent by URL for Xingchen to re-host; an avatar Xingchen already holds
    # is kept by its storage key, so every edit does not re-upload it.
    if character.avatar and character.avatar.name != character.avatar_synced_name:
        return avatar_public_url(character), None
    if character.avatar_remote_path:
        return None, character.avatar_remote_path
    return avatar_public_url(character), None


def _advanced_config(character: Character) -> AdvancedConfig:
    # Start from what Xingchen last sent so settings this app does not edit survive a push.
    remote = (character.remote_snapshot or {}).get("advancedConfig")
    base = AdvancedConfig.from_wire(remote) or AdvancedConfig()
    return dataclasses.replace(
        base,
        is_real_info=character.is_real_info,
        search_keyword=character.search_keyword,
        is_real_time=character.is_real_time,
        short_term_memory_round=character.short_term_memory_round,
        long_term_memories=[LongTermMemory.from_wire(m) for m in character.long_term_memories],
        platform_plugins=[PlatformPlugin.from_wire(p) for p in character.platform_plugins],
        knowledge_bases=list(character.knowledge_bases),
    )


def character_function_defs(character: Character) -> list[FunctionDef]:
    """The character's function list as the chat request takes it."""
    return [
        FunctionDef(name=f["name"], description=f["description"], parameters=f["parameters"])
        for f in character.function_list
    ]


def remote_editable_values(remote: RemoteCharacter) -> dict[str, Any]:
    """Xingchen's values of EDITABLE_FIELDS, normalised the way the local row stores them."""
    perm = remote.perm_config or PermConfig()
    advanced = remote.advanced_config or AdvancedConfig()
    kind = remote.type if remote.type in CharacterType.values else CharacterType.VIRTUAL
    return {
        "name": remote.name,
        "introduction": remote.introduction or "",
        "basic_information": remote.basic_information or "",
        "opening_line": remote.opening_line or "",
        "traits": remote.traits or "",
        "chat_example": remote.chat_example or "",
        "character_type": kind,
        "chat_objective": remote.chat_objective or "",
        "role_types": list(remote.role_types),
        "perm_is_public": perm.is_public,
        "perm_allow_chat": perm.allow_chat,
        "perm_allow_api": perm.allow_api,
        "is_real_info": bool(advanced.is_real_info),
        "search_keyword": advanced.search_keyword or "",
        "is_real_time": bool(advanced.is_real_time),
        "short_term_memory_round": advanced.short_term_memory_round,
        "long_term_memories": [m.to_wire() for m in advanced.long_term_memories],
        "platform_plugins": [p.to_wire() for p in advanced.platform_plugins],
        "knowledge_bases": list(advanced.knowledge_bases),
    }


def local_editable_values(character: Character) -> dict[str, Any]:
    """The row's EDITABLE_FIELDS, normalised like `remote_editable_values` for comparison."""
    values = {name: getattr(character, name) for name in EDITABLE_FIELDS}
    values["long_term_memories"] = [
        LongTermMemory.from_wire(m).to_wire() for m in character.long_term_memories
    ]
    values["platform_plugins"] = [
        PlatformPlugin.from_wire(p).to_wire() for p in character.platform_plugins
    ]
    return values


def snapshot_editable_values(character: Character) -> dict[str, Any] | None:
    """Xingchen's values as last seen, or None when nothing was seen yet."""
    if not character.remote_snapshot:
        return None
    return remote_editable_values(RemoteCharacter.from_wire(character.remote_snapshot))


def apply_remote_state(character: Character, remote: RemoteCharacter) -> None:
    """Copies what only Xingchen sets (statuses, version, avatar key, snapshot) onto the row."""
    character.remote_id = remote.character_id or character.remote_id
    character.remote_version = remote.version
    character.audit_status = remote.audit_status or ""
    character.config_status = remote.config_status or ""
    character.green_status = remote.green_status or ""
    character.manageable = remote.manageable is not False
    character.is_pre_configured = bool(remote.is_pre_configured)
    character.avatar_remote_path = (remote.avatar.file_save_path if remote.avatar else None) or ""
    character.background_img_url = (remote.background_img_url or "")[:1000]
    character.tags = list(remote.tags)
    character.bubbles = list(remote.bubbles)
    character.remote_owner_id = remote.user_id or ""
    character.remote_created_at = remote.created_at
    character.remote_modified_at = remote.modified_at
    character.remote_snapshot = remote.raw


def apply_remote_values(character: Character, remote: RemoteCharacter) -> None:
    """Copies Xingchen's editable values onto the row (a pull, or "take theirs")."""
    for name, value in remote_editable_values(remote).items():
        setattr(character, name, value)


# --- upstream calls ----------------------------------------------------------------------------


def remote_create(character: Character) -> str:
    payload = character_to_input(character)
    return call_sync(lambda client: client.character_create(payload))


def remote_update(character: Character) -> None:
    payload = character_to_input(character)
    remote_id = _remote_id(character)
    call_sync(lambda client: client.character_update(character_id=remote_id, character=payload))


def remote_delete(character: Character) -> None:
    remote_id = _remote_id(character)
    call_sync(lambda client: client.character_delete(character_id=remote_id))


def remote_details(remote_id: str) -> RemoteCharacter:
    return call_sync(lambda client: client.character_details(character_id=remote_id))


def remote_versions(character: Character) -> list[RemoteCharacter]:
    remote_id = _remote_id(character)
    return call_sync(lambda client: client.character_versions(character_id=remote_id))


def remote_auto_desc(text: str) -> str:
    request = AutoDescRequest(type="text", text=text)
    return call_sync(lambda client: client.character_auto_desc(request)).content


def remote_search(scope: str, *, name: str | None = None) -> Iterator[RemoteCharacter]:
    """Every character of `scope` (whose name starts with `name`, Xingchen matching by
    prefix), page after page until Xingchen's total is reached."""
    seen = 0
    for page_num in range(1, SEARCH_MAX_PAGES + 1):
        page = call_sync(
            lambda client, n=page_num: client.character_search(
                scope=scope, name=name, page_num=n, page_size=SEARCH_PAGE_SIZE
            )
        )
        yield from page.items
        seen += len(page.items)
        if not page.items or seen >= page.total:
            return


def fetch_avatar(remote: RemoteCharacter) -> ContentFile | None:
    """Xingchen's avatar as a file to store locally (its URL expires), or None if unusable."""
    url = remote.avatar.file_url if remote.avatar else None
    if not url:
        return None
    try:
        body = run_sync(lambda: downloader().download(url, max_bytes=AVATAR_MAX_BYTES))
    except DownloadError:
        return None
    suffix = _image_suffix(body)
    return ContentFile(body, name=f"avatar{suffix}") if suffix else None


def _image_suffix(body: bytes) -> str | None:
    try:
        with Image.open(io.BytesIO(body)) as image:
            image.verify()
            image_format = image.format
    except (OSError, SyntaxError, ValueError):
        return None
    return AVATAR_SUFFIXES.get(image_format or "")


def _remote_id(character: Character) -> str:
    if not character.remote_id:
        raise ValueError(f"character {character.pk} is not on Xingchen yet")
    return character.remote_id

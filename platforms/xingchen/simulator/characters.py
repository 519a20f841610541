"""Characters: CRUD, versions, search, statuses, avatars, and the built-in characters.

A character row holds the statuses and the current version; each version keeps its own fields.
Deletion is logical. Built-in (pre-configured) characters are public and not manageable: update
and delete refuse them with HTTP 403 `CharacterNotManageable`.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from typing import Any

from .errors import ApiError, bad_request, new_id, not_found
from .faults import answer_late
from .files import FetchError, fetch, guess_extension, url_filename
from .params import Paging, integer, obj, order_by, paging, str_list, text
from .replies import Persona
from .state import Simulator
from .store import dumps, iso, now_ms

ACCOUNT_USER_ID = "1688000000000001"
MAX_NAME_LENGTH = 20
MAX_SHORT_TERM_ROUNDS = 100
AUDIT_STATUSES = frozenset({"review", "update", "success", "succcess", "refuse"})
CONFIG_STATUSES = frozenset({"normal", "out"})
UNDER_REVIEW = frozenset({"review", "update"})
IMAGE_PLUGIN = "text_to_image_plugin"
# Fields a version stores; anything else in a create/update body is kept verbatim as well.
NOT_STORED = frozenset({"characterId", "version"})
SEARCH_ORDER = {
    "gmtModified": "c.modified_ms",
    "modifiedTime": "c.modified_ms",
    "gmtCreate": "c.created_ms",
    "createTime": "c.created_ms",
}

BUILT_INS: tuple[dict[str, Any], ...] = (
    {
        "characterId": "builtin-guan-yunchang",
        "name": "满腔忠义的关云长",
        "basicInformation": "你是「满腔忠义的关云长」，三国时期蜀汉名将，忠义无双，重诺守信。",
        "openingLine": "我是「关云长」，很高兴与你一叙。",
        "traits": "说话带有古人的语气和用词，沉稳而有力。",
        "chatExample": "{{user}}:敢问阁下尊姓大名。\n{{char}}:吾姓关名羽，字云长，河东解良人也。",
        "roleTypes": ["历史人物"],
        "type": "reproduction",
    },
    {
        "characterId": "builtin-painter-xiaomo",
        "name": "画师小墨",
        "basicInformation": "你是画师小墨，一位温柔的插画师，擅长水彩与国风插画，乐于为朋友作画。",
        "openingLine": "你好呀，我是小墨。想让我为你画点什么吗？",
        "traits": "语气温柔，喜欢用色彩打比方。",
        "roleTypes": ["艺术"],
        "advancedConfig": {
            "platformPlugins": [{"name": IMAGE_PLUGIN, "enabled": True, "imageStyle": "watercolor"}]
        },
    },
    {
        "characterId": "builtin-travel-guide-ada",
        "name": "Ada the Travel Guide",
        "basicInformation": "You are Ada, a cheerful travel guide who has visited sixty countries.",
        "openingLine": "Hi, I'm Ada! Where shall we travel today?",
        "traits": "Warm, curious, and always ready with a practical tip.",
        "roleTypes": ["Lifestyle"],
    },
)


def seed_built_ins(sim: Simulator) -> None:
    """Creates the pre-configured characters on first start (idempotent)."""
    for spec in BUILT_INS:
        character_id = spec["characterId"]
        if sim.store.one("SELECT 1 FROM characters WHERE character_id = ?", (character_id,)):
            continue
        fields = {k: v for k, v in spec.items() if k != "characterId"}
        fields["permConfig"] = {"isPublic": 1, "allowChat": 1, "allowApi": 1}
        _insert_character(sim, character_id, fields, pre_configured=True)


def _insert_character(
    sim: Simulator, character_id: str, fields: dict[str, Any], *, pre_configured: bool
) -> None:
    now = now_ms()
    with sim.store.transaction():
        sim.store.run(
            "INSERT INTO characters (character_id, current_version, is_pre_configured, "
            "created_ms, modified_ms) VALUES (?, 1, ?, ?, ?)",
            (character_id, int(pre_configured), now, now),
        )
        sim.store.run(
            "INSERT INTO character_versions (character_id, version, fields, created_ms, "
            "modified_ms) VALUES (?, 1, ?, ?, ?)",
            (character_id, dumps(fields), now, now),
        )


# --- validation ------------------------------------------------------------------------------


def validate_fields(body: dict[str, Any]) -> dict[str, Any]:
    """The storable fields of a create/update/version body, validated as Xingchen does."""
    name = body.get("name")
    if not isinstance(name, str) or not 1 <= len(name.strip()) <= MAX_NAME_LENGTH:
        raise bad_request(
            "InvalidCharacterName",
            f"name is required and must be 1 to {MAX_NAME_LENGTH} characters.",
        )
    basic = body.get("basicInformation")
    if not isinstance(basic, str) or not basic.strip():
        raise bad_request("MissingBasicInformation", "basicInformation is required.")
    advanced = obj(body.get("advancedConfig"), "advancedConfig")
    if advanced.get("isRealInfo") and not str(advanced.get("searchKeyword") or "").strip():
        raise bad_request(
            "MissingSearchKeyword",
            "advancedConfig.searchKeyword is required when isRealInfo is on.",
        )
    rounds = integer(advanced.get("shortTermMemoryRound"), "advancedConfig.shortTermMemoryRound")
    if rounds is not None and not 0 <= rounds <= MAX_SHORT_TERM_ROUNDS:
        raise bad_request(
            "InvalidShortTermMemoryRound",
            f"advancedConfig.shortTermMemoryRound must be between 0 and {MAX_SHORT_TERM_ROUNDS}.",
        )
    perm = body.get("permConfig")
    if perm is not None:
        perm = obj(perm, "permConfig")
        missing = [k for k in ("isPublic", "allowChat", "allowApi") if perm.get(k) not in (0, 1)]
        if missing:
            raise bad_request(
                "InvalidPermConfig", f"permConfig.{missing[0]} is required and must be 0 or 1."
            )
    str_list(body.get("roleTypes"), "roleTypes")
    return {k: v for k, v in body.items() if k not in NOT_STORED and v is not None}


def _require_manageable(row: sqlite3.Row) -> None:
    if row["is_pre_configured"]:
        raise ApiError(
            403, "CharacterNotManageable", "Pre-configured characters cannot be changed."
        )


def _require_updatable(row: sqlite3.Row) -> None:
    _require_manageable(row)
    if row["audit_status"] in UNDER_REVIEW:
        raise bad_request(
            "CharacterUnderAudit",
            f"The character cannot be updated while its audit status is {row['audit_status']}.",
        )
    if row["green_status"] in UNDER_REVIEW:
        raise bad_request(
            "CharacterUnderGreenReview",
            "The character cannot be updated while its content review status is "
            f"{row['green_status']}.",
        )
    if row["config_status"] == "out":
        raise bad_request(
            "CharacterOffShelf", "The character is off the shelf and cannot be updated."
        )


# --- lookups ---------------------------------------------------------------------------------


def character_row(sim: Simulator, character_id: str) -> sqlite3.Row:
    row = sim.store.one(
        "SELECT * FROM characters WHERE character_id = ? AND deleted = 0", (character_id,)
    )
    if row is None:
        raise not_found("CharacterNotFound", f"Character {character_id} does not exist.")
    return row


def _version_row(sim: Simulator, character_id: str, version: int) -> sqlite3.Row:
    row = sim.store.one(
        "SELECT * FROM character_versions WHERE character_id = ? AND version = ? AND deleted = 0",
        (character_id, version),
    )
    if row is None:
        raise not_found(
            "CharacterVersionNotFound", f"Character {character_id} has no version {version}."
        )
    return row


def _live_versions(sim: Simulator, character_id: str) -> list[int]:
    rows = sim.store.all(
        "SELECT version FROM character_versions WHERE character_id = ? AND deleted = 0 "
        "ORDER BY version",
        (character_id,),
    )
    return [r["version"] for r in rows]


def current_fields(
    sim: Simulator, character_id: str, version: int | None = None
) -> tuple[sqlite3.Row, dict[str, Any]]:
    row = character_row(sim, character_id)
    version_row = _version_row(sim, character_id, version or row["current_version"])
    return row, json.loads(version_row["fields"])


def persona(sim: Simulator, character_id: str, version: int | None = None) -> Persona:
    row, fields = current_fields(sim, character_id, version)
    return Persona(
        key=f"{character_id}@{row['pk']}",
        name=fields.get("name", ""),
        basic_information=fields.get("basicInformation", ""),
        traits=fields.get("traits") or "",
        opening_line=fields.get("openingLine") or "",
        draws_images=image_plugin_enabled(fields.get("advancedConfig")),
        functions=tuple(f for f in fields.get("functionList") or () if isinstance(f, dict)),
    )


def image_plugin_enabled(advanced: Any) -> bool:
    plugins = advanced.get("platformPlugins") if isinstance(advanced, dict) else None
    return any(
        isinstance(p, dict) and p.get("name") == IMAGE_PLUGIN and p.get("enabled") is True
        for p in plugins or ()
    )


# --- DTO ------------------------------------------------------------------------------------


def _avatar(sim: Simulator, stored: Any) -> dict[str, str] | None:
    if not isinstance(stored, dict):
        return None
    avatar = dict(stored)
    save_path = avatar.get("fileSavePath")
    if save_path and sim.files.exists(save_path):
        avatar["fileUrl"] = sim.files.signed_url(save_path)
    return avatar


def character_dto(sim: Simulator, row: sqlite3.Row, version_row: sqlite3.Row) -> dict[str, Any]:
    fields = json.loads(version_row["fields"])
    perm = fields.get("permConfig") or {"isPublic": 0, "allowChat": 0, "allowApi": 0}
    owner = "xingchen" if row["is_pre_configured"] else ACCOUNT_USER_ID
    dto: dict[str, Any] = {
        **fields,
        "characterId": row["character_id"],
        "avatar": _avatar(sim, fields.get("avatar")),
        "type": fields.get("type") or "virtual",
        "roleTypes": fields.get("roleTypes") or [],
        "permConfig": perm,
        "advancedConfig": fields.get("advancedConfig") or {},
        "version": version_row["version"],
        "majorVersion": row["current_version"],
        "versions": _live_versions(sim, row["character_id"]),
        "gmtCreate": iso(version_row["created_ms"]),
        "gmtModified": iso(max(version_row["modified_ms"], row["modified_ms"])),
        "userId": owner,
        "bizUserId": "",
        "creator": owner,
        "modifiedBy": owner,
        "manageable": not row["is_pre_configured"],
        "isPreConfigured": bool(row["is_pre_configured"]),
        "auditStatus": row["audit_status"],
        "configStatus": row["config_status"],
        "greenStatus": row["green_status"],
    }
    if dto["avatar"] is None:
        del dto["avatar"]
    return dto


def details(sim: Simulator, character_id: str, version: int | None) -> dict[str, Any]:
    row = character_row(sim, character_id)
    return character_dto(
        sim, row, _version_row(sim, character_id, version or row["current_version"])
    )


# --- avatars -------------------------------------------------------------------------------


async def rehost_avatar(sim: Simulator, avatar: Any) -> dict[str, str] | None:
    """Copies an avatar into the simulator's file store, as Xingchen copies it into OSS.

    Keeps the caller's URL when it cannot be fetched in a few seconds.
    """
    if isinstance(avatar, str):
        avatar = {"fileUrl": avatar}
    if not isinstance(avatar, dict) or not avatar.get("fileUrl"):
        return None
    url = str(avatar["fileUrl"])
    own = sim.files.own_name(url)
    if own is not None:
        return {"fileSavePath": own, "filename": avatar.get("filename") or own, "fileUrl": url}
    filename = avatar.get("filename") or url_filename(url)
    try:
        response = await fetch(sim.http, url, timeout=3.0)
    except FetchError:
        return {
            "fileSavePath": avatar.get("fileSavePath") or "",
            "filename": filename,
            "fileUrl": url,
        }
    extension = guess_extension(url, response.headers.get("content-type", ""))
    name = f"avatar-{hashlib.sha1(response.content).hexdigest()[:20]}{extension}"
    sim.files.save(name, response.content)
    return {"fileSavePath": name, "filename": filename, "fileUrl": sim.files.signed_url(name)}


async def _prepare(sim: Simulator, body: dict[str, Any]) -> dict[str, Any]:
    fields = validate_fields(body)
    if "avatar" in fields:
        avatar = await rehost_avatar(sim, fields["avatar"])
        if avatar is None:
            fields.pop("avatar")
        else:
            fields["avatar"] = avatar
    return fields


# --- operations ----------------------------------------------------------------------------


async def create(sim: Simulator, body: dict[str, Any]) -> dict[str, Any]:
    fields = await _prepare(sim, body)
    character_id = new_id()
    _insert_character(sim, character_id, fields, pre_configured=False)
    await answer_late()
    return {"characterId": character_id, "version": 1}


async def update(sim: Simulator, body: dict[str, Any]) -> bool:
    character_id = text(body, "characterId", required=True)
    row = character_row(sim, character_id)
    _require_updatable(row)
    version = integer(body.get("version"), "version") or row["current_version"]
    version_row = _version_row(sim, character_id, version)
    fields = {**json.loads(version_row["fields"]), **await _prepare(sim, body)}
    now = now_ms()
    with sim.store.transaction():
        sim.store.run(
            "UPDATE character_versions SET fields = ?, modified_ms = ? "
            "WHERE character_id = ? AND version = ?",
            (dumps(fields), now, character_id, version),
        )
        sim.store.run(
            "UPDATE characters SET modified_ms = ? WHERE character_id = ?", (now, character_id)
        )
    await answer_late()
    return True


def delete(sim: Simulator, character_id: str, version: int | None) -> bool:
    row = character_row(sim, character_id)
    _require_manageable(row)
    versions = _live_versions(sim, character_id)
    now = now_ms()
    if version is not None and len(versions) > 1:
        _version_row(sim, character_id, version)
        remaining = [v for v in versions if v != version]
        with sim.store.transaction():
            sim.store.run(
                "UPDATE character_versions SET deleted = 1, modified_ms = ? "
                "WHERE character_id = ? AND version = ?",
                (now, character_id, version),
            )
            sim.store.run(
                "UPDATE characters SET current_version = ?, modified_ms = ? WHERE character_id = ?",
                (max(remaining), now, character_id),
            )
        return True
    if version is not None:
        _version_row(sim, character_id, version)
    sim.store.run(
        "UPDATE characters SET deleted = 1, modified_ms = ? WHERE character_id = ?",
        (now, character_id),
    )
    return True


def versions(sim: Simulator, character_id: str) -> list[dict[str, Any]]:
    row = character_row(sim, character_id)
    return [
        character_dto(sim, row, _version_row(sim, character_id, v))
        for v in _live_versions(sim, character_id)
    ]


def recommend_version(sim: Simulator, character_id: str) -> dict[str, Any]:
    """A draft of the next version: the current fields under the next unused version number."""
    row = character_row(sim, character_id)
    dto = details(sim, character_id, None)
    highest = sim.store.scalar(
        "SELECT MAX(version) FROM character_versions WHERE character_id = ?", (character_id,)
    )
    now = iso(now_ms())
    return {
        **dto,
        "version": int(highest) + 1,
        "majorVersion": row["current_version"],
        "gmtCreate": now,
        "gmtModified": now,
    }


async def save_version(sim: Simulator, body: dict[str, Any]) -> dict[str, Any]:
    """Creates or replaces one version; the saved version becomes the character's current one."""
    character_id = text(body, "characterId", required=True)
    row = character_row(sim, character_id)
    _require_updatable(row)
    fields = await _prepare(sim, body)
    version = integer(body.get("version"), "version")
    if version is None:
        version = (
            int(
                sim.store.scalar(
                    "SELECT MAX(version) FROM character_versions WHERE character_id = ?",
                    (character_id,),
                )
            )
            + 1
        )
    if version < 1:
        raise bad_request("InvalidVersion", "version must be 1 or more.")
    now = now_ms()
    with sim.store.transaction():
        sim.store.run(
            "INSERT INTO character_versions (character_id, version, fields, created_ms, "
            "modified_ms) VALUES (?, ?, ?, ?, ?) ON CONFLICT (character_id, version) DO UPDATE "
            "SET fields = excluded.fields, deleted = 0, modified_ms = excluded.modified_ms",
            (character_id, version, dumps(fields), now, now),
        )
        sim.store.run(
            "UPDATE characters SET current_version = ?, modified_ms = ? WHERE character_id = ?",
            (version, now, character_id),
        )
    await answer_late()
    return details(sim, character_id, version)


def search(sim: Simulator, body: dict[str, Any]) -> dict[str, Any]:
    where = obj(body.get("where"), "where")
    scope = where.get("scope") or "my"
    scopes = {
        "my": "c.is_pre_configured = 0",
        "public": "json_extract(v.fields, '$.permConfig.isPublic') = 1",
        "pre_configured": "c.is_pre_configured = 1",
    }
    if scope not in scopes:
        raise bad_request("InvalidScope", "where.scope must be my, public or pre_configured.")
    page: Paging = paging(body)
    ordering = order_by(body.get("orderBy"), SEARCH_ORDER, "gmtModified desc")
    clauses = ["c.deleted = 0", scopes[scope]]
    params: list[Any] = []
    name = where.get("characterName")
    if name:
        clauses.append("json_extract(v.fields, '$.name') LIKE ? ESCAPE '\\'")
        params.append(_like_prefix(str(name)))
    role_types = str_list(where.get("roleTypes"), "where.roleTypes")
    if role_types:
        marks = ", ".join("?" for _ in role_types)
        clauses.append(
            f"EXISTS (SELECT 1 FROM json_each(v.fields, '$.roleTypes') WHERE value IN ({marks}))"
        )
        params.extend(role_types)
    base = (
        "FROM characters c JOIN character_versions v ON v.character_id = c.character_id "
        f"AND v.version = c.current_version WHERE {' AND '.join(clauses)}"
    )
    total = sim.store.scalar(f"SELECT COUNT(*) {base}", tuple(params))
    order_sql = ", ".join(f"{column} {direction}" for column, direction in ordering)
    # Rows made in the same millisecond keep their creation order in the requested direction.
    tie = ordering[-1][1] if ordering else "DESC"
    rows = sim.store.all(
        f"SELECT c.*, v.version AS v_version, v.fields AS v_fields, v.created_ms AS v_created, "
        f"v.modified_ms AS v_modified {base} ORDER BY {order_sql}, c.pk {tie} LIMIT ? OFFSET ?",
        (*params, page.size, page.offset),
    )
    items = [
        character_dto(sim, r, _version_row(sim, r["character_id"], r["v_version"])) for r in rows
    ]
    return page.result(items, int(total))


def _like_prefix(prefix: str) -> str:
    escaped = prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return escaped + "%"


def set_statuses(sim: Simulator, character_id: str, body: dict[str, Any]) -> dict[str, Any]:
    """Control API: puts a character under review or off the shelf (raises ValueError)."""
    row = character_row(sim, character_id)
    columns = {
        "auditStatus": "audit_status",
        "greenStatus": "green_status",
        "configStatus": "config_status",
    }
    unknown = set(body) - set(columns)
    if unknown:
        raise ValueError(f"unknown status keys: {', '.join(sorted(unknown))}")
    for key, value in body.items():
        allowed = CONFIG_STATUSES if key == "configStatus" else AUDIT_STATUSES
        if value not in allowed:
            raise ValueError(f"{key} must be one of {', '.join(sorted(allowed))}")
        sim.store.run(
            f"UPDATE characters SET {columns[key]} = ? WHERE character_id = ?",
            (value, character_id),
        )
    row = character_row(sim, character_id)
    return {key: row[column] for key, column in columns.items()}

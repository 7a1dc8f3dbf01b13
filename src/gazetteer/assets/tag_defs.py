"""Atlan tag definitions: create, change, delete and list them.

What for: pyatlan's `client.typedef.create(AtlanTagDef.create(...))`, `update`, `purge`, `get_all` and the tag cache
it builds from them (served in Atlas's typedef shapes by `gazetteer.api.typedefs`), and the tags people put on
assets (`gazetteer.assets.tagging`). As in Atlan, a tag has an internal `name` (22 random letters and digits, what
an asset's classifications carry) and the `display_name` people see and type; the server picks the internal name.
Who may: $admin only (`auth.permissions`, MANAGE_TAGS): tags are shared by every connection.
"""

from __future__ import annotations

import re
import secrets
import string
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from gazetteer.auth.permissions import Action, authorize
from gazetteer.auth.principal import Principal
from gazetteer.errors import Conflict, InvalidRequest, NotFound
from gazetteer.store.generation import bump_generation
from gazetteer.store.schema import tag_defs

__all__ = ["TagDef", "TagSpec", "COLORS", "MAX_TAGS", "create_tags", "update_tags", "delete_tag", "list_tags",
           "find_tag", "tags_named"]

# pyatlan's AtlanTagColor.
COLORS = ("Green", "Yellow", "Red", "Gray")
ICON_TYPES = ("icon", "image", "emoji")
MAX_TAGS = 1000  # definitions in all: the tag cache pyatlan keeps reads every one of them at once
MAX_PER_REQUEST = 50
MAX_NAME = 64
MAX_DESCRIPTION = 2000
# Letters, digits and a few separators; no leading or trailing space. `key:value`-style names work.
_NAME = re.compile(r"[^\W_](?:[\w .:=/&+()-]{0,62}[\w.)])?")
_ICON = re.compile(r"[A-Za-z0-9_-]{1,64}")
_ALPHABET = string.ascii_letters + string.digits


@dataclass(frozen=True, slots=True)
class TagDef:
    """A tag definition as stored."""

    id: int
    guid: str
    name: str  # internal
    display_name: str
    description: str | None
    options: Mapping[str, Any]
    version: int
    created_by: str
    updated_by: str
    created_at: datetime
    updated_at: datetime

    @property
    def color(self) -> str:
        return str(self.options.get("color") or "Gray")

    @classmethod
    def of(cls, row: Any) -> TagDef:
        return cls(row.id, row.guid, row.name, row.display_name, row.description, dict(row.options or {}),
                   row.version, row.created_by, row.updated_by, row.created_at, row.updated_at)


@dataclass(frozen=True, slots=True)
class TagSpec:
    """What a request says of a tag: its display name, description and Atlan's `options`; `name` (internal) names
    the tag an update is for."""

    display_name: str
    description: str | None = None
    options: Mapping[str, Any] | None = None
    name: str | None = None


def _display_name(value: Any, where: str) -> str:
    if not isinstance(value, str) or not value:
        raise InvalidRequest(f"{where}: a tag needs a displayName (its name as people see it)")
    if len(value) > MAX_NAME or not _NAME.fullmatch(value):
        raise InvalidRequest(f"{where}: tag name {value[:80]!r} is not allowed: use 1 to {MAX_NAME} letters, digits, "
                             "spaces and . _ - : = / & + ( ), starting with a letter or digit")
    return value


def _options(value: Any, where: str, before: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Atlan's tag options (color, iconName, iconType, emoji, imageID), checked; unset ones keep `before`."""
    if value is None:
        value = {}
    if not isinstance(value, Mapping):
        raise InvalidRequest(f"{where}: 'options' must be an object")
    out = dict(before or {"color": "Gray", "iconName": "atlanTags", "iconType": "icon", "imageID": ""})
    for key, item in value.items():
        if key == "color":
            if item not in COLORS:
                raise InvalidRequest(f"{where}: tag color {str(item)[:40]!r} is not one of {', '.join(COLORS)}")
        elif key == "iconName":
            if not isinstance(item, str) or not _ICON.fullmatch(item):
                raise InvalidRequest(f"{where}: iconName must be 1 to 64 letters, digits, '_' or '-' (an AtlanIcon)")
        elif key == "iconType":
            if not isinstance(item, str) or item.lower() not in ICON_TYPES:
                raise InvalidRequest(f"{where}: iconType must be one of {', '.join(t.upper() for t in ICON_TYPES)}")
        elif key in ("emoji", "imageID"):
            if not isinstance(item, str) or len(item) > 64:
                raise InvalidRequest(f"{where}: {key} must be a string of at most 64 characters")
        else:
            continue  # Atlan's other options (customIcon...) mean nothing here
        out[key] = item
    return out


def _description(value: Any, where: str) -> str | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str) or len(value) > MAX_DESCRIPTION:
        raise InvalidRequest(f"{where}: a tag's description must be a string of at most {MAX_DESCRIPTION} characters")
    return value


def _new_name(conn: Connection) -> str:
    while True:  # a clash of 22 random base-62 characters will not happen, but costs one look-up to rule out
        name = "".join(secrets.choice(_ALPHABET) for _ in range(22))
        if conn.execute(sa.select(tag_defs.c.id).where(tag_defs.c.name == name)).first() is None:
            return name


def _clash(conn: Connection, display_name: str, but: int | None = None) -> None:
    query = sa.select(tag_defs.c.display_name).where(tag_defs.c.display_key == display_name.casefold())
    if but is not None:
        query = query.where(tag_defs.c.id != but)
    existing = conn.execute(query).scalar()
    if existing is not None:
        raise Conflict(f"a tag named {existing!r} exists already (tag names are unique, whatever their case)")


def create_tags(engine: Engine, specs: Sequence[TagSpec], principal: Principal) -> list[TagDef]:
    """Create these tags, all or none; the server picks each one's internal name."""
    authorize(principal, Action.MANAGE_TAGS, what=f"({', '.join(repr(spec.display_name) for spec in specs)[:200]})")
    checked = [(_display_name(spec.display_name, where), _description(spec.description, where),
                _options(spec.options, where)) for where, spec in _each(specs)]
    _no_twins([display_name for display_name, _, _ in checked])
    now = datetime.now(UTC)
    with engine.begin() as conn:
        if (conn.execute(sa.select(sa.func.count()).select_from(tag_defs)).scalar() or 0) + len(specs) > MAX_TAGS:
            raise InvalidRequest(f"this catalog keeps at most {MAX_TAGS} tags; delete some first")
        created = []
        for display_name, description, options in checked:
            _clash(conn, display_name)
            conn.execute(tag_defs.insert().values(
                guid=str(uuid.uuid4()), name=_new_name(conn), display_name=display_name,
                display_key=display_name.casefold(), description=description, options=options, version=1,
                created_by=principal.username, updated_by=principal.username, created_at=now, updated_at=now))
            created.append(TagDef.of(conn.execute(sa.select(tag_defs).where(
                tag_defs.c.display_key == display_name.casefold())).one()))
    return created


def update_tags(engine: Engine, specs: Sequence[TagSpec], principal: Principal) -> list[TagDef]:
    """Change the tags these name (by internal name, else display name), all or none: display name (a rename
    keeps the assignments: they hold the internal name), description, options."""
    authorize(principal, Action.MANAGE_TAGS, what=f"({', '.join(repr(spec.display_name) for spec in specs)[:200]})")
    checked = [(where, spec, _display_name(spec.display_name, where), _description(spec.description, where))
               for where, spec in _each(specs)]
    _no_twins([display_name for _, _, display_name, _ in checked])
    now = datetime.now(UTC)
    with engine.begin() as conn:
        updated = []
        for where, spec, display_name, description in checked:
            row = _row(conn, spec.name or display_name)
            if row is None:
                raise NotFound(f"{where}: there is no tag {spec.name or display_name!r} to update: create it first")
            _clash(conn, display_name, but=row.id)
            conn.execute(tag_defs.update().where(tag_defs.c.id == row.id).values(
                display_name=display_name, display_key=display_name.casefold(), description=description,
                options=_options(spec.options, where, row.options), version=row.version + 1,
                updated_by=principal.username, updated_at=now))
            updated.append(TagDef.of(conn.execute(sa.select(tag_defs).where(tag_defs.c.id == row.id)).one()))
        bump_generation(conn)  # a search by a tag's old display name must not be answered from the cache
    return updated


def _each(specs: Sequence[TagSpec]) -> list[tuple[str, TagSpec]]:
    if not specs:
        raise InvalidRequest("classificationDefs: name at least one tag")
    if len(specs) > MAX_PER_REQUEST:
        raise InvalidRequest(f"classificationDefs: at most {MAX_PER_REQUEST} tags in one request")
    return [(f"classificationDefs[{i}]", spec) for i, spec in enumerate(specs)]


def _no_twins(display_names: Sequence[str]) -> None:
    folded = [name.casefold() for name in display_names]
    twins = sorted({name for name in display_names if folded.count(name.casefold()) > 1})
    if twins:
        raise InvalidRequest(f"classificationDefs: {twins[0]!r} is named twice")


def delete_tag(engine: Engine, name: str, principal: Principal) -> None:
    """Delete a tag definition by internal (or display) name, and with it every assignment of it."""
    authorize(principal, Action.MANAGE_TAGS, what=f"({name!r})")
    with engine.begin() as conn:
        row = _row(conn, name)
        if row is None:
            raise NotFound(f"Given typename {name} was invalid: no such tag")
        conn.execute(tag_defs.delete().where(tag_defs.c.id == row.id))
        bump_generation(conn)


def _row(conn: Connection, name: str) -> Any:
    """The tag whose internal name is `name`, else whose display name is (whatever its case)."""
    return (conn.execute(sa.select(tag_defs).where(tag_defs.c.name == name)).first()
            or conn.execute(sa.select(tag_defs).where(tag_defs.c.display_key == name.casefold())).first())


def list_tags(engine: Engine) -> tuple[TagDef, ...]:
    with engine.connect() as conn:
        rows = conn.execute(sa.select(tag_defs).order_by(tag_defs.c.display_key)).all()
    return tuple(TagDef.of(row) for row in rows)


def find_tag(conn: Connection, name: str) -> TagDef | None:
    """A tag by internal or display name."""
    row = _row(conn, name)
    return None if row is None else TagDef.of(row)


def tags_named(conn: Connection, names: list[str], where: str) -> dict[str, TagDef]:
    """Each of `names` (internal or display names) → its tag; an unknown one is refused, naming it."""
    found: dict[str, TagDef] = {}
    for name in names:
        tag = find_tag(conn, name) if isinstance(name, str) and 0 < len(name) <= MAX_NAME else None
        if tag is None:
            raise NotFound(f"{where}: there is no Atlan tag {str(name)[:80]!r}; create it first "
                           "(client.typedef.create(AtlanTagDef.create(...)), as a $admin)")
        found[name] = tag
    return found

"""Who can own an asset: the catalog's users (people, not API tokens' service accounts) and groups.

What for: the web UI suggests owners as one types and refuses names that are neither (`suggest`, `resolve`),
so that an owner is someone a colleague can find and ask. Names are compared exactly, as Atlan stores them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from gazetteer.auth import models as db

__all__ = ["Person", "Owners", "resolve", "suggest", "SUGGESTIONS"]

SUGGESTIONS = 20  # at most this many names per suggestion list
_LONGEST = 255  # users.username and groups.name are String(255)


@dataclass(frozen=True)
class Person:
    """A user or a group as an owner: its name, "user" or "group", and what to show beside the name."""

    name: str
    kind: str
    label: str


@dataclass(frozen=True)
class Owners:
    users: tuple[str, ...]
    groups: tuple[str, ...]
    unknown: tuple[str, ...]


def _people() -> sa.Subquery:
    """Users and groups as rows (name, kind, a, b, c): a user's first name, last name and e-mail, a group's alias."""
    u, g = db.users, db.groups
    users = sa.select(u.c.username.label("name"), sa.literal("user").label("kind"), u.c.first_name.label("a"),
                      u.c.last_name.label("b"), u.c.email.label("c")).where(u.c.is_service_account.is_(False))
    groups = sa.select(g.c.name.label("name"), sa.literal("group").label("kind"), g.c.alias.label("a"),
                       sa.null().label("b"), sa.null().label("c"))
    return sa.union_all(users, groups).subquery("people")


def suggest(conn: Connection, text: str, limit: int = SUGGESTIONS) -> list[Person]:
    """Users and groups whose name (or a user's first or last name, a group's alias) starts with `text`,
    users first, then by name; with no text, the first ones by name."""
    people = _people()
    query = sa.select(people)
    text = text.strip()[:_LONGEST].lower()
    if text:
        # LIKE with the pattern's own wildcards escaped: a name with '_' or '%' is matched as typed.
        pattern = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        query = query.where(sa.or_(*(sa.func.lower(people.c[key]).like(pattern, escape="\\")
                                     for key in ("name", "a", "b", "c"))))
    rows = conn.execute(query.order_by(people.c.kind.desc(), people.c.name).limit(max(1, min(limit, 100)))).all()
    return [Person(row.name, row.kind, _label(row.kind, row.a, row.b, row.c)) for row in rows]


def _label(kind: str, a: str | None, b: str | None, c: str | None) -> str:
    if kind == "group":
        return f"group{f' · {a}' if a else ''}"
    full = " ".join(part for part in (a, b) if part)
    return " · ".join(part for part in ("user", full, c) if part)


def resolve(conn: Connection, names: Iterable[str]) -> Owners:
    """Which of `names` are users, which groups (a name that is both counts as the user), which neither."""
    wanted = list(dict.fromkeys(name for name in names if name))
    if not wanted:
        return Owners((), (), ())
    u, g = db.users, db.groups
    fits = [name for name in wanted if len(name) <= _LONGEST]
    users = set(conn.execute(sa.select(u.c.username).where(u.c.username.in_(fits),
                                                          u.c.is_service_account.is_(False))).scalars())
    groups = set(conn.execute(sa.select(g.c.name).where(g.c.name.in_(fits))).scalars()) - users
    return Owners(tuple(n for n in wanted if n in users), tuple(n for n in wanted if n in groups),
                  tuple(n for n in wanted if n not in users and n not in groups))

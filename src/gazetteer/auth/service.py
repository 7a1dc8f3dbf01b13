"""Identities: authenticating API tokens, and managing tokens, users, groups and roles."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import re
import secrets
import threading
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from gazetteer import jsontext
from gazetteer.auth import models as db
from gazetteer.auth.principal import ADMIN_ROLE, Principal
from gazetteer.errors import InvalidRequest, NotFound, Unauthenticated
from gazetteer.settings import Settings

__all__ = ["TOKEN_PREFIX", "Page", "authenticate", "create_group", "create_token", "create_user",
           "hash_token", "list_groups", "list_roles", "list_tokens", "list_users", "revoke_token", "whoami"]

log = logging.getLogger(__name__)

# A recognisable prefix lets secret scanners and people tell a Gazetteer token from other strings.
TOKEN_PREFIX = "gzt_"
# Token names end up in the username and inside JSON filters pyatlan builds by string concatenation.
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")
# last_used_at is advisory: writing it at most once a minute keeps reads from turning into writes.
_TOUCH_EVERY = timedelta(minutes=1)
# The token ids this process is recording a use of, and since when: when a minute is up, every request in
# flight with the token would otherwise write it at once, queueing together behind a crawl's page on SQLite
# (bench/load.py: stalls of 8-15 s across all 30 clients). One request writes; the others go on.
_touching: dict[str, datetime] = {}  # by token digest: unique across catalogs, unlike ids
_touching_lock = threading.Lock()
_HOW_TO_CREATE = "create one with `gazetteer token create --name NAME`"
_Filter = str | Mapping[str, Any] | None


@dataclass(frozen=True)
class Page:
    """One page of a listing, with Atlan's counts: all records, and those matching the filter."""

    total: int
    filtered: int
    records: list[dict[str, Any]]

    def to_json(self) -> dict[str, Any]:
        """The Atlan (Heracles) listing body."""
        return {"totalRecord": self.total, "filterRecord": self.filtered, "records": self.records}


def hash_token(token: str) -> str:
    """The SHA-256 hex digest under which a token is stored."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _utc(moment: datetime) -> datetime:
    # SQLite hands back naive datetimes; everything stored here is UTC.
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


def _ms(moment: datetime | None) -> int | None:
    return None if moment is None else int(_utc(moment).timestamp() * 1000)


def authenticate(engine: Engine, settings: Settings, token: str) -> Principal:
    """The caller a bearer token stands for; Unauthenticated if it is unknown or revoked."""
    digest = hash_token(token)
    admin = settings.admin_token.get_secret_value() if settings.admin_token else ""
    # Comparing digests keeps the comparison constant-time and independent of the tokens' lengths.
    if admin and hmac.compare_digest(digest, hash_token(admin)):
        return Principal(user_id=db.ADMIN_USER_ID, username=db.ADMIN_USERNAME, roles=frozenset({ADMIN_ROLE}),
                         role_ids=frozenset({db.role_id(ADMIN_ROLE)}))
    t, u, r, ug, g = db.api_tokens, db.users, db.roles, db.user_groups, db.groups
    query = (sa.select(t.c.id, t.c.name, t.c.revoked, t.c.last_used_at, u.c.id.label("user_id"), u.c.username,
                       u.c.role, r.c.id.label("role_id"))
             .join(u, u.c.id == t.c.user_id).join(r, r.c.name == u.c.role).where(t.c.token_hash == digest))
    with engine.connect() as conn:
        row = conn.execute(query).first()
        if row is None:
            raise Unauthenticated("The API token is not valid: it matches no token of this server. Check the "
                                  f"Authorization header (ATLAN_API_KEY for pyatlan), or {_HOW_TO_CREATE}.")
        if row.revoked:
            raise Unauthenticated(f"The API token {row.name!r} was revoked; {_HOW_TO_CREATE}.")
        names = conn.execute(sa.select(g.c.name).join(ug, ug.c.group_id == g.c.id)
                             .where(ug.c.user_id == row.user_id)).scalars().all()
    now = datetime.now(UTC)
    if (row.last_used_at is None or now - _utc(row.last_used_at) > _TOUCH_EVERY) and _claim_touch(digest, now):
        try:
            with engine.begin() as conn:
                conn.execute(t.update().where(t.c.id == row.id).values(last_used_at=now))
        except sa.exc.OperationalError as exc:  # e.g. SQLite busy under a crawl: never fail a request for it
            log.debug("could not record the use of token %s: %s", row.name, exc)
    return Principal(user_id=row.user_id, username=row.username, roles=frozenset({row.role}),
                     groups=frozenset(names), role_ids=frozenset({row.role_id}))


def _claim_touch(digest: str, now: datetime) -> bool:
    """Whether this request records the token's use: no other request of this process did in the last minute."""
    with _touching_lock:
        since = _touching.get(digest)
        if since is not None and now - since <= _TOUCH_EVERY:
            return False
        _touching[digest] = now
        return True


def _require_role(conn: sa.Connection, role: str) -> None:
    known = conn.execute(sa.select(db.roles.c.name).order_by(db.roles.c.name)).scalars().all()
    if role not in known:
        raise InvalidRequest(f"Unknown role {role!r}: use one of {', '.join(known)}.")


def create_token(engine: Engine, name: str, role: str = ADMIN_ROLE) -> str:
    """Create a token acting as user service-account-<name> with `role`; returns it (it is shown once)."""
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise InvalidRequest(f"Invalid token name {name!r}: use 1-100 letters, digits, '.', '_' or '-', "
                             "starting with a letter or digit.")
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token_id, now, username = str(uuid.uuid4()), datetime.now(UTC), db.SERVICE_ACCOUNT_PREFIX + name
    taken = InvalidRequest(f"A token named {name!r} already exists (revoked tokens keep their name); "
                           "choose another name.")
    t, u = db.api_tokens, db.users
    try:
        with engine.begin() as conn:
            _require_role(conn, role)
            if (conn.execute(sa.select(t.c.id).where(t.c.name == name)).first()
                    or conn.execute(sa.select(u.c.id).where(u.c.username == username)).first()):
                raise taken
            conn.execute(u.insert().values(id=token_id, username=username, role=role, created_at=now,
                                           is_service_account=True))
            conn.execute(t.insert().values(id=token_id, name=name, token_hash=hash_token(token),
                                           user_id=token_id, created_at=now, revoked=False))
    except sa.exc.IntegrityError:  # a concurrent create of the same name won the race
        raise taken from None
    return token


def revoke_token(engine: Engine, name: str) -> None:
    """Refuse the token called `name` from now on (revoking twice is harmless)."""
    with engine.begin() as conn:
        result = conn.execute(db.api_tokens.update().where(db.api_tokens.c.name == name).values(revoked=True))
    if result.rowcount == 0:
        raise NotFound(f"No API token is named {name!r}; `gazetteer token list` shows the tokens.")


def create_user(engine: Engine, username: str, role: str, email: str | None = None,
                groups: Iterable[str] = (), *, first_name: str | None = None,
                last_name: str | None = None) -> str:
    """Create a user with `role`, in the named groups; returns the user's id."""
    if not username or username.startswith(db.SERVICE_ACCOUNT_PREFIX):
        raise InvalidRequest(f"Invalid user name {username!r}: it must be non-empty and not start with "
                             f"{db.SERVICE_ACCOUNT_PREFIX!r} (reserved for API tokens).")
    user_id, wanted = str(uuid.uuid4()), list(dict.fromkeys(groups))
    try:
        with engine.begin() as conn:
            _require_role(conn, role)
            found = dict(conn.execute(sa.select(db.groups.c.name, db.groups.c.id)
                                      .where(db.groups.c.name.in_(wanted))).all())
            if missing := [name for name in wanted if name not in found]:
                raise InvalidRequest(f"Unknown group(s) {', '.join(map(repr, missing))}: create them first.")
            conn.execute(db.users.insert().values(
                id=user_id, username=username, email=email, first_name=first_name, last_name=last_name,
                role=role, created_at=datetime.now(UTC), is_service_account=False))
            for name in wanted:
                conn.execute(db.user_groups.insert().values(user_id=user_id, group_id=found[name]))
    except sa.exc.IntegrityError:
        raise InvalidRequest(f"A user named {username!r} already exists.") from None
    return user_id


def create_group(engine: Engine, name: str, alias: str | None = None) -> str:
    """Create a group (its alias, the display name, defaults to the name); returns its id."""
    if not name:
        raise InvalidRequest("A group needs a non-empty name.")
    group_id = str(uuid.uuid4())
    try:
        with engine.begin() as conn:
            conn.execute(db.groups.insert().values(id=group_id, name=name, alias=alias or name))
    except sa.exc.IntegrityError:
        raise InvalidRequest(f"A group named {name!r} already exists.") from None
    return group_id


# ---- listings: a subset of Atlan's filter language, over whitelisted fields only -------------------------

_EXAMPLE = '{"name":{"$ilike":"$%"}}'


def _compile_filter(spec: _Filter, fields: Mapping[str, Any]) -> sa.ColumnElement[bool]:
    if spec is None or spec == "":
        return sa.true()
    if isinstance(spec, str):
        try:
            spec = jsontext.loads(spec, "The filter")
        except ValueError as exc:
            raise InvalidRequest(f"The filter is not valid JSON ({exc}); expected e.g. {_EXAMPLE}.") from None
    return _clause(spec, fields)


def _clause(spec: Any, fields: Mapping[str, Any]) -> sa.ColumnElement[bool]:
    if not isinstance(spec, Mapping):
        raise InvalidRequest(f"A filter must be a JSON object such as {_EXAMPLE}.")
    parts = []
    for key, value in spec.items():
        if key in ("$and", "$or"):  # pyatlan's group.get_by_name sends {"$and":[...]}
            if not isinstance(value, list) or not value:
                raise InvalidRequest(f"Filter operator {key!r} takes a non-empty list of filter objects.")
            inner = [_clause(item, fields) for item in value]
            parts.append(sa.and_(*inner) if key == "$and" else sa.or_(*inner))
        elif key.startswith("$"):
            raise InvalidRequest(f"Unsupported filter operator {key!r}: combine conditions with $and or $or.")
        elif key not in fields:
            raise InvalidRequest(f"Cannot filter on {key!r}: the fields are {', '.join(sorted(fields))}.")
        else:
            parts.append(_condition(fields[key], key, value))
    return sa.and_(sa.true(), *parts)


def _text(field: str, value: Any) -> str:
    if not isinstance(value, str):
        raise InvalidRequest(f"Filter values must be strings; {field!r} got {json.dumps(value)}.")
    return value


def _condition(column: Any, field: str, value: Any) -> sa.ColumnElement[bool]:
    if not isinstance(value, Mapping):
        return cast(sa.ColumnElement[bool], column == _text(field, value))
    if not value:
        raise InvalidRequest(f"The filter on {field!r} has no operator; use $eq, $ilike or $in.")
    parts = []
    for op, operand in value.items():
        if op == "$eq":
            parts.append(column == _text(field, operand))
        elif op == "$ilike":  # SQL LIKE wildcards (% and _), case-insensitive on both databases
            parts.append(column.ilike(_text(field, operand)))
        elif op == "$in":
            if not isinstance(operand, list):
                raise InvalidRequest(f"$in on {field!r} takes a list of strings.")
            parts.append(column.in_([_text(field, item) for item in operand]))
        else:
            raise InvalidRequest(f"Unsupported filter operator {op!r} on {field!r}: use $eq, $ilike or $in.")
    return sa.and_(*parts)


def _order(sort: str | None, fields: Mapping[str, Any], default: str) -> list[Any]:
    order = []
    for item in (sort or default).split(","):
        key = item.strip().lstrip("+-")
        if key not in fields:
            raise InvalidRequest(f"Cannot sort on {key!r}: use one of {', '.join(sorted(fields))} "
                                 "(prefix '-' for descending).")
        order.append(fields[key].desc() if item.strip().startswith("-") else fields[key].asc())
    return order


def _list(engine: Engine, source: Any, columns: list[Any], render: Callable[[Any], dict[str, Any]], *,
          fields: Mapping[str, Any], sorts: Mapping[str, Any], default_sort: str, tiebreak: Any,
          spec: _Filter, sort: str | None, offset: int, limit: int | None, scope: Any = None) -> Page:
    if offset < 0 or (limit is not None and limit < 0):
        raise InvalidRequest("offset and limit must not be negative.")
    scope = sa.true() if scope is None else scope
    where = _compile_filter(spec, fields)
    # The id breaks ties so that pages never overlap or skip rows while a client walks them.
    order = [*_order(sort, {**fields, **sorts}, default_sort), tiebreak.asc()]
    query = sa.select(*columns).select_from(source).where(scope, where).order_by(*order).offset(offset)
    count = sa.select(sa.func.count()).select_from(source)
    with engine.connect() as conn:
        total = conn.execute(count.where(scope)).scalar_one()
        filtered = conn.execute(count.where(scope, where)).scalar_one()
        rows = conn.execute(query if limit is None else query.limit(limit)).all()
    return Page(total, filtered, [render(row) for row in rows])


def list_roles(engine: Engine, filter: _Filter = None, offset: int = 0, limit: int | None = None,
               sort: str | None = None) -> Page:
    """Roles in Atlan's shape, with how many users (service accounts included) hold each."""
    r, u = db.roles, db.users
    members = sa.select(sa.func.count()).where(u.c.role == r.c.name).scalar_subquery().label("members")
    return _list(engine, r, [r, members], lambda row: {
        "id": row.id, "name": row.name, "description": row.description, "level": "workspace",
        "memberCount": str(row.members)},  # pyatlan types memberCount as a string, as Atlan sends it
        fields={"id": r.c.id, "name": r.c.name, "description": r.c.description}, sorts={},
        default_sort="name", tiebreak=r.c.id, spec=filter, sort=sort, offset=offset, limit=limit)


def list_users(engine: Engine, filter: _Filter = None, offset: int = 0, limit: int | None = None,
               sort: str | None = None) -> Page:
    """People in Atlan's shape; API tokens' service accounts are listed by list_tokens, as in Atlan."""
    u = db.users
    fields = {"id": u.c.id, "username": u.c.username, "email": u.c.email, "firstName": u.c.first_name,
              "lastName": u.c.last_name, "workspaceRole": u.c.role}
    return _list(engine, u, [u], lambda row: {
        "id": row.id, "username": row.username, "email": row.email, "firstName": row.first_name,
        "lastName": row.last_name, "enabled": True, "workspaceRole": row.role,
        "createdTimestamp": _ms(row.created_at)},
        fields=fields, sorts={"createdTimestamp": u.c.created_at, "createdAt": u.c.created_at},
        default_sort="username", tiebreak=u.c.id, spec=filter, sort=sort, offset=offset, limit=limit,
        scope=u.c.is_service_account.is_(False))


def list_groups(engine: Engine, filter: _Filter = None, offset: int = 0, limit: int | None = None,
                sort: str | None = None) -> Page:
    """Groups in Atlan's (v2) shape."""
    g, ug = db.groups, db.user_groups
    members = sa.select(sa.func.count()).where(ug.c.group_id == g.c.id).scalar_subquery().label("members")
    return _list(engine, g, [g, members], lambda row: {
        "id": row.id, "name": row.name, "alias": row.alias, "path": f"/{row.name}",
        "attributes": {"alias": [row.alias] if row.alias else []}, "userCount": row.members},
        fields={"id": g.c.id, "name": g.c.name, "alias": g.c.alias}, sorts={},
        default_sort="name", tiebreak=g.c.id, spec=filter, sort=sort, offset=offset, limit=limit)


def _token_record(row: Any) -> dict[str, Any]:
    created = _ms(row.created_at)
    return {"id": row.id, "clientId": row.name, "displayName": row.name, "username": row.username,
            "workspaceRole": row.role, "createdAt": created, "lastUsedAt": _ms(row.last_used_at),
            "revoked": row.revoked,
            "attributes": {"clientId": row.name, "displayName": row.name, "createdAt": created,
                           "createdBy": db.ADMIN_USERNAME, "description": ""}}


def list_tokens(engine: Engine, filter: _Filter = None, offset: int = 0, limit: int | None = None,
                sort: str | None = None, *, include_revoked: bool = True) -> Page:
    """Tokens in Atlan's apikeys shape, never the hash; clientId is the name (user service-account-<name>)."""
    t, u = db.api_tokens, db.users
    fields = {"id": t.c.id, "displayName": t.c.name, "clientId": t.c.name, "username": u.c.username,
              "workspaceRole": u.c.role}
    columns = [t.c.id, t.c.name, t.c.created_at, t.c.last_used_at, t.c.revoked, u.c.username, u.c.role]
    return _list(engine, t.join(u, u.c.id == t.c.user_id), columns, _token_record,
                 fields=fields, sorts={"createdAt": t.c.created_at}, default_sort="displayName",
                 tiebreak=t.c.id, spec=filter, sort=sort, offset=offset, limit=limit,
                 scope=None if include_revoked else t.c.revoked.is_(False))


def whoami(engine: Engine, principal: Principal) -> dict[str, Any]:
    """The caller in Atlan's whoami shape; pyatlan reads `roles` to pick /workflows or /package-workflows."""
    u, r, g = db.users, db.roles, db.groups
    with engine.connect() as conn:
        user = conn.execute(sa.select(u).where(u.c.id == principal.user_id)).first()
        held = conn.execute(sa.select(r.c.id, r.c.name).where(r.c.name.in_(principal.roles))
                            .order_by(r.c.name)).all()
        member_of = conn.execute(sa.select(g).where(g.c.name.in_(principal.groups)).order_by(g.c.name)).all()
    return {
        "id": principal.user_id, "username": principal.username, "email": user.email if user else None,
        "firstName": user.first_name if user else None, "lastName": user.last_name if user else None,
        "enabled": True, "roles": [{"id": row.id, "name": row.name} for row in held],
        "groups": [{"id": row.id, "name": row.name, "alias": row.alias, "path": f"/{row.name}"}
                   for row in member_of],
    }

"""Atlan tags on assets: putting them on, taking them off, propagating them, reading them back.

What for: pyatlan's `add_atlan_tags` / `remove_atlan_tag(s)` (entity/bulk with addOrUpdateClassifications and
removeClassifications), `classifications` in entity/bulk, Atlas's classification endpoints, the UI's chips and
facet, and the search by tag (`__traitNames`, `__propagatedTraitNames`: see `gazetteer.assets.search_fields`).
Rows live in `asset_tags`, never in an asset's JSON, so a crawl never touches them.

Propagation, as Atlan does it: a tag put on with `propagate` reaches what is beneath the asset (a table's columns)
unless `restrict_hierarchy`, and what lineage computes from it (downstream, through Process outputs) unless
`restrict_lineage`, and on from there; at most `PROPAGATION_LIMIT` assets per assignment, nearest first.
Propagated rows are derived: `refresh` recomputes one assignment's, and a crawl's commit (`refresh_all`)
recomputes every propagating assignment's, so new columns of a tagged table and new lineage get the tag. When the
asset carrying the tag is archived, its propagated copies go, unless `remove_on_delete` was turned off.
Who may: the same as editing the asset (`auth.permissions`, EDIT_ASSET).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from gazetteer.assets import history
from gazetteer.assets.facets import Bucket, Facet
from gazetteer.assets.search_cache import cache_for, request_key
from gazetteer.assets.search_fields import AssetFields, canonical_types
from gazetteer.assets.service import connection_attributes
from gazetteer.assets.tag_defs import TagDef, tags_named
from gazetteer.auth.permissions import Action, authorize
from gazetteer.auth.principal import Principal
from gazetteer.errors import InvalidRequest, NotFound
from gazetteer.search import Query, SearchRequest, TermsAgg, compile_query
from gazetteer.store.generation import bump_generation, current_generation
from gazetteer.store.schema import asset_tags, assets, tag_defs

__all__ = ["TagOptions", "TagEdit", "AssetTag", "PROPAGATION_LIMIT", "MAX_TAGS_PER_ASSET", "apply_edit",
           "edit_tags", "refresh", "refresh_all", "refresh_beneath", "tags_of", "tags_by_guid", "tag_facet"]

PROPAGATION_LIMIT = 10_000  # assets one assignment reaches (besides its own)
MAX_TAGS_PER_ASSET = 50  # tags one request may name for one asset
_CHUNK = 2000


@dataclass(frozen=True, slots=True)
class TagOptions:
    """How a tag is put on an asset: Atlan's propagate, removePropagationsOnEntityDelete,
    restrictPropagationThroughLineage and restrictPropagationThroughHierarchy."""

    propagate: bool = False
    remove_on_delete: bool = True
    restrict_lineage: bool = False
    restrict_hierarchy: bool = False


@dataclass(frozen=True, slots=True)
class TagEdit:
    """What a request asks of one asset's tags (by internal or display name): tags to put on (or change the
    options of), tags to take off, or (`replace`, not None) the whole set it carries directly. As in Atlas, the
    whole set replaces an existing asset's only when asked to (`replace_existing`: replaceTags); a new asset takes
    it anyway."""

    add: tuple[tuple[str, TagOptions], ...] = ()
    remove: tuple[str, ...] = ()
    replace: tuple[tuple[str, TagOptions], ...] | None = None
    replace_existing: bool = False

    def __bool__(self) -> bool:
        return bool(self.add or self.remove or self.replace is not None)

    def for_existing(self) -> TagEdit:
        """The edit for an asset that existed before the request."""
        return self if self.replace_existing else TagEdit(self.add, self.remove)


@dataclass(frozen=True, slots=True)
class AssetTag:
    """A tag on an asset as read: the tag, how it was put on, and the asset it was put on (itself when direct)."""

    tag: TagDef
    options: TagOptions
    source_guid: str
    source_status: str
    propagated: bool


def _direct(conn: Connection, asset_id: int) -> dict[int, Any]:
    """The rows of the tags put on the asset itself, by tag id."""
    rows = conn.execute(sa.select(asset_tags).where(asset_tags.c.asset_id == asset_id,
                                                    asset_tags.c.source_asset_id == asset_id))
    return {row.tag_id: row for row in rows}


def _display_names(conn: Connection, tag_ids: Iterable[int]) -> list[str]:
    ids = list(tag_ids)
    if not ids:
        return []
    return sorted(conn.execute(sa.select(tag_defs.c.display_name).where(tag_defs.c.id.in_(ids))).scalars())


def apply_edit(conn: Connection, row: Any, edit: TagEdit, principal: Principal, agent: str, *,
               where: str = "asset") -> bool:
    """Apply `edit` to the asset `row` (its tags, then what they propagate) and record it in the asset's history;
    whether anything changed. The caller commits and bumps the catalog's generation."""
    if not edit:
        return False
    connection = row.connection_qualified_name
    authorize(principal, Action.EDIT_ASSET, connection_attributes(conn, connection) or {"name": connection},
              what=f"in connection {connection!r}")
    named = [name for name, _ in (*edit.add, *(edit.replace or ()))] + list(edit.remove)
    if len(named) > MAX_TAGS_PER_ASSET:
        raise InvalidRequest(f"{where}: at most {MAX_TAGS_PER_ASSET} tags per asset in one request")
    tags = tags_named(conn, named, where)
    direct = _direct(conn, row.id)
    wanted: dict[int, TagOptions | None] = {}  # tag id → options to put on, None to take off
    if edit.replace is not None:
        wanted = dict.fromkeys(direct)
        wanted.update({tags[name].id: options for name, options in edit.replace})
    for name in edit.remove:
        if tags[name].id not in direct:
            raise NotFound(f"{where}: {row.qualified_name!r} does not carry the tag {tags[name].display_name!r} "
                           "(a tag propagated to it is taken off the asset it was put on)")
        wanted[tags[name].id] = None
    wanted.update({tags[name].id: options for name, options in edit.add})
    now = datetime.now(UTC)
    changed = False
    for tag_id, options in wanted.items():
        old = direct.get(tag_id)
        if options is None:
            if old is None:
                continue  # a replace that names a tag the asset never carried
            conn.execute(asset_tags.delete().where(asset_tags.c.id == old.id))
        elif old is None:
            conn.execute(asset_tags.insert().values(asset_id=row.id, tag_id=tag_id, source_asset_id=row.id,
                                                    created_by=principal.username, created_at=now,
                                                    **_columns(options)))
        elif _options_of(old) != options:
            conn.execute(asset_tags.update().where(asset_tags.c.id == old.id).values(**_columns(options)))
        else:
            continue
        changed = True
        refresh(conn, row.id, tag_id)
    if changed and history.recording():
        after = _direct(conn, row.id)
        history.record_tags(conn, history.Author(principal.username, agent), row,
                            _display_names(conn, direct), _display_names(conn, after))
    return changed


def edit_tags(engine: Engine, principal: Principal, edit: TagEdit, *, guid: str | None = None,
              type_name: str | None = None, qualified_name: str | None = None, agent: str = "api") -> None:
    """Apply `edit` to one active asset, by guid or by type and qualified name (Atlas's classification
    endpoints, the UI)."""
    with engine.begin() as conn:
        if guid is not None:
            row = conn.execute(sa.select(assets).where(assets.c.guid == guid)).first()
            if row is None:
                raise NotFound(f"Given instance guid {guid} is invalid/not found")
        else:
            row = conn.execute(sa.select(assets).where(assets.c.qualified_name == qualified_name,
                                                       assets.c.type_name == type_name,
                                                       assets.c.status == "ACTIVE")).first()
            if row is None:
                raise NotFound(f"Instance {type_name} with unique attribute {{qualifiedName={qualified_name}}} "
                               "does not exist")
        if apply_edit(conn, row, edit, principal, agent, where=f"asset {row.qualified_name!r}"):
            bump_generation(conn)  # last: cached searches by tag must see it (gazetteer.store.generation)


def _columns(options: TagOptions) -> dict[str, bool]:
    return {"propagate": options.propagate, "remove_on_delete": options.remove_on_delete,
            "restrict_lineage": options.restrict_lineage, "restrict_hierarchy": options.restrict_hierarchy}


def _options_of(row: Any) -> TagOptions:
    return TagOptions(bool(row.propagate), bool(row.remove_on_delete), bool(row.restrict_lineage),
                      bool(row.restrict_hierarchy))


def refresh(conn: Connection, source_id: int, tag_id: int) -> None:
    """Recompute where the tag `tag_id` put on the asset `source_id` has propagated."""
    direct = conn.execute(sa.select(asset_tags).where(asset_tags.c.asset_id == source_id,
                                                      asset_tags.c.source_asset_id == source_id,
                                                      asset_tags.c.tag_id == tag_id)).first()
    source = conn.execute(sa.select(assets.c.id, assets.c.qualified_name, assets.c.status)
                          .where(assets.c.id == source_id)).first()
    propagated = sa.and_(asset_tags.c.source_asset_id == source_id, asset_tags.c.tag_id == tag_id,
                         asset_tags.c.asset_id != source_id)
    if direct is not None and source is not None and source.status != "ACTIVE" and not direct.remove_on_delete:
        return  # the copies outlive the archived asset, as they were, as asked
    reached: list[int] = []
    if direct is not None and source is not None and direct.propagate and source.status == "ACTIVE":
        reached = _reach(conn, source.qualified_name, hierarchy=not direct.restrict_hierarchy,
                         lineage=not direct.restrict_lineage)
    have = set(conn.execute(sa.select(asset_tags.c.asset_id).where(propagated)).scalars())
    gone = sorted(have - set(reached))
    for chunk in _chunks(gone):
        conn.execute(asset_tags.delete().where(propagated, asset_tags.c.asset_id.in_(chunk)))
    new = [asset_id for asset_id in reached if asset_id not in have]
    if new:
        assert direct is not None  # something is reached only from a tag put on
        values = {"tag_id": tag_id, "source_asset_id": source_id, "created_by": direct.created_by,
                  "created_at": datetime.now(UTC), **_columns(_options_of(direct))}
        for chunk in _chunks(new):
            conn.execute(asset_tags.insert(), [{**values, "asset_id": asset_id} for asset_id in chunk])


def _reach(conn: Connection, start: str, *, hierarchy: bool, lineage: bool) -> list[int]:
    """The ids of the active assets beneath `start` and downstream of it (and on from those), nearest first, at
    most PROPAGATION_LIMIT."""
    seen = {start}
    found: list[int] = []
    frontier = [start]
    while frontier and len(found) < PROPAGATION_LIMIT:
        following: set[str] = set()
        for chunk in _chunks(frontier):
            if lineage:
                following.update(name for names in history.outputs(conn, chunk).values() for name in names)
            if hierarchy:
                following.update(conn.execute(sa.select(assets.c.qualified_name).where(
                    assets.c.parent_qualified_name.in_(chunk), assets.c.status == "ACTIVE")).scalars())
        frontier = sorted(following - seen)
        seen.update(frontier)
        for chunk in _chunks(frontier):
            found.extend(conn.execute(sa.select(assets.c.id).where(assets.c.qualified_name.in_(chunk),
                                                                  assets.c.status == "ACTIVE")
                                      .order_by(assets.c.qualified_name)).scalars())
    return found[:PROPAGATION_LIMIT]


def refresh_all(conn: Connection) -> None:
    """Recompute every propagating assignment's reach (after a crawl: new columns, new lineage, archived assets),
    and drop the copies of assignments that stopped propagating."""
    copy = asset_tags.alias("copy")
    has_copies = sa.exists().where(copy.c.source_asset_id == asset_tags.c.source_asset_id,
                                   copy.c.tag_id == asset_tags.c.tag_id, copy.c.asset_id != copy.c.source_asset_id)
    sources = conn.execute(sa.select(asset_tags.c.source_asset_id, asset_tags.c.tag_id).where(
        asset_tags.c.asset_id == asset_tags.c.source_asset_id, sa.or_(asset_tags.c.propagate, has_copies))
        .order_by(asset_tags.c.id)).all()
    for source_id, tag_id in sources:
        refresh(conn, source_id, tag_id)


def refresh_beneath(conn: Connection, qualified_name: str) -> None:
    """Recompute the propagating assignments on the ancestors of a new asset (a column created under a tagged
    table); lineage sent through the API reaches its outputs at the next crawl's `refresh_all`."""
    parts = qualified_name.split("/")
    ancestors = ["/".join(parts[:i]) for i in range(1, len(parts))]
    sources = conn.execute(sa.select(asset_tags.c.source_asset_id, asset_tags.c.tag_id)
                           .join(assets, assets.c.id == asset_tags.c.source_asset_id)
                           .where(assets.c.qualified_name.in_(ancestors), asset_tags.c.propagate,
                                  asset_tags.c.asset_id == asset_tags.c.source_asset_id)).all()
    for source_id, tag_id in sources:
        refresh(conn, source_id, tag_id)


def tags_of(conn: Connection, asset_ids: Sequence[int]) -> dict[int, list[AssetTag]]:
    """The tags on each of these assets, direct ones first, then by display name."""
    source = assets.alias("source")
    rows: list[Any] = []
    for chunk in _chunks(list(asset_ids)):
        rows += conn.execute(
            sa.select(asset_tags, source.c.guid.label("source_guid"), source.c.status.label("source_status"))
            .join(source, source.c.id == asset_tags.c.source_asset_id)
            .where(asset_tags.c.asset_id.in_(chunk))).all()
    if not rows:
        return {}
    defs = {row.id: TagDef.of(row) for row in conn.execute(
        sa.select(tag_defs).where(tag_defs.c.id.in_({row.tag_id for row in rows})))}
    found: dict[int, list[AssetTag]] = defaultdict(list)
    for row in rows:
        found[row.asset_id].append(AssetTag(defs[row.tag_id], _options_of(row), row.source_guid, row.source_status,
                                            row.source_asset_id != row.asset_id))
    for tags in found.values():
        tags.sort(key=lambda tag: (tag.propagated, tag.tag.display_name.casefold(), tag.source_guid))
    return found


def tag_facet(engine: Engine, query: Query, size: int) -> Facet:
    """How many assets matching `query` carry each tag (directly or propagated), most first: the search page's
    Tags facet. Driven from `asset_tags`, which is small beside `assets`, so it costs what the tagged hits cost;
    kept in the search cache until the catalog changes, like the other facets."""
    request = SearchRequest(size=0, query=query, aggregations=(TermsAgg("tag", "__classificationNames", size),))
    facets_key = request_key(request)  # None when the query is relative to the clock
    key = None if facets_key is None else ("tags", facets_key)  # apart from a search's own facets
    cache = cache_for(engine)
    with engine.connect() as conn:
        generation, pages = current_generation(conn)  # first: what is read below is at least this new
        cached = cache.get((generation, key), pages) if key is not None else None
        if cached is not None:
            return cast(Facet, cached)
        where = compile_query(canonical_types(query), AssetFields(conn))
        count = sa.func.count(sa.distinct(asset_tags.c.asset_id))
        rows = conn.execute(sa.select(tag_defs.c.display_name, count)
                            .select_from(asset_tags.join(tag_defs, tag_defs.c.id == asset_tags.c.tag_id)
                                         .join(assets, assets.c.id == asset_tags.c.asset_id))
                            .where(where).group_by(tag_defs.c.display_name)
                            .order_by(count.desc(), tag_defs.c.display_name)).all()
    facet = Facet(tuple(Bucket(name, int(n)) for name, n in rows[:size]), sum(int(n) for _, n in rows[size:]))
    if key is not None:
        cache.put((generation, key), facet, pages)
    return facet


def tags_by_guid(engine: Engine, guids: Sequence[str]) -> Mapping[str, list[AssetTag]]:
    """The tags on the assets with these guids (those without tags left out). A catalog without any tag pays one
    look-up of the empty `asset_tags` for it, not a read of the assets."""
    if not guids:
        return {}
    with engine.connect() as conn:
        if conn.execute(sa.select(asset_tags.c.id).limit(1)).first() is None:
            return {}
        target = assets.alias("target")
        ids: dict[int, str] = {}
        for chunk in _chunks(list(guids)):
            ids.update((row.id, row.guid) for row in conn.execute(
                sa.select(target.c.id, target.c.guid).where(target.c.guid.in_(chunk),
                                                            sa.exists().where(asset_tags.c.asset_id == target.c.id))))
        return {ids[asset_id]: tags for asset_id, tags in tags_of(conn, list(ids)).items()}


def _chunks(items: Sequence[Any]) -> Iterable[Sequence[Any]]:
    for start in range(0, len(items), _CHUNK):
        yield items[start : start + _CHUNK]

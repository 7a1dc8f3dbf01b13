"""What the asset search's field names mean in SQL: Atlan's `__` fields, columns, and JSON attributes.

What for: `gazetteer.assets.search` hands `AssetFields` to the shared compiler. Fields backed by an indexed
column (`__typeName`, `__state`, `__guid`, `qualifiedName`, `name`, `connectionQualifiedName`,
`schemaQualifiedName`, timestamps) compile to that column; every other camelCase name is read from the
attributes JSON (curated values first, for what people edit), typed by `ATTRIBUTE_KINDS`.
"""

from __future__ import annotations

import dataclasses
import functools
import re
from collections.abc import Sequence
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy import ColumnElement
from sqlalchemy.dialects.postgresql import JSONB

from gazetteer.assets.fulltext import FullTextMatcher
from gazetteer.assets.meanings import has_term
from gazetteer.assets.ranking import POPULARITY, VIEWS
from gazetteer.assets.records import ASSET_TYPES, GLOSSARY_TYPES, LINEAGE_TYPES
from gazetteer.errors import InvalidRequest
from gazetteer.search import (
    Bool,
    FullText,
    Nested,
    Prefix,
    Query,
    Regexp,
    ResolvedField,
    Term,
    Terms,
    Wildcard,
    compile_query,
)
from gazetteer.store.schema import asset_tags, assets, lineage_edges, tag_defs

__all__ = ["AssetFields", "CURATED_ATTRIBUTES", "ATTRIBUTE_KINDS", "SUPER_TYPES", "HAS_LINEAGE", "canonical_types"]

# What people edit through the API or the UI; stored in `assets.curated`, never written by a crawl.
CURATED_ATTRIBUTES = (
    "userDescription", "description", "displayName", "ownerUsers", "ownerGroups",
    "certificateStatus", "certificateStatusMessage", "certificateUpdatedBy", "certificateUpdatedAt",
    "announcementTitle", "announcementMessage", "announcementType", "announcementUpdatedBy",
    "announcementUpdatedAt",
)
ATTRIBUTE_KINDS: dict[str, str] = {
    **dict.fromkeys(("order", "columnCount", "rowCount", "sizeBytes", "objectCount", "tableCount", "schemaCount",
                     "viewsCount", "partitionCount", "partitionOrder", "rowLimit"), "integer"),
    "averageRecordSize": "number",
    **dict.fromkeys(("sourceCreatedAt", "sourceUpdatedAt", "certificateUpdatedAt", "announcementUpdatedAt",
                     "lastPartitionCreatedAt"),
                    "epoch_ms"),
    **dict.fromkeys(("isPartition", "isPartitioned", "isNested", "isResourceLink", "partitionProjection",
                     "allowQuery", "allowQueryPreview", "isDiscoverable", "isEditable"), "bool"),
    # assetTags: the source tags a crawl found (Glue resource tags, LF-tags) as `key=value`: a term finds them.
    **dict.fromkeys(("adminUsers", "adminGroups", "adminRoles", "ownerUsers", "ownerGroups", "assetTags"), "array"),
}
_SQL = ("Catalog", "SQL", "Asset", "Referenceable")
SUPER_TYPES: dict[str, tuple[str, ...]] = {
    **{name: _SQL for name in ASSET_TYPES},
    "Connection": ("Asset", "Referenceable"),
    "S3Object": ("S3", "ObjectStore", "AWS", "Catalog", "Asset", "Referenceable"),
    "Process": ("Asset", "Referenceable"),
    "ColumnProcess": ("Process", "Asset", "Referenceable"),
    **dict.fromkeys(GLOSSARY_TYPES, ("Asset", "Referenceable")),
}
# Atlan's `__hasLineage`: a process, or an asset some active process reads or writes (lineage_edges holds
# only active processes' references).
HAS_LINEAGE: ColumnElement[bool] = sa.or_(
    assets.c.type_name.in_(LINEAGE_TYPES),
    sa.exists().where(lineage_edges.c.asset_qualified_name == assets.c.qualified_name))
# Atlan tag fields and which tags they hold: put on the asset itself (True), propagated to it (False), either (None).
_TAG_FIELDS: dict[str, bool | None] = {"__traitNames": True, "__propagatedTraitNames": False,
                                       "__classificationNames": None, "__propagatedClassificationNames": False,
                                       "classificationNames": None}
_TYPE_FIELDS = {"__typeName", "__typeName.keyword"}
_TERM_TEXT = ("__meaningsText", "__meaningNames")
_SUPER_FIELDS = {"__superTypeNames", "__superTypeNames.keyword"}
_PARENT_FIELDS = {"tableQualifiedName", "tableQualifiedName.keyword", "viewQualifiedName",
                  "viewQualifiedName.keyword"}
_CAMEL = re.compile(r"[a-z][A-Za-z0-9]*")
# What PostgreSQL casts without failing: 18 digits always fit in a bigint, and these floats in a double.
_INTEGER = "^-?[0-9]{1,18}$"
_FLOAT = r"^-?[0-9]{1,200}(\.[0-9]+)?([eE][-+]?[0-9]{1,2})?$"


def _text(expr: ColumnElement[Any]) -> ResolvedField:
    return ResolvedField(expr)


_COLUMNS: dict[str, ResolvedField] = {
    # Type names are canonicalised before compiling (`canonical_types`), so an index can serve them.
    "__typeName": _text(assets.c.type_name),
    "__state": _text(assets.c.status),
    "__guid": _text(assets.c.guid),
    "__qualifiedName": _text(assets.c.qualified_name),
    "qualifiedName": _text(assets.c.qualified_name),
    "name": _text(assets.c.name),
    "connectionQualifiedName": _text(assets.c.connection_qualified_name),
    "schemaQualifiedName": _text(assets.c.schema_qualified_name),
    "__parentQualifiedName": _text(assets.c.parent_qualified_name),  # the table of a column, the schema of a table
    "__timestamp": ResolvedField(assets.c.created_at, kind="datetime"),
    "__modificationTimestamp": ResolvedField(assets.c.updated_at, kind="datetime"),
    "__createdBy": _text(assets.c.created_by),
    "__modifiedBy": _text(assets.c.updated_by),
    # Labels are not kept: these match nothing (and `must_not` keeps everything). Tags: `_TAG_FIELDS`.
    **{name: _text(sa.null()) for name in ("__labels", "__customAttributes")},
    # Terms (gazetteer.assets.meanings): by the term's qualifiedName, as Atlan indexes them, or by its name.
    "__meanings": ResolvedField(sa.null(), is_array=True, sortable=False, member=has_term("qualified_name")),
    **{name: ResolvedField(sa.null(), is_array=True, sortable=False, member=has_term("name", ignore_case=True))
       for name in _TERM_TEXT},
    # A category's or term's glossary, a category's parent (gazetteer.assets.glossary says where they are kept).
    "__glossary": _text(assets.c.schema_qualified_name),
    "__parentCategory": _text(assets.c.parent_qualified_name),
    "__hasLineage": ResolvedField(HAS_LINEAGE, kind="bool"),
}


def canonical_types(query: Query) -> Query:
    """`query` rewritten for the indexes: type names spelt as stored, parents by their column.

    Atlan compares type names case-insensitively (pyatlan's find_connections_by_name sends CONNECTION);
    `__superTypeNames` terms become the type names that have that super type; a term on
    `tableQualifiedName` / `viewQualifiedName` (only columns have them) becomes one on the parent.
    """
    if isinstance(query, Bool):
        kids: dict[str, Any] = {key: tuple(canonical_types(q) for q in getattr(query, key))
                for key in ("must", "filter", "should", "must_not")}
        return dataclasses.replace(query, **kids)
    if isinstance(query, Nested):
        return dataclasses.replace(query, query=canonical_types(query.query))
    if isinstance(query, FullText) and query.fields and set(query.fields) <= set(_TERM_TEXT):
        # pyatlan's Asset.ASSIGNED_TERMS.match(name): a term's name (any case), not the full-text index.
        return Term("__meaningsText", query.text.strip(), at=query.at)
    field = getattr(query, "field", None)
    if field in _TYPE_FIELDS and isinstance(query, (Term, Terms)):
        values: tuple[Any, ...] | set[str] = (query.value,) if isinstance(query, Term) else query.values
        return Terms("__typeName", tuple(_type_name(v) for v in values), at=query.at)
    if field in _TYPE_FIELDS and isinstance(query, (Prefix, Wildcard, Regexp)):
        return dataclasses.replace(query, field="__typeName", case_insensitive=True)
    if field in _SUPER_FIELDS and isinstance(query, (Term, Terms)):
        values = {str(v).lower() for v in ((query.value,) if isinstance(query, Term) else query.values)}
        names = tuple(name for name, supers in SUPER_TYPES.items()
                      if name.lower() in values or values & {s.lower() for s in supers})
        return Terms("__typeName", names, at=query.at)
    if field in _SUPER_FIELDS:
        raise InvalidRequest(f"only term and terms are supported on {field!r} (at {query.at})")
    if field in _PARENT_FIELDS and isinstance(query, (Term, Terms)) and not getattr(query, "case_insensitive", 0):
        # pyatlan's "columns of this table": the indexed parent column first, so the JSON is read for the
        # few rows it finds instead of every asset.
        values = (query.value,) if isinstance(query, Term) else query.values
        return Bool(filter=(Terms("__parentQualifiedName", tuple(values), at=query.at),
                            Term("__typeName", "Column", at=query.at), query), at=query.at)
    return query


def _type_name(value: Any) -> str:
    text = str(value)
    return next((name for name in ASSET_TYPES if name.lower() == text.lower()), text)


class AssetFields:
    """The FieldResolver of the asset search, for one connection (full text may look words up)."""

    def __init__(self, conn: sa.Connection, *, popularity: bool = False) -> None:
        """`popularity`: `_popularity` (page views) may be sorted on: the UI's searches, never the API's."""
        self.postgresql = conn.dialect.name == "postgresql"
        self.matcher = FullTextMatcher(conn)
        self.popularity = popularity

    def column(self, field: str) -> ResolvedField:
        if field == "_score":
            score = self.matcher.first.score() if self.matcher.first is not None else sa.literal(1)
            return ResolvedField(score, kind="number")
        if field == POPULARITY and self.popularity:  # the UI's sort by page views (gazetteer.assets.popularity)
            return ResolvedField(VIEWS, kind="number")
        base = field.removesuffix(".keyword")
        if base in _COLUMNS:
            return _COLUMNS[base]
        if base in _TAG_FIELDS:
            return ResolvedField(sa.null(), sortable=False, member=functools.partial(self._tagged, _TAG_FIELDS[base]))
        if not _CAMEL.fullmatch(base):
            raise InvalidRequest(f"unknown field {field!r} for asset search: use Atlan's __typeName, __state, "
                                 "__guid, __timestamp... or a camelCase attribute such as qualifiedName")
        return self.attribute(base)

    def _tagged(self, direct: bool | None, names: Sequence[str] | None) -> ColumnElement[bool]:
        """Assets carrying any of these tags (by internal or display name), or any tag (`names` None). A tag put on
        the asset itself may also be one its source holds (a Glue or LF-tag `key=value`, in `assetTags`)."""
        query = sa.select(asset_tags.c.asset_id)
        if direct is not None:
            query = query.where((asset_tags.c.asset_id == asset_tags.c.source_asset_id) if direct
                                else (asset_tags.c.asset_id != asset_tags.c.source_asset_id))
        if names is None:
            return assets.c.id.in_(query)
        tags = sa.select(tag_defs.c.id).where(sa.or_(tag_defs.c.name.in_(names), tag_defs.c.display_name.in_(names)))
        tagged = assets.c.id.in_(query.where(asset_tags.c.tag_id.in_(tags)))
        if direct is False:
            return tagged
        return sa.or_(tagged, compile_query(Terms("assetTags", tuple(names)), self))

    def full_text(self, node: FullText) -> ColumnElement[bool]:
        return self.matcher.match(node).predicate()

    def attribute(self, key: str) -> ResolvedField:
        """A JSON attribute, typed by `ATTRIBUTE_KINDS`; curated values win over crawled ones."""
        kind = ATTRIBUTE_KINDS.get(key, "text")
        if kind == "array":
            return ResolvedField(self._raw(key), is_array=True, sortable=False)
        text = self._text(key)
        if kind == "integer":
            return ResolvedField(self._cast(text, sa.BigInteger, _INTEGER), kind="number")
        if kind == "number":
            return ResolvedField(self._cast(text, sa.Float, _FLOAT), kind="number")
        if kind == "epoch_ms":
            return ResolvedField(self._cast(text, sa.BigInteger, _INTEGER), kind="datetime")
        if kind == "bool":
            # JSON true/false: SQLite's json_extract gives 1/0, PostgreSQL's ->> gives 'true'/'false'.
            return ResolvedField(self._cast(text, sa.Boolean, "^(true|false)$") if self.postgresql else text,
                                 kind="bool")
        return ResolvedField(text)

    def _cast(self, text: ColumnElement[Any], type_: Any, pattern: str) -> ColumnElement[Any]:
        """`text` as `type_`; on PostgreSQL NULL (a missing value) unless it matches `pattern`.

        Attributes are whatever the bulk API was sent: PostgreSQL fails the whole query on one value its
        CAST cannot read ('lots', or 1e30 as a bigint), where SQLite's CAST never fails.
        """
        if not self.postgresql:
            return sa.cast(text, type_)
        return sa.case((sa.type_coerce(text, sa.Text).regexp_match(pattern), sa.cast(text, type_)), else_=sa.null())

    def _text(self, key: str) -> ColumnElement[Any]:
        crawled = self._json_text(assets.c.attributes, key)
        if key in CURATED_ATTRIBUTES:
            return sa.func.coalesce(self._json_text(assets.c.curated, key), crawled)
        return crawled

    def _json_text(self, column: Any, key: str) -> ColumnElement[Any]:
        if self.postgresql:
            return cast(ColumnElement[Any], column.op("->>")(sa.literal_column(f"'{key}'")).self_group())
        return sa.func.json_extract(column, f'$."{key}"', type_=sa.Text)

    def _raw(self, key: str) -> ColumnElement[Any]:
        if self.postgresql:
            def one(column: Any) -> ColumnElement[Any]:
                return sa.type_coerce(column.op("->")(sa.literal_column(f"'{key}'")), JSONB)
        else:
            def one(column: Any) -> ColumnElement[Any]:
                return sa.func.json_extract(column, f'$."{key}"', type_=sa.JSON)
        crawled = one(assets.c.attributes)
        if key in CURATED_ATTRIBUTES:
            return sa.func.coalesce(one(assets.c.curated), crawled, type_=crawled.type)
        return crawled

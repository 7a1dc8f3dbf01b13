"""What a crawl needs to know of one connection's catalog to link lineage: its tables, views, columns and
locations, read once per crawl (columns per table, when first needed).

What for: the Glue package resolves the names a view's SQL or a job's script uses (`sales.orders`,
`s3://lake/sales/orders/`) to the assets it crawled, through this and nothing else of the store.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from gazetteer.assets.processes import Endpoint
from gazetteer.store.schema import assets

__all__ = ["CatalogTable", "LineageCatalog", "StoredProcess", "normalise_path"]

_CHUNK = 2000


def normalise_path(path: str) -> str:
    """An S3 location as compared: s3a:// and s3n:// are s3://, no trailing slash."""
    for scheme in ("s3a://", "s3n://"):
        if path.startswith(scheme):
            path = "s3://" + path[len(scheme):]
    return path.rstrip("/")


@dataclass(frozen=True, slots=True)
class CatalogTable:
    """A crawled table or view: where it is in Glue, and its asset (`attributes`: a view's only)."""

    database: str
    name: str
    endpoint: Endpoint
    location: str | None
    attributes: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class StoredProcess:
    """A process as the catalog has it: the digest of what it was derived from, the qualified names of its
    inputs, the names it could not resolve (`unresolvedInputs`), and its active column processes."""

    source_hash: str | None
    inputs: tuple[str, ...]
    unresolved: tuple[str, ...]
    children: tuple[str, ...]


class LineageCatalog:
    """The active tables and views of one connection, by Glue database and name, and by S3 location."""

    def __init__(self, engine: Engine, connection_qualified_name: str) -> None:
        self._engine = engine
        self._connection = connection_qualified_name
        self._index: dict[tuple[str, str], CatalogTable] | None = None
        self._by_name: dict[str, CatalogTable] = {}
        self._by_location: list[tuple[str, CatalogTable]] = []
        self._at: dict[str, list[CatalogTable]] = {}
        self._columns: dict[str, dict[str, Endpoint]] = {}

    def _read(self, *, views_only: bool) -> Iterator[CatalogTable]:
        # The whole attributes of views (their SQL); of tables only the location: a catalog of 100,000 tables
        # without a view or a job needs no more than that to be linked.
        location = assets.c.attributes["externalLocation"].as_string()
        attributes = assets.c.attributes if views_only else sa.null()
        query = sa.select(assets.c.type_name, assets.c.guid, assets.c.qualified_name, assets.c.name,
                          assets.c.schema_qualified_name, location.label("location"),
                          attributes.label("attributes")).where(
            assets.c.connection_qualified_name == self._connection, assets.c.status == "ACTIVE",
            assets.c.type_name.in_(("View",) if views_only else ("Table", "View")))
        with self._engine.connect() as conn:
            for row in conn.execute(query):
                yield CatalogTable((row.schema_qualified_name or "").rsplit("/", 1)[-1], row.name,
                                   Endpoint(row.type_name, row.guid, row.qualified_name),
                                   normalise_path(row.location) if isinstance(row.location, str) else None,
                                   row.attributes or {})

    def _tables(self) -> dict[tuple[str, str], CatalogTable]:
        """The tables and views by (database, name), read when first needed."""
        if self._index is None:
            self._index = {(t.database.lower(), t.name.lower()): t for t in self._read(views_only=False)}
            self._by_name = {t.endpoint.qualified_name: t for t in self._index.values()}
            # Sorted by location, for `under`'s binary search; and by location, for `containing`'s look-ups.
            self._by_location = sorted(((t.location, t) for t in self._index.values() if t.location),
                                       key=lambda item: item[0])
            for location, table in self._by_location:
                self._at.setdefault(location, []).append(table)
        return self._index

    def table(self, database: str, name: str) -> CatalogTable | None:
        return self._tables().get((database.lower(), name.lower()))

    def by_qualified_name(self, qualified_name: str) -> CatalogTable | None:
        self._tables()
        return self._by_name.get(qualified_name)

    def views(self) -> list[CatalogTable]:
        """The connection's views, with their attributes (SQL, dialect)."""
        return list(self._read(views_only=True))

    def columns(self, table: CatalogTable) -> dict[str, Endpoint]:
        """The table's own (top-level) active columns by lower-case name, in their order."""
        qualified_name = table.endpoint.qualified_name
        if qualified_name not in self._columns:
            nested_in = assets.c.attributes["parentColumnQualifiedName"].as_string()  # a field of a struct column
            query = (sa.select(assets.c.guid, assets.c.qualified_name, assets.c.name, nested_in.label("nested_in"))
                     .where(assets.c.parent_qualified_name == qualified_name, assets.c.type_name == "Column",
                            assets.c.status == "ACTIVE")
                     .order_by(sa.func.coalesce(assets.c.attributes["order"].as_integer(), 0), assets.c.name))
            with self._engine.connect() as conn:
                self._columns[qualified_name] = {
                    row.name.lower(): Endpoint("Column", row.guid, row.qualified_name)
                    for row in conn.execute(query) if not row.nested_in}
        return self._columns[qualified_name]

    def containing(self, path: str) -> list[CatalogTable]:
        """The tables whose location holds `path` (the location itself, or a folder in it); failing that,
        those whose location is inside `path` (a job reading a whole folder of tables)."""
        path = normalise_path(path)
        self._tables()
        holding: list[CatalogTable] = []
        folder = path
        while "/" in folder.removeprefix("s3://"):  # the path, then each folder above it up to the bucket
            holding += self._at.get(folder, [])
            folder = folder.rsplit("/", 1)[0]
        return holding + self._at.get(folder, []) or self.under(path)

    def under(self, path: str) -> list[CatalogTable]:
        """The tables whose location is `path` or inside it."""
        path = normalise_path(path)
        self._tables()
        found = []
        for location, table in self._by_location[bisect.bisect_left(self._by_location, (path,)):]:
            if not location.startswith(path):
                break
            if location == path or location.startswith(path + "/"):
                found.append(table)
        return found

    def stored_processes(self, qualified_names: Iterable[str]) -> dict[str, StoredProcess]:
        """The active processes of these qualified names, with their active column processes."""
        wanted = list(qualified_names)
        children: dict[str, list[str]] = {}
        for kid in self._rows(lambda chunk: sa.select(assets.c.parent_qualified_name, assets.c.qualified_name).where(
                assets.c.parent_qualified_name.in_(chunk), assets.c.type_name == "ColumnProcess",
                assets.c.status == "ACTIVE"), wanted):
            children.setdefault(kid.parent_qualified_name, []).append(kid.qualified_name)
        found: dict[str, StoredProcess] = {}
        for row in self._rows(lambda chunk: sa.select(assets.c.qualified_name, assets.c.source_hash,
                                                      assets.c.attributes).where(
                assets.c.qualified_name.in_(chunk), assets.c.type_name == "Process", assets.c.status == "ACTIVE"),
                wanted):
            attributes = row.attributes or {}
            inputs = tuple(ref["uniqueAttributes"]["qualifiedName"] for ref in attributes.get("inputs") or ())
            found[row.qualified_name] = StoredProcess(row.source_hash, inputs,
                                                      tuple(attributes.get("unresolvedInputs") or ()),
                                                      tuple(children.get(row.qualified_name, ())))
        return found

    def endpoints(self, qualified_names: Iterable[str]) -> dict[str, Endpoint]:
        """The active assets of these qualified names (what a crawl just published, say)."""
        return {row.qualified_name: Endpoint(row.type_name, row.guid, row.qualified_name)
                for row in self._rows(lambda chunk: sa.select(
                    assets.c.type_name, assets.c.guid, assets.c.qualified_name).where(
                    assets.c.qualified_name.in_(chunk), assets.c.status == "ACTIVE"), list(qualified_names))}

    def _rows(self, query: Callable[[Sequence[str]], sa.Select[Any]], values: Sequence[str]) -> Iterator[Any]:
        """The rows of `query` for each chunk of `values` (IN lists stay well below SQLite's parameter limit)."""
        with self._engine.connect() as conn:
            for start in range(0, len(values), _CHUNK):
                yield from conn.execute(query(values[start:start + _CHUNK]))

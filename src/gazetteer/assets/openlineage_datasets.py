"""Which crawled Glue tables an OpenLineage dataset is, whichever active Glue connection crawled them.

What for: OpenLineage events (`gazetteer.assets.openlineage`) name datasets the way OpenLineage's naming spec
does, not by qualified name. A dataset is a Glue table when it is named
- as Glue: namespace `arn:aws:glue:<region>:<account>`, name `table/<database>/<table>`;
- as a metastore or Athena sees it: namespace `hive://...`, `glue://...` or
  `awsathena://athena.<region>.amazonaws.com`, name `<database>.<table>` (Athena: `<catalog>.<database>.<table>`);
- or as S3: namespace `s3://<bucket>` (or s3a, s3n), name a path: the tables whose location holds it.
Spark reports a table it read through the Glue catalog as its S3 location with a `symlinks` facet naming the
table; a symlink that names a crawled table wins over the location (which other tables may share).
A region or account in the namespace must agree with the connection's (a connection without a catalog id is
its credential's own account, which the catalog does not know: any account agrees with it).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from gazetteer.assets.lineage_catalog import CatalogTable, LineageCatalog, normalise_path
from gazetteer.assets.processes import Endpoint
from gazetteer.store.schema import assets

__all__ = ["DatasetName", "Dataset", "Found", "GlueDatasets"]

_ARN = re.compile(r"arn:aws[a-z-]*:glue:([a-z0-9-]+):(\d{12})")
_ATHENA = re.compile(r"athena\.([a-z0-9-]+)\.amazonaws\.com(?::\d+)?")
_CATALOG_SCHEMES = ("hive", "glue", "awsathena")
_S3_SCHEMES = ("s3", "s3a", "s3n")


@dataclass(frozen=True, slots=True)
class DatasetName:
    """A dataset as OpenLineage names it."""

    namespace: str
    name: str

    def __str__(self) -> str:
        """As people write it: an S3 path, a Glue table ARN, else `<namespace>:<name>`."""
        if _s3_path(self) is not None:
            return f"{self.namespace.rstrip('/')}/{self.name.lstrip('/')}"
        return f"{self.namespace}:{self.name}"


@dataclass(frozen=True, slots=True)
class Dataset:
    """An input or output of an event: its name, the tables its `symlinks` facet names, and (outputs) its
    `columnLineage` facet: each output column with the input fields (dataset, column) it is computed from."""

    name: DatasetName
    symlinks: tuple[DatasetName, ...] = ()
    columns: tuple[tuple[str, tuple[tuple[DatasetName, str], ...]], ...] = ()


@dataclass(frozen=True, slots=True)
class Found:
    """A crawled table a dataset is, and the connection that crawled it."""

    connection: str
    table: CatalogTable


@dataclass(frozen=True, slots=True)
class _Connection:
    qualified_name: str
    connector: str
    region: str | None
    account: str | None

    def serves(self, region: str | None, account: str | None) -> bool:
        return ((region is None or self.region in (None, region))
                and (account is None or self.account in (None, account)))


def _table_name(dataset: DatasetName) -> tuple[str | None, str | None, str, str] | None:
    """(region, account, database, table) of a dataset named as a catalog table, else None."""
    namespace = dataset.namespace.strip().rstrip("/")
    if arn := _ARN.fullmatch(namespace):
        kind, _, rest = dataset.name.partition("/")
        database, _, table = rest.partition("/")
        return (arn[1], arn[2], database, table) if kind == "table" and database and table and "/" not in table \
            else None
    scheme, separator, authority = namespace.partition("://")
    parts = dataset.name.split(".")
    if not separator or scheme.lower() not in _CATALOG_SCHEMES or len(parts) not in (2, 3) or not all(parts):
        return None
    athena = _ATHENA.fullmatch(authority.lower()) if scheme.lower() == "awsathena" else None
    return (athena[1] if athena else None), None, parts[-2], parts[-1]


def _s3_path(dataset: DatasetName) -> str | None:
    scheme, separator, bucket = dataset.namespace.strip().partition("://")
    if not separator or scheme.lower() not in _S3_SCHEMES or not bucket.strip("/"):
        return None
    return normalise_path(f"s3://{bucket.strip('/')}/{dataset.name.strip('/')}")


class GlueDatasets:
    """Resolves datasets against every active Glue connection; made per request, so each connection's tables
    are read at most once (and only if some dataset could be in it) and each name is looked up once."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._catalogs: dict[str, LineageCatalog] = {}
        self._found: dict[DatasetName, list[Found]] = {}
        query = (sa.select(assets.c.qualified_name, assets.c.attributes)
                 .where(assets.c.type_name == "Connection", assets.c.status == "ACTIVE",
                        assets.c.qualified_name.like("default/glue/%"))
                 .order_by(assets.c.created_at, assets.c.qualified_name))
        with engine.connect() as conn:
            self._connections = [_connection(row.qualified_name, row.attributes or {}) for row in conn.execute(query)]
        self._by_name = {connection.qualified_name: connection for connection in self._connections}

    def catalog(self, connection: str) -> LineageCatalog:
        if connection not in self._catalogs:
            self._catalogs[connection] = LineageCatalog(self._engine, connection)
        return self._catalogs[connection]

    def connector(self, connection: str) -> str:
        return self._by_name[connection].connector

    def resolve(self, dataset: Dataset) -> list[Found]:
        """The tables a dataset is: those its symlinks name, else those its own name gives. Input fields of
        column lineage name the dataset itself, never its symlinks: they resolve the same way from now on."""
        found = _unique(found for link in dataset.symlinks for found in self.named(link))
        if found:
            self._found[dataset.name] = found
            return found
        return self.named(dataset.name)

    def named(self, dataset: DatasetName) -> list[Found]:
        if dataset not in self._found:
            self._found[dataset] = self._lookup(dataset)
        return self._found[dataset]

    def column(self, found: Found, name: str) -> Endpoint | None:
        """A top-level column of a found table, by name in any case."""
        return self.catalog(found.connection).columns(found.table).get(name.lower())

    def _lookup(self, dataset: DatasetName) -> list[Found]:
        if (table := _table_name(dataset)) is not None:
            region, account, database, name = table
            return [Found(c.qualified_name, found) for c in self._connections if c.serves(region, account)
                    and (found := self.catalog(c.qualified_name).table(database, name)) is not None]
        if (path := _s3_path(dataset)) is not None:
            return [Found(c.qualified_name, found) for c in self._connections
                    for found in self.catalog(c.qualified_name).containing(path)]
        return []


def _connection(qualified_name: str, attributes: dict[str, Any]) -> _Connection:
    catalog_id = attributes.get("catalogId")
    # An S3 Tables catalog id is `<account>:s3tablescatalog/<bucket>`.
    account = catalog_id.partition(":")[0] if isinstance(catalog_id, str) and catalog_id else None
    region = attributes.get("region")
    return _Connection(qualified_name, str(attributes.get("connectorName") or "glue"),
                       region if isinstance(region, str) and region else None, account)


def _unique(found: Iterable[Found]) -> list[Found]:
    return list({(item.connection, item.table.endpoint.qualified_name): item for item in found}.values())

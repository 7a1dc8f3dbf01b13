"""Resolving the names and S3 paths a job or a view uses to a connection's tables (LineageCatalog)."""

from __future__ import annotations

from gazetteer.assets.lineage_catalog import LineageCatalog, normalise_path
from gazetteer.assets.publish import Publisher
from gazetteer.assets.records import AssetRecord

CONNECTION = "default/glue/1"


def _catalog(engine, tables: dict[str, str | None]) -> LineageCatalog:
    """A connection with these tables (`db.name` → location) in it, and another connection's table."""
    records = [AssetRecord("Connection", CONNECTION, "c", None, {})]
    for dotted, location in tables.items():
        db, name = dotted.split(".")
        schema = f"{CONNECTION}/AwsDataCatalog/{db}"
        attributes = {"connectionQualifiedName": CONNECTION, "schemaQualifiedName": schema}
        if location:
            attributes["externalLocation"] = location
        records.append(AssetRecord("Table", f"{schema}/{name}", name, schema, attributes))
    records.append(AssetRecord("Table", "default/glue/2/AwsDataCatalog/sales/orders", "orders",
                               "default/glue/2/AwsDataCatalog/sales",
                               {"connectionQualifiedName": "default/glue/2",
                                "schemaQualifiedName": "default/glue/2/AwsDataCatalog/sales",
                                "externalLocation": "s3://lake/other"}))
    Publisher(engine).publish(records)
    return LineageCatalog(engine, CONNECTION)


def _names(tables) -> list[str]:
    return sorted(f"{t.database}.{t.name}" for t in tables)


def test_paths_resolve_to_the_tables_stored_there(engine):
    catalog = _catalog(engine, {"sales.orders": "s3://lake/sales/orders/", "sales.orders_x": "s3a://lake/sales/orders-x",
                                "sales.events": "s3://lake/sales/events", "sales.nowhere": None})
    assert _names(catalog.containing("s3://lake/sales/orders")) == ["sales.orders"]
    assert _names(catalog.containing("s3://lake/sales/orders/dt=2024-01-01/part-0.parquet")) == ["sales.orders"]
    # A folder holding tables: those inside it (a sibling sharing the prefix "orders" is not inside "orders/").
    assert _names(catalog.containing("s3n://lake/sales/")) == ["sales.events", "sales.orders", "sales.orders_x"]
    assert _names(catalog.under("s3://lake/sales/orders")) == ["sales.orders"]
    assert catalog.containing("s3://lake/elsewhere") == [] and catalog.containing("s3://other-bucket") == []
    # By name, case-insensitively; another connection's tables are not this one's.
    assert catalog.table("SALES", "Orders").endpoint.qualified_name.endswith("/sales/orders")
    assert catalog.table("sales", "missing") is None
    assert catalog.containing("s3://lake/other") == []


def test_normalise_path():
    assert normalise_path("s3a://b/k/") == normalise_path("s3n://b/k") == "s3://b/k"

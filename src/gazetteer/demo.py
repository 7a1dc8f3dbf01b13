"""`gazetteer demo`: a local Glue with a sample catalog, crawled into the embedded catalog."""

from __future__ import annotations

import os

import sqlalchemy as sa
from rich.tree import Tree

from gazetteer import console
from gazetteer.settings import get_settings
from gazetteer.store import assets, open_engine

__all__ = ["run_demo", "DEMO_CONNECTION", "DEMO_REGION"]

DEMO_CONNECTION = "demo-glue"
DEMO_REGION = "us-east-1"


def _show_catalog(engine: sa.Engine, connection: str) -> None:
    query = (sa.select(assets.c.type_name, assets.c.name, assets.c.parent_qualified_name, assets.c.qualified_name,
                       assets.c.attributes)
             .where(assets.c.connection_qualified_name == connection, assets.c.status == "ACTIVE",
                    assets.c.type_name.in_(("Schema", "Table", "View")))
             .order_by(assets.c.qualified_name))
    with engine.connect() as conn:
        rows = conn.execute(query).all()
    tree = Tree(f"[bold]{DEMO_CONNECTION}[/] ({connection}) › AwsDataCatalog")
    branches = {}
    for row in rows:
        if row.type_name == "Schema":
            branches[row.qualified_name] = tree.add(f"[bold cyan]{row.name}[/] · {row.attributes.get('tableCount', 0)} "
                                                    f"tables, {row.attributes.get('viewsCount', 0)} views")
    for row in rows:
        if row.type_name != "Schema" and row.parent_qualified_name in branches:
            a = row.attributes
            facts = [row.type_name.lower(), a.get("externalLocationFormat"), f"{a.get('columnCount', 0)} columns",
                     f"{a['partitionCount']} partitions" if a.get("partitionCount") is not None else None,
                     f"{a['rowCount']:,} rows" if a.get("rowCount") is not None else None]
            branches[row.parent_qualified_name].add(f"{row.name} [dim]· {' · '.join(f for f in facts if f)}[/]")
    console.out.print(tree)


def run_demo() -> None:
    """Start the local Glue, seed it, crawl it twice (the second crawl changes nothing) and show the result."""
    from gazetteer.devtools.local_glue import LocalGlue
    from gazetteer.devtools.sample_catalog import seed_sample_catalog
    from gazetteer.packages.glue.config import parse_config
    from gazetteer.packages.glue.crawl import crawl

    settings = get_settings()
    engine = open_engine(settings.effective_database_url)
    console.out.print("[bold]Gazetteer demo[/]: starting a local Glue endpoint (moto) with a sample catalog…")
    with LocalGlue() as glue:
        seed_sample_catalog(glue.client(DEMO_REGION))
        os.environ["AWS_ENDPOINT_URL_GLUE"] = glue.url
        config = parse_config(connection_name=DEMO_CONNECTION, region=DEMO_REGION,
                              access_key="demo", secret_key="demo")
        with console.crawl_progress() as progress:
            report = crawl(engine, config, settings=settings, progress=progress).to_dict()
        console.print_report(report)
        _show_catalog(engine, report["connection_qualified_name"])
        again = crawl(engine, config, settings=settings).to_dict()
        console.out.print(f"A second crawl of the unchanged catalog: {again['changes']['unchanged']} unchanged, "
                          f"{again['changes']['created'] + again['changes']['updated']} written.")
    console.out.print(
        f"\nThe catalog is in [bold]{settings.effective_database_url}[/]. Look around:\n"
        "  gazetteer search orders\n"
        "  gazetteer search revenue --type View\n"
        "  gazetteer search occurred_at --json\n"
        f"  gazetteer crawl glue --connection-name my-glue --region eu-west-1   (a real AWS account)"
    )

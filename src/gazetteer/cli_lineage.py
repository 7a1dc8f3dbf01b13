"""`gazetteer lineage`: impact analysis on the local catalog, what lies downstream (or upstream) of an asset.

The walk is the API's (`gazetteer.assets.lineage`, behind POST /api/meta/lineage/list); this only finds the
asset by qualified name, asks for the whole walk up to `CAP` entities and prints it, grouped by depth.
"""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table
from sqlalchemy.engine import Engine

from gazetteer import console
from gazetteer.assets.browse import ACTIVE
from gazetteer.assets.lineage import LineagePage, LineageQuery, lineage_list
from gazetteer.assets.records import LINEAGE_TYPES
from gazetteer.assets.search import search_assets
from gazetteer.assets.views import AssetView
from gazetteer.errors import GazetteerError
from gazetteer.search import Bool, SearchRequest, Term
from gazetteer.settings import get_settings
from gazetteer.store import open_engine

__all__ = ["lineage", "CAP", "ALL"]

# The most entities one command shows: beyond it the answer says it was cut (a terminal shows no more usefully).
CAP = 10_000
# What `--depth all` asks for: Atlan's (and pyatlan's) "all the way".
ALL = 1_000_000


def _depth(value: str) -> int:
    if value.strip().lower() == "all":
        return ALL
    try:
        depth = int(value.replace(",", "").replace("_", ""))
    except ValueError:
        raise typer.BadParameter(f"{value!r} is neither a number nor 'all'") from None
    if not 1 <= depth <= ALL:
        raise typer.BadParameter(f"{depth:,} is not from 1 to {ALL:,} (or 'all')")
    return depth


def _engine() -> Engine:
    return open_engine(get_settings().effective_database_url)


def _find(engine: Engine, qualified_name: str) -> AssetView | None:
    request = SearchRequest(size=1, query=Bool(filter=(Term("qualifiedName", qualified_name), ACTIVE)))
    found = search_assets(engine, request).assets
    return found[0] if found else None


def lineage(
    qualified_name: Annotated[str, typer.Argument(help=(
        "Qualified name of the asset to start from: a table, view, column, process or S3 object "
        "(`gazetteer search --json` shows them)"))],
    downstream: Annotated[bool, typer.Option(
        "--downstream/--upstream",
        help="Downstream: what is computed from the asset (its impact); upstream: what it is computed from")] = True,
    depth: Annotated[str, typer.Option(
        help="How many hops to walk (a process and the assets it leads to are one hop): 1 to 1,000,000, or all",
        show_default=True)] = "5",
    as_json: Annotated[bool, typer.Option("--json", help="Print the lineage as one JSON document")] = False,
) -> None:
    """Show what is downstream (by default) or upstream of an asset, nearest first, up to 5 hops by default.

    Reads the local catalog (GAZETTEER_HOME, or GAZETTEER_DATABASE_URL), as `gazetteer search` does.

    Shows at most 10,000 assets and processes, and says so when there are more.
    """
    hops = _depth(depth)
    try:
        engine = _engine()
        start = _find(engine, qualified_name)
        if start is None:
            hint = qualified_name.rstrip("/").rsplit("/", 1)[-1] or qualified_name
            console.err.print(f"No active asset has the qualified name {qualified_name}; "
                              f"`gazetteer search {hint}` finds it", markup=False, highlight=False, soft_wrap=True)
            raise typer.Exit(1)
        page = lineage_list(engine, LineageQuery(start.guid, downstream=downstream, depth=hops, size=CAP))
    except GazetteerError as error:
        console.err.print(f"[red]Error:[/] {escape(error.message)}", highlight=False)
        raise typer.Exit(2) from None
    if as_json:
        console.print_json(_document(page, downstream, hops))
    else:
        _print(page, downstream, hops)


def _ref(asset: AssetView) -> dict[str, Any]:
    return {"typeName": asset.type_name, "qualifiedName": asset.qualified_name, "name": asset.name,
            "guid": asset.guid}


def _document(page: LineagePage, downstream: bool, depth: int) -> dict[str, Any]:
    return {
        "start": _ref(page.start), "direction": "downstream" if downstream else "upstream", "depth": depth,
        "entities": [{"depth": item.depth, **_ref(item.asset),
                      "upstream": [asset.qualified_name for asset in item.upstream],
                      "downstream": [asset.qualified_name for asset in item.downstream]} for item in page.entities],
        "hasMore": page.has_more,
    }


def _print(page: LineagePage, downstream: bool, depth: int) -> None:
    direction = "downstream" if downstream else "upstream"
    reach = "all the way" if depth == ALL else f"up to {depth:,} hop{'s' * (depth != 1)}"
    console.out.print(f"[bold]{escape(direction.capitalize())}[/] of {escape(page.start.type_name)} "
                      f"[cyan]{escape(page.start.qualified_name)}[/], {reach}:", highlight=False, soft_wrap=True)
    if page.entities:
        table = Table(show_header=True, header_style="bold")
        table.add_column("depth", justify="right")
        table.add_column("type")
        # Folded, never cut short: a qualified name is what one copies into the next command.
        table.add_column("qualified name", overflow="fold")
        for i, item in enumerate(page.entities):
            asset = item.asset
            # A process is how the assets after it were computed; its own qualified name says little.
            shown = f"[dim]via[/] {escape(asset.name)}" if asset.type_name in LINEAGE_TYPES \
                else escape(asset.qualified_name)
            depth_ends = i + 1 < len(page.entities) and page.entities[i + 1].depth != item.depth
            table.add_row(str(item.depth), escape(asset.type_name), shown, end_section=depth_ends)
        console.out.print(table)
    processes = sum(item.asset.type_name in LINEAGE_TYPES for item in page.entities)
    line = f"{len(page.entities):,} assets {direction} ({processes:,} processes)"
    if page.has_more:
        line += f"; cut at {len(page.entities):,}: there are more (fewer hops with --depth show them all)"
    console.out.print(line, highlight=False, soft_wrap=True)

"""Rendering for the terminal: crawl progress, reports and search results."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

__all__ = ["out", "err", "crawl_progress", "print_report", "print_assets", "print_json"]

out = Console()
err = Console(stderr=True)


@contextmanager
def crawl_progress(enabled: bool = True) -> Iterator[Any]:
    """A progress bar over databases on stderr; a no-op callback when stderr is not a terminal."""
    if not enabled or not err.is_terminal:
        yield lambda _event: None
        return
    columns = (TextColumn("[bold]Crawling Glue"), BarColumn(), MofNCompleteColumn(), TextColumn("databases"),
               TextColumn("{task.fields[detail]}"), TimeElapsedColumn())
    with Progress(*columns, console=err, transient=True) as progress:
        task = progress.add_task("crawl", total=None, detail="")

        def update(event: dict[str, Any]) -> None:
            detail = " · ".join(f"{event.get(key, 0)} {key}" for key in ("tables", "views", "columns"))
            progress.update(task, total=event.get("databases_total"), completed=event.get("databases_done", 0),
                            detail=detail)

        yield update


def print_json(value: Any) -> None:
    sys.stdout.write(json.dumps(value, default=str) + "\n")


def print_report(report: dict[str, Any]) -> None:
    ok = report["status"] == "Succeeded"
    out.print(f"[bold {'green' if ok else 'red'}]{report['status']}[/] · connection "
              f"[cyan]{report['connection_qualified_name']}[/] · {report['duration_seconds']:.1f} s · "
              f"{report['api_calls']} Glue calls ({report['throttled']} throttled)")
    if report.get("message"):
        out.print(f"[red]{report['message']}[/]")
    out.print("Found   " + " · ".join(f"[bold]{n:,}[/] {key}" for key, n in report["counts"].items()))
    out.print("Changes " + " · ".join(f"[bold]{n:,}[/] {key}" for key, n in report["changes"].items()))
    if report["warnings"]:
        out.print(f"[yellow]{report['warnings_total']} warning(s):[/]")
        for warning in report["warnings"]:
            where = ".".join(str(warning[k]) for k in ("database", "table") if warning.get(k))
            out.print(f"  [yellow]•[/] {where + ': ' if where else ''}{warning['message']}")


def print_assets(entities: list[dict[str, Any]]) -> None:
    if not entities:
        out.print("No assets match. Crawl a Glue catalog first (gazetteer crawl glue --help), or try another word.")
        return
    table = Table(show_header=True, header_style="bold")
    for name in ("type", "name", "qualified name", "description"):
        table.add_column(name)
    for entity in entities:
        attributes = entity["attributes"]
        table.add_row(entity["typeName"], attributes["name"], attributes["qualifiedName"],
                      (attributes.get("description") or "")[:60])
    out.print(table)

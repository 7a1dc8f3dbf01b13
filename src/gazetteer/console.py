"""Rendering for the terminal: crawl progress, reports and search results."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

from rich.console import Console
from rich.markup import escape
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
    """A crawl report, from a local crawl or a workflow run on a server: tolerant of keys a server leaves out,
    and every value escaped, as messages and warnings quote Glue names that may hold rich markup ([...])."""
    status = str(report.get("status") or "-")
    colour = {"Succeeded": "green", "Failed": "red", "Error": "red"}.get(status, "yellow")
    line = [f"[bold {colour}]{escape(status)}[/]"]
    if report.get("plan"):
        line.insert(0, "[bold]Plan[/] (nothing was written):")
    if report.get("connection_qualified_name"):
        line.append(f"connection [cyan]{escape(str(report['connection_qualified_name']))}[/]")
    if report.get("duration_seconds") is not None:
        line.append(f"{float(report['duration_seconds']):.1f} s")
    if report.get("api_calls") is not None:
        at_once = (report.get("concurrency") or {}).get("peak")
        line.append(f"{report['api_calls']} Glue calls ({report.get('throttled') or 0} throttled"
                    f"{f', up to {at_once} at once' if at_once else ''})")
    out.print(" · ".join(line))
    if report.get("message"):
        out.print(f"[red]{escape(str(report['message']))}[/]")
    for title, key in (("Found  ", "counts"), ("Changes", "changes"), ("Lineage", "lineage")):
        if isinstance(report.get(key), dict) and report[key]:
            out.print(f"{title} " + " · ".join(_figure(n, k) for k, n in report[key].items()))
    if isinstance(report.get("history"), dict) and report["history"].get("assets"):
        _print_history(report["history"], planned=bool(report.get("plan")))
    warnings = report.get("warnings") or []
    if warnings:
        out.print(f"[yellow]{report.get('warnings_total') or len(warnings)} warning(s):[/]")
        for warning in warnings:
            if isinstance(warning, dict):
                where = ".".join(str(warning[k]) for k in ("database", "table") if warning.get(k))
                warning = f"{where + ': ' if where else ''}{warning.get('message', warning)}"
            out.print(f"  [yellow]•[/] {escape(str(warning))}")


_SHOWN = 20  # changed assets a terminal report lists
_DESCRIPTION_CHARS = 60  # of a description in a table of search results


def _print_history(history: dict[str, Any], *, planned: bool) -> None:
    """The assets a run changed (or a plan would change, or a refused run would have), breaking first, each
    table's schema diff below it."""
    would = planned or history.get("refused")
    breaking = int(history.get("breaking") or 0)
    title = "Would change" if would else "Changed"
    out.print(f"[bold]{title}[/]" + (f" · [bold red]{breaking} breaking[/]" if breaking else ""))
    listed = history.get("assets") or []
    # New tables and views are news; the new processes and schemas of a first crawl would drown what changed.
    shown = [item for item in listed
             if item.get("action") != "created" or item.get("typeName") in ("Table", "View")][:_SHOWN]
    for item in shown:
        mark = "[bold red]BREAKING[/] " if item.get("breaking") else ""
        changed = f" ({', '.join(item['changed'][:6])})" if item.get("changed") else ""
        out.print(f"  {mark}{escape(str(item.get('action')))} {escape(str(item.get('typeName')))} "
                  f"[cyan]{escape(str(item.get('qualifiedName')))}[/]{escape(changed)}")
        for change in item.get("diff") or []:
            out.print(f"      {'[red]✗[/]' if change.get('breaking') else '·'} {escape(str(change.get('why')))}")
        if item.get("affected"):
            names = ", ".join(str(name).rsplit("/", 1)[-1] for name in item["affected"][:5])
            others = len(item["affected"]) - 5
            out.print(f"      affects {escape(names)}{f' and {others} more' if others > 0 else ''}")
    more = len(listed) - len(shown) + int(history.get("more") or 0)
    if more:
        out.print(f"  … and {more:,} more (the Changes page lists them all)")


def _figure(count: Any, what: str) -> str:
    shown = f"[bold]{count:,}[/]" if isinstance(count, int) else escape(str(count))
    return f"{shown} {escape(str(what))}"


def print_assets(found: Sequence[Mapping[str, Any]]) -> None:
    """Assets as a search answers them (Atlas entity headers), from a server or the local catalog alike. The
    description shown is the curated one (userDescription) when there is one, as the web UI shows it."""
    if not found:
        out.print("No assets match. Crawl a Glue catalog first (gazetteer crawl glue --help), or try another word.")
        return
    table = Table(show_header=True, header_style="bold")
    table.add_column("type")
    table.add_column("name")
    # Folded, never cut short: a qualified name is what one copies into the next command.
    table.add_column("qualified name", overflow="fold")
    table.add_column("description")
    for entity in found:
        attributes = entity.get("attributes") or {}
        description = str(attributes.get("userDescription") or attributes.get("description") or "")
        if len(description) > _DESCRIPTION_CHARS:
            description = description[:_DESCRIPTION_CHARS - 1] + "…"
        # Escaped: Glue names and descriptions may hold rich markup ([...]).
        table.add_row(*(escape(str(value)) for value in (entity.get("typeName"), attributes.get("name"),
                                                          attributes.get("qualifiedName"), description)))
    out.print(table)

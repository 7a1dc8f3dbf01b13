"""A delivery as a Slack incoming-webhook message: {"text", "blocks"} that say what happened in plain words.

`text` is the one-line summary Slack shows in notifications; the blocks repeat it with links into the UI (when
GAZETTEER_PUBLIC_URL says where people reach it) and list the first assets. Every value from the catalog is
escaped for Slack's mrkdwn: names come from Glue and from people.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

__all__ = ["message"]

MAX_LINES = 10  # assets listed; the rest are counted
_COUNTED = ("databases", "schemas", "tables", "views", "columns", "processes")


def _escape(value: Any) -> str:
    return str(value).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _link(url: str | None, text: str) -> str:
    # Slack splits a link at "|": it cannot appear in the URL, and the quoting below leaves none.
    return f"<{url}|{_escape(text)}>" if url else _escape(text)


def _asset_url(base: str | None, asset: Mapping[str, Any]) -> str | None:
    guid = asset.get("guid")
    return f"{base}/assets/{quote(str(guid), safe='')}" if base and guid else None


def _run_url(base: str | None, body: Mapping[str, Any]) -> str | None:
    workflow, run = body.get("workflow"), body.get("run")
    if not (base and workflow):
        return None
    anchor = f"#run-{quote(str(run), safe='')}" if run else ""
    return f"{base}/workflows/{quote(str(workflow), safe='')}{anchor}"


def _counts(counts: Any) -> str:
    if not isinstance(counts, Mapping):
        return ""
    parts = [f"{counts[key]:,} {key}" for key in _COUNTED if isinstance(counts.get(key), int)]
    return ", ".join(parts)


def _summary(body: Mapping[str, Any], base: str | None) -> tuple[str, str]:
    """(plain text, mrkdwn with links) of the event's first line."""
    kind = body.get("kind")
    connection = body.get("connectionQualifiedName") or "the catalog"
    total = len(body.get("assets") or ()) + int(body.get("moreAssets") or 0)
    if kind in ("run_succeeded", "run_failed"):
        workflow, run = body.get("workflow") or "a workflow", body.get("run") or "a run"
        outcome = "succeeded" if kind == "run_succeeded" else f"failed ({body.get('phase') or 'Failed'})"
        counted = _counts(body.get("counts"))
        detail = f": {counted}" if counted and kind == "run_succeeded" else ""
        if kind == "run_failed" and body.get("message"):
            detail = f": {body['message']}"
        plain = f"Run {run} of {workflow} {outcome} in {connection}{detail}"
        rich = (f"Run {_link(_run_url(base, body), str(run))} of {_escape(workflow)} *{outcome}* in "
                f"`{_escape(connection)}`{_escape(detail)}")
        return plain, rich
    summary = f": {body['summary']}" if isinstance(body.get("summary"), str) else ""
    if kind == "breaking_change":
        plain = f"Breaking schema change in {connection}{summary or f': {total} asset' + ('s' if total != 1 else '')}"
    elif kind == "asset_archived":
        plain = f"Assets archived in {connection}{summary or f': {total}'}"
    elif kind == "test":
        plain = f"Test delivery from Gazetteer for webhook {body.get('webhook', {}).get('name', '')}".rstrip()
    else:
        plain = f"Gazetteer event {kind} in {connection}"
    return plain, _escape(plain)


def _asset_line(asset: Mapping[str, Any], base: str | None) -> str:
    name = asset.get("qualifiedName") or asset.get("name") or asset.get("guid") or "?"
    line = f"• {_escape(asset.get('typeName') or 'Asset')} {_link(_asset_url(base, asset), str(name))}"
    if asset.get("action"):
        line += f" ({_escape(asset['action'])})"
    affected = asset.get("affected")
    if isinstance(affected, list) and affected:
        line += f" · {len(affected)} downstream asset{'s' if len(affected) != 1 else ''} affected"
    return line


def message(body: Mapping[str, Any], public_url: str | None) -> dict[str, Any]:
    """The Slack message for a delivery `body` (as the outbox stores it)."""
    plain, rich = _summary(body, public_url)
    blocks: list[dict[str, Any]] = [{"type": "section", "text": {"type": "mrkdwn", "text": rich[:2900]}}]
    assets = [asset for asset in body.get("assets") or () if isinstance(asset, Mapping)]
    if assets:
        lines = [_asset_line(asset, public_url) for asset in assets[:MAX_LINES]]
        more = len(assets) - MAX_LINES + int(body.get("moreAssets") or 0)
        if more > 0:
            lines.append(f"… and {more:,} more")
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": "\n".join(lines)[:2900]}})
    context = [f"`{_escape(body.get('kind'))}`"]
    if body.get("at"):
        context.append(_escape(body["at"]))
    blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": " · ".join(context)}]})
    return {"text": _escape(plain)[:3000], "blocks": blocks}

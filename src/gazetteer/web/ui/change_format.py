"""How the history looks in the UI: schema changes in words, attribute values kept short, names people read.

What for: the History tab (`history_page`), the Changes page and a crawl's plan (`changes_page`), and the run
report (`_run_changes.html`, included by `_run.html`). The filters are added to the UI's Jinja environment when
this module is imported (gazetteer.web.ui imports it with its pages), so every template may use them.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from gazetteer.assets.changes import short_name
from gazetteer.web.ui import formatting
from gazetteer.web.ui.routing import env
from gazetteer.workflows.models import runs

__all__ = ["CHANGE_LABELS", "ACTION_LABELS", "AGENT_LABELS", "change_values", "value_text", "run_workflows"]

CHANGE_LABELS = {
    "column_added": "Column added", "column_dropped": "Column dropped", "type_changed": "Type changed",
    "column_moved": "Column moved", "description_changed": "Description changed",
    "partition_keys_changed": "Partition keys changed", "view_sql_changed": "View SQL changed",
    "table_dropped": "Dropped", "inputs_gone": "Reads something that is gone",
}
ACTION_LABELS = {"created": "Created", "updated": "Changed", "archived": "Archived", "restored": "Restored"}
AGENT_LABELS = {"crawl": "a crawl", "api": "the API", "ui": "the web UI", "openlineage": "OpenLineage"}
# A value longer than this shows folded (a view's SQL, a long description).
SHORT_VALUE = 120
_TIME_KEYS = ("sourceUpdatedAt", "sourceCreatedAt", "lastSyncRunAt", "lastRowChangedAt", "sourceLastReadAt")


def value_text(value: Any, key: str | None = None) -> str:
    """One attribute value as text: times as dates, documents as compact JSON, nothing as an empty string."""
    if value is None:
        return ""
    if key in _TIME_KEYS and isinstance(value, int) and not isinstance(value, bool):
        return formatting.from_epoch_ms(value)
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, str):
        return value
    if isinstance(value, (int, float)):
        return formatting.human_count(value) if isinstance(value, int) else str(value)
    return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)


def _type_of(shape: Any) -> str:
    if isinstance(shape, Mapping):
        return str(shape.get("dataType") or "an unrecorded type")
    return value_text(shape)


def change_values(change: Mapping[str, Any]) -> tuple[str, str] | None:
    """What a schema change went from and to, in a few words (None when its sentence says it all)."""
    kind, old, new = change.get("change"), change.get("old"), change.get("new")
    if kind == "type_changed" or kind == "description_changed":
        return value_text(old) or "none", value_text(new) or "none"
    if kind == "column_added":
        return "", _type_of(new)
    if kind == "column_dropped":
        return _type_of(old), ""
    if kind == "column_moved":
        return f"position {old}", f"position {new}"
    if kind == "partition_keys_changed":
        return ", ".join(map(str, old or [])) or "none", ", ".join(map(str, new or [])) or "none"
    return None


def _is_long(value: Any) -> bool:
    return len(value_text(value)) > SHORT_VALUE or "\n" in value_text(value)


def run_workflows(conn: Connection, names: Iterable[str | None]) -> dict[str, str]:
    """The workflow of each of these runs that a workflow ran (a crawl from the command line has none)."""
    wanted = sorted({name for name in names if name})
    found: dict[str, str] = {}
    for start in range(0, len(wanted), 500):
        query = sa.select(runs.c.name, runs.c.workflow_name).where(runs.c.name.in_(wanted[start:start + 500]))
        found.update((name, workflow) for name, workflow in conn.execute(query))
    return found


def _change_label(kind: Any) -> str:
    return CHANGE_LABELS.get(str(kind), str(kind).replace("_", " "))


def _action_label(action: Any) -> str:
    return ACTION_LABELS.get(str(action), str(action))


def _agent_label(agent: Any) -> str:
    return AGENT_LABELS.get(str(agent), str(agent))


env.filters.update({
    "short_qn": short_name, "change_label": _change_label, "change_values": change_values,
    "value_text": value_text, "long_value": _is_long, "action_label": _action_label, "agent_label": _agent_label,
})

"""Atlan's lineage filters: which entities a lineage walk returns, and where it stops.

What for: the `entityFilters`, `entityTraversalFilters` and `relationshipTraversalFilters` of the lineage list
(pyatlan's FluentLineage `includes_in_results`, `where_assets`, `where_relationships`), and the UI's choice of
what to draw. A criterion names an attribute as Atlan does (`__typeName`, `__state`, `name`, any attribute), an
operator (AtlanComparisonOperator's values) and a value, always text (docs/design.md, Atlan contract §8).
Nothing here runs a regular expression: a crafted value costs its length.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from gazetteer.assets.search_fields import SUPER_TYPES
from gazetteer.assets.views import AssetView, epoch_ms

__all__ = ["EntityFilter", "Filters", "OPERATORS", "IDENTITY_ATTRIBUTES"]

OPERATORS = frozenset({"=", "!=", "in", "like", "startsWith", "endsWith", "contains", "not_contains",
                       "containsAny", "containsAll", "isNull", "notNull", "notEmpty", "<", ">", "<=", ">="})


@dataclass(frozen=True, slots=True)
class EntityFilter:
    """One criterion of Atlan's lineage filters: an attribute (`__typeName`, `__state`, `name`, ...), an operator
    (Atlan's AtlanComparisonOperator values) and a value, always sent as text."""

    attribute: str
    operator: str
    value: str

    def matches(self, asset: AssetView) -> bool:
        actual = _value_of(asset, self.attribute)
        op, value = self.operator, self.value
        if op == "isNull":
            return actual in (None, "", [])
        if op in ("notNull", "notEmpty"):
            return actual not in (None, "", [])
        if isinstance(actual, (list, tuple, set, frozenset)):
            items = {str(item) for item in actual}
            wanted = {part.strip() for part in value.split(",") if part.strip()}
            if op in ("=", "contains", "containsAny", "in"):
                return bool(items & wanted) if op != "=" else value in items
            if op == "containsAll":
                return wanted <= items
            if op in ("!=", "not_contains"):
                return value not in items
            return False
        text = "" if actual is None else str(actual).lower() if isinstance(actual, bool) else str(actual)
        if op in ("<", ">", "<=", ">="):
            return _compare(actual, op, value)
        return _TEXT_OPS[op](text, value)


_TEXT_OPS: dict[str, Callable[[str, str], bool]] = {
    "=": lambda text, value: text == value,
    "!=": lambda text, value: text != value,
    "in": lambda text, value: text in {part.strip() for part in value.split(",")},
    "like": lambda text, value: _like(text, value),
    "startsWith": lambda text, value: text.startswith(value),
    "endsWith": lambda text, value: text.endswith(value),
    "contains": lambda text, value: value in text,
    "not_contains": lambda text, value: value not in text,
    "containsAny": lambda text, value: text in {part.strip() for part in value.split(",")},
    "containsAll": lambda text, value: text == value,
}


def _like(text: str, pattern: str) -> bool:
    """SQL LIKE without regular expressions (a crafted pattern cannot make it slow): `%` and `*` match anything."""
    parts = pattern.replace("*", "%").split("%")
    if len(parts) == 1:
        return text == pattern
    if not text.startswith(parts[0]) or not text.endswith(parts[-1]) or len(text) < len(parts[0]) + len(parts[-1]):
        return False
    position = len(parts[0])
    for part in parts[1:-1]:
        found = text.find(part, position, len(text) - len(parts[-1]))
        if found < 0:
            return False
        position = found + len(part)
    return True


def _compare(actual: Any, op: str, value: str) -> bool:
    try:
        left, right = float(actual), float(value)
    except (TypeError, ValueError):
        return False
    return {"<": left < right, ">": left > right, "<=": left <= right, ">=": left >= right}[op]


def _value_of(asset: AssetView, attribute: str) -> Any:
    special: dict[str, Any] = {
        "__typeName": asset.type_name, "__state": asset.status, "__guid": asset.guid,
        "__superTypeNames": SUPER_TYPES.get(asset.type_name, ()), "__createdBy": asset.created_by,
        "__modifiedBy": asset.updated_by, "__timestamp": epoch_ms(asset.created_at),
        "__modificationTimestamp": epoch_ms(asset.updated_at), "__hasLineage": True,
    }
    name = attribute.removesuffix(".keyword")
    if name in special:
        return special[name]
    return {"qualifiedName": asset.qualified_name, "name": asset.name}.get(name, asset.attributes.get(name))


@dataclass(frozen=True, slots=True)
class Filters:
    """A list of criteria that must all (AND) or any (OR) hold; an empty list holds for everything."""

    criteria: tuple[EntityFilter, ...] = ()
    any_of: bool = False

    @property
    def needs_attributes(self) -> bool:
        return any(c.attribute.removesuffix(".keyword") not in IDENTITY_ATTRIBUTES for c in self.criteria)

    def matches(self, asset: AssetView) -> bool:
        if not self.criteria:
            return True
        results = (criterion.matches(asset) for criterion in self.criteria)
        return any(results) if self.any_of else all(results)


# What a criterion can name without the asset's attributes (identity, type, status, stamps): a walk whose
# filters name nothing else reads no attributes until it has its page.
IDENTITY_ATTRIBUTES = frozenset({"__typeName", "__state", "__guid", "__superTypeNames", "__createdBy", "__modifiedBy",
                                 "__timestamp", "__modificationTimestamp", "__hasLineage", "qualifiedName", "name"})

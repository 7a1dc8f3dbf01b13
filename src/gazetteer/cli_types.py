"""`--type` / `--asset-type` values: a type of asset the catalog holds, whatever the case it is typed in.

What for: every command that takes a type refuses one the catalog does not hold at once, naming those it does,
instead of searching for (or subscribing to) something that can never be there.
"""

from __future__ import annotations

import typer

from gazetteer.assets.records import ASSET_TYPES

__all__ = ["ASSET_TYPES_SHOWN", "asset_type"]

ASSET_TYPES_SHOWN = ", ".join(ASSET_TYPES)


def asset_type(value: str) -> str:
    """The type in the catalog's own spelling (`table` → `Table`); else a usage error (exit 2) naming them."""
    found = next((name for name in ASSET_TYPES if name.casefold() == value.casefold()), None)
    if found is None:
        raise typer.BadParameter(f"{value[:100]!r} is not a type of asset; choose one of {ASSET_TYPES_SHOWN}")
    return found

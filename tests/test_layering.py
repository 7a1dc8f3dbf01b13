"""The layers of docs/design.md ("Layers"), checked on the source: which package may import which.

Every import counts, those inside functions and `if TYPE_CHECKING:` too: a lazy import is still a dependency.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import gazetteer

SOURCE = Path(gazetteer.__file__).resolve().parent
# The core: what the catalog does, whoever asks. The wire shapes, the web app and the commands sit above it.
CORE = frozenset({"store", "search", "assets", "workflows", "auth", "credentials", "packages", "webhooks"})


def _module(path: Path) -> str:
    parts = path.relative_to(SOURCE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imported(path: Path) -> Iterator[tuple[int, str]]:
    """(line, module) for every `gazetteer` module `path` imports, relative imports resolved."""
    module = _module(path)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                base = f"{anchor}.{base}" if base else anchor
            # `from gazetteer import api` imports the package gazetteer.api, not a name of gazetteer.
            names = [f"{base}.{alias.name}" for alias in node.names] if base == "gazetteer" else [base]
        else:
            continue
        yield from ((node.lineno, name) for name in names if name.startswith("gazetteer."))


def _layer(module: str) -> str:
    """The top-level package or module below `gazetteer` (store, web, cli_token...); "" for gazetteer itself."""
    return module.partition(".")[2].partition(".")[0]


def _refusal(importer: str, imported: str) -> str | None:
    if importer == imported:
        return None
    if importer in CORE and (imported in ("api", "web") or imported.startswith("cli")):
        return "the core never imports the wire API, the web app or the commands"
    if importer == "store" and imported in CORE:
        return "the store is the bottom layer: it imports no other core package"
    return None


def offences() -> list[str]:
    found = []
    for path in sorted(SOURCE.rglob("*.py")):
        importer = _layer(_module(path))
        for line, name in _imported(path):
            reason = _refusal(importer, _layer(name))
            if reason:
                found.append(f"{path.relative_to(SOURCE.parent)}:{line} imports {name} ({reason})")
    return found


def test_the_scan_sees_the_source() -> None:
    engine = SOURCE / "store" / "engine.py"
    assert any(name == "gazetteer.store.sqlite_functions" for _, name in _imported(engine))
    assert _refusal("store", "search") and _refusal("workflows", "web") and _refusal("auth", "cli_token")
    assert not _refusal("web", "workflows") and not _refusal("search", "store") and not _refusal("api", "web")


def test_no_package_imports_a_layer_above_it() -> None:
    assert offences() == []

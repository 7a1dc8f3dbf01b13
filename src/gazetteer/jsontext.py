"""The bounds every piece of JSON from outside must keep: nesting depth, and text the catalog can hold.

What for: request bodies (checked by the web layer before any route runs) and the JSON that travels inside
strings (Argo parameters, listing filters), parsed by the core. PostgreSQL refuses a NUL character in
text, a lone surrogate (half of a UTF-16 pair, which JSON's "\\ud800" escape can spell) cannot be encoded
as UTF-8, and a value nested thousands of levels deep ends recursive code in a RecursionError.
"""

from __future__ import annotations

import json
from typing import Any, Literal

from gazetteer.errors import InvalidRequest

__all__ = ["MAX_DEPTH", "text_problem", "json_problem", "loads"]

# Atlan's own payloads nest about ten levels (a search DSL with bool inside nested inside bool); 64 leaves
# room for any real request and keeps every recursive walk far from Python's recursion limit.
MAX_DEPTH = 64
Kind = Literal["depth", "text"]
_CONTAINERS = (dict, list)


def text_problem(text: str) -> str | None:
    """What makes `text` unfit for the catalog (a NUL, a lone surrogate), or None."""
    if "\x00" in text:
        return "a NUL character (\\u0000)"
    if not text.isascii():
        try:
            text.encode("utf-8")
        except UnicodeEncodeError as error:
            return f"a lone surrogate (\\u{ord(text[error.start]):04x})"
    return None


def _where(path: tuple[Any, ...]) -> str:
    """A JSONPath-like location ($.entities[0].attributes) that is plain ASCII whatever the keys hold."""
    where = "$"
    for part in path:
        if isinstance(part, int):
            where += f"[{part}]"
        elif part.isidentifier() and part.isascii():
            where += f".{part}"
        else:
            where += f"[{json.dumps(part)}]"
    return where if len(where) <= 200 else where[:200] + "..."


def json_problem(document: Any, what: str = "The JSON body") -> tuple[Kind, str] | None:
    """(kind, message) for the first bad string, key or nesting level of parsed JSON, or None.

    Iterative, so that the walk itself cannot run out of stack on the very values it is there to refuse.
    """
    if isinstance(document, str):
        problem = text_problem(document)
        return ("text", f"{what} has {problem} at $.") if problem else None
    if not isinstance(document, _CONTAINERS):
        return None
    stack: list[tuple[Any, int, tuple[Any, ...]]] = [(document, 1, ())]
    while stack:
        node, depth, path = stack.pop()
        if depth > MAX_DEPTH:
            return "depth", f"{what} nests deeper than {MAX_DEPTH} levels (at {_where(path)})."
        for key, value in node.items() if isinstance(node, dict) else enumerate(node):
            if isinstance(key, str) and (problem := text_problem(key)):
                return "text", f"{what} has {problem} in the key {json.dumps(key)} at {_where(path)}."
            if isinstance(value, str):
                if problem := text_problem(value):
                    return "text", f"{what} has {problem} at {_where((*path, key))}."
            elif isinstance(value, _CONTAINERS):
                stack.append((value, depth + 1, (*path, key)))
    return None


def loads(text: str, what: str) -> Any:
    """Parse JSON that arrived inside a string. ValueError when it is not JSON; InvalidRequest, naming
    `what`, when it nests too deep or holds text the catalog cannot store."""
    try:
        document = json.loads(text)
    except RecursionError:
        raise InvalidRequest(f"{what} nests deeper than {MAX_DEPTH} levels.") from None
    if found := json_problem(document, what):
        raise InvalidRequest(found[1])
    return document

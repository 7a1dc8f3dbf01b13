"""The values of Python expressions that a Glue job script builds from constants, worked out without running it.

`job_scripts` asks what `database=DB` or `f"s3://{BUCKET}/raw/"` stands for. A name counts as a constant when its
scope binds it exactly once, by `name = expression`; anything else (a parameter, a loop variable, a name assigned
twice, `args["x"]`) is UNKNOWN, because only running the script would tell.
"""

from __future__ import annotations

import ast
import string
from collections.abc import Iterator

__all__ = ["MAX_VALUE_CHARS", "SCOPE_NODES", "UNKNOWN", "Scope", "Unknown", "evaluate", "module_scope"]

# `A = B + B` doubles at each step; a value this long names no dataset, and refusing it bounds memory.
MAX_VALUE_CHARS = 10_000
SCOPE_NODES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)


class Unknown:
    """The value of an expression that only running the script would tell."""


UNKNOWN = Unknown()


class Scope:
    """The names a module or function binds, and which of those are bound exactly once by `name = expression`."""

    def __init__(self, node: ast.AST, not_constant: frozenset[str] = frozenset()) -> None:
        counts: dict[str, int] = {}
        assigned: dict[str, ast.expr] = {}
        elsewhere: set[str] = set()  # `global`/`nonlocal` names belong to an enclosing scope
        for child in _own_nodes(node):
            if isinstance(child, ast.Global | ast.Nonlocal):
                elsewhere.update(child.names)
            for name in _bound_names(child):
                counts[name] = counts.get(name, 0) + 1
            if isinstance(child, ast.Assign):
                assigned.update((target.id, child.value) for target in child.targets if isinstance(target, ast.Name))
            elif isinstance(child, ast.AnnAssign) and child.value and isinstance(child.target, ast.Name):
                assigned[child.target.id] = child.value
        self.bound = set(counts) - elsewhere
        self.constants = {
            name: value
            for name, value in assigned.items()
            if counts[name] == 1 and name in self.bound and name not in not_constant
        }
        self.memo: dict[str, object] = {}


def module_scope(tree: ast.Module) -> Scope:
    """The module's scope; a name some function declares `global` may be rebound there, so it is no constant."""
    declared = frozenset(name for node in ast.walk(tree) if isinstance(node, ast.Global) for name in node.names)
    return Scope(tree, declared)


def evaluate(node: ast.expr, scopes: tuple[Scope, ...]) -> object:
    """The value of `node` (str, int, list, dict...) when built from constants only, else UNKNOWN.

    `scopes` runs from the module to the innermost function. Dict values stay unknown one by one, so that an
    option read from the job's arguments does not hide a constant path beside it.
    """
    value: object = UNKNOWN
    if isinstance(node, ast.Constant):
        value = node.value
    elif isinstance(node, ast.Name):
        value = _lookup(node.id, scopes)
    elif isinstance(node, ast.JoinedStr):
        parts = [_fstring_part(part, scopes) for part in node.values]
        if all(isinstance(part, str | int) for part in parts):
            value = "".join(map(str, parts))
    elif isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        left, right = evaluate(node.left, scopes), evaluate(node.right, scopes)
        if isinstance(left, str) and isinstance(right, str):
            value = left + right
        elif isinstance(left, list) and isinstance(right, list):
            value = [*left, *right]
    elif isinstance(node, ast.List | ast.Tuple):
        items = [evaluate(item, scopes) for item in node.elts]
        value = UNKNOWN if any(isinstance(item, Unknown) for item in items) else items
    elif isinstance(node, ast.Dict):
        keys = [evaluate(key, scopes) if key is not None else None for key in node.keys]
        value = {k: evaluate(v, scopes) for k, v in zip(keys, node.values, strict=True) if isinstance(k, str)}
    elif isinstance(node, ast.Subscript):
        container, key = evaluate(node.value, scopes), evaluate(node.slice, scopes)
        if isinstance(container, dict) and isinstance(key, str):
            value = container.get(key, UNKNOWN)
    elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "format":
        value = _format(node, node.func.value, scopes)
    return UNKNOWN if isinstance(value, str | list) and len(value) > MAX_VALUE_CHARS else value


def _lookup(name: str, scopes: tuple[Scope, ...]) -> object:
    for depth in range(len(scopes) - 1, -1, -1):
        scope = scopes[depth]
        if name not in scope.bound:
            continue
        if name not in scope.constants:  # a parameter, a loop variable, or assigned more than once
            return UNKNOWN
        if name not in scope.memo:
            scope.memo[name] = UNKNOWN  # `A = A + "x"` then stays unknown instead of looping
            scope.memo[name] = evaluate(scope.constants[name], scopes[: depth + 1])
        return scope.memo[name]
    return UNKNOWN


def _fstring_part(part: ast.expr, scopes: tuple[Scope, ...]) -> object:
    """Text, or `{NAME}` without a format spec: a spec such as {X:>999999999} could allocate without bound."""
    if isinstance(part, ast.Constant):
        return part.value
    if isinstance(part, ast.FormattedValue) and part.format_spec is None and part.conversion in (-1, ord("s")):
        return evaluate(part.value, scopes)
    return UNKNOWN


def _format(call: ast.Call, template_node: ast.expr, scopes: tuple[Scope, ...]) -> object:
    """`"s3://{}/raw".format(BUCKET)`, with plain fields only (see _fstring_part)."""
    template = evaluate(template_node, scopes)
    args = [evaluate(arg, scopes) for arg in call.args]
    kwargs = {keyword.arg: evaluate(keyword.value, scopes) for keyword in call.keywords if keyword.arg}
    if not (isinstance(template, str) and _plain_template(template) and len(kwargs) == len(call.keywords)):
        return UNKNOWN
    if not all(isinstance(item, str | int) for item in [*args, *kwargs.values()]):
        return UNKNOWN
    try:
        return template.format(*args, **kwargs)
    except (IndexError, KeyError, ValueError):
        return UNKNOWN


def _plain_template(template: str) -> bool:
    try:
        fields = list(string.Formatter().parse(template))
    except ValueError:
        return False
    return all(
        spec in (None, "") and conversion is None and (name == "" or name.isdigit() or name.isidentifier())
        for _, name, spec, conversion in fields
        if name is not None
    )


def _own_nodes(scope: ast.AST) -> Iterator[ast.AST]:
    """The nodes of `scope`, without descending into the functions and classes it defines."""
    stack = list(ast.iter_child_nodes(scope))
    while stack:
        node = stack.pop()
        yield node
        if not isinstance(node, (*SCOPE_NODES, ast.ClassDef)):
            stack.extend(ast.iter_child_nodes(node))


def _bound_names(node: ast.AST) -> Iterator[str]:
    if isinstance(node, ast.Name) and not isinstance(node.ctx, ast.Load):
        yield node.id
    elif isinstance(node, ast.arg):
        yield node.arg
    elif isinstance(node, ast.alias):
        yield (node.asname or node.name).split(".")[0]
    elif isinstance(
        node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef | ast.ExceptHandler | ast.MatchAs | ast.MatchStar
    ) and node.name:
        yield node.name

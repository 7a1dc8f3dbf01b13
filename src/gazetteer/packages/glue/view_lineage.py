"""Lineage of a Glue view, read from its SQL with sqlglot: the tables it reads and where each of its columns comes from.

A pure function: the crawl passes the view's SQL and a `columns_of` callback that answers from what it already read
of the catalog, so there is no I/O here and the same code serves thousands of views per crawl and the unit tests.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from sqlglot import exp, parse_one
from sqlglot.errors import ParseError, TokenError
from sqlglot.optimizer.normalize_identifiers import normalize_identifiers
from sqlglot.optimizer.qualify_columns import qualify_columns
from sqlglot.optimizer.qualify_tables import qualify_tables
from sqlglot.optimizer.scope import Scope, build_scope
from sqlglot.schema import MappingSchema

__all__ = ["ViewLineage", "view_lineage"]

MAX_SQL_LENGTH = 1_000_000
# Deeper trees (a + b + ... of hundreds of terms, a UNION of hundreds of SELECTs) get table lineage only: sqlglot's
# qualification is quadratic in the depth (a chain 8,000 deep takes a minute), and Python's recursion runs short.
MAX_DEPTH = 300
# Athena views are Trino SQL; sqlglot's "athena" reader parses their SELECTs as Trino does.
_READERS = {"presto": ("athena",), "trino": ("athena",), "spark": ("spark",), "hive": ("hive",)}
# Unknown dialect: Trino, then Spark. They disagree on "x" (an identifier in Trino, a string in Spark): Trino SQL read
# as Spark would silently turn columns into literals, while the Trino reader fails loudly on Spark's backticks.
_DEFAULT_READERS = ("athena", "spark")
_TOKEN = re.compile(r"<Token token_type: [\w.]+, text: (.*?), line: .*?>")

_Source = tuple[str, str, str]
# The source columns found, and whether the trace is complete (False once it met an unresolved table or a
# construct it cannot follow): an empty complete lineage is a literal; an empty incomplete one is unknown.
_Lineage = tuple[frozenset[_Source], bool]
_UNKNOWN: _Lineage = (frozenset(), False)
# An output column of a query; the name None stands for a star that could not be expanded, of unknown width.
_Output = tuple[str | None, _Lineage]
_Known = dict[tuple[str, str], dict[str, None] | None]  # (db, table) -> its columns (ordered), None: not found


@dataclass(frozen=True, slots=True)
class ViewLineage:
    """What a view reads. All names are lower case but `unresolved`, which keeps the SQL's spelling."""

    tables: tuple[tuple[str, str], ...]  # (database, table) read, in the order first met in the SQL
    # Per output column, in the view's order: its sources (database, table, column), sorted; () for a literal.
    # A column whose every source is in an unresolved table (or could not be traced) is left out.
    columns: tuple[tuple[str, tuple[_Source, ...]], ...]
    unresolved: tuple[str, ...]  # tables not in the connection, as written ("sales.ordrs", "orders"), sorted
    problem: str | None = None  # why the SQL could not be analysed at all (then all else is empty)


def view_lineage(sql: str, dialect: str | None, database: str, view_columns: Sequence[str],
                 columns_of: Callable[[str, str], Sequence[str] | None]) -> ViewLineage:
    """The lineage of a view defined by `sql` in Glue database `database`; never raises on bad SQL."""
    if len(sql) > MAX_SQL_LENGTH:  # bounded work: sqlglot's cost grows with the text
        return _failed(f"the SQL is longer than {MAX_SQL_LENGTH:,} characters")
    try:
        tree, reader = _parse(sql, dialect)
        if not isinstance(tree, exp.Query):
            return _failed("the SQL is not a query (a view is a SELECT)")
        while isinstance(tree, exp.Subquery):  # a view wrapped in parentheses
            tree = tree.this.pop()
        found, shallow = _scan(tree)
    except Exception as error:  # noqa: BLE001 - sqlglot raises many kinds (ParseError, TokenError, ...)
        return _failed(f"the SQL could not be parsed: {_short(error)}")

    known, tables, unresolved = _resolve(found, database.lower(), columns_of)
    if not shallow:  # sqlglot's qualification takes time quadratic in the nesting: keep to the table lineage
        return ViewLineage(tables, (), unresolved)
    with contextlib.suppress(Exception):  # the tree is still the same query, partly qualified: trace what is there
        _qualify(tree, reader, known)
    try:
        root = build_scope(tree)
        columns = _Tracer(root, known).view_columns(view_columns) if root else ()
    except Exception:  # noqa: BLE001 - keep the table lineage even when the column trace breaks down
        columns = ()
    return ViewLineage(tables, columns, unresolved)


def _resolve(
    found: list[exp.Table], database: str, columns_of: Callable[[str, str], Sequence[str] | None]
) -> tuple[_Known, tuple[tuple[str, str], ...], tuple[str, ...]]:
    """Each table's columns (asking columns_of once per table), the tables found and the names not found."""
    known: _Known = {}
    tables: dict[tuple[str, str], None] = {}
    unresolved: set[str] = set()
    for table in found:
        # Unresolved names are reported as written, less a catalog (Spark's spark_catalog, Athena's awsdatacatalog)
        # that says nothing within the connection.
        written = f"{table.db}.{table.name}" if table.db else table.name
        if not table.db:
            table.set("db", exp.to_identifier(database))
        key = _key(table)
        if key not in known:
            listed = columns_of(*key)
            known[key] = None if listed is None else dict.fromkeys(name.lower() for name in listed)
        if known[key] is None:
            unresolved.add(written)
        else:
            tables[key] = None
    return known, tuple(tables), tuple(sorted(unresolved))


def _qualify(tree: exp.Expr, reader: str, known: _Known) -> None:
    """Qualify every column with its table and expand the stars, as far as the known columns allow."""
    schema: dict[str, dict[str, object]] = {}
    for (db, name), names in known.items():
        if names:  # typed "unknown": qualifying needs the names of the columns, not their types
            schema.setdefault(db, {})[name] = dict.fromkeys(names, "unknown")
    normalize_identifiers(tree, dialect=reader)  # Glue names are lower case, as is every engine's folding
    qualify_tables(tree, dialect=reader)
    # allow_partial_qualification: a column missing from Glue's list (schema drift) is kept, not an error.
    mapping = MappingSchema(dict[str, object](schema), dialect=reader, normalize=False)
    qualify_columns(tree, mapping, allow_partial_qualification=True)


def _parse(sql: str, dialect: str | None) -> tuple[exp.Expr, str]:
    readers = _READERS.get((dialect or "").lower(), _DEFAULT_READERS)
    for reader in readers[:-1]:
        with contextlib.suppress(ParseError, TokenError):
            return parse_one(sql, read=reader), reader
    return parse_one(sql, read=readers[-1]), readers[-1]


def _failed(problem: str) -> ViewLineage:
    return ViewLineage((), (), (), problem)


def _short(error: Exception) -> str:
    lines = str(error).strip().splitlines()
    # sqlglot's messages quote tokens as <Token token_type: ..., text: WHERE, line: 1, ...>: keep the text
    return _TOKEN.sub(r"'\1'", lines[0] if lines else type(error).__name__)[:200]


def _scan(tree: exp.Expr) -> tuple[list[exp.Table], bool]:
    """The tables the view reads, in the order of the text, and whether the tree is at most MAX_DEPTH deep."""
    ctes: set[str] = set()
    tables: list[exp.Table] = []
    deepest = 0
    stack = [(tree, 0)]
    while stack:  # one walk, and no recursion: the depth is not known to be safe yet
        node, depth = stack.pop()
        deepest = max(deepest, depth)
        if isinstance(node, exp.CTE):
            ctes.add(node.alias_or_name.lower())
        elif isinstance(node, exp.Table) and isinstance(node.this, exp.Identifier):  # not a table function
            tables.append(node)
        stack.extend((child, depth + 1) for child in node.iter_expressions())
    tables.sort(key=lambda table: int(table.this.meta.get("start", 0)))
    # An unqualified name that is also a CTE's is a reference to the CTE.
    return [table for table in tables if table.db or table.name.lower() not in ctes], deepest <= MAX_DEPTH


def _key(table: exp.Table) -> tuple[str, str]:
    return table.db.lower(), table.name.lower()


def _merge(lineages: Sequence[_Lineage]) -> _Lineage:
    return frozenset().union(*(s for s, _ in lineages)), all(complete for _, complete in lineages)


class _Tracer:
    """Traces output columns back through the scopes of a qualified query; each scope's outputs are worked out
    once, so the work is linear in the size of the query however many columns read a CTE."""

    def __init__(self, root: Scope, known: _Known) -> None:
        self._root = root
        self._known = known
        self._scopes = {id(scope.expression): scope for scope in root.traverse()}
        self._outputs: dict[int, tuple[list[_Output], dict[str, _Lineage]]] = {}

    def view_columns(self, view_columns: Sequence[str]) -> tuple[tuple[str, tuple[_Source, ...]], ...]:
        outputs, by_name = self._traced(self._root)
        wanted = [name.lower() for name in view_columns] or [name for name, _ in outputs if name is not None]
        if len(outputs) == len(wanted) and all(name is not None for name, _ in outputs):
            pairs = list(zip(wanted, (lineage for _, lineage in outputs), strict=True))  # by position
        else:  # a star we could not expand shifted the positions: match by name
            pairs = [(name, by_name.get(name, _UNKNOWN)) for name in wanted]
        # Leave out a column whose trace found nothing but was incomplete: an empty tuple would claim a literal.
        return tuple((name, tuple(sorted(sources))) for name, (sources, complete) in pairs if sources or complete)

    def _traced(self, scope: Scope) -> tuple[list[_Output], dict[str, _Lineage]]:
        key = id(scope)
        if key not in self._outputs:
            self._outputs[key] = ([], {})  # a recursive CTE meets itself: nothing known yet, so unknown
            outputs = self._compute(scope)
            # reversed: of two outputs with one name, the first wins, as in a reference to it
            self._outputs[key] = (outputs, {name: lin for name, lin in reversed(outputs) if name is not None})
        return self._outputs[key]

    def _compute(self, scope: Scope) -> list[_Output]:
        query = scope.expression
        if isinstance(query, exp.SetOperation):  # UNION etc.: each column takes the same position of every branch
            branches = scope.set_operation_scopes[:1] if isinstance(query, exp.Except) else scope.set_operation_scopes
            first, *others = (self._traced(branch)[0] for branch in branches)  # EXCEPT's rows are the first's
            aligned = all(len(o) == len(first) and None not in (n for n, _ in o) for o in (first, *others))
            return [(name, _merge([lineage, *(o[i][1] if aligned else _UNKNOWN for o in others)]))
                    for i, (name, lineage) in enumerate(first)]
        if not isinstance(query, exp.Select):
            return []
        outputs: list[_Output] = []
        for select in query.selects:
            if isinstance(select, exp.Star) or (isinstance(select, exp.Column) and select.is_star):
                outputs.extend(self._star(scope, select))
            else:
                outputs.append((select.alias_or_name.lower(), self._expression(scope, select)))
        return outputs

    def _star(self, scope: Scope, star: exp.Expr) -> list[_Output]:
        """A star sqlglot left alone, because some source of the scope is unknown: expand what we can."""
        modifiers = (star if isinstance(star, exp.Star) else star.this).args  # EXCEPT, REPLACE... change the list
        if any(modifiers.values()):
            return [(None, _UNKNOWN)]
        aliases = list(scope.selected_sources) if isinstance(star, exp.Star) else [star.text("table")]
        outputs: list[_Output] = []
        for alias in aliases:
            source = scope.sources.get(alias)
            names = self._known.get(_key(source)) if isinstance(source, exp.Table) else None
            if names is not None and isinstance(source, exp.Table):
                outputs.extend((name, (frozenset({(*_key(source), name)}), True)) for name in names)
            elif isinstance(source, Scope) and isinstance(source.expression, (exp.Select, exp.SetOperation)):
                outputs.extend(self._traced(source)[0])
            else:
                outputs.append((None, _UNKNOWN))
        return outputs

    def _expression(self, scope: Scope, node: exp.Expr) -> _Lineage:
        # Every column in the expression (sqlglot parses lambda variables as identifiers, not columns), stopping
        # at nested queries (scalar subqueries): their own scopes say what they select.
        found: list[_Lineage] = []
        try:
            for child in node.walk(prune=lambda n: n is not node and isinstance(n, exp.Query)):
                if isinstance(child, exp.Column):
                    found.append(self._column(scope, child))
                elif isinstance(child, exp.Query) and child is not node:
                    inner = self._scopes.get(id(child.unnest()))
                    found.append(_merge([lin for _, lin in self._traced(inner)[0]]) if inner else _UNKNOWN)
        except Exception:  # noqa: BLE001 - one odd expression should not cost the other columns their lineage
            found.append(_UNKNOWN)
        return _merge(found)

    def _column(self, scope: Scope, column: exp.Column) -> _Lineage:
        alias = column.table
        if not alias:  # left unqualified: sqlglot could not tell its table, unless there is only one to choose
            if len(scope.selected_sources) != 1:
                return _UNKNOWN
            alias = next(iter(scope.selected_sources))
        owner: Scope | None = scope
        while owner is not None and alias not in owner.sources:  # a correlated reference to an outer query
            owner = owner.parent
        source = owner.sources[alias] if owner is not None else None
        name = column.name.lower()
        if isinstance(source, exp.Table):
            names = self._known.get(_key(source))
            return (frozenset({(*_key(source), name)}), True) if names and name in names else _UNKNOWN
        if isinstance(source, Scope) and isinstance(source.expression, (exp.Select, exp.SetOperation)):
            return self._traced(source)[1].get(name, _UNKNOWN)
        if isinstance(source, Scope):  # UNNEST, LATERAL VIEW, VALUES: their columns come from all they read
            return _merge([self._column(source, inner) for inner in source.columns])
        return _UNKNOWN

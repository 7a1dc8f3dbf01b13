"""Lineage from AWS Glue jobs, for the crawl: the catalog tables and S3 locations a job reads and writes.

Two pure sources (no I/O): the job's PySpark script, read with `ast` (never run, never matched with regular
expressions), and the answer of Glue's GetDataflowGraph. Arguments are followed through names bound once to
constants; whatever needs the script to run (job arguments, parameters) is reported in `unresolved`, not guessed.
"""

from __future__ import annotations

import ast
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import sqlglot
from sqlglot import exp
from sqlglot.errors import SqlglotError

from gazetteer.packages.glue.script_values import SCOPE_NODES, UNKNOWN, Scope, Unknown, evaluate, module_scope

__all__ = ["MAX_SCRIPT_CHARS", "DataRef", "ScriptLineage", "dataflow_lineage", "s3_path", "script_lineage"]

MAX_SCRIPT_CHARS = 2_000_000
_MAX_ARG_CHARS = 100_000  # a GetDataflowGraph argument value longer than this is not a dataset's name
# Glue's reader/writer methods → whether they write. `from_catalog`/`from_options` take it from their receiver.
_CATALOG_CALLS = {"create_dynamic_frame_from_catalog": False, "create_data_frame_from_catalog": False,
                  "write_dynamic_frame_from_catalog": True, "write_data_frame_from_catalog": True}
_OPTIONS_CALLS = {"create_dynamic_frame_from_options": False, "write_dynamic_frame_from_options": True,
                  "write_from_options": True}
_FILE_METHODS = {"parquet", "csv", "json", "orc", "text", "load", "save"}
_TABLE_WRITES = {"saveAsTable", "insertInto", "writeTo", "toTable"}
# The GetDataflowGraph arguments that name a node's dataset.
_DATASET_ARGS = ("database", "name_space", "table_name", "catalogDatabase", "catalogTableName",
                 "connection_options", "path")
_TEMP_VIEWS = {"createOrReplaceTempView", "createTempView", "createGlobalTempView",
               "createOrReplaceGlobalTempView", "registerTempTable"}


@dataclass(frozen=True, slots=True)
class DataRef:
    """One dataset a job reads or writes: a Glue catalog table, or an S3 location."""

    database: str | None = None
    table: str | None = None
    path: str | None = None


@dataclass(frozen=True, slots=True)
class ScriptLineage:
    """What a job reads and writes; `unresolved` names the calls whose dataset could not be worked out."""

    sources: tuple[DataRef, ...]
    targets: tuple[DataRef, ...]
    unresolved: tuple[str, ...] = ()
    problem: str | None = None


def s3_path(value: str) -> str | None:
    """`value` as s3://bucket/key without trailing slash, or None when it is no S3 URL (HDFS, local, JDBC)."""
    scheme, separator, rest = value.strip().partition("://")
    rest = rest.rstrip("/")
    if not separator or scheme.lower() not in ("s3", "s3a", "s3n") or not rest:
        return None
    return f"s3://{rest}"


@dataclass
class _Sink:
    """A getSink(...) whose setCatalogInfo(...) may come statements later."""

    path: str | None
    path_problem: str | None
    catalog: tuple[str, str] | None = None


class _Collector:
    """Sources and targets in order met; `bare` remembers unqualified names that may turn out to be temp views."""

    def __init__(self) -> None:
        self.sources: list[tuple[DataRef | _Sink, str | None]] = []
        self.targets: list[tuple[DataRef | _Sink, str | None]] = []
        self.unresolved: list[str] = []
        self.temp_views: set[str] = set()
        self.unnamed_view_line: int | None = None

    def table(self, database: str, table: str, write: bool, bare: str | None = None, path: str | None = None) -> None:
        ref = DataRef(database.lower(), table.lower(), s3_path(path) if path else None)
        (self.targets if write else self.sources).append((ref, bare))

    def path(self, value: str, write: bool) -> None:
        if (normalised := s3_path(value)) is not None:
            (self.targets if write else self.sources).append((DataRef(path=normalised), None))

    def named(self, name: str, write: bool, where: str) -> None:
        """A Spark table name: "db.t", "catalog.db.t", or bare "t" (database "default", or a temp view)."""
        try:
            parsed = exp.to_table(name, dialect="spark")
        except (SqlglotError, RecursionError):
            self.unresolved.append(f"{where}: the table name {name[:80]!r} cannot be parsed")
            return
        self.sql_table(parsed, write)

    def sql_table(self, table: exp.Table, write: bool) -> None:
        if "://" in table.name:  # Spark's path tables: SELECT * FROM parquet.`s3://bucket/key`
            self.path(table.name, write)
        elif table.db.lower() != "global_temp":  # global temp views live in the session, not the catalog
            self.table(table.db or "default", table.name, write, None if table.db else table.name.lower())

    def result(self) -> ScriptLineage:
        return ScriptLineage(self._kept(self.sources), self._kept(self.targets), tuple(self.unresolved))

    def _kept(self, entries: list[tuple[DataRef | _Sink, str | None]]) -> tuple[DataRef, ...]:
        kept: dict[DataRef, None] = {}  # a dict: ordered, and deduplicates in constant time
        for entry, bare in entries:
            ref = _sink_ref(entry, self.unresolved) if isinstance(entry, _Sink) else entry
            if bare is not None and bare in self.temp_views:
                continue
            if bare is not None and self.unnamed_view_line is not None:  # it may be that view: we cannot tell
                self.unresolved.append(
                    f"table {bare!r} may be the temp view registered at line {self.unnamed_view_line} without a "
                    "constant name"
                )
                continue
            if ref is not None:
                kept.setdefault(ref)
        return tuple(kept)


def _sink_ref(sink: _Sink, unresolved: list[str]) -> DataRef | None:
    path = s3_path(sink.path) if sink.path else None
    if sink.catalog is not None:  # the catalog table is what the sink writes; the path is where it lands
        return DataRef(sink.catalog[0].lower(), sink.catalog[1].lower(), path)
    if sink.path_problem is not None:
        unresolved.append(sink.path_problem)
    return DataRef(path=path) if path else None


def _arg(call: ast.Call, position: int | None, *names: str) -> ast.expr | None:
    """The argument given by one of `names`, or at `position` (when no *args come before it)."""
    for keyword in call.keywords:
        if keyword.arg in names:
            return keyword.value
    leading = call.args[: (position or 0) + 1]
    if position is None or len(leading) <= position or any(isinstance(a, ast.Starred) for a in leading):
        return None
    return call.args[position]


class _Script:
    """One walk over a parsed script, in source order, with the scopes each node sees."""

    def __init__(self, tree: ast.Module) -> None:
        self.module = module_scope(tree)
        self.out = _Collector()
        self.sinks: dict[str, _Sink] = {}
        self.sink_names: dict[int, str] = {}  # id(getSink call) → the name it is assigned to

    def run(self, tree: ast.Module) -> ScriptLineage:
        stack: list[tuple[ast.AST, tuple[Scope, ...]]] = [(tree, (self.module,))]
        while stack:  # an explicit stack: deep scripts must not exhaust Python's recursion here
            node, scopes = stack.pop()
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
                self._call(node, node.func, scopes)
            elif isinstance(node, ast.Assign) and len(node.targets) == 1 and _method(node.value) == "getSink":
                self.sink_names[id(node.value)] = ast.unparse(node.targets[0])  # so setCatalogInfo finds the sink
            inner = (*scopes, Scope(node)) if isinstance(node, SCOPE_NODES) else scopes
            stack.extend((child, inner) for child in reversed(list(ast.iter_child_nodes(node))))
        return self.out.result()

    def _call(self, call: ast.Call, func: ast.Attribute, scopes: tuple[Scope, ...]) -> None:
        method = func.attr
        prefix = func.value.attr if isinstance(func.value, ast.Attribute) else ""
        where = f"{prefix}.{method}" if method in ("from_catalog", "from_options") else method
        where = f"{where} at line {call.lineno}"
        write = prefix.startswith("write")

        def text(position: int | None, *names: str) -> str | None:
            return self._text(_arg(call, position, *names), names[0], where, scopes)

        if method in _CATALOG_CALLS or method == "from_catalog":
            write = _CATALOG_CALLS.get(method, write)
            shift = 1 if write else 0  # writers take the frame first
            database, table = text(shift, "database", "name_space"), text(shift + 1, "table_name")
            if database is not None and table is not None:
                self.out.table(database, table, write)
        elif method in _OPTIONS_CALLS or method == "from_options":
            write = _OPTIONS_CALLS.get(method, write)
            self._options(call, where, 1 if write else 0, write, scopes)
        elif method == "getSink":
            path = _arg(call, None, "path")
            value = evaluate(path, scopes) if path is not None else None
            problem = None if path is None or isinstance(value, str) else _problem(path, "path", where)
            new_sink = _Sink(value if isinstance(value, str) else None, problem)
            self.out.targets.append((new_sink, None))  # its place in the order; what it writes is known later
            if id(call) in self.sink_names:
                self.sinks[self.sink_names[id(call)]] = new_sink
        elif method == "setCatalogInfo":
            database, table = text(0, "catalogDatabase"), text(1, "catalogTableName")
            if database is not None and table is not None:
                sink = self.sinks.get(ast.unparse(func.value))
                if sink is not None:
                    sink.catalog = (database, table)
                else:  # a sink made where we cannot see it: the catalog table is still what it writes
                    self.out.table(database, table, write=True)
        elif method == "sql" and (sql := text(0, "sqlQuery")) is not None:
            self._sql(sql, where)
        elif method == "table" or method in _TABLE_WRITES:
            if (name := text(0, "tableName", "name")) is not None:
                self.out.named(name, method != "table", where)
        elif method in _TEMP_VIEWS:
            view = evaluate(_arg(call, 0, "name", "viewName") or ast.Constant(None), scopes)
            if isinstance(view, str):
                self.out.temp_views.add(view.lower())
            elif self.out.unnamed_view_line is None:
                self.out.unnamed_view_line = call.lineno
        elif method in _FILE_METHODS:
            self._file(call, func, method, where, scopes)

    def _options(self, call: ast.Call, where: str, shift: int, write: bool, scopes: tuple[Scope, ...]) -> None:
        """from_options: the S3 "paths"/"path" of connection_options, whatever the connection type says."""
        expression = _arg(call, shift + 1, "connection_options")
        options = evaluate(expression, scopes) if expression is not None else {}
        kind = evaluate(_arg(call, shift, "connection_type") or ast.Constant(None), scopes)
        if isinstance(options, Unknown):
            if not (isinstance(kind, str) and kind.lower() != "s3"):  # JDBC/Kafka options are not ours to follow
                self.out.unresolved.append(_problem(expression, "connection_options", where))
            return
        for key in ("paths", "path"):
            value = options.get(key, []) if isinstance(options, dict) else []
            for path in value if isinstance(value, list) else [value]:
                if isinstance(path, str):
                    self.out.path(path, write)
                else:
                    self.out.unresolved.append(f"{where}: connection_options[{key!r}] is not a constant string")

    def _file(self, call: ast.Call, func: ast.Attribute, method: str, where: str, scopes: tuple[Scope, ...]) -> None:
        """`spark.read...parquet(p)`, `.load(p)`, `df.write...save(p)`: only on a read or write chain."""
        direction, options = _chain(func.value)
        if direction is None:
            return
        if method == "parquet" and direction == "read" and not any(isinstance(a, ast.Starred) for a in call.args):
            expressions = list(call.args)  # DataFrameReader.parquet(*paths)
        else:
            found = _arg(call, 0, "path", "paths") or options.get("path")
            if found is None and call.args:  # `*paths`: a list built at run time
                found = call.args[0]
            expressions = [found] if found is not None else []  # no path: a JDBC or other connector's load
        fmt = evaluate(options.get("format") or ast.Constant(None), scopes)
        for expression in expressions:
            value = evaluate(expression, scopes)
            for item in value if isinstance(value, list) else [value]:
                if not isinstance(item, str):
                    self.out.unresolved.append(_problem(expression, "path", where))
                elif fmt == "iceberg" and "/" not in item:  # Iceberg loads and saves tables by name
                    self.out.named(item, direction == "write", where)
                else:
                    self.out.path(item, direction == "write")

    def _sql(self, sql: str, where: str) -> None:
        try:
            statements = sqlglot.parse(sql, read="spark")
        except (SqlglotError, RecursionError) as error:
            self.out.unresolved.append(f"{where}: the SQL cannot be parsed ({str(error).splitlines()[0][:120]})")
            return
        for statement in statements:
            target: exp.Expression | None = None
            if isinstance(statement, exp.Insert | exp.Merge | exp.Update | exp.Delete) or (
                isinstance(statement, exp.Create) and statement.expression is not None
            ):
                target = statement.this.this if isinstance(statement.this, exp.Schema) else statement.this
                if isinstance(statement, exp.Create) and statement.find(exp.TemporaryProperty):
                    self.out.temp_views.add(statement.this.name.lower())
                    target = None
            elif not isinstance(statement, exp.Query):
                continue  # DDL, DROP, MSCK REPAIR TABLE...: no data flows
            # A CREATE VIEW (not TEMP) is written like a CTAS: the view is a catalog table the job makes.
            ctes = {cte.alias_or_name.lower() for cte in statement.find_all(exp.CTE)}
            for table in sorted(statement.find_all(exp.Table), key=_position):
                if table is target or (not table.db and table.name.lower() in ctes):
                    continue
                self.out.sql_table(table, write=False)
            if isinstance(target, exp.Table):
                self.out.sql_table(target, write=True)
            elif isinstance(target, exp.Directory) and isinstance(target.this, exp.Literal):
                self.out.path(target.this.name, write=True)

    def _text(self, expression: ast.expr | None, param: str, where: str, scopes: tuple[Scope, ...]) -> str | None:
        value = evaluate(expression, scopes) if expression is not None else None
        if isinstance(value, str):
            return value
        self.out.unresolved.append(_problem(expression, param, where))
        return None


def _problem(expression: ast.expr | None, param: str, where: str) -> str:
    if expression is None:
        return f"{where}: {param} is not given"
    return f"{where}: {param} is not a constant ({ast.unparse(expression)[:80]})"


def _position(table: exp.Table) -> int:
    """Where the table's name starts in the SQL, so that sources come in the order a reader meets them."""
    start = table.this.meta.get("start") if isinstance(table.this, exp.Expression) else None
    return start if isinstance(start, int) else 0


def _method(node: ast.expr) -> str | None:
    return node.func.attr if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) else None


def _chain(node: ast.expr) -> tuple[str | None, dict[str, ast.expr]]:
    """Walks back from a method through `.format(f).option("path", p)...` to `.read`/`.write`: the direction,
    and the options met on the way (the one nearest the method wins, as in Spark)."""
    options: dict[str, ast.expr] = {}
    while True:
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            name, args = node.func.attr, node.args
            if name == "option" and len(args) == 2 and isinstance(args[0], ast.Constant):
                options.setdefault(str(args[0].value).lower(), args[1])
            elif name == "options":
                for keyword in node.keywords:
                    if keyword.arg:
                        options.setdefault(keyword.arg.lower(), keyword.value)
            elif name == "format" and args:
                options.setdefault("format", args[0])
            node = node.func.value
        elif isinstance(node, ast.Attribute):
            if node.attr in ("read", "readStream", "write", "writeStream"):
                return ("read" if node.attr.startswith("read") else "write"), options
            node = node.value
        else:
            return None, options


def script_lineage(source: str) -> ScriptLineage:
    """The datasets a Glue job's Python script reads and writes, found without running it. Never raises."""
    if len(source) > MAX_SCRIPT_CHARS:
        return ScriptLineage((), (), problem=f"the script has {len(source):,} characters, over {MAX_SCRIPT_CHARS:,}")
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError) as error:  # Scala jobs, Python 2 scripts; ValueError: NUL bytes before 3.11.4
        where = f" (line {error.lineno})" if isinstance(error, SyntaxError) and error.lineno else ""
        return _failed(f"the script is not Python 3 this crawler can parse: {getattr(error, 'msg', error)}{where}")
    except (RecursionError, MemoryError):  # nesting deeper than the parser's stack
        return _failed("the script is nested too deeply to parse")
    try:
        return _Script(tree).run(tree)
    except RecursionError:  # evaluating or printing a very deep expression
        return _failed("the script is nested too deeply to analyse")
    except Exception as error:  # noqa: BLE001 - one odd script must not stop the crawl of the others
        return _failed(f"the script could not be analysed ({type(error).__name__}: {error})")


def _failed(problem: str) -> ScriptLineage:
    return ScriptLineage((), (), problem=problem)


def dataflow_lineage(graph: Mapping[str, Any]) -> ScriptLineage:
    """Sources and targets from GetDataflowGraph's answer: DataSource and DataSink nodes of DagNodes."""
    nodes = graph.get("DagNodes") if isinstance(graph, Mapping) else None
    if not isinstance(nodes, list):
        return _failed("the dataflow graph has no DagNodes list")
    out = _Collector()
    for node in nodes:
        kind = str(node.get("NodeType", "")).lower() if isinstance(node, Mapping) else ""
        if kind not in ("datasource", "datasink"):
            continue
        write = kind == "datasink"
        where = f"{node.get('NodeType')} {node.get('Id')}"
        args: dict[str, object] = {}
        for arg in node.get("Args") if isinstance(node.get("Args"), list) else ():
            if isinstance(arg, Mapping) and isinstance(arg.get("Name"), str):
                args[arg["Name"]] = _literal(arg.get("Value"))
        database = args.get("catalogDatabase", args.get("database", args.get("name_space")))
        table = args.get("catalogTableName", args.get("table_name"))
        options = args.get("connection_options")
        paths = (options.get("paths", options.get("path")) if isinstance(options, dict) else None) or args.get("path")
        paths = paths if isinstance(paths, list) else [paths]
        if isinstance(database, str) and isinstance(table, str):
            sink_path = next((path for path in paths if isinstance(path, str)), None) if write else None
            out.table(database, table, write, path=sink_path)
        elif any(isinstance(path, str) for path in paths):
            for path in paths:
                if isinstance(path, str):
                    out.path(path, write)
        elif unknown := [name for name in _DATASET_ARGS if isinstance(args.get(name), Unknown)]:
            out.unresolved.append(f"{where}: {', '.join(unknown)} not a Python literal")
    return out.result()


def _literal(value: object) -> object:
    """GetDataflowGraph's values are Python literals as text (`"\\"sales\\""`); anything else is unknown."""
    if not isinstance(value, str) or len(value) > _MAX_ARG_CHARS:
        return UNKNOWN
    try:
        return ast.literal_eval(value)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return UNKNOWN

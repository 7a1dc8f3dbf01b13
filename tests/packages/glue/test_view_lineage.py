"""Lineage of Glue views from their SQL: tables read, per-column sources, unresolved names, and SQL that cannot be
analysed. A small dict-backed catalog stands in for the connection."""

from __future__ import annotations

import pytest

from gazetteer.packages.glue import view_lineage as module
from gazetteer.packages.glue.view_lineage import MAX_DEPTH, MAX_SQL_LENGTH, ViewLineage, view_lineage

CATALOG: dict[tuple[str, str], list[str]] = {
    ("sales", "orders"): ["order_id", "customer_id", "amount", "currency", "ordered_at", "status", "dt", "region"],
    ("sales", "customers"): ["customer_id", "name", "email", "country", "signup_date"],
    ("sales", "line_items"): ["order_id", "line_no", "sku", "quantity", "unit_price"],
    ("sales", "events"): ["event_id", "event_type", "occurred_at", "user_id", "context"],
    # Views are listed like tables: lineage stops at them.
    ("analytics", "daily_revenue"): ["dt", "revenue", "order_count"],
}
ORDERS = CATALOG[("sales", "orders")]
CUSTOMERS = CATALOG[("sales", "customers")]

DAILY_REVENUE = (
    "SELECT dt, sum(amount) AS revenue, count(*) AS order_count FROM sales.orders "
    "WHERE status <> 'CANCELLED' GROUP BY dt"
)
TOP_CUSTOMERS = (
    "SELECT `c`.`customer_id`, `c`.`name`, sum(`o`.`amount`) AS `total_spent` "
    "FROM `spark_catalog`.`sales`.`customers` `c` "
    "JOIN `spark_catalog`.`sales`.`orders` `o` ON `o`.`customer_id` = `c`.`customer_id` "
    "GROUP BY `c`.`customer_id`, `c`.`name` ORDER BY `total_spent` DESC LIMIT 100"
)


class Catalog:
    """columns_of over CATALOG, recording every call."""

    def __init__(self, tables: dict[tuple[str, str], list[str]] | None = None) -> None:
        self.tables = CATALOG if tables is None else tables
        self.calls: list[tuple[str, str]] = []

    def __call__(self, database: str, table: str) -> list[str] | None:
        self.calls.append((database, table))
        return self.tables.get((database, table))


def lineage(sql: str, dialect: str | None = "presto", columns: list[str] | tuple[str, ...] = (),
            database: str = "analytics", catalog: Catalog | None = None) -> ViewLineage:
    return view_lineage(sql, dialect, database, columns, catalog or Catalog())


def col(table: str, column: str, database: str = "sales") -> tuple[str, str, str]:
    return (database, table, column)


def test_athena_daily_revenue():
    result = lineage(DAILY_REVENUE, "presto", ["dt", "revenue", "order_count"])

    assert result == ViewLineage(
        tables=(("sales", "orders"),),
        columns=(
            ("dt", (col("orders", "dt"),)),
            ("revenue", (col("orders", "amount"),)),
            ("order_count", ()),  # count(*) reads no column; the WHERE's status is not a source
        ),
        unresolved=(),
    )


def test_spark_top_customers_with_spark_catalog_names():
    result = lineage(TOP_CUSTOMERS, "spark", ["customer_id", "name", "total_spent"])

    assert result == ViewLineage(
        tables=(("sales", "customers"), ("sales", "orders")),
        columns=(
            ("customer_id", (col("customers", "customer_id"),)),
            ("name", (col("customers", "name"),)),
            ("total_spent", (col("orders", "amount"),)),
        ),
        unresolved=(),
    )


def test_cte_join_case_window_and_scalar_subquery():
    sql = """
        WITH paid AS (SELECT customer_id, amount * 2 AS doubled FROM sales.orders WHERE status = 'PAID'),
             lines AS (SELECT order_id, sum(quantity * unit_price) AS value FROM sales.line_items GROUP BY 1)
        SELECT c.name,
               p.doubled,
               (SELECT max(value) FROM lines) AS biggest_order,
               CASE WHEN c.country = 'FR' THEN p.doubled ELSE 0 END AS french_amount,
               row_number() OVER (PARTITION BY c.country ORDER BY c.signup_date) AS rank_in_country,
               'eur' AS currency
        FROM paid p JOIN sales.customers c ON p.customer_id = c.customer_id
    """
    columns = ["name", "doubled", "biggest_order", "french_amount", "rank_in_country", "currency"]
    result = lineage(sql, "presto", columns)

    assert result.tables == (("sales", "orders"), ("sales", "line_items"), ("sales", "customers"))
    assert dict(result.columns) == {
        "name": (col("customers", "name"),),
        "doubled": (col("orders", "amount"),),
        "biggest_order": (col("line_items", "quantity"), col("line_items", "unit_price")),
        "french_amount": (col("customers", "country"), col("orders", "amount")),
        "rank_in_country": (col("customers", "country"), col("customers", "signup_date")),
        "currency": (),
    }
    assert [name for name, _ in result.columns] == columns  # in the view's column order
    assert result.unresolved == () and result.problem is None


def test_a_view_over_a_view_stops_at_the_view_it_reads():
    catalog = Catalog()
    result = lineage(
        "SELECT dt, revenue / order_count AS average_order FROM daily_revenue", "presto",
        ["dt", "average_order"], catalog=catalog,
    )

    assert result.tables == (("analytics", "daily_revenue"),)
    assert result.columns == (
        ("dt", (col("daily_revenue", "dt", "analytics"),)),
        ("average_order", (col("daily_revenue", "order_count", "analytics"),
                           col("daily_revenue", "revenue", "analytics"))),
    )
    assert catalog.calls == [("analytics", "daily_revenue")]  # the other view's own SQL is not followed


def test_union_all_takes_each_position_from_every_branch():
    sql = """
        SELECT order_id AS id, amount AS value, 'order' AS kind FROM sales.orders
        UNION ALL
        SELECT line_no, quantity * unit_price, 'line' FROM sales.line_items
        UNION ALL
        SELECT customer_id, NULL, 'customer' FROM sales.customers
    """
    result = lineage(sql, "presto", ["id", "value", "kind"])

    assert result.tables == (("sales", "orders"), ("sales", "line_items"), ("sales", "customers"))
    assert result.columns == (
        ("id", (col("customers", "customer_id"), col("line_items", "line_no"), col("orders", "order_id"))),
        ("value", (col("line_items", "quantity"), col("line_items", "unit_price"), col("orders", "amount"))),
        ("kind", ()),
    )


def test_except_takes_its_rows_from_the_first_branch_only():
    sql = "SELECT customer_id FROM sales.customers EXCEPT SELECT customer_id FROM sales.orders"
    result = lineage(sql, "presto", ["customer_id"])

    assert result.tables == (("sales", "customers"), ("sales", "orders"))
    assert result.columns == (("customer_id", (col("customers", "customer_id"),)),)


def test_select_star_expands_to_the_table_columns():
    result = lineage("SELECT * FROM sales.orders", "presto", ORDERS)

    assert result.columns == tuple((name, (col("orders", name),)) for name in ORDERS)


def test_qualified_star_expands_in_a_join():
    sql = "SELECT c.*, o.amount FROM sales.customers c JOIN sales.orders o ON o.customer_id = c.customer_id"
    result = lineage(sql, "presto", [*CUSTOMERS, "amount"])

    assert result.columns == (
        *((name, (col("customers", name),)) for name in CUSTOMERS),
        ("amount", (col("orders", "amount"),)),
    )


def test_star_through_a_cte_and_a_subquery():
    sql = "WITH o AS (SELECT * FROM sales.orders) SELECT s.* FROM (SELECT order_id, amount FROM o) s"
    result = lineage(sql, "presto", ["order_id", "amount"])

    assert result.tables == (("sales", "orders"),)
    assert result.columns == (("order_id", (col("orders", "order_id"),)), ("amount", (col("orders", "amount"),)))


def test_unqualified_tables_resolve_against_the_view_database():
    catalog = Catalog()
    result = lineage("SELECT name FROM customers", "presto", ["name"], database="sales", catalog=catalog)

    assert result.tables == (("sales", "customers"),)
    assert result.columns == (("name", (col("customers", "name"),)),)
    assert catalog.calls == [("sales", "customers")]


def test_unqualified_table_missing_from_the_view_database_is_unresolved_as_written():
    result = lineage("SELECT name FROM customers", "presto", ["name"], database="analytics")

    assert result.tables == ()
    assert result.unresolved == ("customers",)
    assert result.columns == ()  # its only source is unknown: not claimed to be a literal
    assert result.problem is None


@pytest.mark.parametrize(
    ("sql", "dialect"),
    [
        ("SELECT amount FROM awsdatacatalog.sales.orders", "presto"),
        ('SELECT "amount" FROM "awsdatacatalog"."sales"."orders"', "presto"),
        ("SELECT `amount` FROM `spark_catalog`.`sales`.`orders`", "spark"),
        ("SELECT amount FROM spark_catalog.sales.orders", "hive"),
    ],
)
def test_three_part_names_resolve_by_their_last_two_parts(sql, dialect):
    catalog = Catalog()
    result = lineage(sql, dialect, ["amount"], catalog=catalog)

    assert result.tables == (("sales", "orders"),)
    assert result.columns == (("amount", (col("orders", "amount"),)),)
    assert catalog.calls == [("sales", "orders")]


def test_unresolved_table_is_reported_and_its_columns_left_out():
    sql = """
        SELECT c.name, o.amount, o.amount + c.country AS mixed
        FROM sales.customers c JOIN sales.ordrs o ON o.customer_id = c.customer_id
    """
    result = lineage(sql, "presto", ["name", "amount", "mixed"])

    assert result.tables == (("sales", "customers"),)
    assert result.unresolved == ("sales.ordrs",)
    assert result.columns == (
        ("name", (col("customers", "name"),)),
        # amount comes only from the unknown table: left out; mixed keeps the part that resolved
        ("mixed", (col("customers", "country"),)),
    )


def test_star_over_a_resolved_and_an_unresolved_table_expands_the_resolved_part():
    sql = "SELECT * FROM sales.customers c JOIN spark_catalog.sales.ordrs o ON o.customer_id = c.customer_id"
    result = lineage(sql, "spark", [*CUSTOMERS, "amount", "extra"])

    assert result.unresolved == ("sales.ordrs",)
    # The unknown table's columns shift the positions, so the view's columns are matched by name.
    assert result.columns == tuple((name, (col("customers", name),)) for name in CUSTOMERS)


def test_unresolved_names_are_sorted_and_unique():
    sql = "SELECT 1 AS one FROM zeta z JOIN sales.alpha a ON 1 = 1 JOIN zeta z2 ON 1 = 1 JOIN sales.orders o ON 1 = 1"
    result = lineage(sql, "presto", ["one"])

    assert result.unresolved == ("sales.alpha", "zeta")
    assert result.tables == (("sales", "orders"),)
    assert result.columns == (("one", ()),)


def test_unresolved_names_keep_the_sql_spelling_less_the_catalog():
    catalog = Catalog()
    result = lineage("SELECT 1 AS one FROM AwsDataCatalog.Sales.Ordrs", "presto", ["one"], catalog=catalog)

    assert result.unresolved == ("Sales.Ordrs",)
    assert catalog.calls == [("sales", "ordrs")]  # looked up in lower case, as Glue names are


def test_tables_in_the_order_first_met_without_duplicates():
    sql = """
        WITH recent AS (SELECT customer_id FROM sales.orders WHERE dt > '2024-01-01')
        SELECT c.name FROM sales.customers c
        WHERE c.customer_id IN (SELECT customer_id FROM recent)
          AND EXISTS (SELECT 1 FROM sales.line_items li JOIN sales.orders o ON o.order_id = li.order_id)
    """
    result = lineage(sql, "presto", ["name"])

    assert result.tables == (("sales", "orders"), ("sales", "customers"), ("sales", "line_items"))


def test_columns_of_is_called_once_per_table():
    catalog = Catalog()
    sql = """
        WITH a AS (SELECT * FROM sales.orders), b AS (SELECT amount FROM sales.orders)
        SELECT a.order_id, b.amount, (SELECT max(amount) FROM sales.orders) AS top
        FROM a JOIN b ON 1 = 1 JOIN nowhere n ON 1 = 1 JOIN nowhere n2 ON 1 = 1
    """
    result = lineage(sql, "presto", ["order_id", "amount", "top"], catalog=catalog)

    assert sorted(catalog.calls) == [("analytics", "nowhere"), ("sales", "orders")]
    assert dict(result.columns)["top"] == (col("orders", "amount"),)


def test_correlated_scalar_subquery_reads_its_own_select_and_outer_columns():
    sql = """
        SELECT c.name,
               (SELECT sum(o.amount) FROM sales.orders o WHERE o.customer_id = c.customer_id) AS spent,
               (SELECT c.email || ':' || max(o.status) FROM sales.orders o WHERE o.customer_id = c.customer_id) AS label
        FROM sales.customers c
    """
    result = lineage(sql, "presto", ["name", "spent", "label"])

    assert result.columns == (
        ("name", (col("customers", "name"),)),
        ("spent", (col("orders", "amount"),)),  # the WHERE filters rows; it is not a source of the value
        ("label", (col("customers", "email"), col("orders", "status"))),
    )


def test_mixed_case_sql_and_view_columns_matched_by_position():
    # Spark's CREATE VIEW v (a, b) AS SELECT ... gives Glue names the SELECT does not spell.
    sql = "SELECT O.Order_ID, SUM(o.Amount) AS Total FROM Sales.`Orders` o GROUP BY O.Order_ID"
    result = lineage(sql, "spark", ["id", "total_amount"])

    assert result.tables == (("sales", "orders"),)
    assert result.columns == (("id", (col("orders", "order_id"),)), ("total_amount", (col("orders", "amount"),)))


def test_view_columns_default_to_the_select_names_when_glue_lists_none():
    result = lineage("SELECT order_id, amount AS value FROM sales.orders", "presto", [])

    assert result.columns == (("order_id", (col("orders", "order_id"),)), ("value", (col("orders", "amount"),)))


def test_a_column_glue_does_not_list_is_left_out():
    result = lineage("SELECT amount, discount FROM sales.orders", "presto", ["amount", "discount"])

    assert result.columns == (("amount", (col("orders", "amount"),)),)


def test_unknown_dialect_reads_trino_quotes_as_identifiers_and_falls_back_to_spark():
    trino = lineage('SELECT "amount" FROM "sales"."orders"', None, ["amount"])
    spark = lineage("SELECT `amount` FROM sales.orders LATERAL VIEW explode(array(1)) t AS x", None, ["amount"])

    assert trino.columns == (("amount", (col("orders", "amount"),)),)  # not the string literal 'amount'
    assert spark.columns == (("amount", (col("orders", "amount"),)),)


def test_athena_unnest():
    sql = "SELECT e.event_id, t.tag FROM sales.events e CROSS JOIN UNNEST(e.context) AS t(tag)"
    result = lineage(sql, "presto", ["event_id", "tag"])

    assert result.columns == (("event_id", (col("events", "event_id"),)), ("tag", (col("events", "context"),)))


def test_lambda_variables_are_not_columns():
    # The variable is named like a column of the table on purpose: it must not be taken for events.event_type.
    sql = "SELECT transform(context, event_type -> upper(event_type)) AS upper_context FROM sales.events"
    result = lineage(sql, "presto", ["upper_context"])

    assert result.columns == (("upper_context", (col("events", "context"),)),)


def test_spark_lateral_view_explode():
    sql = "SELECT `e`.`event_id`, `tag` FROM `sales`.`events` `e` LATERAL VIEW explode(`e`.`context`) `t` AS `tag`"
    result = lineage(sql, "spark", ["event_id", "tag"])

    assert result.columns == (("event_id", (col("events", "event_id"),)), ("tag", (col("events", "context"),)))


def test_parenthesized_view():
    result = lineage("(SELECT amount FROM sales.orders)", "presto", ["amount"])

    assert result.columns == (("amount", (col("orders", "amount"),)),)


@pytest.mark.parametrize(
    "sql",
    ["SELECT FROM WHERE", "SELECT (amount FROM sales.orders", "", "SELECT 'unterminated FROM sales.orders"],
)
def test_unparseable_sql_is_a_problem_not_an_exception(sql):
    result = lineage(sql, "presto", ["amount"])

    assert result.problem is not None and result.problem.startswith("the SQL could not be parsed")
    assert "\n" not in result.problem and len(result.problem) < 260
    assert result.tables == () and result.columns == () and result.unresolved == ()


def test_parse_problem_names_the_token_not_its_repr():
    problem = lineage("SELECT FROM WHERE", "presto").problem

    assert problem is not None and "'WHERE'" in problem and "<Token" not in problem


@pytest.mark.parametrize(
    "sql", ["CREATE TABLE sales.copy AS SELECT * FROM sales.orders", "DROP VIEW analytics.v", "SELECT 1; SELECT 2"]
)
def test_anything_but_a_query_is_a_problem(sql):
    result = lineage(sql, "presto")

    assert result.problem == "the SQL is not a query (a view is a SELECT)"
    assert result.tables == () and result.columns == ()


def test_oversized_sql_is_refused_without_parsing(monkeypatch):
    def parse_one(*args, **kwargs):
        raise AssertionError("parsed")

    monkeypatch.setattr(module, "parse_one", parse_one)
    catalog = Catalog()
    sql = "SELECT amount FROM sales.orders WHERE " + " " * MAX_SQL_LENGTH + "1 = 1"
    result = lineage(sql, "presto", ["amount"], catalog=catalog)

    assert result.problem is not None and "longer than" in result.problem
    assert result.tables == () and catalog.calls == []


def test_deeply_nested_sql_keeps_the_table_lineage_only():
    sql = "SELECT " + " + ".join(["amount"] * (MAX_DEPTH + 50)) + " AS total FROM sales.orders"
    result = lineage(sql, "presto", ["total"])

    assert result.problem is None
    assert result.tables == (("sales", "orders"),)
    assert result.columns == ()


def test_a_sqlglot_failure_while_qualifying_keeps_the_table_lineage(monkeypatch):
    def qualify_columns(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(module, "qualify_columns", qualify_columns)
    result = lineage("SELECT o.amount, status FROM sales.orders o", "presto", ["amount", "status"])

    assert result.problem is None
    assert result.tables == (("sales", "orders"),)
    # Traced from the unqualified tree: the qualified column and the one with a single possible table.
    assert result.columns == (("amount", (col("orders", "amount"),)), ("status", (col("orders", "status"),)))

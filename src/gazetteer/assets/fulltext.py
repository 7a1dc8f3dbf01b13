"""Full-text matching and ranking of assets: SQLite FTS5 or PostgreSQL tsvector (see migration 0004).

What for: the asset search's `match` / `multi_match` clauses. Both engines see the same words (runs of
letters and digits, lower-cased) and give the same assets:

* every word of the query must be a word of the asset (operator "and") or any one (operator "or", ES's
  default); the last word also matches as a prefix, so results come while the user is typing;
* the asset's own name and descriptions (crawled and curated) are searched, and a table or view is also
  found by the name of one of its columns, unless the clause names its fields (`name`, `description`,
  `userDescription`, `columns`);
* a word found nowhere is replaced by the indexed name words within ES's AUTO edit distance (1 for 3-5
  letters, 2 above), so "custmer" finds "customer";
* ranking (`score`): exact name 6, name starting with the text 5, all words in the name 4, in the own
  text 3, in a column's name 2, anything else 1; ties go to shorter names.
"""

from __future__ import annotations

import re
from typing import Any

import sqlalchemy as sa
from sqlalchemy import ColumnElement
from sqlalchemy.engine import Connection

from gazetteer.errors import InvalidRequest
from gazetteer.search import FullText
from gazetteer.store.schema import assets

__all__ = ["FullTextMatcher", "words"]

_WORD = re.compile(r"[^\W_]+")
# match/multi_match field names → which parts of an asset they search.
_FIELDS = {
    "name": {"name"}, "name.keyword": {"name"}, "displayName": {"name"},
    "description": {"description"}, "userDescription": {"description"},
    "columns": {"columns"}, "columnNames": {"columns"},
    "*": {"name", "description", "columns"},
}
_MAX_FUZZY = 5  # replacement words per misspelt word


def words(text: str) -> list[str]:
    """The words of `text` as both indexes see them."""
    return _WORD.findall(text.lower())


def _distance(a: str, b: str, limit: int) -> int:
    """Levenshtein distance with transpositions, giving up (limit + 1) once it must exceed `limit`."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    previous2: list[int] = []
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i] + [0] * len(b)
        for j, cb in enumerate(b, 1):
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb))
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                current[j] = min(current[j], previous2[j - 2] + 1)
        if min(current) > limit:
            return limit + 1
        previous2, previous = previous, current
    return previous[-1]


def _fuzziness(word: str) -> int:
    return 0 if len(word) < 3 else 1 if len(word) <= 5 else 2


class FullTextMatcher:
    """Compiles full-text clauses on one connection; `score` ranks by the first clause compiled."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.postgresql = conn.dialect.name == "postgresql"
        self.score: ColumnElement[Any] | None = None

    def predicate(self, node: FullText) -> ColumnElement[bool]:
        parts = self._parts(node)
        typed = words(node.text)
        groups = [self._alternatives(word, last=i == len(typed) - 1) for i, word in enumerate(typed)]
        if not groups:
            return sa.false()  # ES: a query without words matches nothing
        join = "and" if node.operator == "and" else "or"
        own = parts & {"name", "description"}
        candidates = []
        if own:
            candidates.append(self._own_ids(groups, join, own))
        if "columns" in parts:
            candidates.append(self._column_owner_ids(groups, join))
        if self.score is None:
            self.score = self._score(node.text, groups, parts)
        ids = candidates[0] if len(candidates) == 1 else sa.union_all(*candidates)
        return assets.c.id.in_(ids)

    def _parts(self, node: FullText) -> set[str]:
        if not node.fields:
            return set(_FIELDS["*"])
        parts: set[str] = set()
        for field in node.fields:
            found = _FIELDS.get(field)
            if found is None:
                known = ", ".join(sorted(_FIELDS))
                raise InvalidRequest(f"unsupported field {field!r} in the {node.kind!r} clause at {node.at}; "
                                     f"full text searches: {known}")
            parts |= found
        return parts

    # --- words and their misspellings --------------------------------------------------------------

    def _alternatives(self, word: str, *, last: bool) -> list[tuple[str, bool]]:
        """(word, is_prefix) choices for one query word: itself, or close indexed words if it is unknown."""
        own = [(word, last)]
        if _fuzziness(word) == 0 or self._known(word, last):
            return own
        close = self._close_words(word)
        return own + [(w, False) for w in close[:_MAX_FUZZY]]

    def _known(self, word: str, prefix: bool) -> bool:
        if self.postgresql:
            query = sa.select(sa.literal(1)).select_from(assets).where(
                _ts_match(assets, _ts_term(word, prefix, None))).limit(1)
        else:
            query = _fts_select("rowid", _fts_term(word, prefix)).limit(1)
        return self.conn.execute(query).first() is not None

    def _close_words(self, word: str) -> list[str]:
        limit = _fuzziness(word)
        if self.postgresql:
            pool = self._pg_name_words(word)
        else:
            # Typos rarely hit the first letter; the vocabulary is read for that letter only.
            pool = self.conn.exec_driver_sql(
                "SELECT term FROM assets_fts_terms WHERE col = 'name' AND term >= ? AND term < ?",
                (word[0], word[0] + "\U0010ffff")).scalars().all()
        scored = sorted((_distance(word, w, limit), w) for w in set(pool) if w != word)
        return [w for d, w in scored if d <= limit]

    def _pg_name_words(self, word: str) -> list[str]:
        schema = self.conn.exec_driver_sql(
            "SELECT n.nspname FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace "
            "WHERE e.extname = 'pg_trgm'").scalar()
        if schema is None:
            return []  # no pg_trgm: no typo tolerance
        # The default threshold (0.6) misses one-letter typos in short words ('custmer' ~ 'customers' is 0.5).
        self.conn.exec_driver_sql("SELECT set_config('pg_trgm.word_similarity_threshold', '0.4', true)")
        names = self.conn.execute(
            sa.text(f'SELECT DISTINCT lower(name) FROM assets WHERE :w OPERATOR("{schema}".<%) lower(name) '
                    "AND status = 'ACTIVE' LIMIT 500"), {"w": word}).scalars().all()
        return [w for name in names for w in words(name)]

    # --- the SQL ------------------------------------------------------------------------------------

    def _own_ids(self, groups: list, join: str, parts: set[str]) -> Any:
        if self.postgresql:
            inner = assets.alias("fts_self")  # an alias: `assets` itself would correlate with the outer query
            return sa.select(inner.c.id).where(_pg_own(inner, groups, join, parts), inner.c.status == "ACTIVE")
        column = None if parts == {"name", "description"} else next(iter(parts))
        return _fts_select("rowid", _fts_query(groups, join, column))

    def _has_own(self, groups: list, join: str, parts: set[str]) -> ColumnElement[bool]:
        if self.postgresql:  # the row's own vector: no subquery needed
            return _pg_own(assets, groups, join, parts)
        return assets.c.id.in_(self._own_ids(groups, join, parts))

    def _column_owner_ids(self, groups: list, join: str) -> Any:
        if self.postgresql:
            column, parent = assets.alias("fts_column"), assets.alias("fts_parent")
            return (sa.select(parent.c.id)
                    .select_from(column.join(parent, parent.c.qualified_name == column.c.parent_qualified_name))
                    .where(column.c.type_name == "Column", column.c.status == "ACTIVE",
                           _ts_match(column, _tsquery(groups, join, "A"))))
        return _fts_select("owner", _fts_query(groups, join, "name"), owners=True)

    def _score(self, text: str, groups: list, parts: set[str]) -> ColumnElement[Any]:
        tiers: list[tuple[ColumnElement[bool], int]] = []
        if "name" in parts:
            name, exact = sa.func.lower(assets.c.name), text.strip().lower()
            pattern = re.sub(r"([\\%_])", r"\\\1", exact) + "%"
            tiers += [(name == exact, 6), (name.like(pattern, escape="\\"), 5),
                      (self._has_own(groups, "and", {"name"}), 4)]
        if own := parts & {"name", "description"}:
            tiers.append((self._has_own(groups, "and", own), 3))
        if "columns" in parts:
            tiers.append((assets.c.id.in_(self._column_owner_ids(groups, "and")), 2))
        return sa.case(*tiers, else_=1)


def _fts_term(word: str, prefix: bool) -> str:
    return f'"{word}"' + ("*" if prefix else "")


def _fts_query(groups: list[list[tuple[str, bool]]], join: str, column: str | None) -> str:
    """An FTS5 query: words are quoted (no operator can sneak in); alternatives OR-ed in parentheses."""
    rendered = ["(" + " OR ".join(_fts_term(w, p) for w, p in group) + ")" for group in groups]
    query = f" {join.upper()} ".join(rendered)
    return f"{column} : ({query})" if column else query


def _fts_select(what: str, query: str, *, owners: bool = False) -> Any:
    fts = sa.table("assets_fts", sa.column("rowid"), sa.column("owner"))
    select = sa.select(fts.c[what]).where(sa.literal_column("assets_fts").op("MATCH")(sa.bindparam(None, query)))
    return select.where(fts.c.owner.is_not(None)) if owners else select


def _pg_own(table: Any, groups: list, join: str, parts: set[str]) -> ColumnElement[bool]:
    weight = "A" if parts == {"name"} else "B" if parts == {"description"} else None
    return _ts_match(table, _tsquery(groups, join, weight))


def _ts_term(word: str, prefix: bool, weight: str | None) -> str:
    """A tsquery operand: ``word``, ``word:*`` (prefix), ``word:A`` / ``word:*A`` (only in weight A)."""
    suffix = ("*" if prefix else "") + (weight or "")
    return f"{word}:{suffix}" if suffix else word


def _tsquery(groups: list[list[tuple[str, bool]]], join: str, weight: str | None) -> str:
    rendered = ["(" + " | ".join(_ts_term(w, p, weight) for w, p in group) + ")" for group in groups]
    return (" & " if join == "and" else " | ").join(rendered)


def _ts_match(table: Any, query: str) -> ColumnElement[bool]:
    # search_vector is generated by the migration and deliberately not in store.schema (never selected).
    vector = sa.literal_column(f"{table.name}.search_vector")
    tsquery = sa.func.to_tsquery(sa.literal_column("'simple'::regconfig"), sa.bindparam(None, query))
    return vector.op("@@")(tsquery)

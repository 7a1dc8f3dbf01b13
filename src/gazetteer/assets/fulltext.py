"""Full-text matching and ranking of assets: SQLite FTS5 or PostgreSQL tsvector (see migration 0004).

What for: the asset search's `match` / `multi_match` clauses. Both engines see the same words (runs of
letters and digits, lower-cased) and find the same assets:

* every word of the query must be a word of the asset (operator "and") or any one (operator "or", ES's
  default); the last word also matches as a prefix, so results come while the user is typing;
* the asset's own name and descriptions (crawled and curated) are searched, and a table or view is also
  found by the name of one of its columns, unless the clause names its fields (`name`, `description`,
  `userDescription`, `columns`);
* a word found nowhere is replaced by the indexed name words within ES's AUTO edit distance (1 for 3-5
  letters, 2 above), so "custmer" finds "customer" (for words of up to 40 letters, the first 10 such words
  of a clause: see `_MAX_FUZZY_LENGTH`, `_MAX_CORRECTED`);
* ranking, best first (`Match.tiers`): the exact name; names starting with the text (alphabetically);
  all words in the name; all words in the name or descriptions; all words in a column's name; the rest.
  Within the last four tiers, storage order. Only active assets are indexed.

On SQLite a table's index row holds its columns' names, so with operator "and" its words may come from its
own text and its columns together; on PostgreSQL they must all be in its own text or in one column's name.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy import ColumnElement, Select
from sqlalchemy.engine import Connection

from gazetteer.errors import InvalidRequest
from gazetteer.search import FullText
from gazetteer.store.schema import assets

__all__ = ["FullTextMatcher", "Match", "Tier", "words"]

_WORD = re.compile(r"[^\W_]+")
# match/multi_match field names → which parts of an asset they search.
_FIELDS = {
    "name": {"name"}, "name.keyword": {"name"}, "displayName": {"name"},
    "description": {"description"}, "userDescription": {"description"},
    "columns": {"columns"}, "columnNames": {"columns"},
    "*": {"name", "description", "columns"},
}
_MAX_FUZZY = 5  # replacement words per misspelt word
# A word of a name is a run of letters and digits (`customer_id` holds two), so one longer than this is a
# pasted identifier or hash, not something typed: two edits (AUTO's most) are under 5% of it, and PostgreSQL's
# trigram lookup of close words costs more the longer the word is (0.3 s at 40 letters, 3 s at 255 on 20,000
# names). Longer words are looked up as typed.
_MAX_FUZZY_LENGTH = 40
# Each word that may be misspelt costs a lookup or two; a pasted paragraph must not cost hundreds of them.
_MAX_CORRECTED = 10
_MAX_WORD_CHARS = 255  # Glue's limit on a name; PostgreSQL refuses tsquery words over 2,047 bytes
Groups = list[list[tuple[str, bool]]]  # per query word: its (word, is_prefix) alternatives


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


@dataclass(frozen=True)
class Tier:
    """One rank of full-text hits: a condition on `assets` and the order within the rank."""

    score: int
    condition: ColumnElement[bool]
    order: tuple[ColumnElement[Any], ...]


@dataclass
class Match:
    """One full-text clause, its words resolved (misspellings included), as SQL for either engine."""

    text: str
    parts: frozenset[str]
    groups: Groups
    join: str
    postgresql: bool

    @property
    def corrected(self) -> str:
        """The query's words, each misspelt one replaced by its nearest indexed word."""
        replacements = iter([group[1][0] if len(group) > 1 else None for group in self.groups])
        return _WORD.sub(lambda m: next(replacements) or m.group(0), self.text.strip().lower())

    def ids(self, join: str | None = None) -> Select[Any]:
        """The ids of the matching assets: by their own text, and tables by their columns' names."""
        join = join or self.join
        if not self.postgresql:  # a table's row holds its columns' names: one index lookup, no duplicates
            return _fts_select(_fts_query(self.groups, join, self.parts))
        selects = []
        if own := self.parts & {"name", "description"}:
            selects.append(self._own_ids(join, own))
        if "columns" in self.parts:
            selects.append(self._column_owner_ids(join))
        return selects[0] if len(selects) == 1 else sa.union_all(*selects)

    def predicate(self) -> ColumnElement[bool]:
        """Whether an asset matches (for WHERE)."""
        return assets.c.id.in_(self.ids()) if self.groups else sa.false()  # no words: ES matches nothing

    def count(self) -> Select[Any]:
        """How many distinct assets match, without reading their rows."""
        ids = self.ids()
        if isinstance(ids, sa.CompoundSelect):  # PostgreSQL: a table may match by itself and its columns
            ids = sa.union(*ids.selects)
        return sa.select(sa.func.count()).select_from(ids.subquery())

    def tiers(self) -> list[Tier]:
        """The ranks, best first; an asset belongs to the first whose condition it meets."""
        if not self.groups:
            return []
        name, out = sa.func.lower(assets.c.name), []
        ordered_name = name.collate("C") if self.postgresql else name
        if "name" in self.parts:
            # The text as typed, then with misspelt words replaced by their nearest indexed word.
            texts = dict.fromkeys([self.text.strip().lower(), self.corrected])
            # Only active assets are indexed; these read names straight from the assets table. `|| ''`
            # keeps SQLite from reading every active asset through the index led by status instead.
            active = assets.c.status.concat("") == "ACTIVE"
            out += [Tier(6, sa.and_(name == text, active), (assets.c.id,)) for text in texts]
            for text in texts:
                if self.postgresql:
                    starts = name.like(re.sub(r"([\\%_])", r"\\\1", text) + "%", escape="\\")
                else:  # a range, which the (lower(name), ...) index serves; LIKE could not use it
                    starts = sa.and_(name >= text, name < text + "\U0010ffff")
                out.append(Tier(5, sa.and_(starts, active), (ordered_name, assets.c.id)))
            out.append(Tier(4, self._has_own("and", {"name"}), (assets.c.id,)))
        if own := self.parts & {"name", "description"}:
            out.append(Tier(3, self._has_own("and", own), (assets.c.id,)))
        if "columns" in self.parts:
            out.append(Tier(2, assets.c.id.in_(self._column_owner_ids("and")), (assets.c.id,)))
        out.append(Tier(1, self.predicate(), (assets.c.id,)))
        return out

    def score(self) -> ColumnElement[Any]:
        """The tier number as one expression, for ORDER BY when the tiers cannot be queried one by one."""
        tiers = self.tiers()
        return sa.case(*((t.condition, t.score) for t in tiers[:-1]), else_=1) if len(tiers) > 1 else sa.literal(1)

    # --- the SQL ------------------------------------------------------------------------------------

    def _own_ids(self, join: str, parts: set[str]) -> Select[Any]:
        if self.postgresql:
            inner = assets.alias("fts_self")  # an alias: `assets` itself would correlate with the outer query
            return sa.select(inner.c.id).where(_pg_own(inner, self.groups, join, parts),
                                               inner.c.status == "ACTIVE")
        return _fts_select(_fts_query(self.groups, join, parts))

    def _has_own(self, join: str, parts: set[str]) -> ColumnElement[bool]:
        if self.postgresql:  # the row's own vector: no subquery needed
            return sa.and_(_pg_own(assets, self.groups, join, parts), assets.c.status == "ACTIVE")
        return assets.c.id.in_(self._own_ids(join, parts))

    def _column_owner_ids(self, join: str) -> Select[Any]:
        if self.postgresql:
            column, parent = assets.alias("fts_column"), assets.alias("fts_parent")
            return (sa.select(parent.c.id)
                    .select_from(column.join(parent, parent.c.qualified_name == column.c.parent_qualified_name))
                    .where(column.c.type_name == "Column", column.c.status == "ACTIVE",
                           _ts_match(column, _tsquery(self.groups, join, "A"))))
        return _fts_select(_fts_query(self.groups, join, {"columns"}))


class FullTextMatcher:
    """Resolves full-text clauses on one connection (misspelt words are looked up in the index)."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.postgresql = conn.dialect.name == "postgresql"
        self.first: Match | None = None  # the clause `_score` ranks by
        self._seen: dict[FullText, Match] = {}

    def match(self, node: FullText) -> Match:
        """The clause with its words resolved; the first one compiled is what `_score` ranks by."""
        if node in self._seen:  # compiled again for facets: look misspellings up once
            return self._seen[node]
        typed = words(node.text)
        for word in typed:
            if len(word) > _MAX_WORD_CHARS:
                raise InvalidRequest(f"the {node.kind!r} clause at {node.at} has a word of {len(word):,} "
                                     f"characters; at most {_MAX_WORD_CHARS} are accepted in one word")
        # Words that may be misspelt, in order and each once; only the first few are looked up.
        fuzzy = [w for w in dict.fromkeys(typed) if _fuzziness(w) and len(w) <= _MAX_FUZZY_LENGTH]
        correctable = set(fuzzy[:_MAX_CORRECTED])
        fixes: dict[tuple[str, bool], list[str]] = {}  # a repeated word is looked up once
        groups: Groups = []
        for i, word in enumerate(typed):
            choice = (word, i == len(typed) - 1)  # the last word also matches as a prefix
            if choice not in fixes:
                fixes[choice] = self._close_words(word)[:_MAX_FUZZY] \
                    if word in correctable and not self._known(*choice) else []
            groups.append([choice] + [(w, False) for w in fixes[choice]])
        found = Match(node.text, frozenset(self._parts(node)), groups,
                      "and" if node.operator == "and" else "or", self.postgresql)
        self.first = self.first or found
        self._seen[node] = found
        return found

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

    def _known(self, word: str, prefix: bool) -> bool:
        if self.postgresql:
            query = sa.select(sa.literal(1)).select_from(assets).where(
                _ts_match(assets, _ts_term(word, prefix, None))).limit(1)
        else:
            query = _fts_select(_fts_term(word, prefix)).limit(1)
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


_FTS = sa.table("assets_fts", sa.column("rowid"))


def _fts_matches(query: str) -> ColumnElement[bool]:
    return sa.literal_column("assets_fts").op("MATCH")(sa.bindparam(None, query))


def _fts_term(word: str, prefix: bool) -> str:
    return f'"{word}"' + ("*" if prefix else "")


def _fts_query(groups: Groups, join: str, parts: set[str] | frozenset[str]) -> str:
    """An FTS5 query: words are quoted (no operator can sneak in); alternatives OR-ed in parentheses."""
    rendered = ["(" + " OR ".join(_fts_term(w, p) for w, p in group) + ")" for group in groups]
    query = f" {join.upper()} ".join(rendered)
    if set(parts) >= {"name", "description", "columns"}:
        return query
    return "{" + " ".join(sorted(parts)) + "} : (" + query + ")"


def _fts_select(query: str) -> Select[Any]:
    return sa.select(_FTS.c.rowid).where(_fts_matches(query))


def _pg_own(table: Any, groups: Groups, join: str, parts: set[str]) -> ColumnElement[bool]:
    weight = "A" if parts == {"name"} else "B" if parts == {"description"} else None
    return _ts_match(table, _tsquery(groups, join, weight))


def _ts_term(word: str, prefix: bool, weight: str | None) -> str:
    """A tsquery operand: ``word``, ``word:*`` (prefix), ``word:A`` / ``word:*A`` (only in weight A)."""
    suffix = ("*" if prefix else "") + (weight or "")
    return f"{word}:{suffix}" if suffix else word


def _tsquery(groups: Groups, join: str, weight: str | None) -> str:
    rendered = ["(" + " | ".join(_ts_term(w, p, weight) for w, p in group) + ")" for group in groups]
    return (" & " if join == "and" else " | ").join(rendered)


def _ts_match(table: Any, query: str) -> ColumnElement[bool]:
    # search_vector is generated by the migration and deliberately not in store.schema (never selected).
    vector = sa.literal_column(f"{table.name}.search_vector")
    tsquery = sa.func.to_tsquery(sa.literal_column("'simple'::regconfig"), sa.bindparam(None, query))
    return vector.op("@@")(tsquery)

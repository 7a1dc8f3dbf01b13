"""Full-text matching and ranking of assets: SQLite FTS5 (migration 0004) or PostgreSQL tsvector (0009).

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
  all words in the name; all words in the name or descriptions; all words in its columns' names; the rest.
  Within the last four tiers, storage order. Only active assets are indexed.

On both engines a table's (or view's) index row holds its active columns' names beside its own text, so
with operator "and" its words may come from its own text and its columns together, and every count or
tier is one lookup in one index.
"""

from __future__ import annotations

import bisect
import re
import threading
import time
import weakref
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy import ColumnElement, Select
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.sql.util import ClauseAdapter

from gazetteer.errors import InvalidRequest
from gazetteer.search import FullText
from gazetteer.store.schema import assets

__all__ = ["FullTextMatcher", "Match", "Tier", "in_id_order", "words"]

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
    """One rank of full-text hits: a condition on `assets` and the order within the rank.

    A rank of words found in the index also has `ids`: the index's own select of their asset ids, in storage
    order when ordered by its one column (the search reads it alone when nothing else filters the hits).
    """

    score: int
    condition: ColumnElement[bool]
    order: tuple[ColumnElement[Any], ...]
    ids: Select[Any] | None = None


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

    def ids(self, join: str | None = None, parts: frozenset[str] | set[str] | None = None) -> Select[Any]:
        """The ids of the assets whose words match: by default all of the clause's parts, with its operator.

        Either engine's index row of a table or view also holds its active columns' names (weighted, so a
        clause can ask for them alone), so this is one index lookup with no duplicates.
        """
        join, parts = join or self.join, self.parts if parts is None else parts
        if self.postgresql:
            return sa.select(_WORDS.c.asset_id).where(_ts_match(self.groups, join, _weights(parts)))
        return _fts_select(_fts_query(self.groups, join, parts))

    def predicate(self) -> ColumnElement[bool]:
        """Whether an asset matches (for WHERE)."""
        return assets.c.id.in_(self.ids()) if self.groups else sa.false()  # no words: ES matches nothing

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
                starts: ColumnElement[bool]
                if self.postgresql:  # in byte order, which the ((lower(name) COLLATE "C"), id) index holds
                    starts = ordered_name.like(re.sub(r"([\\%_])", r"\\\1", text) + "%", escape="\\")
                else:  # a range, which the (lower(name), ...) index serves; LIKE could not use it
                    starts = sa.and_(name >= text, name < text + "\U0010ffff")
                out.append(Tier(5, sa.and_(starts, active), (ordered_name, assets.c.id)))
            out.append(self._word_tier(4, self.ids("and", {"name"})))
        if own := self.parts & {"name", "description"}:
            out.append(self._word_tier(3, self.ids("and", own)))
        if "columns" in self.parts:
            out.append(self._word_tier(2, self.ids("and", {"columns"})))
        out.append(self._word_tier(1, self.ids()))
        return out

    @staticmethod
    def _word_tier(score: int, ids: Select[Any]) -> Tier:
        return Tier(score, assets.c.id.in_(ids), (assets.c.id,), ids)

    def score(self) -> ColumnElement[Any]:
        """The tier number as one expression, for ORDER BY when the tiers cannot be queried one by one."""
        tiers = self.tiers()
        return sa.case(*((t.condition, t.score) for t in tiers[:-1]), else_=1) if len(tiers) > 1 else sa.literal(1)


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

    def at_least(self, found: Match) -> int:
        """How many assets the clause surely matches, by PostgreSQL's statistics (0 when they cannot tell).

        A clause matches every asset holding one of its words, when its words are alternatives (operator "or",
        or a single word); the planner's statistics know how often the commonest words of the index occur.
        This lets a search skip counting a common word's hits up to ES's cap of 10,000 (the dearest part of
        a ranked search: the GIN bitmap of all its hits) when statistics say it has far more.
        """
        if not self.postgresql or (found.join == "and" and len(found.groups) > 1) or _weights(found.parts):
            return 0
        statistics = _word_statistics(self.conn)
        if statistics is None:
            return 0
        share = max(statistics.share(word, prefix) for group in found.groups for word, prefix in group)
        return int(share * statistics.rows)

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
        if self.postgresql and (statistics := _word_statistics(self.conn)) and statistics.share(word, prefix):
            return True  # one of the index's commonest words: no need to look
        if self.postgresql:
            query = sa.select(sa.literal(1)).select_from(_WORDS).where(_ts_match([[(word, prefix)]], "and", ""))
            query = query.limit(1)
        else:
            query = _fts_select(_fts_term(word, prefix)).limit(1)
        return self.conn.execute(query).first() is not None

    def _close_words(self, word: str) -> list[str]:
        limit = _fuzziness(word)
        pool: Sequence[Any]
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


# PostgreSQL's index (migration 0009): one row per active asset, its words weighted as `_WEIGHTS` says, with
# GIN indexes on all of them and on the weights of each ranking tier (`_FILTERED`).
_WORDS = sa.table("asset_words", sa.column("asset_id"), sa.column("words"))
_WEIGHTS = {"name": "A", "description": "B", "columns": "C"}
_FILTERED = frozenset({"A", "AB", "C"})


@dataclass(frozen=True)
class _WordStatistics:
    """ANALYZE's most common words of `asset_words` (alphabetical), the share of rows holding each, the rows."""

    words: list[str]
    shares: list[float]
    rows: float
    read_at: float

    def share(self, word: str, prefix: bool) -> float:
        """The share of rows holding `word` (or, as a prefix, the commonest word it starts); 0 if not known."""
        at = bisect.bisect_left(self.words, word)
        if not prefix:
            return self.shares[at] if at < len(self.words) and self.words[at] == word else 0.0
        end = bisect.bisect_left(self.words, word + "\U0010ffff", lo=at)
        return max(self.shares[at:end], default=0.0)


_STATISTICS_TTL = 60.0  # seconds; ANALYZE runs after a big crawl and when autovacuum decides, not more often
_statistics: weakref.WeakKeyDictionary[Engine, _WordStatistics | None] = weakref.WeakKeyDictionary()
_statistics_lock = threading.Lock()


def _word_statistics(conn: Connection) -> _WordStatistics | None:
    """This catalog's word statistics, read at most once a minute per process; None before any ANALYZE."""
    with _statistics_lock:
        known = _statistics.get(conn.engine)
    if known is not None and time.monotonic() - known.read_at < _STATISTICS_TTL:
        return known
    row = conn.execute(sa.text(
        "SELECT s.most_common_elems::text::text[], s.most_common_elem_freqs, c.reltuples "
        "FROM pg_stats s JOIN pg_namespace n ON n.nspname = s.schemaname "
        "JOIN pg_class c ON c.relnamespace = n.oid AND c.relname = s.tablename "
        "WHERE s.schemaname = current_schema() AND s.tablename = 'asset_words' AND s.attname = 'words'")).first()
    found = None
    if row is not None and row[0] and row[1] and row[2] > 0:
        # Its frequencies have three more entries (min, max, nulls) at the end; its words are in tsvector order
        # (shortest first), re-sorted here so that a prefix is a range.
        pairs = sorted(zip(row[0], row[1], strict=False))
        found = _WordStatistics([w for w, _ in pairs], [f for _, f in pairs], float(row[2]), time.monotonic())
    with _statistics_lock:
        _statistics[conn.engine] = found
    return found


# Index entries read in id order before a rank's own GIN index is asked instead (see `in_id_order`): about a
# millisecond, and enough to fill a page of 25 when 1 asset in 80 matches (bench/search.py at 1M: 1,000 missed
# 'supplier supp*', at 2.2%; 4,000 cost more on the rare words than it saved).
_PROBE = 2000


def in_id_order(ids: Select[Any], limit: int, postgresql: bool) -> list[Select[Any]]:
    """Ways to read the first `limit` of `ids` (a rank's select of the full-text index) in id order, cheapest
    first: run the next only if one returns fewer than `limit`.

    SQLite's FTS5 answers in rowid order by itself. On PostgreSQL the planner picks between walking the index's
    primary key until `limit` hits (fast for common words) and reading the rank's GIN index whole, then sorting
    (fast for rare ones), from an estimate that assumes a query's words independent: 'event lead*' was
    estimated at 725 names and walked 137,000 rows for 28 (50 ms); 'supplier supp*' (every supplier matches
    supp*) at 581 and visited 22,866 (50 ms). So the walk is tried on the first `_PROBE` entries only, which
    settles common words; rarer ones then read the GIN index (`+ 0` keeps the planner from walking again).
    """
    (column,) = ids.selected_columns
    if not postgresql or ids.whereclause is None:
        return [ids.order_by(column).limit(limit)]
    head = sa.select(_WORDS.c.asset_id, _WORDS.c.words).order_by(_WORDS.c.asset_id).limit(_PROBE).subquery("head")
    probe = (sa.select(head.c.asset_id).where(ClauseAdapter(head).traverse(ids.whereclause))
             .order_by(head.c.asset_id).limit(limit))
    return [probe, ids.order_by(column + 0).limit(limit)]


def _weights(parts: frozenset[str] | set[str]) -> str:
    """The weights that hold `parts` ("" for all of them: no restriction)."""
    return "" if set(parts) >= set(_WEIGHTS) else "".join(sorted(_WEIGHTS[part] for part in parts))


def _ts_term(word: str, prefix: bool, weights: str) -> str:
    """A tsquery operand: ``word``, ``word:*`` (prefix), ``word:AB`` / ``word:*A`` (only in those weights)."""
    suffix = ("*" if prefix else "") + weights
    return f"{word}:{suffix}" if suffix else word


def _ts_match(groups: Groups, join: str, weights: str) -> ColumnElement[bool]:
    """`words` match: those of `weights` only, through the index on exactly them where there is one."""
    words: ColumnElement[Any] = _WORDS.c.words
    if weights in _FILTERED:  # as the index's expression, so the planner uses it (and its statistics)
        words = sa.func.ts_filter(words, sa.literal_column("'{" + ",".join(weights.lower()) + "}'::\"char\"[]"))
        weights = ""
    rendered = ["(" + " | ".join(_ts_term(w, p, weights) for w, p in group) + ")" for group in groups]
    query = (" & " if join == "and" else " | ").join(rendered)
    tsquery = sa.func.to_tsquery(sa.literal_column("'simple'::regconfig"), sa.bindparam(None, query))
    return words.op("@@")(tsquery)

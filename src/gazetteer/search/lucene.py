"""Lucene and Elasticsearch syntaxes that live inside query values: regexps, dates and date math.

What for: a ``regexp`` clause's value is translated once, at parse time, to a regex that RE2 (SQLite's
REGEXP, see `gazetteer.store.sqlite_functions`) and PostgreSQL ``~`` read alike; ``range`` bounds may be ISO-8601
dates, epoch milliseconds or date math (``now-2h``, ``now/d``, ``2024-01-01||+1M``), split here at parse time
and resolved at compile time.
"""

from __future__ import annotations

import calendar
import re
import string
from datetime import UTC, datetime, timedelta

from gazetteer.errors import InvalidRequest
from gazetteer.search.regex import check_regex

DateMathOp = tuple[str, int, str]  # ("+", 2, "h") or ("/", 0, "d")

_DATE_MATH = re.compile(r"(?:now|(?P<anchor>.+?)\|\|)(?P<ops>(?:[+-]\d+[yMwdhHms]|/[yMwdhHms])*)")
_OP = re.compile(r"([+-])(\d+)([yMwdhHms])|/([yMwdhHms])")


def parse_date_math(value: str, at: str = "query") -> tuple[datetime | None, tuple[DateMathOp, ...]]:
    """Split date math into its anchor (None means "now") and its operations."""
    m = _DATE_MATH.fullmatch(value)
    if m is None:
        raise InvalidRequest(f"malformed date math {value!r} at {at}")
    anchor = parse_datetime(m["anchor"], at) if m["anchor"] else None
    ops = tuple((o[0], int(o[1]), o[2]) if o[0] else ("/", 0, o[3]) for o in _OP.findall(m["ops"]))
    return anchor, ops


def resolve_date_math(value: datetime, ops: tuple[DateMathOp, ...], *, round_up: bool = False) -> datetime:
    """Apply date-math `ops` to `value`; `round_up` gives ES's gt/lte rounding (the unit's last ms)."""
    for op, amount, unit in ops:
        if op == "/":
            value = _floor(value, unit)
            if round_up:
                value = _add(value, 1, unit) - timedelta(milliseconds=1)
        else:
            value = _add(value, amount if op == "+" else -amount, unit)
    return value


def parse_datetime(value: str | float, at: str = "query", *, round_up: bool = False) -> datetime:
    """ISO-8601 (``Z`` or offset; naive means UTC) or epoch milliseconds, as an aware UTC datetime.

    `round_up` (ES's gt/lte) turns a bare date into the last millisecond of that day, as ES does.
    """
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        try:
            return datetime.fromtimestamp(value / 1000, UTC)
        except (OverflowError, OSError, ValueError):
            raise InvalidRequest(f"epoch milliseconds {value} at {at} are out of range (years 1 to 9999)") from None
    try:
        parsed = datetime.fromisoformat(str(value))
    except ValueError:
        raise InvalidRequest(f"malformed date {value!r} at {at}: expected ISO-8601 or date math") from None
    if round_up and re.fullmatch(r"\d{4}-\d{2}-\d{2}", str(value)):
        parsed += timedelta(days=1, milliseconds=-1)
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def _add(value: datetime, amount: int, unit: str) -> datetime:
    if unit in "yM":
        months = value.month - 1 + amount * (12 if unit == "y" else 1)
        year, month = value.year + months // 12, months % 12 + 1
        return value.replace(year=year, month=month, day=min(value.day, calendar.monthrange(year, month)[1]))
    names = {"w": "weeks", "d": "days", "h": "hours", "H": "hours", "m": "minutes", "s": "seconds"}
    return value + timedelta(**{names[unit]: amount})


def _floor(value: datetime, unit: str) -> datetime:
    if unit == "w":
        value, unit = value - timedelta(days=value.weekday()), "d"
    keep = "yMdhms".index(unit.replace("H", "h")) + 1
    parts = [value.year, value.month, value.day, value.hour, value.minute, value.second]
    parts[keep:] = [1, 1, 1, 0, 0, 0][keep:]  # year is always kept; month and day restart at 1
    year, month, day, hour, minute, second = parts
    return datetime(year, month, day, hour, minute, second, tzinfo=value.tzinfo)


def _lit(ch: str) -> str:
    return "\\" + ch if ch in string.punctuation else ch


_SHORTHAND = {"d": "0-9", "s": "\t-\r ", "w": "0-9A-Za-z_"}


def lucene_regex(value: str, *, at: str = "query") -> str:
    """Translate a Lucene regexp to one regex, valid for RE2 and PostgreSQL ``~`` alike (RE2 checks it).

    The result is anchored with ``^(?:...)$``, as ES matches the whole value: outside multi-line mode both
    engines read ``^`` and ``$`` as the ends of the text only (PostgreSQL has no ``\\z``, RE2 no ``\\Z``).
    Lucene's ``~ & < > @ #`` operators are refused.
    """
    parser = _RegexParser(value, at)
    body = parser.alternation()
    if parser.i < len(value):
        raise parser.error(f"unexpected {value[parser.i]!r}")
    pattern = "^(?:" + body + ")$"
    check_regex(pattern, f"the 'regexp' clause at {at}")
    return pattern


class _RegexParser:
    def __init__(self, text: str, at: str) -> None:
        self.s, self.i, self.at = text, 0, at

    def error(self, detail: str) -> InvalidRequest:
        return InvalidRequest(
            f"malformed 'regexp' clause at {self.at}: {detail} at offset {self.i} of {self.s!r}"
        )

    def peek(self) -> str:
        return self.s[self.i] if self.i < len(self.s) else ""

    def take(self, what: str = "expression") -> str:
        ch = self.peek()
        if not ch:
            raise self.error(f"unterminated {what}")
        self.i += 1
        return ch

    def alternation(self) -> str:
        branches = [self.sequence()]
        while self.peek() == "|":
            self.i += 1
            branches.append(self.sequence())
        return "|".join(branches)

    def sequence(self) -> str:
        out = []
        while self.peek() not in ("", "|", ")"):
            atom = self.atom()
            while self.peek() and self.peek() in "*+?{":
                ch = self.take()
                atom = f"(?:{atom})" + (ch if ch != "{" else self.bounds())
            out.append(atom)
        return "".join(out)

    def bounds(self) -> str:
        m = re.compile(r"(\d+)(?:,(\d*))?\}").match(self.s, self.i)
        if m is None:
            raise self.error("malformed {n,m} repetition")
        low, high = int(m[1]), int(m[2]) if m[2] else None
        if (high is not None and high < low) or max(low, high or 0) > 255:
            raise self.error("repetition bounds must satisfy n <= m <= 255")
        self.i = m.end()
        return "{" + m[0]

    def atom(self) -> str:
        ch = self.take()
        if ch == "(":
            inner = self.alternation()
            if self.take("group") != ")":
                raise self.error("unterminated group")
            return f"(?:{inner})"
        if ch == "[":
            return self.char_class()
        if ch == ".":
            return "."
        if ch == '"':
            end = self.s.find('"', self.i)
            if end < 0:
                raise self.error("unterminated quoted string")
            text, self.i = self.s[self.i : end], end + 1
            return "(?:" + "".join(map(_lit, text)) + ")"
        if ch == "\\":
            esc = self.take("escape")
            if esc.lower() in _SHORTHAND:
                return "[" + ("^" if esc.isupper() else "") + _SHORTHAND[esc.lower()] + "]"
            return _lit(esc)
        if ch in "~&<>@#":
            raise InvalidRequest(
                f"unsupported regexp operator {ch!r} in 'regexp' clause at {self.at}: {self.s!r}"
            )
        if ch in "*+?{}])":
            self.i -= 1
            raise self.error(f"unexpected {ch!r}")
        return _lit(ch)

    def char_class(self) -> str:
        negate = self.peek() == "^"
        self.i += negate
        parts: list[str] = []
        while (ch := self.take("character class")) != "]" or not parts:
            if ch == "]":
                raise self.error("empty character class")
            if ch == "\\":
                ch = self.take("escape")
                if ch in _SHORTHAND:
                    parts.append(_SHORTHAND[ch])
                    continue
                if ch.lower() in _SHORTHAND:
                    raise self.error(f"\\{ch} inside a character class is not supported")
            if self.peek() == "-" and self.s[self.i + 1 : self.i + 2] not in ("]", ""):
                self.i += 1
                high = self.take("character class")
                high = self.take("escape") if high == "\\" else high
                if high < ch:
                    raise self.error(f"reversed range {ch}-{high}")
                parts.append(_lit(ch) + "-" + _lit(high))
            else:
                parts.append(_lit(ch))
        return "[" + ("^" if negate else "") + "".join(parts) + "]"


__all__ = ["DateMathOp", "lucene_regex", "parse_date_math", "parse_datetime", "resolve_date_math"]

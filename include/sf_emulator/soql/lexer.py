"""Splits SOQL text into tokens, decoding string literals and recognising date/datetime literals."""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum

from sf_emulator.soql.errors import SoqlError


class Kind(Enum):
    IDENT = "identifier"
    STRING = "string"
    NUMBER = "number"
    DATE = "date"
    DATETIME = "datetime"
    OP = "operator"
    PUNCT = "punctuation"
    EOF = "end of query"


@dataclass(frozen=True)
class Token:
    """One token; ``pos`` is its offset in the query, used to point at it in errors."""

    kind: Kind
    text: str  # the source text (for STRING: the decoded value)
    pos: int
    like_pattern: str = ""  # STRING only: the value as an SQLite LIKE pattern with ESCAPE '\'

    def is_word(self, *words: str) -> bool:
        """Whether this is one of ``words`` (upper case), SOQL keywords being case-insensitive."""
        return self.kind is Kind.IDENT and self.text.upper() in words

    def shown(self) -> str:
        return "<EOF>" if self.kind is Kind.EOF else self.text


_WHITESPACE = re.compile(r"\s+")
_DATETIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?(?:Z|[+-]\d{2}:?\d{2})")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}(?![\w:])")
_DATE_LIKE = re.compile(r"\d{4}-\d{2}-\d{2}[\w:.+-]*")
_NUMBER = re.compile(r"-?\d+(?:\.\d+)?(?![\w.])")
_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_OPERATORS = ("<=", ">=", "!=", "<>", "=", "<", ">")
_PUNCTUATION = "(),.:"
_SIMPLE_ESCAPES = {"'": "'", '"': '"', "\\": "\\", "n": "\n", "r": "\r", "t": "\t", "b": "\b", "f": "\f"}


def tokenize(soql: str) -> list[Token]:
    """All tokens of ``soql``, ending with an EOF token; raises SoqlError (MALFORMED_QUERY) on bad text."""
    tokens: list[Token] = []
    pos = 0
    while True:
        space = _WHITESPACE.match(soql, pos)
        if space:
            pos = space.end()
        if pos >= len(soql):
            tokens.append(Token(Kind.EOF, "", pos))
            return tokens
        token = _next_token(soql, pos)
        tokens.append(token)
        pos = token.pos + _source_length(soql, token)


def _source_length(soql: str, token: Token) -> int:
    if token.kind is Kind.STRING:
        return _string_end(soql, token.pos) - token.pos
    return len(token.text)


def _next_token(soql: str, pos: int) -> Token:
    ch = soql[pos]
    if ch == "'":
        return _string(soql, pos)
    if ch.isdigit() or (ch == "-" and soql[pos + 1 : pos + 2].isdigit()):
        return _number_or_date(soql, pos)
    ident = _IDENT.match(soql, pos)
    if ident:
        return Token(Kind.IDENT, ident.group(), pos)
    for op in _OPERATORS:
        if soql.startswith(op, pos):
            return Token(Kind.OP, op, pos)
    if ch in _PUNCTUATION:
        return Token(Kind.PUNCT, ch, pos)
    if ch == '"':
        raise SoqlError.at(
            "MALFORMED_QUERY", soql, pos, "unexpected token: '\"' (SOQL string literals use single quotes)"
        )
    raise SoqlError.at("MALFORMED_QUERY", soql, pos, f"unexpected character: '{ch}'")


def _number_or_date(soql: str, pos: int) -> Token:
    for kind, pattern in ((Kind.DATETIME, _DATETIME), (Kind.DATE, _DATE)):
        match = pattern.match(soql, pos)
        if match:
            return Token(kind, match.group(), pos)
    bad = _DATE_LIKE.match(soql, pos)
    if bad:
        raise SoqlError.at(
            "MALFORMED_QUERY",
            soql,
            pos,
            f"invalid date or datetime literal '{bad.group()}': use YYYY-MM-DD for dates and YYYY-MM-DDThh:mm:ssZ "
            "for datetimes, optionally with .SSS milliseconds or an offset such as +05:00 or -0800 instead of Z",
        )
    match = _NUMBER.match(soql, pos)
    if match:
        return Token(Kind.NUMBER, match.group(), pos)
    raise SoqlError.at("MALFORMED_QUERY", soql, pos, f"invalid number starting at '{soql[pos : pos + 20]}'")


def _string_end(soql: str, start: int) -> int:
    """Offset just past the closing quote of the string literal opening at ``start``."""
    pos = start + 1
    while pos < len(soql):
        if soql[pos] == "\\":
            pos += 2
        elif soql[pos] == "'":
            return pos + 1
        else:
            pos += 1
    raise SoqlError.at("MALFORMED_QUERY", soql, start, "unterminated string literal: a closing ' is missing")


def _string(soql: str, start: int) -> Token:
    """Decode a quoted literal into its value and its LIKE pattern.

    Unescaped % and _ are LIKE wildcards; \\% and \\_ are the literal characters
    in a LIKE pattern (and keep their backslash elsewhere, as Salesforce does).
    """
    end = _string_end(soql, start)
    body = soql[start + 1 : end - 1]
    text: list[str] = []
    like: list[str] = []
    i = 0
    while i < len(body):
        ch = body[i]
        if ch != "\\":
            text.append(ch)
            like.append(ch)
            i += 1
            continue
        esc = body[i + 1] if i + 1 < len(body) else ""
        if esc in _SIMPLE_ESCAPES:
            value = _SIMPLE_ESCAPES[esc]
            i += 2
        elif esc in ("%", "_"):
            text.append("\\" + esc)
            like.append("\\" + esc)
            i += 2
            continue
        elif esc == "u" and re.fullmatch(r"[0-9A-Fa-f]{4}", body[i + 2 : i + 6]):
            value = chr(int(body[i + 2 : i + 6], 16))
            i += 6
        else:
            raise SoqlError.at(
                "MALFORMED_QUERY",
                soql,
                start + 1 + i,
                f"invalid escape sequence '\\{esc}' in string literal; valid escapes are "
                "\\' \\\" \\\\ \\n \\r \\t \\b \\f \\% \\_ and \\uXXXX",
            )
        text.append(value)
        like.append("\\" + value if value in "\\%_" else value)
    return Token(Kind.STRING, "".join(text), start, like_pattern="".join(like))

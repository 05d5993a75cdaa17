"""Recursive-descent parser turning SOQL tokens into a small syntax tree.

Grammar (the subset the emulator supports)::

    query      := SELECT selection FROM name [WHERE condition] [ORDER BY order (',' order)*]
                  [LIMIT integer] [OFFSET integer]
    selection  := COUNT '(' ')' | name (',' name)*
    condition  := unary ((AND unary)* | (OR unary)*)      -- AND and OR never mix without parentheses
    unary      := NOT unary | '(' condition ')' | name operator operand
    operator   := = | != | <> | < | <= | > | >= | LIKE | IN | NOT IN | INCLUDES | EXCLUDES
    operand    := literal | '(' literal (',' literal)* ')'          -- the list form for IN, NOT IN, INCLUDES, EXCLUDES
    order      := name [ASC | DESC] [NULLS (FIRST | LAST)]

Anything else Salesforce accepts (subqueries, relationship paths, GROUP BY,
functions, FOR UPDATE, ...) is refused with a MALFORMED_QUERY naming the feature.
"""

from __future__ import annotations

from dataclasses import dataclass

from sf_emulator.soql.dates import FIXED_LITERALS, N_LITERALS
from sf_emulator.soql.errors import SoqlError
from sf_emulator.soql.lexer import Kind, Token, tokenize

#: Largest LIMIT, OFFSET or day count accepted (a 32-bit int, as in Salesforce; SQLite binds 64-bit).
MAX_INTEGER = 2**31 - 1
#: Words that end a field list or condition; a field cannot be called one of them.
_CLAUSE_WORDS = ("FROM", "WHERE", "WITH", "GROUP", "HAVING", "ORDER", "LIMIT", "OFFSET", "FOR", "UPDATE", "ALL")


@dataclass(frozen=True)
class Name:
    text: str
    pos: int


@dataclass(frozen=True)
class Literal:
    """A value in a condition. ``token`` keeps its kind, text and position for type checks and errors."""

    token: Token
    n: int | None = None  # the ':n' of LAST_N_DAYS:n and friends

    @property
    def kind(self) -> str:
        """string, number, date, datetime, boolean, null or date_literal."""
        tok = self.token
        if tok.kind is Kind.IDENT:
            word = tok.text.upper()
            if word in ("TRUE", "FALSE"):
                return "boolean"
            if word == "NULL":
                return "null"
            return "date_literal"
        return tok.kind.value


@dataclass(frozen=True)
class Comparison:
    field: Name
    op: str  # upper-cased: = != < <= > >= LIKE IN NOT IN INCLUDES EXCLUDES ('<>' is read as '!=')
    value: Literal | tuple[Literal, ...]
    pos: int  # of the operator


@dataclass(frozen=True)
class Not:
    operand: Condition


@dataclass(frozen=True)
class BoolOp:
    op: str  # AND or OR
    operands: tuple[Condition, ...]


Condition = Comparison | Not | BoolOp


@dataclass(frozen=True)
class OrderItem:
    field: Name
    descending: bool
    nulls_first: bool


@dataclass(frozen=True)
class Query:
    count: bool
    fields: tuple[Name, ...]
    sobject: Name
    where: Condition | None
    order: tuple[OrderItem, ...]
    limit: int | None
    offset: int | None
    offset_pos: int


def parse(soql: str) -> Query:
    """The syntax tree of ``soql``; raises SoqlError(MALFORMED_QUERY) for text it cannot accept."""
    return _Parser(soql).query()


class _Parser:
    def __init__(self, soql: str) -> None:
        self.soql = soql
        self.tokens = tokenize(soql)
        self.i = 0

    # -- token helpers -------------------------------------------------------------------------

    @property
    def tok(self) -> Token:
        return self.tokens[self.i]

    def peek(self, ahead: int = 1) -> Token:
        return self.tokens[min(self.i + ahead, len(self.tokens) - 1)]

    def advance(self) -> Token:
        tok = self.tok
        if tok.kind is not Kind.EOF:
            self.i += 1
        return tok

    def error(self, detail: str, tok: Token | None = None) -> SoqlError:
        return SoqlError.at("MALFORMED_QUERY", self.soql, (tok or self.tok).pos, detail)

    def unexpected(self, hint: str = "") -> SoqlError:
        return self.error(f"unexpected token: '{self.tok.shown()}'{hint}")

    def is_punct(self, ch: str, tok: Token | None = None) -> bool:
        tok = tok or self.tok
        return tok.kind is Kind.PUNCT and tok.text == ch

    def expect_word(self, word: str) -> Token:
        if not self.tok.is_word(word):
            raise self.unexpected(f" (expected {word})")
        return self.advance()

    def expect_punct(self, ch: str) -> Token:
        if not self.is_punct(ch):
            raise self.unexpected(f" (expected '{ch}')")
        return self.advance()

    def integer(self, clause: str) -> int:
        tok = self.tok
        if tok.kind is not Kind.NUMBER or not tok.text.isdigit():
            raise self.error(f"{clause} needs a non-negative whole number, not '{tok.shown()}'")
        if int(tok.text) > MAX_INTEGER:
            raise self.error(f"{clause} must be at most {MAX_INTEGER}")
        self.advance()
        return int(tok.text)

    # -- clauses -------------------------------------------------------------------------------

    def query(self) -> Query:
        self.expect_word("SELECT")
        count, fields = self.selection()
        self.expect_word("FROM")
        sobject = self.name("an sObject name")
        if self.is_punct(","):
            raise self.error("querying several objects in one FROM clause is not supported")
        where = None
        if self.tok.is_word("WHERE"):
            self.advance()
            where = self.condition()
        self.refuse_clauses("WITH", "GROUP", "HAVING")
        order: tuple[OrderItem, ...] = ()
        if self.tok.is_word("ORDER"):
            self.advance()
            self.expect_word("BY")
            order = self.order_list()
        limit = offset = None
        if self.tok.is_word("LIMIT"):
            self.advance()
            limit = self.integer("LIMIT")
        offset_pos = self.tok.pos
        if self.tok.is_word("OFFSET"):
            self.advance()
            offset_pos = self.tok.pos
            offset = self.integer("OFFSET")
        self.refuse_clauses("FOR", "UPDATE", "ALL")
        if self.tok.kind is not Kind.EOF:
            raise self.unexpected()
        return Query(count, fields, sobject, where, order, limit, offset, offset_pos)

    def refuse_clauses(self, *words: str) -> None:
        if self.tok.is_word(*words):
            clause = {"ALL": "ALL ROWS (use the queryAll resource instead)", "GROUP": "GROUP BY"}.get(
                self.tok.text.upper(), self.tok.text.upper()
            )
            raise self.error(f"{clause} is not supported by this Salesforce emulator")

    def selection(self) -> tuple[bool, tuple[Name, ...]]:
        if self.tok.is_word("COUNT") and self.is_punct("(", self.peek()):
            start = self.advance()
            self.advance()
            if not self.is_punct(")"):
                raise self.error("aggregate functions other than COUNT() are not supported by this emulator", start)
            self.advance()
            if self.is_punct(","):
                raise self.error("COUNT() must be the only item in the SELECT list", start)
            return True, ()
        fields = [self.select_item()]
        while self.is_punct(","):
            self.advance()
            fields.append(self.select_item())
        return False, tuple(fields)

    def select_item(self) -> Name:
        if self.is_punct("("):
            raise self.error("subqueries (parent-to-child relationship queries) are not supported by this emulator")
        if self.tok.is_word("TYPEOF"):
            raise self.error("TYPEOF is not supported by this emulator")
        if self.tok.kind is Kind.IDENT and self.is_punct("(", self.peek()):
            raise self.error(
                f"function '{self.tok.text}' is not supported by this emulator; only a plain COUNT() is",
            )
        return self.name("a field name")

    def name(self, what: str) -> Name:
        tok = self.tok
        if tok.kind is not Kind.IDENT or tok.is_word(*_CLAUSE_WORDS, "SELECT"):
            raise self.unexpected(f" (expected {what})")
        self.advance()
        if self.is_punct("."):
            path = tok.text
            while self.is_punct(".") and self.peek().kind is Kind.IDENT:
                self.advance()
                path += "." + self.advance().text
            raise self.error(
                f"relationship paths such as '{path}' are not supported by this emulator; "
                "select the Id field and query the related object separately",
                tok,
            )
        return Name(tok.text, tok.pos)

    def order_list(self) -> tuple[OrderItem, ...]:
        items = [self.order_item()]
        while self.is_punct(","):
            self.advance()
            items.append(self.order_item())
        return tuple(items)

    def order_item(self) -> OrderItem:
        if self.tok.kind is Kind.IDENT and self.is_punct("(", self.peek()):
            raise self.error(f"function '{self.tok.text}' in ORDER BY is not supported by this emulator")
        field = self.name("a field name")
        descending = False
        if self.tok.is_word("ASC", "DESC"):
            descending = self.advance().text.upper() == "DESC"
        nulls_first = not descending  # Salesforce: nulls first ascending, last descending
        if self.tok.is_word("NULLS"):
            self.advance()
            if not self.tok.is_word("FIRST", "LAST"):
                raise self.unexpected(" (expected FIRST or LAST after NULLS)")
            nulls_first = self.advance().text.upper() == "FIRST"
        return OrderItem(field, descending, nulls_first)

    # -- conditions ----------------------------------------------------------------------------

    def condition(self) -> Condition:
        operands = [self.unary()]
        joiner: str | None = None
        while self.tok.is_word("AND", "OR"):
            word = self.tok.text.upper()
            if joiner is None:
                joiner = word
            elif word != joiner:
                raise self.unexpected(
                    f" (AND and OR cannot be mixed at the same level; add parentheses, e.g. a {joiner} (b {word} c))"
                )
            self.advance()
            operands.append(self.unary())
        return operands[0] if joiner is None else BoolOp(joiner, tuple(operands))

    def unary(self) -> Condition:
        if self.tok.is_word("NOT"):
            self.advance()
            return Not(self.unary())
        if self.is_punct("("):
            self.advance()
            inner = self.condition()
            self.expect_punct(")")
            return inner
        return self.comparison()

    def comparison(self) -> Comparison:
        if self.tok.kind is Kind.IDENT and self.is_punct("(", self.peek()):
            raise self.error(f"function '{self.tok.text}' in WHERE is not supported by this emulator")
        field = self.name("a field name")
        op_tok = self.tok
        op = self.operator()
        if op in ("IN", "NOT IN", "INCLUDES", "EXCLUDES"):
            return Comparison(field, op, self.literal_list(), op_tok.pos)
        return Comparison(field, op, self.literal(), op_tok.pos)

    def operator(self) -> str:
        tok = self.tok
        if tok.kind is Kind.OP:
            self.advance()
            return "!=" if tok.text == "<>" else tok.text
        if tok.is_word("LIKE", "IN", "INCLUDES", "EXCLUDES"):
            self.advance()
            return tok.text.upper()
        if tok.is_word("NOT") and self.peek().is_word("IN"):
            self.advance()
            self.advance()
            return "NOT IN"
        raise self.unexpected(" (expected a comparison operator such as =, !=, <, LIKE or IN)")

    def literal_list(self) -> tuple[Literal, ...]:
        self.expect_punct("(")
        if self.tok.is_word("SELECT"):
            raise self.error("semi-join subqueries (IN (SELECT ...)) are not supported by this emulator")
        values = [self.literal()]
        while self.is_punct(","):
            self.advance()
            values.append(self.literal())
        self.expect_punct(")")
        return tuple(values)

    def literal(self) -> Literal:
        tok = self.tok
        if tok.kind in (Kind.STRING, Kind.NUMBER, Kind.DATE, Kind.DATETIME):
            self.advance()
            return Literal(tok)
        if tok.is_word("TRUE", "FALSE", "NULL", *FIXED_LITERALS):
            self.advance()
            return Literal(tok)
        if tok.is_word(*N_LITERALS):
            self.advance()
            if not self.is_punct(":"):
                raise self.error(f"date literal {tok.text.upper()} needs a day count, e.g. {tok.text.upper()}:7", tok)
            self.advance()
            return Literal(tok, self.integer(tok.text.upper()))
        if self.is_punct(":"):
            raise self.error("bind variables (:name) exist only in Apex; put the value in the query")
        if tok.kind is Kind.IDENT:
            raise self.error(
                f"'{tok.text}' is not a value: quote strings ('...'), and compare a field with a literal, "
                "not with another field or an unsupported date literal"
            )
        raise self.unexpected(" (expected a value)")

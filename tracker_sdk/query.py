"""The run filter and order-by language: text → AST. Pure Python, no SQL.

The syntax is MLflow's search syntax plus ``OR``, ``NOT`` and parentheses::

    metrics.`train/loss` < 0.1 and (params.lr = '0.0003' or not tags.stage IN ('dev', 'test'))

- fields: ``metrics.KEY``, ``params.KEY``, ``tags.KEY``, ``attributes.NAME`` (singular prefixes
  and ``attr.`` too; a bare name such as ``status`` is an attribute, as in MLflow). A key is a
  bare word (letters, digits, ``_ . - / :``), or quoted with backticks or double quotes.
- operators: ``= != < <= > >= LIKE ILIKE IN NOT IN`` (``==`` and ``<>`` are accepted).
- values: a quoted string ('...' or "...", backslash escapes) is text; a bare number is a
  number (``nan`` and ``inf`` too). The store compares params and tags as text or as numbers
  according to that choice, so ``params.lr = 3e-4`` matches '0.0003' but ``= '3e-4'`` does not.
- precedence: NOT binds tighter than AND, AND tighter than OR. Keywords are case-insensitive.

Every error is a :class:`~tracker_sdk.errors.FilterSyntaxError` with the 0-based position of the
offending token, so that a filter bar can underline it; that includes filters past the limits
below (nesting, number of terms and of order-by keys) and text that is not valid Unicode.
"""

from __future__ import annotations

import dataclasses
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal, Union

from tracker_sdk.errors import FilterSyntaxError

FieldKind = Literal["metric", "param", "tag", "attribute"]
Value = Union[str, float, tuple[Union[str, float], ...]]

_PREFIXES: dict[str, FieldKind] = {
    "metrics": "metric", "metric": "metric",
    "params": "param", "param": "param",
    "tags": "tag", "tag": "tag",
    "attributes": "attribute", "attribute": "attribute", "attr": "attribute",
}
_PLURAL = {"metric": "metrics", "param": "params", "tag": "tags", "attribute": "attributes"}

#: attribute → its type. "status" is text compared case-insensitively against RUN_STATUSES.
ATTRIBUTES: dict[str, Literal["text", "number", "status"]] = {
    "status": "status", "name": "text", "run_id": "text", "experiment": "text", "user": "text",
    "parent_id": "text", "start_time": "number", "end_time": "number", "duration": "number",
}
_ALIASES = {"run_name": "name", "id": "run_id", "experiment_name": "experiment", "user_id": "user"}
# Duplicated from store.schema on purpose: this module must not import SQLAlchemy.
RUN_STATUSES = ("RUNNING", "FINISHED", "FAILED", "KILLED", "CRASHED")

NUMERIC_OPS = ("=", "!=", "<", "<=", ">", ">=")
_STATUS_OPS = ("=", "!=", "IN", "NOT IN", "LIKE", "ILIKE")
_KEYWORDS = {"AND", "OR", "NOT", "IN", "LIKE", "ILIKE"}

# Limits that keep a filter inside what Python's stack and SQLite accept (its parser overflows
# near 30 nested EXISTS conditions, ORDER BY takes 2,000 terms, a statement 32,766 parameters),
# so that an excessive filter gets a FilterSyntaxError instead of a crash deep in SQL.
MAX_NESTING = 10  # parentheses and NOTs
MAX_TERMS = 2000  # comparisons plus IN-list values; each comparison costs SQLite ~0.5 ms
MAX_ORDER_KEYS = 100


@dataclass(frozen=True, slots=True)
class Field:
    kind: FieldKind
    key: str  # for attributes: the canonical name ("name", never "run_name")

    def __str__(self) -> str:
        if self.kind == "attribute":
            return f"attributes.{self.key}"
        return f"{_PLURAL[self.kind]}.`{self.key}`"


@dataclass(frozen=True, slots=True)
class Comparison:
    field: Field
    op: str  # one of = != < <= > >= LIKE ILIKE IN NOT IN
    value: Value  # quoted literal → str, bare number → float; IN/NOT IN → tuple
    # Where the field starts in the filter text; for messages, not part of equality.
    position: int = dataclasses.field(default=0, compare=False)


@dataclass(frozen=True, slots=True)
class And:
    items: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class Or:
    items: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class Not:
    item: Node


Node = Union[Comparison, And, Or, Not]


@dataclass(frozen=True, slots=True)
class OrderKey:
    field: Field
    descending: bool = False


# ---------------------------------------------------------------------------------------- lexer


@dataclass(frozen=True, slots=True)
class _Token:
    kind: str  # WORD NUMBER STRING BACKTICK OP LPAREN RPAREN COMMA EOF
    text: str  # the source text of the token
    value: object
    pos: int


_WORD = re.compile(r"[^\W\d][\w.\-/:]*")  # a key may be train/loss, model.depth, eval-acc
_NUMBER = re.compile(
    r"[+-]?(?:(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?|(?i:inf(?:inity)?|nan))(?![\w.:/])")
_OPERATOR = re.compile(r"==|!=|<>|<=|>=|=|<|>")
_OP_ALIASES = {"==": "=", "<>": "!="}
_ESCAPES = {"\\": "\\", "'": "'", '"': '"', "`": "`", "n": "\n", "t": "\t"}
_PUNCT = {"(": "LPAREN", ")": "RPAREN", ",": "COMMA"}
_SURROGATE = re.compile("[\ud800-\udfff]")  # never valid alone; SQLite could not encode it


def _tokenize(text: str) -> list[_Token]:
    if bad := _SURROGATE.search(text):
        # The message quotes the text: replace the surrogates there so that it prints.
        raise FilterSyntaxError(f"character U+{ord(bad.group()):04X} is a lone surrogate, not "
                                "valid Unicode text; remove it", bad.start(),
                                _SURROGATE.sub("\ufffd", text))
    tokens: list[_Token] = []
    i = 0
    while i < len(text):
        ch = text[i]
        if ch.isspace():
            i += 1
        elif ch in _PUNCT:
            tokens.append(_Token(_PUNCT[ch], ch, ch, i))
            i += 1
        elif ch in "'\"`":
            value, end = _read_quoted(text, i)
            tokens.append(_Token("BACKTICK" if ch == "`" else "STRING", text[i:end], value, i))
            i = end
        elif m := _NUMBER.match(text, i):
            tokens.append(_Token("NUMBER", m.group(), float(m.group()), i))
            i = m.end()
        elif m := _WORD.match(text, i):
            tokens.append(_Token("WORD", m.group(), m.group(), i))
            i = m.end()
        elif m := _OPERATOR.match(text, i):
            tokens.append(_Token("OP", m.group(), _OP_ALIASES.get(m.group(), m.group()), i))
            i = m.end()
        elif ch.isdigit() or (ch in "+-." and i + 1 < len(text) and text[i + 1].isdigit()):
            raise FilterSyntaxError(f"invalid number {text[i:].split()[0]!r}", i, text)
        else:
            raise FilterSyntaxError(f"unexpected character {ch!r}", i, text)
    tokens.append(_Token("EOF", "", None, len(text)))
    return tokens


def _read_quoted(text: str, start: int) -> tuple[str, int]:
    """Read a quoted string or key from ``start`` (the quote); return (value, end index)."""
    quote, out, i = text[start], [], start + 1
    while i < len(text):
        ch = text[i]
        if ch == "\\" and i + 1 < len(text):
            nxt = text[i + 1]
            # Unknown escapes keep their backslash so that LIKE patterns can say \% and \_.
            out.append(_ESCAPES.get(nxt, "\\" + nxt))
            i += 2
        elif ch == quote:
            return "".join(out), i + 1
        else:
            out.append(ch)
            i += 1
    what = "backtick-quoted key" if quote == "`" else "string"
    raise FilterSyntaxError(f"unclosed {what}: add the closing {quote}", start, text)


# --------------------------------------------------------------------------------------- parser


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = _tokenize(text)
        self.i = 0
        self.depth = 0  # parentheses and NOTs around the current token
        self.terms = 0  # comparisons and list values so far

    # -- helpers
    def peek(self) -> _Token:
        return self.tokens[self.i]

    def advance(self) -> _Token:
        tok = self.tokens[self.i]
        self.i = min(self.i + 1, len(self.tokens) - 1)
        return tok

    def is_keyword(self, *words: str) -> bool:
        tok = self.peek()
        return tok.kind == "WORD" and tok.text.upper() in words

    def error(self, message: str, pos: int) -> FilterSyntaxError:
        return FilterSyntaxError(message, pos, self.text)

    @staticmethod
    def found(tok: _Token) -> str:
        return "the end of the filter" if tok.kind == "EOF" else repr(tok.text)

    # -- boolean structure: or_expr := and_expr (OR and_expr)*; and_expr := unary (AND unary)*
    def or_expr(self) -> Node:
        items = [self.and_expr()]
        while self.is_keyword("OR"):
            self.advance()
            items.append(self.and_expr())
        return _flatten(Or, items)

    def and_expr(self) -> Node:
        items = [self.unary()]
        while self.is_keyword("AND"):
            self.advance()
            items.append(self.unary())
        return _flatten(And, items)

    def unary(self) -> Node:
        tok = self.peek()
        if not (self.is_keyword("NOT") or tok.kind == "LPAREN"):
            return self.comparison()
        if self.depth == MAX_NESTING:
            raise self.error(f"the filter nests deeper than {MAX_NESTING} levels of parentheses "
                             "and NOTs; simplify it", tok.pos)
        self.depth += 1
        if tok.kind == "LPAREN":
            node = self.group()
        else:
            self.advance()
            node = Not(self.unary())
        self.depth -= 1
        return node

    def group(self) -> Node:
        opening = self.advance()
        node = self.or_expr()
        tok = self.peek()
        if tok.kind == "EOF":
            raise self.error("unbalanced parenthesis: this '(' is never closed", opening.pos)
        if tok.kind != "RPAREN":
            raise self.error(f"expected AND, OR or ')', found {self.found(tok)}", tok.pos)
        self.advance()
        return node

    # -- comparison := field operator value
    def comparison(self) -> Comparison:
        start = self.peek().pos
        field = self.field()
        op_tok = self.peek()
        op = self.operator(field)
        value, value_toks = self.in_list(op) if op in ("IN", "NOT IN") else self.scalar(op)
        if self.terms + len(value_toks) > MAX_TERMS:  # point at the first value past the limit
            pos = start if len(value_toks) == 1 else value_toks[MAX_TERMS - self.terms].pos
            raise self.error(f"the filter has more than {MAX_TERMS:,} comparisons and list "
                             "values; narrow it or split it into several searches", pos)
        self.terms += len(value_toks)
        _check(self, field, op, op_tok, value_toks)
        if field == Field("attribute", "status"):  # statuses compare case-insensitively
            value = _upper_status(value, op)
        return Comparison(field, op, value, start)

    def field(self) -> Field:
        tok = self.peek()
        if tok.kind != "WORD" or tok.text.upper() in _KEYWORDS:
            raise self.error("expected a field such as metrics.loss, params.lr, tags.x or "
                             f"attributes.status, found {self.found(tok)}", tok.pos)
        self.advance()
        prefix, dot, key = tok.text.partition(".")
        if not dot:  # a bare name is an attribute, as in MLflow
            return _attribute(self, prefix, tok.pos)
        kind = _PREFIXES.get(prefix.lower())
        if kind is None:
            raise self.error(f"unknown prefix {prefix!r}; use metrics., params., tags. or "
                             "attributes.", tok.pos)
        key_pos = tok.pos + len(prefix) + 1
        if not key:
            key, key_pos = self.quoted_key(tok)
        if kind == "attribute":
            return _attribute(self, key, key_pos)
        return Field(kind, key)

    def quoted_key(self, prefix_tok: _Token) -> tuple[str, int]:
        tok = self.peek()
        if tok.kind == "BACKTICK" or (tok.kind == "STRING" and tok.text.startswith('"')):
            self.advance()
            if not tok.value:
                raise self.error("empty key", tok.pos)
            return str(tok.value), tok.pos
        raise self.error(f"expected a key after {prefix_tok.text!r} (quote keys with backticks: "
                         f"{prefix_tok.text}`my key`), found {self.found(tok)}", tok.pos)

    def operator(self, field: Field) -> str:
        tok = self.peek()
        if tok.kind == "OP":
            self.advance()
            return str(tok.value)
        if self.is_keyword("IN", "LIKE", "ILIKE"):
            self.advance()
            return tok.text.upper()
        if self.is_keyword("NOT"):
            self.advance()
            if not self.is_keyword("IN"):
                raise self.error(f"expected IN after NOT, found {self.found(self.peek())}",
                                 self.peek().pos)
            self.advance()
            return "NOT IN"
        raise self.error(f"expected a comparison operator after {field}, found "
                         f"{self.found(tok)}", tok.pos)

    def scalar(self, op: str) -> tuple[str | float, list[_Token]]:
        tok = self.peek()
        if tok.kind in ("STRING", "NUMBER"):
            self.advance()
            return tok.value, [tok]  # type: ignore[return-value]
        hint = ""
        if tok.kind == "BACKTICK":
            hint = "; backticks quote keys, quote values with '...'"
        elif tok.kind == "WORD":
            hint = f"; quote text values: '{tok.text}'"
        raise self.error(f"expected a value after '{op}', found {self.found(tok)}{hint}", tok.pos)

    def in_list(self, op: str) -> tuple[tuple[str | float, ...], list[_Token]]:
        tok = self.peek()
        if tok.kind != "LPAREN":
            raise self.error(f"expected '(' after '{op}', found {self.found(tok)}", tok.pos)
        opening = self.advance()
        values, toks = [], []
        while True:
            if self.peek().kind == "RPAREN" and not values:
                raise self.error(f"empty list after '{op}'", self.peek().pos)
            value, (value_tok,) = self.scalar(op)
            values.append(value)
            toks.append(value_tok)
            tok = self.advance()
            if tok.kind == "RPAREN":
                return tuple(values), toks
            if tok.kind == "EOF":
                raise self.error("unbalanced parenthesis: this '(' is never closed", opening.pos)
            if tok.kind != "COMMA":
                raise self.error(f"expected ',' or ')' in the list, found {self.found(tok)}",
                                 tok.pos)


def _flatten(cls: type[And] | type[Or], items: list[Node]) -> Node:
    if len(items) == 1:
        return items[0]
    flat: list[Node] = []
    for item in items:  # (a AND b) AND c is a AND b AND c
        flat.extend(item.items if isinstance(item, cls) else (item,))
    return cls(tuple(flat))


def _attribute(p: _Parser, name: str, pos: int) -> Field:
    key = _ALIASES.get(name.lower(), name.lower())
    if key not in ATTRIBUTES:
        valid = ", ".join(ATTRIBUTES)
        raise p.error(f"unknown attribute {name!r}; valid attributes are {valid} (or use "
                      "metrics., params., tags.)", pos)
    return Field("attribute", key)


def _check(p: _Parser, field: Field, op: str, op_tok: _Token, toks: list[_Token]) -> None:
    """Reject comparisons that parse but mean nothing (text on a metric, LIKE on a number...)."""
    kind = "number" if field.kind == "metric" else (
        ATTRIBUTES[field.key] if field.kind == "attribute" else "any")
    if kind == "number" and op not in NUMERIC_OPS:
        raise p.error(f"{field} is a number: use =, !=, <, <=, > or >=", op_tok.pos)
    if kind == "status" and op not in _STATUS_OPS:
        raise p.error(f"{field} supports =, !=, IN, NOT IN, LIKE and ILIKE", op_tok.pos)
    for tok in toks:
        if message := _value_problem(field, kind, op, tok):
            raise p.error(message, tok.pos)


def _value_problem(field: Field, kind: str, op: str, tok: _Token) -> str | None:
    v = tok.value
    if op in ("LIKE", "ILIKE") and not isinstance(v, str):
        return f"{op} needs a quoted pattern such as '%{tok.text}%'"
    if kind == "number" and isinstance(v, str):
        fix = f"remove the quotes around {tok.text}" if _NUMBER.fullmatch(v) else "found text"
        return f"{field} compares numbers; {fix}"
    if kind in ("text", "status") and not isinstance(v, str):
        return f"{field} is text; quote the value: '{tok.text}'"
    if isinstance(v, float) and math.isnan(v) and op not in ("=", "!="):
        return "nan only compares with = or !="
    if kind == "status" and op in ("=", "!=", "IN", "NOT IN") and v.upper() not in RUN_STATUSES:
        return f"unknown status {v!r}; valid statuses are {', '.join(RUN_STATUSES)}"
    return None


def _upper_status(value: Value, op: str) -> Value:
    if op in ("LIKE", "ILIKE"):  # patterns stay as typed; the store matches them with ILIKE
        return value
    return tuple(str(v).upper() for v in value) if isinstance(value, tuple) else str(value).upper()


# ------------------------------------------------------------------------------------ public API


def parse_filter(text: str) -> Node | None:
    """Parse a filter; ``None`` for an empty one. Raises FilterSyntaxError."""
    if not text or not text.strip():
        return None
    p = _Parser(text)
    node = p.or_expr()
    tok = p.peek()
    if tok.kind == "RPAREN":
        raise p.error("unbalanced parenthesis: this ')' has no matching '('", tok.pos)
    if tok.kind != "EOF":
        raise p.error(f"expected AND, OR or the end of the filter, found {p.found(tok)}",
                      tok.pos)
    return node


def parse_order_by(items: Sequence[str] | str | None) -> list[OrderKey]:
    """Parse ``["metrics.`val/loss` ASC", "attributes.start_time DESC"]``.

    A single string may hold several comma-separated keys. Blank items are skipped.
    """
    if items is None:
        return []
    if isinstance(items, str):
        items = [items]
    keys: list[OrderKey] = []
    for item in items:
        if item and item.strip():
            _parse_order_item(item, keys)
    return keys


def _parse_order_item(text: str, keys: list[OrderKey]) -> None:
    """Parse one item's keys onto ``keys``."""
    p = _Parser(text)
    while True:
        if len(keys) == MAX_ORDER_KEYS:
            raise p.error(f"order_by has more than {MAX_ORDER_KEYS} keys; sort by fewer",
                          p.peek().pos)
        field = p.field()
        descending = False
        if p.is_keyword("ASC", "DESC"):
            descending = p.advance().text.upper() == "DESC"
        keys.append(OrderKey(field, descending))
        tok = p.advance()
        if tok.kind == "EOF":
            return
        if tok.kind != "COMMA":
            raise p.error(f"expected ASC, DESC, ',' or the end after {field}, found "
                          f"{p.found(tok)}", tok.pos)

"""Filter / order-by AST (``tracker_sdk.query``) → SQLAlchemy clauses over ``SqlRun``.

The only module that knows both the AST and SQL. Every comparison compiles to an EXISTS or a
correlated scalar subquery keyed by ``SqlRun.id``, so the caller's ``select(SqlRun)`` needs no
joins, and every compiled comparison is two-valued (TRUE/FALSE, never NULL), so that NOT is a
plain complement.

Semantics:

- A comparison only matches runs that have the key (``!=`` and ``NOT IN`` included, as in
  MLflow); ``NOT (...)`` is the complement over all runs, so ``NOT (metrics.x < 1)`` matches
  runs with x >= 1, with x = NaN, and runs without x.
- Metrics compare their latest value (``metric_summaries.last``) as Python floats do: NaN fails
  every comparison except ``!=``; ``metrics.x = nan`` / ``!= nan`` test for NaN itself.
- Params and tags are text. A quoted value compares as text (case-sensitive); a bare number
  compares numerically with the values that are exactly one number ('0.0003', '3e-4', ' 7 '),
  never with other text ('abc', '1abc', 'inf'), except that ``!=`` matches those (they are not
  equal to the number).
- ``LIKE`` is case-sensitive, ``ILIKE`` is not; both take ``%``, ``_`` and ``\\`` as escape.
- ``attributes.status`` is the derived status: RUNNING without a heartbeat for
  ``HEARTBEAT_STALE_S`` reads as CRASHED (see :func:`status_expression`).
- ``attributes.parent_id = ''`` matches top-level runs.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import (
    Boolean,
    ColumnElement,
    Float,
    and_,
    case,
    cast,
    false,
    func,
    literal,
    not_,
    or_,
    select,
    true,
)
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement

from tracker_sdk.limits import HEARTBEAT_STALE_S
from tracker_sdk.query import And, Comparison, Field, Node, Not, Or, OrderKey
from tracker_sdk.store.schema import SqlExperiment, SqlMetricSummary, SqlParam, SqlRun, SqlTag

_OPS: dict[str, Callable[[Any, Any], ColumnElement[bool]]] = {
    "=": operator.eq, "!=": operator.ne, "<": operator.lt,
    "<=": operator.le, ">": operator.gt, ">=": operator.ge,
}
_KV_TABLES: dict[str, type[SqlParam] | type[SqlTag]] = {"param": SqlParam, "tag": SqlTag}
_NULLABLE_ATTRIBUTES = {"end_time", "duration", "experiment"}


# ------------------------------------------------------------------- dialect-specific constructs
# SQLite has no case-sensitive LIKE and no strict "is this text a number" test; both live here,
# behind small constructs, so that another dialect (PostgreSQL) only needs another @compiles.


class _case_sensitive_like(FunctionElement[bool]):  # noqa: N801 (SQLAlchemy construct style)
    """``column LIKE pattern`` with case sensitivity on every backend. Args: col, like, glob."""

    type = Boolean()
    inherit_cache = True
    name = "case_sensitive_like"


@compiles(_case_sensitive_like)
def _like_default(element: _case_sensitive_like, compiler: Any, **kw: Any) -> str:
    col, pattern, _glob = element.clauses
    return f"{compiler.process(col, **kw)} LIKE {compiler.process(pattern, **kw)} ESCAPE '\\'"


@compiles(_case_sensitive_like, "sqlite")
def _like_sqlite(element: _case_sensitive_like, compiler: Any, **kw: Any) -> str:
    # SQLite's LIKE ignores ASCII case (PRAGMA case_sensitive_like is per connection, not per
    # statement); GLOB is its built-in case-sensitive matcher, fed a translated pattern.
    col, _pattern, glob = element.clauses
    return f"{compiler.process(col, **kw)} GLOB {compiler.process(glob, **kw)}"


def _like_to_glob(pattern: str) -> str:
    """Translate a LIKE pattern (``%``, ``_``, ``\\`` escapes) into the equivalent GLOB."""
    out, i = [], 0
    while i < len(pattern):
        ch = pattern[i]
        if ch == "\\" and i + 1 < len(pattern):
            out.append(_glob_literal(pattern[i + 1]))
            i += 2
            continue
        out.append("*" if ch == "%" else "?" if ch == "_" else _glob_literal(ch))
        i += 1
    return "".join(out)


def _glob_literal(ch: str) -> str:
    return f"[{ch}]" if ch in "*?[" else ch  # a bracket class is GLOB's only way to escape


class _is_numeric_text(FunctionElement[bool]):  # noqa: N801
    """TRUE when a text column holds exactly one number ('3e-4' yes; '1abc', 'inf', '' no)."""

    type = Boolean()
    inherit_cache = True
    name = "is_numeric_text"


@compiles(_is_numeric_text, "sqlite")
def _numeric_sqlite(element: _is_numeric_text, compiler: Any, **kw: Any) -> str:
    # Comparing TEXT with a NUMERIC value makes SQLite apply numeric affinity to the text, which
    # converts it only if the whole text is a well-formed number; otherwise it stays text and
    # never equals a number. (CAST alone parses a prefix: CAST('1abc' AS REAL) = 1.0.)
    arg = compiler.process(list(element.clauses)[0], **kw)
    return f"({arg} = CAST({arg} AS NUMERIC))"


@compiles(_is_numeric_text, "postgresql")
def _numeric_postgresql(element: _is_numeric_text, compiler: Any, **kw: Any) -> str:
    arg = compiler.process(list(element.clauses)[0], **kw)
    return rf"({arg} ~ '^\s*[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?\s*$')"


class _parenthesized(FunctionElement[bool]):  # noqa: N801
    """``(clause)``: SQLAlchemy flattens nested ANDs and ORs, even in a Grouping; this it keeps."""

    type = Boolean()
    inherit_cache = True
    name = "parenthesized"


@compiles(_parenthesized)
def _parenthesized_default(element: _parenthesized, compiler: Any, **kw: Any) -> str:
    return f"({compiler.process(list(element.clauses)[0], **kw)})"


def _as_number(col: Any) -> ColumnElement[float]:
    """The number a text column holds, NULL when it is not exactly one number."""
    # CASE, not AND: PostgreSQL may evaluate the CAST first and fail on 'abc'.
    return case((_is_numeric_text(col), cast(col, Float)), else_=None)


# --------------------------------------------------------------------------------------- filters


def compile_filter(node: Node | None, now_ms: int) -> ColumnElement[bool]:
    """The WHERE clause over ``SqlRun`` for a parsed filter (``None`` matches every run).

    ``now_ms`` decides which RUNNING runs have gone stale and count as CRASHED.
    """
    if node is None:
        return true()
    if isinstance(node, (And, Or)):
        # Nested groups first: SQLite's parser stack (about 100 entries) fills faster with groups
        # that close a long list than with groups that open it. Order does not change the result.
        ordered = sorted(node.items, key=lambda item: isinstance(item, Comparison))
        items = [compile_filter(item, now_ms) for item in ordered]
        return _tree(and_ if isinstance(node, And) else or_, items)
    if isinstance(node, Not):
        return not_(compile_filter(node.item, now_ms))
    if isinstance(node, Comparison):
        return _compile_comparison(node, now_ms)
    raise TypeError(f"not a filter node: {node!r}")


_FLAT = 32  # items joined in one run of ANDs or ORs


def _tree(combine: Callable[..., ColumnElement[bool]], items: list[ColumnElement[bool]]
          ) -> ColumnElement[bool]:
    """``combine(*items)`` as a shallow tree of parenthesized groups of at most _FLAT items.

    SQLite parses ``a OR b OR c ...`` into a tree as deep as the list is long and refuses one
    deeper than 1,000; grouping keeps it at _FLAT per level, a few levels for MAX_TERMS.
    """
    while len(items) > _FLAT:
        items = [_parenthesized(combine(*items[i:i + _FLAT])) for i in range(0, len(items), _FLAT)]
    return combine(*items)


def _compile_comparison(c: Comparison, now_ms: int) -> ColumnElement[bool]:
    kind = c.field.kind
    if kind == "metric":
        s = SqlMetricSummary
        return _exists(s, c.field.key, _metric_condition(s, c.op, float(c.value)))  # type: ignore[arg-type]
    if kind in _KV_TABLES:
        table = _KV_TABLES[kind]
        if c.op == "NOT IN":  # the key must exist, its value must be none of the list
            return _exists(table, c.field.key, not_(_text_condition(table.value, "IN", c.value)))
        return _exists(table, c.field.key, _text_condition(table.value, c.op, c.value))
    return _attribute_condition(c, now_ms)


def _exists(table: Any, key: str, condition: ColumnElement[bool]) -> ColumnElement[bool]:
    return (select(table.run_id)
            .where(table.run_id == SqlRun.id, table.key == key, condition)
            .correlate(SqlRun).exists())


def _metric_condition(s: type[SqlMetricSummary], op: str, value: float) -> ColumnElement[bool]:
    # NaN is stored as last = NULL, last_is_nan = 1 (SQLite cannot store NaN).
    if value != value:  # NaN: the parser only allows = and !=
        return s.last_is_nan == (1 if op == "=" else 0)
    if op == "!=":  # NaN != anything, as in Python
        return or_(s.last_is_nan == 1, s.last != value)
    return _OPS[op](s.last, value)


def _text_condition(col: Any, op: str, value: Any) -> ColumnElement[bool]:
    """A condition on a NOT NULL text column; quoted values compare as text, numbers as numbers.

    Used inside EXISTS, where NULL and FALSE both drop the row; only the IN list must be
    two-valued, because NOT IN negates it.
    """
    if op == "LIKE":
        return _case_sensitive_like(col, value, _like_to_glob(value))
    if op == "ILIKE":
        return col.ilike(value, escape="\\")
    if op in ("IN", "NOT IN"):
        texts = [v for v in value if isinstance(v, str)]
        numbers = [v for v in value if not isinstance(v, str)]
        # IS NOT NULL keeps the result two-valued for non-numeric text (NULL IN (...) is NULL).
        number = _as_number(col)
        cond = or_(col.in_(texts) if texts else false(),
                   and_(number.is_not(None), number.in_(numbers)) if numbers else false())
        return not_(cond) if op == "NOT IN" else cond
    if isinstance(value, str):
        return _OPS[op](col, value)
    number = _as_number(col)  # NULL for non-numeric text, which fails the comparison
    if op == "!=":
        return or_(number.is_(None), number != value)
    return _OPS[op](number, value)


# ------------------------------------------------------------------------------------ attributes


def status_expression(now_ms: int) -> ColumnElement[str]:
    """The run status as the user sees it: RUNNING with a stale or no heartbeat is CRASHED.

    The store keeps RUNNING for a process that died without telling it; only the heartbeat
    (``HEARTBEAT_STALE_S``) shows it. Readers can select this expression to agree with filters.
    """
    stale_before = now_ms - int(HEARTBEAT_STALE_S * 1000)
    stale = or_(SqlRun.heartbeat_time.is_(None), SqlRun.heartbeat_time < stale_before)
    return case((and_(SqlRun.status == "RUNNING", stale), literal("CRASHED")),
                else_=SqlRun.status)


def _attribute_expr(key: str, now_ms: int | None) -> ColumnElement[Any]:
    if key == "status":
        return SqlRun.status if now_ms is None else status_expression(now_ms)
    if key == "experiment":
        return (select(SqlExperiment.name).where(SqlExperiment.id == SqlRun.experiment_id)
                .correlate(SqlRun).scalar_subquery())
    if key == "duration":  # seconds; a live run counts up to its last heartbeat
        end = func.coalesce(SqlRun.end_time, SqlRun.heartbeat_time)
        return (end - SqlRun.start_time) / 1000.0
    columns = {"name": SqlRun.name, "run_id": SqlRun.id, "user": SqlRun.user,
               "parent_id": SqlRun.parent_id, "start_time": SqlRun.start_time,
               "end_time": SqlRun.end_time}
    return columns[key]


def _attribute_condition(c: Comparison, now_ms: int) -> ColumnElement[bool]:
    key = c.field.key
    expr = _attribute_expr(key, now_ms)
    if key == "parent_id":  # '' stands for "no parent", so top-level runs can be found
        expr = func.coalesce(expr, "")
    if key == "status" and c.op in ("LIKE", "ILIKE"):  # statuses ignore case
        return expr.ilike(c.value, escape="\\")
    if c.op in ("LIKE", "ILIKE", "IN", "NOT IN"):
        cond = _text_condition(expr, c.op, c.value)
    else:
        cond = _OPS[c.op](expr, c.value)
    if key in _NULLABLE_ATTRIBUTES:  # NULL would make NOT (...) NULL too
        cond = and_(expr.is_not(None), cond)
    return cond


# ----------------------------------------------------------------------------------------- order


def compile_order(keys: Sequence[OrderKey], *, now_ms: int | None = None) -> list[Any]:
    """ORDER BY clauses for ``select(SqlRun)``; missing values sort last in both directions.

    Ends with ``start_time DESC, id`` so that the order is total and stable across refreshes.
    With ``now_ms``, ``attributes.status`` sorts by the derived status (CRASHED included).
    """
    clauses = []
    for key in keys:
        for expr in _order_exprs(key.field, now_ms):
            clauses.append((expr.desc() if key.descending else expr.asc()).nulls_last())
    clauses += [SqlRun.start_time.desc(), SqlRun.id.asc()]
    return clauses


def _order_exprs(field: Field, now_ms: int | None) -> list[ColumnElement[Any]]:
    if field.kind == "metric":
        return [_scalar(SqlMetricSummary, SqlMetricSummary.last, field.key)]  # NaN → NULL → last
    if field.kind in _KV_TABLES:
        table = _KV_TABLES[field.kind]
        # Numbers first, in numeric order (so '9' < '10'), then other text in text order.
        return [_scalar(table, _as_number(table.value), field.key),
                _scalar(table, table.value, field.key)]
    return [_attribute_expr(field.key, now_ms)]


def _scalar(table: Any, column: Any, key: str) -> ColumnElement[Any]:
    return (select(column).where(table.run_id == SqlRun.id, table.key == key)
            .correlate(SqlRun).scalar_subquery())

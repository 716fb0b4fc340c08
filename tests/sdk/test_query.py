"""The filter / order-by language: text → AST, and every error's position and message."""

from __future__ import annotations

import math

import pytest

from tracker_sdk.errors import FilterSyntaxError
from tracker_sdk.query import (
    And,
    Comparison,
    Field,
    Not,
    Or,
    OrderKey,
    parse_filter,
    parse_order_by,
)


def M(key: str) -> Field:
    return Field("metric", key)


def P(key: str) -> Field:
    return Field("param", key)


def T(key: str) -> Field:
    return Field("tag", key)


def A(key: str) -> Field:
    return Field("attribute", key)


def C(field: Field, op: str, value: object) -> Comparison:
    return Comparison(field, op, value)  # type: ignore[arg-type]


GOOD = [
    # prefixes, singular and plural, and key quoting
    ("metrics.loss < 0.5", C(M("loss"), "<", 0.5)),
    ("metric.loss<=1", C(M("loss"), "<=", 1.0)),
    ("metrics.`train/loss` > -1e-3", C(M("train/loss"), ">", -0.001)),
    ('params."my-key" = \'x\'', C(P("my-key"), "=", "x")),
    ("params.model.depth = 12", C(P("model.depth"), "=", 12.0)),
    ("param.lr = '0.0003'", C(P("lr"), "=", "0.0003")),
    ("tags.stage != \"prod\"", C(T("stage"), "!=", "prod")),
    ("tag.`a b` = 'c'", C(T("a b"), "=", "c")),
    ("metrics.train/loss >= 2", C(M("train/loss"), ">=", 2.0)),
    ("METRICS.x = 1", C(M("x"), "=", 1.0)),
    ("params.größe = 1", C(P("größe"), "=", 1.0)),
    ("params.status = 'done'", C(P("status"), "=", "done")),  # only the attribute is uppercased
    # operator aliases
    ("metrics.x == 1", C(M("x"), "=", 1.0)),
    ("metrics.x <> 1", C(M("x"), "!=", 1.0)),
    # quoted vs bare values
    ("params.lr = 3e-4", C(P("lr"), "=", 0.0003)),
    ("params.lr = '3e-4'", C(P("lr"), "=", "3e-4")),
    ("params.n = .5", C(P("n"), "=", 0.5)),
    ("params.n = +7", C(P("n"), "=", 7.0)),
    ("metrics.x = -inf", C(M("x"), "=", -math.inf)),
    (r"tags.note = 'it\'s'", C(T("note"), "=", "it's")),
    (r'tags.note = "say \"hi\""', C(T("note"), "=", 'say "hi"')),
    (r"tags.p LIKE '100\%%'", C(T("p"), "LIKE", "100\\%%")),  # LIKE escapes survive
    # LIKE / ILIKE / IN / NOT IN, keywords in any case
    ("tags.x like 'a%'", C(T("x"), "LIKE", "a%")),
    ("tags.x ILike '%A'", C(T("x"), "ILIKE", "%A")),
    ("params.opt IN ('adam', 'sgd')", C(P("opt"), "IN", ("adam", "sgd"))),
    ("params.bs not in (32, '64')", C(P("bs"), "NOT IN", (32.0, "64"))),
    # attributes: prefixes, bare names, aliases, status normalisation
    ("attributes.status = 'finished'", C(A("status"), "=", "FINISHED")),
    ("attr.status IN ('running', 'Crashed')", C(A("status"), "IN", ("RUNNING", "CRASHED"))),
    ("status LIKE 'fin%'", C(A("status"), "LIKE", "fin%")),
    ("attribute.run_name = 'a'", C(A("name"), "=", "a")),
    ("run_name = 'a'", C(A("name"), "=", "a")),
    ("attributes.id = 'abc'", C(A("run_id"), "=", "abc")),
    ("experiment_name = 'e'", C(A("experiment"), "=", "e")),
    ("user_id = 'me'", C(A("user"), "=", "me")),
    ("attributes.start_time >= 1700000000000", C(A("start_time"), ">=", 1.7e12)),
    ("duration > 60", C(A("duration"), ">", 60.0)),
    ("parent_id = ''", C(A("parent_id"), "=", "")),
    # boolean structure: NOT > AND > OR, parentheses, flattening
    ("metrics.a = 1 AND metrics.b = 2 and metrics.c = 3",
     And((C(M("a"), "=", 1.0), C(M("b"), "=", 2.0), C(M("c"), "=", 3.0)))),
    ("metrics.a = 1 OR metrics.b = 2 AND metrics.c = 3",
     Or((C(M("a"), "=", 1.0), And((C(M("b"), "=", 2.0), C(M("c"), "=", 3.0)))))),
    ("(metrics.a = 1 OR metrics.b = 2) AND metrics.c = 3",
     And((Or((C(M("a"), "=", 1.0), C(M("b"), "=", 2.0))), C(M("c"), "=", 3.0)))),
    ("NOT metrics.a = 1 AND metrics.b = 2",
     And((Not(C(M("a"), "=", 1.0)), C(M("b"), "=", 2.0)))),
    ("not (metrics.a = 1 or metrics.b = 2)",
     Not(Or((C(M("a"), "=", 1.0), C(M("b"), "=", 2.0))))),
    ("(metrics.a = 1 AND metrics.b = 2) AND (metrics.c = 3)",
     And((C(M("a"), "=", 1.0), C(M("b"), "=", 2.0), C(M("c"), "=", 3.0)))),
    ("((tags.x = 'y'))", C(T("x"), "=", "y")),
    ("NOT NOT tags.x = 'y'", Not(Not(C(T("x"), "=", "y")))),
]


@pytest.mark.parametrize(("text", "expected"), GOOD, ids=[t for t, _ in GOOD])
def test_parse_good(text: str, expected: object) -> None:
    assert parse_filter(text) == expected


@pytest.mark.parametrize("text", ["", "   ", "\n\t"])
def test_empty_filter_is_none(text: str) -> None:
    assert parse_filter(text) is None


def test_comparison_remembers_where_it_starts() -> None:
    node = parse_filter("metrics.a = 1 and  params.b = 'x'")
    assert isinstance(node, And)
    assert [item.position for item in node.items] == [0, 19]  # type: ignore[union-attr]


def test_nan_literal_parses() -> None:
    node = parse_filter("metrics.loss = NaN")
    assert isinstance(node, Comparison) and math.isnan(node.value)  # type: ignore[arg-type]


BAD = [
    # (text, position, a word of the message)
    ("metrics.loss foo", 13, "expected a comparison operator after metrics.`loss`"),
    ("metrics.loss", 12, "comparison operator"),
    ("metrics.loss <", 14, "expected a value"),
    ("metrics.loss < '0.1'", 15, "remove the quotes"),
    ("metrics.loss < 'abc'", 15, "numbers"),
    ("metrics.loss LIKE '%a'", 13, "number"),
    ("metrics.loss IN (1, 2)", 13, "number"),
    ("metrics.loss < nan", 15, "nan"),
    ("params.x = 'abc", 11, "unclosed string"),
    ("params.`abc = 1", 7, "unclosed backtick"),
    ("params.`` = 1", 7, "empty key"),
    ("params. = 1", 8, "expected a key"),
    ("params.'x' = 1", 7, "backticks"),
    ("(metrics.a = 1", 0, "unbalanced parenthesis"),
    ("metrics.a = 1)", 13, "unbalanced parenthesis"),
    ("(metrics.a = 1 metrics.b = 2)", 15, "expected AND, OR or ')'"),
    ("metrics.a = 1 metrics.b = 2", 14, "expected AND, OR or the end"),
    ("()", 1, "expected a field"),
    ("metrics.a = 1 AND", 17, "expected a field"),
    ("AND metrics.a = 1", 0, "expected a field"),
    ("metric_.loss < 1", 0, "unknown prefix 'metric_'; use metrics., params., tags. or attributes."),
    ("run.status = 'x'", 0, "unknown prefix"),
    ("attributes.colour = 'red'", 11, "valid attributes are status, name"),
    ("colour = 'red'", 0, "unknown attribute 'colour'"),
    ("status = 'FINISHD'", 9, "unknown status"),
    ("status IN ('running', 'nope')", 22, "unknown status"),
    ("status < 'RUNNING'", 7, "supports"),
    ("status = 1", 9, "quote the value"),
    ("name = 5", 7, "quote the value"),
    ("start_time > '5'", 13, "remove the quotes"),
    ("start_time LIKE '5%'", 11, "number"),
    ("tags.x LIKE 5", 12, "quoted pattern"),
    ("params.model = resnet", 15, "quote text values"),
    ("params.model = `resnet`", 15, "backticks quote keys"),
    ("tags.x NOT LIKE 'a'", 11, "expected IN after NOT"),
    ("tags.x IN 'a'", 10, "expected '('"),
    ("tags.x IN ()", 11, "empty list"),
    ("tags.x IN ('a' 'b')", 15, "expected ',' or ')'"),
    ("tags.x IN ('a',", 15, "expected a value"),
    ("tags.x IN ('a'", 10, "unbalanced parenthesis"),
    ("tags.x = 1abc", 9, "invalid number"),
    ("tags.x = 'a' ; drop", 13, "unexpected character ';'"),
    ("tags.x ! 'a'", 7, "unexpected character '!'"),
]


@pytest.mark.parametrize(("text", "position", "words"), BAD, ids=[t for t, _, _ in BAD])
def test_parse_bad(text: str, position: int, words: str) -> None:
    with pytest.raises(FilterSyntaxError) as info:
        parse_filter(text)
    assert info.value.position == position, info.value
    assert words in info.value.message
    assert info.value.text == text


def test_error_message_points_at_the_problem() -> None:
    with pytest.raises(FilterSyntaxError) as info:
        parse_filter("metrics.loss foo")
    assert "⟨here⟩foo" in str(info.value)


ORDER_GOOD = [
    (None, []),
    ("", []),
    ([], []),
    (["", "  "], []),
    ("metrics.`val/loss` ASC", [OrderKey(M("val/loss"), False)]),
    ("metrics.loss", [OrderKey(M("loss"), False)]),
    (["attributes.start_time DESC"], [OrderKey(A("start_time"), True)]),
    (["params.lr desc", "tags.x asc"], [OrderKey(P("lr"), True), OrderKey(T("x"), False)]),
    ("name, duration DESC", [OrderKey(A("name"), False), OrderKey(A("duration"), True)]),
]


@pytest.mark.parametrize(("items", "expected"), ORDER_GOOD, ids=[repr(i) for i, _ in ORDER_GOOD])
def test_parse_order_by_good(items: object, expected: list[OrderKey]) -> None:
    assert parse_order_by(items) == expected  # type: ignore[arg-type]


ORDER_BAD = [
    ("metrics.loss sideways", 13, "expected ASC, DESC"),
    ("metric_.loss", 0, "unknown prefix"),
    ("colour DESC", 0, "unknown attribute"),
    ("metrics.loss DESC DESC", 18, "expected ASC, DESC"),
    ("metrics.loss,", 13, "expected a field"),
    ("metrics.`loss DESC", 8, "unclosed"),
]


@pytest.mark.parametrize(("text", "position", "words"), ORDER_BAD, ids=[t for t, _, _ in ORDER_BAD])
def test_parse_order_by_bad(text: str, position: int, words: str) -> None:
    with pytest.raises(FilterSyntaxError) as info:
        parse_order_by([text])
    assert info.value.position == position, info.value
    assert words in info.value.message

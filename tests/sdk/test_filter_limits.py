"""Filters at and past the language's limits, through ``Store.search_runs`` on a real store.

Deep nesting, thousands of terms or order-by keys and text that is not valid Unicode must end in
the documented FilterSyntaxError (one line, with a position), never in a RecursionError,
SQLite's OperationalError or a UnicodeEncodeError; what fits in the limits must simply work.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

import tracker_sdk
from tracker_sdk import Store
from tracker_sdk.errors import FilterSyntaxError
from tracker_sdk.query import MAX_NESTING, MAX_ORDER_KEYS, MAX_TERMS, parse_filter


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    """Three finished runs: x = 0, 1, 2; params.lr = x/10; tags.t = 't<x>'."""
    work = tmp_path_factory.mktemp("limits")
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(work)  # no git repository for the environment capture to diff
        ids = {}
        for i in range(3):
            with tracker_sdk.init(store=work / "store", name=f"r{i}") as run:
                run.log({"x": float(i)})
                run.log_params({"lr": i / 10})
                run.set_tags({"t": f"t{i}"})
            ids[run.id] = f"r{i}"
    st = Store(work / "store")
    st.names = ids  # type: ignore[attr-defined]
    yield st
    st.close()


def names(store: Store, **kwargs: object) -> set[str]:
    return {store.names[r.id] for r in store.search_runs(**kwargs)}  # type: ignore[attr-defined]


def refused(store: Store, **kwargs: object) -> FilterSyntaxError:
    with pytest.raises(FilterSyntaxError) as info:
        store.search_runs(**kwargs)
    message = str(info.value)
    message.encode("utf-8")  # printable as it is: no lone surrogate copied into the message
    assert "\n" not in info.value.message
    return info.value


# ------------------------------------------------------------------------------------ nesting

TOO_DEEP = {
    "parentheses": "(" * 1000 + "metrics.x < 1" + ")" * 1000,
    "NOTs": "not " * 1000 + "metrics.x < 1",
    "NOT (": "not (" * 1000 + "metrics.x < 1" + ")" * 1000,
    "one past the limit": "(" * (MAX_NESTING + 1) + "metrics.x < 1" + ")" * (MAX_NESTING + 1),
}


@pytest.mark.parametrize("text", TOO_DEEP.values(), ids=TOO_DEEP.keys())
def test_a_filter_nested_too_deep_is_refused_at_the_level_past_the_limit(store: Store, text: str) -> None:
    e = refused(store, filter=text)
    assert f"deeper than {MAX_NESTING} levels" in e.message
    levels = [i for i, ch in enumerate(text) if ch == "(" or text.startswith("not ", i)]
    assert e.position == levels[MAX_NESTING]
    with pytest.raises(FilterSyntaxError, match="deeper than"):  # the app's filter box parses first
        parse_filter(text)


_LEVELS = {  # one level of nesting that changes nothing: its text, and how deep it nests
    "or": ("tags.t = 99 or ({})", 1),  # never true: numeric, and no t is a number
    "and": ("tags.t != 99 and ({})", 1),  # true for every run, which all have t
    "not": ("not (not ({}))", 4),
    "in": ("params.lr not in (7, 8, '9') and ({})", 1),
    "status": ("attributes.status != 'RUNNING' and ({})", 1),
    # Wide levels: SQL groups their long lists, which costs SQLite depth at every level.
    "wide or": ("({}) or " + " or ".join(["tags.t = 99"] * 40), 1),
    "wide and": (" and ".join(["tags.t != 99"] * 40) + " and ({})", 1),
    "wide duration": (" and ".join(["attributes.duration > -1"] * 40) + " and ({})", 1),
}


def _nested(inner: str, pattern: list[str], depth: int) -> str:
    """Wrap ``inner`` in the levels of ``pattern``, repeated, then "or" to reach ``depth``."""
    text, reached, i = inner, 0, 0
    while reached < depth:
        how = pattern[i % len(pattern)]
        if reached + _LEVELS[how][1] > depth:
            how = "or"
        text = _LEVELS[how][0].format(text)
        reached += _LEVELS[how][1]
        i += 1
    return text


@pytest.mark.parametrize("pattern", [["or", "and"], ["not"], ["in", "or"], ["status", "or"],
                                     ["or", "not", "and", "in", "status"], ["wide or", "wide and"],
                                     ["wide duration", "or"]],
                         ids=lambda p: "/".join(p))
@pytest.mark.parametrize(("inner", "expected"), [
    ("params.lr = 0.1", {"r1"}),
    ("tags.t in ('t0', 't2') or metrics.x >= 2", {"r0", "r2"}),
])
def test_filters_nested_up_to_the_limit_work(store: Store, pattern: list[str], inner: str,
                                             expected: set[str]) -> None:
    assert names(store, filter=_nested(inner, pattern, MAX_NESTING)) == expected
    assert "deeper than" in refused(store, filter=_nested(inner, pattern, MAX_NESTING + 1)).message


# --------------------------------------------------------------------------------- many terms

def test_a_wide_or_works(store: Store) -> None:  # more than SQLite's 1,000 levels, if left flat
    text = " or ".join(f"metrics.x = {i + 1}" for i in range(MAX_TERMS))
    assert names(store, filter=text) == {"r1", "r2"}


def test_a_wide_and_works(store: Store) -> None:
    text = " and ".join(f"metrics.x != {i + 2}" for i in range(1001))
    assert names(store, filter=text) == {"r0", "r1"}


def test_the_widest_filter_of_the_costliest_comparisons_works(store: Store) -> None:
    # The status and the tag comparisons carry the most SQL parameters per term.
    half = MAX_TERMS // 2
    text = " or ".join(["attributes.status = 'KILLED'"] * half + ["tags.t < 0"] * (half - 1)
                       + ["tags.t = 't1'"])
    assert names(store, filter=text) == {"r1"}


def test_a_long_in_list_works(store: Store) -> None:
    values = ", ".join(str(i / 10) for i in range(2, MAX_TERMS + 1))
    assert names(store, filter=f"params.lr in ({values})") == {"r2"}


TOO_MANY = {  # the text, and where the first term past the limit starts
    "or": (" or ".join(f"metrics.x = {i}" for i in range(MAX_TERMS + 1)), f"metrics.x = {MAX_TERMS}"),
    "and": (" and ".join(f"metrics.x != {i}" for i in range(5 * MAX_TERMS)),
            f"metrics.x != {MAX_TERMS} "),
    "in list": ("params.lr in (" + ", ".join(str(i) for i in range(MAX_TERMS + 1)) + ")",
                f" {MAX_TERMS})"),
}


@pytest.mark.parametrize(("text", "past"), TOO_MANY.values(), ids=TOO_MANY.keys())
def test_too_many_terms_are_refused_at_the_first_past_the_limit(store: Store, text: str,
                                                                past: str) -> None:
    e = refused(store, filter=text)
    assert f"more than {MAX_TERMS:,} comparisons and list values" in e.message
    assert e.position == text.index(past) + (past[0] == " ")


def test_the_error_of_a_huge_filter_quotes_only_around_its_position(store: Store) -> None:
    text = " or ".join(f"metrics.m = {i}" for i in range(MAX_TERMS + 10))
    e = refused(store, filter=text)
    message = str(e)
    assert len(message) < 300 and "⟨here⟩" in message and "…" in message
    assert e.text == text  # the whole filter stays available to a UI that underlines it


def test_order_by_up_to_the_limit_works(store: Store) -> None:
    # Params sort by two expressions each (as numbers, then as text): the costliest keys.
    keys = [f"params.p{i}" for i in range(MAX_ORDER_KEYS - 1)] + ["params.lr DESC"]
    assert [store.names[r.id] for r in store.search_runs(order_by=keys)] == ["r2", "r1", "r0"]


@pytest.mark.parametrize("order_by", [
    [f"metrics.m{i}" for i in range(5000)],
    ", ".join(f"params.p{i}" for i in range(MAX_ORDER_KEYS + 1)),
], ids=["5000 items", "one text past the limit"])
def test_too_many_order_by_keys_are_refused(store: Store, order_by: object) -> None:
    e = refused(store, order_by=order_by)
    assert f"more than {MAX_ORDER_KEYS} keys" in e.message


# ---------------------------------------------------------------------------- invalid unicode

@pytest.mark.parametrize(("text", "position"), [
    ("params.lr = '\ud800'", 13),
    ("params.`a\udfffb` = '1'", 9),
    ("metrics.x < 1 and tags.t = 't1' or \ud83d", 35),
])
def test_a_lone_surrogate_in_a_filter_is_refused_where_it_is(store: Store, text: str, position: int) -> None:
    e = refused(store, filter=text)
    assert e.position == position
    assert "surrogate" in e.message and f"U+{ord(text[position]):04X}" in e.message


def test_a_lone_surrogate_in_order_by_is_refused(store: Store) -> None:
    e = refused(store, order_by=["metrics.x", "params.`\udc80`"])
    assert e.position == 8 and "U+DC80" in e.message


def test_characters_beyond_the_basic_plane_still_work(store: Store) -> None:
    assert names(store, filter="tags.t != '\U0001f600' and params.`\U0001f600` = '1'") == set()


def test_an_experiment_name_that_is_not_text_is_a_validation_error(store: Store) -> None:
    from tracker_sdk import ValidationError

    with pytest.raises(ValidationError, match="experiment name"):
        store.search_runs(experiment="\ud800")

"""Filters and order-by against a real SQLite file: which runs come back, in which order."""

from __future__ import annotations

import math
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, insert, select
from sqlalchemy.dialects import postgresql

from tracker_sdk.query import parse_filter, parse_order_by
from tracker_sdk.store.filters import compile_filter, compile_order, status_expression
from tracker_sdk.store.schema import (
    Base,
    SqlExperiment,
    SqlMetricSummary,
    SqlParam,
    SqlRun,
    SqlTag,
)

NOW = 1_700_000_000_000  # ms
ALL = {"r1", "r2", "r3", "r4", "r5", "r6"}

# id: (name, stored status, experiment, user, start, end, heartbeat, parent) — times vs NOW in ms
RUNS = {
    "r1": ("alpha", "FINISHED", 1, "ann", -100_000, -40_000, -40_000, None),  # 60 s
    "r2": ("Beta", "FAILED", 1, "bob", -90_000, -80_000, -80_000, None),  # 10 s
    "r3": ("gamma", "RUNNING", 2, "ann", -50_000, None, -1_000, None),  # alive, 49 s so far
    "r4": ("delta", "RUNNING", 2, "bob", -70_000, None, -60_000, "r3"),  # stale: CRASHED
    "r5": ("epsilon", "RUNNING", 1, "cy", -10_000, None, None, None),  # no heartbeat: CRASHED
    "r6": ("zeta", "CRASHED", 1, "cy", -5_000, -4_000, -4_000, None),  # stored CRASHED, 1 s
}
PARAMS = {
    "r1": {"lr": "0.0003", "model": "ResNet", "bs": "32"},
    "r2": {"lr": "3e-4", "model": "resnet", "bs": "64"},
    "r3": {"lr": "abc", "model": "bert", "bs": "128"},
    "r4": {"lr": "0.001", "bs": "1abc"},
    "r6": {"lr": "0.0003"},
}
TAGS = {
    "r1": {"stage": "prod", "note": "100% done*"},
    "r2": {"stage": "dev", "note": "100x done [x]"},
    "r3": {"note": "box"},
    "r4": {"stage": "Prod"},
}
# last values; NaN is stored as last = NULL, last_is_nan = 1
METRICS = {
    "r1": {"train/loss": 0.05, "acc": 0.9},
    "r2": {"train/loss": 0.2, "acc": math.nan},
    "r3": {"train/loss": 0.01},
    "r4": {"train/loss": math.inf, "acc": 0.5},
    "r6": {"acc": 0.95},
}


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    path: Path = tmp_path_factory.mktemp("filters") / "t.db"
    eng = create_engine(f"sqlite:///{path}")
    Base.metadata.create_all(eng)
    with eng.begin() as conn:
        conn.execute(insert(SqlExperiment), [
            {"id": 1, "name": "vision", "created_time": NOW - 10**6},
            {"id": 2, "name": "nlp", "created_time": NOW - 10**6},
        ])
        conn.execute(insert(SqlRun), [_run_row(run_id, *row) for run_id, row in RUNS.items()])
        conn.execute(insert(SqlParam), _kv_rows(PARAMS))
        conn.execute(insert(SqlTag), _kv_rows(TAGS))
        conn.execute(insert(SqlMetricSummary), [
            _summary_row(run_id, key, value)
            for run_id, metrics in METRICS.items() for key, value in metrics.items()
        ])
    yield eng
    eng.dispose()


def _run_row(run_id: str, name: str, status: str, experiment_id: int, user: str, start: int,
             end: int | None, heartbeat: int | None, parent: str | None) -> dict[str, object]:
    return {"id": run_id, "experiment_id": experiment_id, "name": name, "status": status,
            "start_time": NOW + start, "end_time": None if end is None else NOW + end,
            "heartbeat_time": None if heartbeat is None else NOW + heartbeat,
            "user": user, "parent_id": parent, "seq": 1}


def _kv_rows(data: dict[str, dict[str, str]]) -> list[dict[str, str]]:
    return [{"run_id": r, "key": k, "value": v} for r, kv in data.items() for k, v in kv.items()]


def _summary_row(run_id: str, key: str, value: float) -> dict[str, object]:
    nan = math.isnan(value)
    return {"run_id": run_id, "key": key, "last": None if nan else value, "last_is_nan": int(nan),
            "last_step": 10, "last_time": NOW, "min": value, "max": value, "count": 10, "seq": 1}


def matching(engine: Engine, text: str) -> set[str]:
    query = select(SqlRun.id).where(compile_filter(parse_filter(text), NOW))
    with engine.connect() as conn:
        return set(conn.scalars(query))


def ordered(engine: Engine, order: list[str], text: str = "") -> list[str]:
    query = (select(SqlRun.id).where(compile_filter(parse_filter(text), NOW))
             .order_by(*compile_order(parse_order_by(order), now_ms=NOW)))
    with engine.connect() as conn:
        return list(conn.scalars(query))


FILTERS = [
    ("", ALL),
    # the headline example: metric (latest value) and a param compared as text
    ("metrics.`train/loss` < 0.1 and params.lr = '0.0003'", {"r1"}),
    # metrics: NaN and inf, missing keys
    ("metrics.acc > 0.6", {"r1", "r6"}),  # r2's NaN never matches an ordered comparison
    ("metrics.acc >= 0", {"r1", "r4", "r6"}),
    ("metrics.acc != 0.5", {"r1", "r2", "r6"}),  # NaN != 0.5, as in Python
    ("metrics.acc = nan", {"r2"}),
    ("metrics.acc != nan", {"r1", "r4", "r6"}),
    ("metrics.`train/loss` > 1e300", {"r4"}),
    ("metrics.`train/loss` = inf", {"r4"}),
    ("metrics.missing < 1", set()),
    ("metrics.missing != 1", set()),
    ("NOT metrics.missing < 1", ALL),
    ("NOT (metrics.acc < 0.6)", ALL - {"r4"}),  # complement: includes NaN and missing acc
    # params/tags: bare number → numeric, quoted → text
    ("params.lr = 0.0003", {"r1", "r2", "r6"}),  # '0.0003' and '3e-4'; never 'abc'
    ("params.lr = 3e-4", {"r1", "r2", "r6"}),
    ("params.lr = '3e-4'", {"r2"}),
    ("params.lr > 0.0005", {"r4"}),
    ("params.lr != 0.0003", {"r3", "r4"}),  # 'abc' is not equal to a number
    ("params.bs < 100", {"r1", "r2"}),  # '1abc' is not the number 1
    ("params.bs IN (32, '128')", {"r1", "r3"}),
    ("params.bs NOT IN (32, 64)", {"r3", "r4"}),  # runs without bs never match
    ("params.model < 'S'", {"r1"}),  # text order, case-sensitive
    # LIKE is case-sensitive, ILIKE is not
    ("params.model LIKE 'Res%'", {"r1"}),
    ("params.model LIKE 'res%'", {"r2"}),
    ("params.model ILIKE 'RES%'", {"r1", "r2"}),
    ("tags.stage LIKE 'pr_d'", {"r1"}),
    ("tags.stage ILIKE 'PROD'", {"r1", "r4"}),
    (r"tags.note LIKE '100\%%'", {"r1"}),  # escaped %
    ("tags.note LIKE '%*'", {"r1"}),  # GLOB's * is literal in LIKE
    ("tags.note LIKE '%[x]'", {"r2"}),  # and so is [x] (a GLOB class would match 'box')
    ("tags.note LIKE '100_ done%'", {"r1", "r2"}),
    ("tags.stage IN ('prod', 'dev')", {"r1", "r2"}),
    ("tags.stage NOT IN ('prod')", {"r2", "r4"}),
    # OR, NOT and parentheses
    ("metrics.acc < 0.6 OR params.model = 'bert'", {"r3", "r4"}),
    ("(tags.stage = 'prod' OR tags.stage = 'dev') AND NOT params.model LIKE 'Res%'", {"r2"}),
    ("tags.stage = 'prod' OR tags.stage = 'dev' AND params.bs = 32", {"r1"}),
    ("NOT (tags.stage = 'prod' OR metrics.acc > 0.9)", {"r2", "r3", "r4", "r5"}),
    # status: CRASHED is derived from a stale or missing heartbeat
    ("attributes.status = 'RUNNING'", {"r3"}),
    ("status = 'crashed'", {"r4", "r5", "r6"}),
    ("status != 'CRASHED'", {"r1", "r2", "r3"}),
    ("status IN ('finished', 'Failed')", {"r1", "r2"}),
    ("status NOT IN ('RUNNING', 'CRASHED')", {"r1", "r2"}),
    ("status LIKE 'f%'", {"r1", "r2"}),
    ("NOT status = 'running'", ALL - {"r3"}),
    # other attributes
    ("name = 'Beta'", {"r2"}),
    ("name LIKE 'b%'", set()),
    ("run_name ILIKE 'b%'", {"r2"}),
    ("attributes.name IN ('alpha', 'gamma')", {"r1", "r3"}),
    ("attributes.run_id = 'r3'", {"r3"}),
    ("id IN ('r1', 'r9')", {"r1"}),
    ("experiment = 'nlp'", {"r3", "r4"}),
    ("experiment_name != 'nlp'", {"r1", "r2", "r5", "r6"}),
    ("user = 'ann'", {"r1", "r3"}),
    ("parent_id = 'r3'", {"r4"}),
    ("parent_id = ''", ALL - {"r4"}),
    (f"start_time > {NOW - 60_000}", {"r3", "r5", "r6"}),
    (f"end_time < {NOW - 30_000}", {"r1", "r2"}),
    (f"NOT end_time < {NOW - 30_000}", {"r3", "r4", "r5", "r6"}),  # running runs have no end
    ("duration > 30", {"r1", "r3"}),  # r3 counts up to its heartbeat
    ("duration <= 10", {"r2", "r4", "r6"}),
    ("NOT duration > 30", {"r2", "r4", "r5", "r6"}),  # r5 has no duration at all
]


@pytest.mark.parametrize(("text", "expected"), FILTERS, ids=[t for t, _ in FILTERS])
def test_filter(engine: Engine, text: str, expected: set[str]) -> None:
    assert matching(engine, text) == expected


def test_heartbeat_staleness_follows_now(engine: Engine) -> None:
    # 25 s later r3's heartbeat (1 s before NOW) is stale as well.
    later = select(SqlRun.id).where(compile_filter(parse_filter("status = 'CRASHED'"),
                                                   NOW + 25_000))
    with engine.connect() as conn:
        assert set(conn.scalars(later)) == {"r3", "r4", "r5", "r6"}
        statuses = dict(conn.execute(select(SqlRun.id, status_expression(NOW))).all())
    assert statuses == {"r1": "FINISHED", "r2": "FAILED", "r3": "RUNNING",
                        "r4": "CRASHED", "r5": "CRASHED", "r6": "CRASHED"}


ORDERS = [
    ([], ["r6", "r5", "r3", "r4", "r2", "r1"]),  # start_time DESC
    (["metrics.acc"], ["r4", "r1", "r6", "r5", "r3", "r2"]),  # NaN (r2) and missing last
    (["metrics.acc DESC"], ["r6", "r1", "r4", "r5", "r3", "r2"]),
    (["metrics.`train/loss` DESC"], ["r4", "r2", "r1", "r3", "r6", "r5"]),  # inf first
    (["params.bs"], ["r1", "r2", "r3", "r4", "r6", "r5"]),  # 32 < 64 < 128, then '1abc'
    (["params.bs DESC"], ["r3", "r2", "r1", "r4", "r6", "r5"]),
    (["name"], ["r2", "r1", "r4", "r5", "r3", "r6"]),
    (["duration DESC"], ["r1", "r3", "r4", "r2", "r6", "r5"]),  # tie r4/r2: newer first
    (["status"], ["r6", "r5", "r4", "r2", "r1", "r3"]),  # derived CRASHED
    # text sorts by code point ('Prod' < 'dev' < 'prod'); then runs without the tag by acc
    (["tags.stage", "metrics.acc DESC"], ["r4", "r2", "r1", "r6", "r5", "r3"]),
]


@pytest.mark.parametrize(("order", "expected"), ORDERS, ids=[repr(o) for o, _ in ORDERS])
def test_order(engine: Engine, order: list[str], expected: list[str]) -> None:
    assert ordered(engine, order) == expected


def test_filter_and_order_together(engine: Engine) -> None:
    assert ordered(engine, ["metrics.`train/loss`"], "params.lr = 0.0003") == ["r1", "r2", "r6"]


def test_filter_composes_with_a_select_of_whole_runs(engine: Engine) -> None:
    query = select(SqlRun).where(compile_filter(parse_filter("user = 'bob'"), NOW))
    with engine.connect() as conn:
        assert sorted(row.name for row in conn.execute(query)) == ["Beta", "delta"]


def test_like_compiles_to_plain_like_outside_sqlite() -> None:
    clause = compile_filter(parse_filter("tags.x LIKE 'Ab%'"), NOW)
    sql = str(clause.compile(dialect=postgresql.dialect()))
    assert " LIKE " in sql and "GLOB" not in sql
    assert "~" in str(compile_filter(parse_filter("params.lr = 1"), NOW)
                      .compile(dialect=postgresql.dialect()))

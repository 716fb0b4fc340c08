import csv
import io

import numpy as np
import pytest

from app.core.compare import (
    CompareRow,
    best_step,
    compare_table,
    filter_rows,
    format_value,
    lower_is_better,
    sort_key,
    to_csv,
    to_markdown,
)
from tracker_sdk.entities import MetricSummary, RunInfo, RunStatus


def ms(key, last, *, last_step=100, lo=None, hi=None, count=11):
    return MetricSummary(
        key=key, last=last, last_step=last_step, min=last if lo is None else lo,
        max=last if hi is None else hi, count=count, last_time=0,
    )


def run(id, params=None, tags=None, metrics=(), env=None):
    return RunInfo(
        id=id, name=f"name-{id}", experiment="e", status=RunStatus.FINISHED, start_time=0,
        end_time=1, params=params or {}, tags=tags or {}, metrics={m.key: m for m in metrics},
        environment=env or {},
    )


@pytest.mark.parametrize(
    ("key", "lower"),
    [("val/loss", True), ("train_error", True), ("test-rmse", True), ("MAE", True),
     ("mse", True), ("perplexity", True), ("val/err", True), ("val/acc", False),
     ("reward", False), ("f1", False)],
)
def test_lower_is_better(key, lower):
    assert lower_is_better(key) is lower


@pytest.mark.parametrize(
    ("v", "text"),
    [(0.1234567, "0.123457"), (1234567.0, "1.23457e+06"), (3.0, "3"), (-2.5, "-2.5"),
     (1e-5, "1e-05"), (0.0, "0"), (-0.0, "0"), (float("nan"), "nan"), (float("inf"), "inf"),
     (float("-inf"), "-inf")],
)
def test_format_value(v, text):
    assert format_value(v) == text


def test_best_step_follows_direction_and_skips_nan():
    steps = np.array([0, 10, 20, 30])
    values = np.array([3.0, 1.0, np.nan, 1.0])
    assert best_step(steps, values, "loss") == 10  # first of the tied minima
    assert best_step(steps, values, "acc") == 0
    assert best_step(steps, np.full(4, np.nan), "loss") is None
    assert best_step(steps[:0], values[:0], "loss") is None


def test_sort_key_numbers_numerically_then_text_then_missing():
    vals = ["10", "b", None, "2", "a", "1e-3", "nan", "-inf"]
    assert sorted(vals, key=sort_key) == ["-inf", "1e-3", "2", "10", "a", "b", "nan", None]


def two_runs():
    r1 = run(
        "r1", params={"lr": "0.001", "depth": "4"}, tags={"seed": "1"},
        metrics=[ms("loss", 0.5, lo=0.25, hi=2.0)],
        env={"git_commit": "abc", "host": "h1", "python": "3.11.4",
             "command": "train.py --lr 0.001", "packages": {"numpy": "2.0", "torch": "2.3"}},
    )
    r2 = run(
        "r2", params={"lr": "0.01", "depth": "4", "opt": "adam"},
        metrics=[ms("loss", 0.75, last_step=50, lo=0.75, hi=1.5), ms("acc", 0.9, count=1,
                                                                        last_step=7)],
        env={"git_commit": "abc", "host": "h2", "python": "3.11.4",
             "packages": {"numpy": "2.1", "torch": "2.3", "rich": "13"}},
    )
    return r1, r2


def test_compare_table_rows():
    rows = compare_table(two_runs(), best_steps={("r1", "loss"): 80})
    assert rows == [
        CompareRow("param", "depth", ("4", "4"), False),
        CompareRow("param", "lr", ("0.001", "0.01"), True),
        CompareRow("param", "opt", (None, "adam"), True),
        CompareRow("tag", "seed", ("1", None), True),
        CompareRow("metric", "acc · last", (None, "0.9"), True),
        CompareRow("metric", "acc · min", (None, "0.9"), True),
        CompareRow("metric", "acc · max", (None, "0.9"), True),
        # one point only: its step is the best's step even without the series
        CompareRow("metric", "acc · best_step", (None, "7"), True),
        CompareRow("metric", "loss · last", ("0.5", "0.75"), True),
        CompareRow("metric", "loss · min", ("0.25", "0.75"), True),
        CompareRow("metric", "loss · max", ("2", "1.5"), True),
        # r2's best step is unknown from its summary: missing, not guessed
        CompareRow("metric", "loss · best_step", ("80", None), True),
        CompareRow("env", "git_commit", ("abc", "abc"), False),
        CompareRow("env", "host", ("h1", "h2"), True),
        CompareRow("env", "python", ("3.11.4", "3.11.4"), False),
        CompareRow("env", "command", ("train.py --lr 0.001", None), True),
        # torch is the same everywhere: left out; rich is missing in r1: differs
        CompareRow("env", "pkg:numpy", ("2.0", "2.1"), True),
        CompareRow("env", "pkg:rich", (None, "13"), True),
    ]


def test_compare_table_missing_is_none_never_zero():
    rows = compare_table(two_runs())
    assert all(v != "0" for r in rows for v in r.values)
    assert all(v is None for r in rows if r.key.startswith("acc") for v in r.values[:1])


def test_compare_table_stat_selection_argv_command_and_package_list():
    a = run("a", metrics=[ms("loss", 1.0)], env={"command": ["train.py", "--name", "my run"],
                                                  "packages": ["numpy==1.26", "rich==13"]})
    b = run("b", metrics=[ms("loss", 1.0)], env={"packages": ["numpy==2.0", "rich==13"]})
    rows = compare_table([a, b], metric_stats=("last",))
    assert rows == [
        CompareRow("metric", "loss · last", ("1", "1"), False),
        CompareRow("env", "command", ("train.py --name 'my run'", None), True),
        CompareRow("env", "pkg:numpy", ("1.26", "2.0"), True),
    ]


def test_single_run_never_differs_and_empty_is_empty():
    (r1, _) = two_runs()
    assert not any(r.differs for r in compare_table([r1]))
    assert compare_table([]) == []


def test_filter_rows():
    rows = compare_table(two_runs())
    assert [r.key for r in filter_rows(rows, differences_only=True, search="LR")] == ["lr"]
    same = filter_rows(rows, differences_only=False, search="")
    assert same == rows
    diff = filter_rows(rows, differences_only=True, search="")
    # both best steps unknown: None == None, so the row does not differ
    assert {r.key for r in rows} - {r.key for r in diff} == {
        "depth", "git_commit", "python", "loss · best_step"}
    assert [r.key for r in filter_rows(rows, differences_only=False, search="pkg:")] == [
        "pkg:numpy", "pkg:rich"]


ROWS = [
    CompareRow("param", "lr", ("0.1", None), True),
    CompareRow("tag", "note", ("a|b", "x, y"), True),
]


def test_to_markdown():
    assert to_markdown(ROWS, ["run 1", "run 2"]) == (
        "| section | key | run 1 | run 2 |\n"
        "|---|---|---|---|\n"
        "| param | lr | 0.1 | — |\n"
        "| tag | note | a\\|b | x, y |\n"
    )


def test_to_csv_quotes_and_reads_back():
    text = to_csv(ROWS, ["run 1", "run,2"])
    assert text == (
        'section,key,run 1,"run,2"\n'
        "param,lr,0.1,\n"
        'tag,note,a|b,"x, y"\n'
    )
    assert list(csv.reader(io.StringIO(text)))[2] == ["tag", "note", "a|b", "x, y"]


def test_exports_refuse_mismatched_names():
    with pytest.raises(ValueError):
        to_csv(ROWS, ["only one"])
    with pytest.raises(ValueError):
        to_markdown(ROWS, ["a", "b", "c"])

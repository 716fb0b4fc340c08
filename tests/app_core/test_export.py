"""``app.core.export``: CSV of the runs table and of full-resolution series, on a real store."""

from __future__ import annotations

import csv
import datetime as dt
import math
import os

import numpy as np
import pytest

import tracker_sdk
from app.core.columns import Column, default_columns
from app.core.export import SERIES_HEADER, runs_table_csv, series_csv

N = 2500  # more points than any decimated curve keeps


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    path = tmp_path_factory.mktemp("export") / "store"
    with tracker_sdk.init(experiment="e", name='run, "one" — α', store=path,
                          config={"lr": 0.000123456789, "opt": "adam", "depth": 4}) as run:
        for s in range(N):
            run.log({"loss": 1.0 / (s + 1) + 1e-12 * s, "acc": s / N}, step=s)
        run.log({"weird": math.nan}, step=0)
        run.log({"weird": math.inf}, step=1)
        run.log({"weird": -math.inf}, step=2)
        run.log({"weird": 0.1 + 0.2}, step=3)
    with tracker_sdk.init(experiment="e", name="two", store=path, config={"lr": 0.1, "opt": "sgd"}) as run:
        for s in range(0, 100, 10):
            run.log({"loss": 2.0 - s / 100}, step=s)
    st = tracker_sdk.Store(path)
    yield st
    st.close()


def _read(path):
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.reader(f))


def _runs(store):
    return sorted(store.search_runs(), key=lambda r: r.name)


def test_runs_table_has_one_row_per_run_with_full_precision_values(store, tmp_path):
    runs = _runs(store)
    cols = [Column("name"), Column("status"), Column("start"), Column("duration"), Column("git"),
            Column("param", "lr"), Column("param", "opt"), Column("param", "depth"),
            Column("metric", "loss"), Column("metric", "loss", "min"), Column("metric", "weird", "max")]
    out = tmp_path / "runs.csv"
    assert runs_table_csv(runs, cols, out) == 2
    rows = _read(out)
    assert rows[0] == ["id", "Name", "Status", "Started", "Duration (s)", "Commit", "lr", "opt", "depth",
                       "loss", "loss (min)", "weird (max)"]
    assert [r[0] for r in rows[1:]] == [r.id for r in runs]
    one, two = rows[1], rows[2]
    first = runs[0]
    assert one[1] == 'run, "one" — α'  # quoted, unicode intact
    assert one[2] == "Finished"
    assert round(dt.datetime.fromisoformat(one[3]).timestamp() * 1000) == first.start_time  # ISO 8601, to the ms
    assert float(one[4]) == pytest.approx(first.duration_s)
    assert one[5] == first.git_commit
    assert one[6] == first.params["lr"] and float(one[6]) == 0.000123456789  # not the display's 0.000123457
    assert one[7] == "adam" and one[8] == "4"
    assert float(one[9]) == first.metrics["loss"].last  # exact, round-trip repr
    assert float(one[10]) == first.metrics["loss"].min
    assert one[11] == "inf"
    assert two[8] == "" and two[11] == ""  # missing values are empty cells


def test_duplicate_titles_get_unique_headers(store, tmp_path):
    cols = [Column("param", "loss"), Column("metric", "loss")]
    runs_table_csv(_runs(store), cols, tmp_path / "d.csv")
    assert _read(tmp_path / "d.csv")[0] == ["id", "params.loss", "metrics.loss.last"]


def test_default_columns_export_matches_the_store(store, tmp_path):
    runs = _runs(store)
    cols = default_columns(runs)
    runs_table_csv(runs, cols, tmp_path / "t.csv")
    rows = _read(tmp_path / "t.csv")
    assert len(rows) == 1 + len(runs) and all(len(r) == 1 + len(cols) for r in rows)


def test_series_are_written_at_full_resolution_in_long_format(store, tmp_path):
    runs = _runs(store)
    ids = [r.id for r in runs]
    calls = []
    out = tmp_path / "series.csv"
    n = series_csv(store, ids, None, out, {r.id: r.name for r in runs}, lambda d, t: calls.append((d, t)))
    rows = _read(out)
    assert rows[0] == list(SERIES_HEADER)
    expected = {(rid, k): store.metric_history(rid, k) for rid in ids for k in store.metric_keys([rid])}
    assert n == len(rows) - 1 == sum(len(h) for h in expected.values())
    assert len(expected[(ids[0], "loss")]) == N
    by_pair: dict[tuple[str, str], list[list[str]]] = {}
    for r in rows[1:]:
        by_pair.setdefault((r[0], r[2]), []).append(r)
    assert set(by_pair) == set(expected)
    for pair, h in expected.items():
        got = by_pair[pair]
        assert len(got) == len(h)
        assert [int(r[3]) for r in got] == h.steps.tolist()
        assert [int(r[4]) for r in got] == h.timestamps.tolist()
        vals = np.array([float(r[5]) for r in got])
        assert np.array_equal(vals, h.values, equal_nan=True)  # bit-exact, NaN where NaN
    assert {r[1] for r in by_pair[(ids[0], "loss")]} == {'run, "one" — α'}
    weird = [r[5] for r in by_pair[(ids[0], "weird")]]
    assert weird == ["nan", "inf", "-inf", "0.30000000000000004"]
    assert calls[0] == (0, len(expected)) and calls[-1] == (len(expected), len(expected))


def test_series_for_chosen_keys_and_a_key_a_run_lacks(store, tmp_path):
    runs = _runs(store)
    out = tmp_path / "s.csv"
    n = series_csv(store, [r.id for r in runs], ["loss", "acc"], out)
    rows = _read(out)[1:]
    assert n == len(rows) == N + 10 + N  # run two has no "acc": nothing written for it
    assert {r[2] for r in rows} == {"loss", "acc"} and {r[1] for r in rows} == {""}


def test_a_failed_export_leaves_no_partial_file(store, tmp_path):
    out = tmp_path / "keep.csv"
    out.write_text("old contents", encoding="utf-8")

    class Broken:
        def metric_keys(self, ids):
            return ["loss"]

        def metric_history(self, rid, key):
            raise tracker_sdk.StoreError("disk gone")

    with pytest.raises(tracker_sdk.StoreError):
        series_csv(Broken(), ["x"], None, out)
    assert out.read_text(encoding="utf-8") == "old contents"
    assert os.listdir(tmp_path) == ["keep.csv"]
    with pytest.raises(OSError):
        runs_table_csv(_runs(store), [Column("name")], tmp_path / "no-such-dir" / "x.csv")

from __future__ import annotations

import math

from app.core.columns import Column, default_columns, display_value, format_duration, raw_value, sort_key
from tracker_sdk.entities import MetricSummary, RunInfo, RunStatus


def run(i, lr, loss=None, **kw):
    metrics = {} if loss is None else {"val/loss": MetricSummary("val/loss", loss, 9, loss, 1.0, 10, 0)}
    return RunInfo(id=f"r{i}", name=f"run-{i}", experiment="e", status=RunStatus.FINISHED, start_time=1000 * i,
                   end_time=1000 * i + 65_000, params={"lr": lr, "seed": "0"}, metrics=metrics, **kw)


def test_default_columns_show_varying_params_and_metrics():
    ids = [c.id for c in default_columns([run(1, "0.1", 0.5), run(2, "0.01", 0.4)])]
    assert ids[:6] == ["name", "status", "start", "duration", "user", "git"]
    assert "params.lr" in ids and "params.seed" not in ids  # seed is the same everywhere
    assert "metrics.val/loss.last" in ids


def test_column_ids_round_trip():
    for c in (Column("name"), Column("param", "model.depth"), Column("metric", "train/loss", "min")):
        assert Column.from_id(c.id) == c


def test_missing_and_nan_sort_last_and_numbers_numerically():
    values = [raw_value(run(i, lr, loss), Column("metric", "val/loss")) for i, (lr, loss) in
              enumerate([("1", 0.3), ("2", None), ("10", math.nan), ("3", 0.1)])]
    assert sorted(values, key=sort_key)[:2] == [0.1, 0.3]
    params = sorted((raw_value(run(i, lr), Column("param", "lr")) for i, lr in enumerate(["9", "10", "adam"])),
                    key=sort_key)
    assert params == [9.0, 10.0, "adam"]


def test_parent_column_holds_the_parent_id():
    child = RunInfo(id="c1", name="trial", experiment="e", status=RunStatus.FINISHED, start_time=0,
                    end_time=None, parent_id="p" * 32)
    col = Column.from_id("parent")
    assert col.title == "Parent" and display_value(child, col) == "p" * 32
    assert raw_value(run(1, "0.1"), col) is None  # a top-level run: missing, sorts last


def test_display_formats():
    r = run(1, "0.1", 0.123456789)
    assert display_value(r, Column("metric", "val/loss")) == "0.123457"
    assert display_value(r, Column("duration")) == "1m 05s"
    assert display_value(r, Column("metric", "missing")) == ""
    assert format_duration(3 * 3600 + 120) == "3h 02m"

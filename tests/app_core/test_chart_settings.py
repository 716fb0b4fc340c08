"""ChartSettings persistence and metric-key grouping/filtering."""

from __future__ import annotations

import json

import pytest

from app.core.chart_settings import (
    COLUMNS_AUTO,
    ChartSettings,
    effective_columns,
    group_keys,
    key_matches,
    natural_key,
)


def test_defaults():
    s = ChartSettings()
    assert (s.smoothing, s.x_axis, s.log_y, s.ignore_outliers) == (0.6, "step", False, True)
    assert (s.key_filter, s.show_raw, s.columns, s.show_legend) == ("", True, COLUMNS_AUTO, True)


def test_round_trip_through_json():
    s = ChartSettings(smoothing=0.85, x_axis="relative", log_y=True, ignore_outliers=True,
                      key_filter="val/*", show_raw=False, columns=2, show_legend=False)
    assert ChartSettings.from_dict(json.loads(json.dumps(s.to_dict()))) == s


def test_from_dict_ignores_unknown_and_fills_missing():
    s = ChartSettings.from_dict({"smoothing": 0.3, "legend_position": "left", "future": [1]})
    assert s == ChartSettings(smoothing=0.3)


@pytest.mark.parametrize("data", [None, [], "nonsense", 3])
def test_from_dict_non_mapping_gives_defaults(data):
    assert ChartSettings.from_dict(data) == ChartSettings()


def test_from_dict_invalid_values_fall_back_or_clamp():
    s = ChartSettings.from_dict({
        "smoothing": 5, "x_axis": "epoch", "log_y": "yes", "columns": 99,
        "key_filter": 12, "show_raw": 0, "ignore_outliers": None,
    })
    assert s.smoothing == 0.99  # clamped to the slider's range
    assert s.x_axis == "step"
    assert s.log_y is False and s.show_raw is True and s.ignore_outliers is True  # defaults
    assert s.columns == 6
    assert s.key_filter == ""
    assert ChartSettings.from_dict({"smoothing": -1, "columns": -3}) == ChartSettings(
        smoothing=0.0, columns=COLUMNS_AUTO)
    assert ChartSettings.from_dict({"smoothing": float("nan")}).smoothing == 0.6
    assert ChartSettings.from_dict({"columns": "2"}).columns == 2


def test_auto_columns_fit_readable_panels_and_a_chosen_number_wins():
    assert [effective_columns(COLUMNS_AUTO, w) for w in (250, 359, 360, 719, 720, 1080, 4000)] == [
        1, 1, 1, 1, 2, 3, 4]  # about 360 px per panel, never more than 4 per row
    assert effective_columns(3, 250) == 3 and effective_columns(1, 4000) == 1


def test_group_keys_groups_by_prefix_ungrouped_first():
    keys = ["val/loss", "lr", "train/loss", "train/acc", "epoch", "val/acc", "sys/gpu/0/util"]
    assert group_keys(keys, "") == [
        ("", ["epoch", "lr"]),
        ("sys", ["sys/gpu/0/util"]),
        ("train", ["train/acc", "train/loss"]),
        ("val", ["val/acc", "val/loss"]),
    ]


def test_group_keys_natural_order_and_dedup():
    keys = ["layer10/norm", "layer2/norm", "layer1/norm", "x/b10", "x/b9", "x/b9"]
    groups = group_keys(keys)
    assert [g for g, _ in groups] == ["layer1", "layer2", "layer10", "x"]
    assert groups[-1] == ("x", ["x/b9", "x/b10"])


def test_filter_substring_case_insensitive():
    keys = ["train/Loss", "val/loss", "train/acc"]
    assert group_keys(keys, "LOSS") == [("train", ["train/Loss"]), ("val", ["val/loss"])]


def test_filter_glob_and_terms():
    keys = ["train/loss", "val/loss", "train/acc", "loss"]
    assert group_keys(keys, "train/*") == [("train", ["train/acc", "train/loss"])]
    assert group_keys(keys, "*loss") == [("", ["loss"]), ("train", ["train/loss"]),
                                         ("val", ["val/loss"])]
    assert group_keys(keys, "val loss") == [("val", ["val/loss"])]
    assert group_keys(keys, "nothing") == []
    assert key_matches("a/b", "   ")


def test_natural_key():
    assert sorted(["a10", "a2", "A1"], key=natural_key) == ["A1", "a2", "a10"]

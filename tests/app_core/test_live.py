"""LiveStore, SeriesCache and commands against a real temporary store (no Qt)."""

from __future__ import annotations

import numpy as np
import pytest

import tracker_sdk
from app.core.commands import DeleteRuns, EditNote, EditTags, RenameRun
from app.core.live import LiveStore


@pytest.fixture()
def store_path(tmp_path):
    return tmp_path / "store"


def _run(store_path, name="a", n=10, **kw):
    run = tracker_sdk.init(experiment="e", name=name, store=store_path, **kw)
    for i in range(n):
        run.log({"loss": 1.0 / (i + 1)}, step=i)
    run.flush()
    return run


def test_first_refresh_loads_every_run_then_nothing_until_a_write(store_path):
    a = _run(store_path, "a")
    live = LiveStore(tracker_sdk.Store(store_path))
    first = live.refresh()
    assert first.reset and set(first.runs) == {a.id}
    assert [e.name for e in first.experiments] == ["e"]
    assert live.refresh().empty
    a.log({"loss": 0.01}, step=10)
    a.flush()
    again = live.refresh()
    assert set(again.runs) == {a.id} and again.runs[a.id].metrics["loss"].last == 0.01
    a.finish()


def test_only_wanted_series_are_fetched_and_they_grow_incrementally(store_path):
    a = _run(store_path, "a", n=3000)
    b = _run(store_path, "b", n=5)
    live = LiveStore(tracker_sdk.Store(store_path))
    live.refresh()
    assert live.load_series([(a.id, "loss")]) == {(a.id, "loss")}
    live.set_wanted([(a.id, "loss")])
    steps, values, _ = live.cache.arrays(a.id, "loss")
    assert len(steps) == 3000 and values[0] == 1.0
    a.log({"loss": 0.5}, step=3000)
    b.log({"loss": 0.5}, step=5)
    a.flush()
    r = live.refresh()
    assert r.series == {(a.id, "loss")}  # b's series changed too, but nobody shows it
    steps, values, _ = live.cache.arrays(a.id, "loss")
    assert len(steps) == 3001 and steps[-1] == 3000 and values[-1] == 0.5
    assert (b.id, "loss") not in live.cache
    a.finish()
    b.finish()


def test_finish_is_seen_and_running_runs_are_rechecked(store_path):
    a = _run(store_path, "a")
    live = LiveStore(tracker_sdk.Store(store_path))
    assert live.refresh().runs[a.id].status.value == "RUNNING"
    a.finish()
    assert live.refresh().runs[a.id].status.value == "FINISHED"


def test_commands_do_and_undo_through_the_sdk(store_path):
    a = _run(store_path, "a")
    a.set_tags({"stage": "dev"})
    a.finish()
    store = tracker_sdk.Store(store_path)
    for cmd, check_do, check_undo in (
        (RenameRun("rename", a.id, "a", "best"), lambda r: r.name == "best", lambda r: r.name == "a"),
        (EditTags("tags", a.id, {"stage": "dev"}, {"stage": "prod", "x": "1"}),
         lambda r: r.tags == {"stage": "prod", "x": "1"}, lambda r: r.tags == {"stage": "dev"}),
        (EditNote("note", a.id, "", "hello"), lambda r: r.note == "hello", lambda r: r.note == ""),
        (DeleteRuns("del", [a.id]), lambda r: r.deleted, lambda r: not r.deleted),
    ):
        cmd.do(store)
        assert check_do(store.get_run(a.id)), cmd.label
        cmd.undo(store)
        assert check_undo(store.get_run(a.id)), cmd.label


def test_cache_keeps_nan_and_inf(store_path):
    run = tracker_sdk.init(experiment="e", store=store_path)
    run.log({"x": float("nan")})
    run.log({"x": float("inf")})
    run.finish()
    live = LiveStore(tracker_sdk.Store(store_path))
    live.refresh()
    live.load_series([(run.id, "x")])
    _, values, _ = live.cache.arrays(run.id, "x")
    assert np.isnan(values[0]) and np.isinf(values[1])


def test_a_series_asked_for_later_is_complete_even_if_it_changed_while_unwatched(store_path):
    a = _run(store_path, "a", n=5)
    live = LiveStore(tracker_sdk.Store(store_path))
    live.refresh()  # nothing wanted: changed series are not even listed
    a.log({"loss": 0.001}, step=5)
    a.flush()
    assert live.refresh().series == frozenset()
    live.load_series([(a.id, "loss")])
    steps, values, _ = live.cache.arrays(a.id, "loss")
    assert list(steps) == [0, 1, 2, 3, 4, 5] and values[-1] == 0.001
    a.finish()

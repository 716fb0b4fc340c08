"""User edits through the public Store API (what the app and the CLI call), and resuming runs."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import numpy as np
import pytest

import tracker_sdk
from tracker_sdk import ParamConflictError, RunNotFoundError, RunStatus, ValidationError
from tracker_sdk.store.series import CHUNK_POINTS

pytestmark = pytest.mark.usefixtures("in_tmp_dir")


def _finished_run(store_path: Path, **kw: object) -> str:
    with tracker_sdk.init(store=store_path, **kw) as run:  # type: ignore[arg-type]
        run.log({"x": 1.0})
        run.log({"x": 2.0})
        run.log_text("hello", "out/hello.txt")
    return run.id


def test_rename_run(store_path: Path, open_store) -> None:
    rid = _finished_run(store_path, name="before")
    st = open_store(store_path)
    st.rename_run(rid, "  after  ")
    assert st.get_run(rid).name == "after"
    assert open_store(store_path).get_run(rid).name == "after"
    with pytest.raises(ValidationError):
        st.rename_run(rid, "   ")
    with pytest.raises(ValidationError, match="limit is 250"):
        st.rename_run(rid, "n" * 251)
    assert st.get_run(rid).name == "after"


def test_set_tags_and_remove(store_path: Path, open_store) -> None:
    rid = _finished_run(store_path, tags={"keep": "1", "drop": "2", "change": "old"})
    st = open_store(store_path)
    st.set_tags(rid, {"change": "new", "added": "3"}, remove=["drop", "not-there"])
    assert st.get_run(rid).tags == {"keep": "1", "change": "new", "added": "3"}
    with pytest.raises(ValidationError, match="limit is 5000"):
        st.set_tags(rid, {"big": "x" * 5001})
    assert "big" not in st.get_run(rid).tags


def test_set_note(store_path: Path, open_store) -> None:
    rid = _finished_run(store_path, notes="first")
    st = open_store(store_path)
    st.set_note(rid, "**second**\nline 2")
    assert st.get_run(rid).note == "**second**\nline 2"
    with pytest.raises(ValidationError, match="note must be text"):
        st.set_note(rid, 3)  # type: ignore[arg-type]


def test_edits_advance_the_change_cursor(store_path: Path, open_store) -> None:
    rid = _finished_run(store_path)
    st = open_store(store_path)
    cursor = st.cursor()
    for edit in (lambda: st.rename_run(rid, "x"), lambda: st.set_tags(rid, {"a": "b"}),
                 lambda: st.set_note(rid, "n"), lambda: st.delete_run(rid), lambda: st.restore_run(rid)):
        edit()
        changes = st.changes_since(cursor)
        assert [r.id for r in changes.runs] == [rid]
        cursor = changes.cursor


def test_delete_and_restore_are_soft(store_path: Path, open_store) -> None:
    gone = _finished_run(store_path, experiment="e")
    kept = _finished_run(store_path, experiment="e")
    st = open_store(store_path)
    st.delete_run(gone)
    assert [r.id for r in st.search_runs()] == [kept]
    assert {r.id for r in st.search_runs(include_deleted=True)} == {gone, kept}
    assert st.get_run(gone).deleted  # still readable by id, with its data
    assert len(st.metric_history(gone, "x")) == 2
    assert st.artifact_path(gone, "out/hello.txt").exists()
    assert [(e.name, e.run_count) for e in st.experiments()] == [("e", 1)]

    st.restore_run(gone)
    assert {r.id for r in st.search_runs()} == {gone, kept}
    assert not st.get_run(gone).deleted


def test_gc_hard_deletes_only_soft_deleted_runs(store_path: Path, open_store) -> None:
    gone = _finished_run(store_path)
    kept = _finished_run(store_path)
    st = open_store(store_path)
    reader = open_store(store_path)
    cursor = reader.changes_since(0).cursor
    assert st.gc() == []  # nothing deleted yet: nothing removed
    st.delete_run(gone)
    gone_dir = st.artifact_path(gone)
    assert gone_dir.is_dir()

    assert st.gc() == [gone]
    with pytest.raises(RunNotFoundError):
        st.get_run(gone)
    assert not gone_dir.exists()
    assert len(st.metric_history(gone, "x")) == 0
    assert [r.id for r in st.search_runs(include_deleted=True)] == [kept]
    # The other run is intact: record, series, artifacts.
    assert st.metric_history(kept, "x").values.tolist() == [1.0, 2.0]
    assert st.artifact_path(kept, "out/hello.txt").read_text() == "hello"
    # A reader that followed the store is told to reload everything.
    changes = reader.changes_since(cursor)
    assert changes.reset
    assert st.info()["integrity"] == "ok"


def test_gc_respects_age_and_run_selection(store_path: Path, open_store) -> None:
    a = _finished_run(store_path)
    b = _finished_run(store_path)
    st = open_store(store_path)
    st.delete_run(a)
    st.delete_run(b)
    assert st.gc(older_than_s=3600) == []  # deleted just now: too young
    assert st.gc(run_ids=[b]) == [b]
    assert [r.id for r in st.search_runs(include_deleted=True)] == [a]


def test_get_run_by_unique_prefix_and_ambiguous_prefix(store_path: Path, open_store) -> None:
    ids: list[str] = []
    by_first: dict[str, list[str]] = {}
    while not any(len(v) > 1 for v in by_first.values()):  # 17 runs at most (16 hex digits)
        rid = _finished_run(store_path)
        ids.append(rid)
        by_first.setdefault(rid[0], []).append(rid)
    st = open_store(store_path)
    for rid in ids:
        assert st.get_run(rid).id == rid
        assert st.get_run(rid[:12]).id == rid
    shared = next(k for k, v in by_first.items() if len(v) > 1)
    with pytest.raises(RunNotFoundError, match=f"prefix '{shared}' is ambiguous") as err:
        st.get_run(shared)
    assert all(rid in str(err.value) for rid in by_first[shared])
    with pytest.raises(RunNotFoundError, match="ambiguous"):
        st.rename_run(shared, "which one?")


@pytest.mark.parametrize("bad", ["", "%", "_"])
def test_get_run_refuses_empty_and_wildcard_prefixes(store_path: Path, open_store, bad: str) -> None:
    _finished_run(store_path)
    with pytest.raises(RunNotFoundError):
        open_store(store_path).get_run(bad)


def test_edits_of_an_unknown_run_raise(store_path: Path, open_store) -> None:
    _finished_run(store_path)
    st = open_store(store_path)
    for edit in (lambda: st.rename_run("f" * 32, "x"), lambda: st.delete_run("f" * 32),
                 lambda: st.set_note("f" * 32, "x")):
        with pytest.raises(RunNotFoundError, match="no run with id"):
            edit()


# --- resume ---------------------------------------------------------------------------------

def test_resume_continues_steps_and_keeps_params(store_path: Path, open_store) -> None:
    n = CHUNK_POINTS + 10  # the resumed series carries on inside a half-full chunk
    first = tracker_sdk.init(store=store_path, name="long", config={"lr": 0.1})
    for i in range(n):
        first.log({"loss": float(i)})
    first.finish("KILLED")
    st = open_store(store_path)
    assert st.get_run(first.id).status is RunStatus.KILLED

    again = tracker_sdk.init(store=store_path, resume=first.id, config={"lr": 0.1})
    assert again.id == first.id and again.name == "long"
    assert again.params == {"lr": "0.1"}
    with pytest.raises(ParamConflictError, match="'lr'"):
        again.log_params({"lr": 0.2})
    again.log({"loss": -1.0})
    again.log({"loss": -2.0})
    again.flush()
    live = st.get_run(first.id)
    assert live.status is RunStatus.RUNNING and live.end_time is None
    again.finish()

    info = st.get_run(first.id)
    assert info.status is RunStatus.FINISHED
    assert info.params == {"lr": "0.1"}
    h = st.metric_history(first.id, "loss")
    assert h.steps.tolist() == list(range(n + 2))
    assert h.values.tolist() == [float(i) for i in range(n)] + [-1.0, -2.0]
    s = info.metrics["loss"]
    assert (s.count, s.last, s.last_step, s.min, s.max) == (n + 2, -2.0, n + 1, -2.0, float(n - 1))
    assert len(st.search_runs()) == 1


def test_resume_by_name(store_path: Path, open_store) -> None:
    with tracker_sdk.init(store=store_path, experiment="e", name="nightly") as run:
        run.log({"x": 1.0})
    with tracker_sdk.init(store=store_path, experiment="e", name="nightly", resume=True) as again:
        again.log({"x": 2.0})
    assert again.id == run.id
    with tracker_sdk.init(store=store_path, experiment="e", name="fresh", resume=True) as new:
        pass  # nothing of that name yet: a new run
    assert new.id != run.id
    assert open_store(store_path).metric_history(run.id, "x").steps.tolist() == [0, 1]


def test_resume_an_unknown_run_raises(store_path: Path) -> None:
    _finished_run(store_path)
    with pytest.raises(RunNotFoundError):
        tracker_sdk.init(store=store_path, resume="f" * 32)


def test_resume_after_a_crash(store_path: Path, open_store) -> None:
    """A run left RUNNING by a dead process (here: a pid that no longer exists) can be resumed."""
    rid = _finished_run(store_path)
    db = sqlite3.connect(store_path / "runwatch.db")
    with db:
        db.execute("UPDATE runs SET status='RUNNING', end_time=NULL, pid=2147483647 WHERE id=?", (rid,))
    db.close()
    st = open_store(store_path)
    assert st.get_run(rid).status is RunStatus.CRASHED
    with tracker_sdk.init(store=store_path, resume=rid) as run:
        run.log({"x": 3.0})
    assert st.get_run(rid).status is RunStatus.FINISHED
    assert np.array_equal(st.metric_history(rid, "x").values, [1.0, 2.0, 3.0])


def test_a_closed_store_reopens_on_next_use(store_path: Path, open_store) -> None:
    rid = _finished_run(store_path)
    st = open_store(store_path)
    st.close()
    st.delete_run(rid)
    st.close()
    assert st.gc() == [rid]  # a write as the first use after close
    st.close()
    assert st.search_runs(include_deleted=True) == []


def test_a_reader_that_took_a_cursor_is_told_to_reload_after_gc(store_path: Path, open_store) -> None:
    gone = _finished_run(store_path)
    app, cli = open_store(store_path), open_store(store_path)  # e.g. the app, and `runwatch gc`
    cursor = app.cursor()
    cli.delete_run(gone)
    assert cli.gc() == [gone]
    assert app.changes_since(cursor).reset

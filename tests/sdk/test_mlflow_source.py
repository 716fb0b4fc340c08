"""An MLflow tracking database, written by the real MLflow, read in place: every run, param,
tag, note and point as MLflow stored them; live as MLflow keeps writing; never written to."""

from __future__ import annotations

import hashlib
import shutil
import sqlite3
from pathlib import Path

import pytest
from mlflow_fixtures import (
    COURSE_SCRIPT, MLFLOW_VERSIONS, by_name, check_course_artifacts, check_course_history,
    check_course_runs, needs_mlflow, run_mlflow,
)

import tracker_sdk
from tracker_sdk import RunStatus, StoreError

pytestmark = needs_mlflow


@pytest.fixture(scope="module", params=MLFLOW_VERSIONS)
def course_db(request, tmp_path_factory) -> Path:
    work = tmp_path_factory.mktemp("mlflow-course")
    run_mlflow(COURSE_SCRIPT, work, python=request.param)
    return work / "mlflow.db"


@pytest.fixture
def db_copy(course_db, tmp_path) -> Path:
    """A copy that a test may let MLflow write into (artifacts stay where MLflow put them)."""
    dest = tmp_path / "mlflow.db"
    shutil.copy(course_db, dest)
    return dest


@pytest.fixture
def mlflow_python(request) -> str | None:
    """The interpreter whose MLflow wrote ``course_db``: later writes use the same MLflow
    (another one would migrate the schema first)."""
    return request.node.callspec.params.get("course_db")


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def journal_mode(path: Path) -> str:
    con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return con.execute("PRAGMA journal_mode").fetchone()[0]
    finally:
        con.close()



def test_runs_params_tags_notes_and_nesting_read_as_mlflow_stored_them(course_db) -> None:
    st = tracker_sdk.open_store(f"sqlite:///{course_db}")
    try:
        assert st.read_only and st.source_kind == "MLflow" and st.path == course_db
        check_course_runs(st)
    finally:
        st.close()


def test_full_metric_history_with_nan_inf_and_several_values_per_step(course_db) -> None:
    st = tracker_sdk.open_store(course_db)  # a bare path works too
    try:
        check_course_history(st)
    finally:
        st.close()


def test_artifacts_are_listed_and_read_where_mlflow_put_them(course_db) -> None:
    st = tracker_sdk.open_store(course_db)
    try:
        path = check_course_artifacts(st)
        assert course_db.parent in path.parents
    finally:
        st.close()


def test_reading_never_changes_the_database(course_db) -> None:
    before, mode = sha256(course_db), journal_mode(course_db)
    names_before = sorted(p.name for p in course_db.parent.iterdir())
    st = tracker_sdk.open_store(course_db)
    run = by_name(st)["alpha-0.1"]
    st.metric_history(run.id, "rmse")
    st.search_runs(filter="metrics.rmse > 0", order_by=["metrics.rmse DESC"])
    with pytest.raises(StoreError, match="read-only MLflow store"):
        st.rename_run(run.id, "renamed")
    with pytest.raises(StoreError, match="runwatch import mlflow"):
        st.delete_run(run.id)
    st.close()
    assert sha256(course_db) == before and journal_mode(course_db) == mode
    assert sorted(p.name for p in course_db.parent.iterdir()) == names_before  # no -journal, -wal, -shm left


def test_new_points_runs_and_status_changes_arrive_by_cursor(db_copy, mlflow_python) -> None:
    st = tracker_sdk.open_store(db_copy)
    try:
        cursor = st.cursor()
        assert not st.sync()  # nothing new
        run_mlflow("""
            import mlflow
            mlflow.set_tracking_uri("sqlite:///mlflow.db")
            mlflow.set_experiment("wine")
            run = mlflow.start_run(run_name="live")
            for step in range(20):
                mlflow.log_metric("rmse", 2.0 - step / 10, step=step)
            print(run.info.run_id, flush=True)
        """, db_copy.parent, python=mlflow_python)
        assert st.sync()
        live = by_name(st)["live"]
        assert live.status is RunStatus.FINISHED  # the script's process ended the run
        changes = st.changes_since(cursor)
        assert {r.name for r in changes.runs} == {"live"}
        assert changes.series == ((live.id, "rmse"),)
        chunks = st.metric_chunks(live.id, "rmse", since=cursor)
        assert sum(c.steps.size for c in chunks) == 20
        assert st.metric_history(live.id, "rmse").values[-1] == pytest.approx(0.1)
    finally:
        st.close()


def test_a_write_lock_held_by_mlflow_is_waited_out_quietly(db_copy) -> None:
    st = tracker_sdk.open_store(db_copy)
    try:
        holder = sqlite3.connect(db_copy, isolation_level=None)
        holder.execute("BEGIN EXCLUSIVE")  # what MLflow holds while it commits
        holder.execute("UPDATE runs SET name = 'renamed-while-locked' WHERE name = 'mean-predictor'")
        assert not st.sync()  # no "database is locked" reaches the caller
        holder.execute("COMMIT")
        holder.close()
        assert st.sync()
        assert "renamed-while-locked" in by_name(st)
    finally:
        st.close()


def test_an_unknown_newer_schema_is_read_with_a_notice(db_copy) -> None:
    con = sqlite3.connect(db_copy, isolation_level=None)
    con.execute("UPDATE alembic_version SET version_num = 'ffffffffffff'")
    con.close()
    st = tracker_sdk.open_store(db_copy)
    try:
        assert "MLflow schema ffffffffffff" in (st.notice() or "")
        assert "alpha-0.1" in by_name(st)
    finally:
        st.close()


def test_a_schema_without_what_is_read_is_one_clear_error(db_copy) -> None:
    con = sqlite3.connect(db_copy, isolation_level=None)
    con.execute("UPDATE alembic_version SET version_num = '0123456789ab'")
    con.execute("ALTER TABLE runs DROP COLUMN user_id")
    con.close()
    with pytest.raises(StoreError) as e:
        tracker_sdk.open_store(db_copy)
    text = str(e.value)
    assert "MLflow schema 0123456789ab" in text and "runs.user_id" in text and "\n" not in text

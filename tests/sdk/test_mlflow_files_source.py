"""An MLflow file store (``mlruns/``), written by the real MLflow, read in place: every run,
param, tag, note and point as MLflow stored them; live by file offset; never written to."""

from __future__ import annotations

import hashlib
import shutil
import warnings
from pathlib import Path

import pytest
from mlflow_fixtures import (
    COURSE_SCRIPT, FILE_URI, by_name, check_course_artifacts, check_course_history,
    check_course_runs, needs_mlflow, run_mlflow, writing_to,
)

import tracker_sdk
from tracker_sdk import RunStatus
from tracker_sdk.sources.mlflow_files import MlflowFileReader

pytestmark = needs_mlflow


@pytest.fixture(scope="module")
def mlruns(tmp_path_factory) -> Path:
    work = tmp_path_factory.mktemp("mlflow-files")
    run_mlflow(writing_to(COURSE_SCRIPT, FILE_URI), work)
    return (work / "mlruns").resolve()


@pytest.fixture
def mlruns_copy(mlruns, tmp_path) -> Path:
    """A copy that a test may change or let MLflow write into."""
    dest = tmp_path / "mlruns"
    shutil.copytree(mlruns, dest)
    return dest.resolve()



def metric_file(store, run_name: str, key: str) -> Path:  # type: ignore[no-untyped-def]
    run = by_name(store)[run_name]
    return next(store.path.glob(f"*/{run.id}")) / "metrics" / key


def checksums(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest() if p.is_file() else "dir"
            for p in sorted(folder.rglob("*"))}


def test_runs_params_tags_notes_and_nesting_read_as_mlflow_stored_them(mlruns) -> None:
    st = tracker_sdk.open_store(mlruns.as_uri())  # file:///…/mlruns, as MLflow names it
    try:
        assert st.read_only and st.source_kind == "MLflow" and st.path == mlruns
        check_course_runs(st)
    finally:
        st.close()


def test_full_metric_history_with_nan_inf_and_several_values_per_step(mlruns) -> None:
    st = tracker_sdk.open_store(mlruns)  # a bare folder works too
    try:
        check_course_history(st)
    finally:
        st.close()


def test_artifacts_are_listed_and_read_where_mlflow_put_them(mlruns) -> None:
    st = tracker_sdk.open_store(mlruns)
    try:
        path = check_course_artifacts(st)
        assert mlruns in path.parents
    finally:
        st.close()


def test_reading_never_changes_the_folder(mlruns) -> None:
    before = checksums(mlruns)
    st = tracker_sdk.open_store(mlruns)
    run = by_name(st)["alpha-0.1"]
    st.metric_history(run.id, "rmse")
    st.search_runs(filter="metrics.rmse > 0", order_by=["metrics.rmse DESC"])
    st.list_artifacts(run.id)
    st.sync()
    st.close()
    assert checksums(mlruns) == before  # every file's bytes, and no file added or removed


def test_points_mlflow_appends_later_are_read_from_where_reading_stopped(mlruns_copy) -> None:
    st = tracker_sdk.open_store(mlruns_copy)
    try:
        runs = by_name(st)
        a1_id = runs["alpha-0.1"].id
        cursor = st.cursor()
        assert not st.sync()  # nothing new
        run_mlflow(f"""
            import mlflow
            mlflow.set_tracking_uri("{FILE_URI}")
            with mlflow.start_run(run_id="{a1_id}"):  # resumed: MLflow appends to its files
                for step in range(52, 62):
                    mlflow.log_metric("rmse", step / 100, step=step)
                mlflow.log_metric("train/loss", 0.5, step=3)  # a key with "/": nested folders
                mlflow.log_param("optim/lr", 0.01)
            mlflow.set_experiment("wine")
            with mlflow.start_run(run_name="live"):
                for step in range(20):
                    mlflow.log_metric("rmse", 2.0 - step / 10, step=step)
            mlflow.delete_experiment(mlflow.get_experiment_by_name("baseline").experiment_id)
        """, mlruns_copy.parent)
        assert st.sync()
        runs = by_name(st)
        a1, live = runs["alpha-0.1"], runs["live"]
        # Only the appended lines were read: the history is the old one plus 10, nothing twice.
        h = st.metric_history(a1.id, "rmse")
        assert h.steps.tolist() == [*range(51), 51, 51, *range(52, 62)]
        assert h.values[-10:].tolist() == pytest.approx([s / 100 for s in range(52, 62)])
        assert st.metric_chunks(a1.id, "rmse", since=cursor)[-1].steps[-10:].tolist() == list(range(52, 62))
        assert st.metric_history(a1.id, "train/loss").values.tolist() == [0.5]
        assert a1.params["optim/lr"] == "0.01"
        assert sum(c.steps.size for c in st.metric_chunks(live.id, "rmse", since=cursor)) == 20
        assert live.status is RunStatus.FINISHED and live.experiment == "wine"
        changes = st.changes_since(cursor)
        assert {r.name for r in changes.runs} >= {"alpha-0.1", "live", "mean-predictor"}
        # The deleted experiment went to .trash: its run is deleted, hidden as in MLflow.
        assert runs["mean-predictor"].deleted
        assert "mean-predictor" not in {r.name for r in st.search_runs()}
    finally:
        st.close()


def test_the_reader_hands_over_only_the_lines_appended_since_its_last_poll(mlruns_copy) -> None:
    reader = MlflowFileReader(mlruns_copy)
    first = reader.poll()
    a1 = next(r for r in first.runs if r.name == "alpha-0.1")
    assert first.points[(a1.id, "rmse")][0].size == 53
    assert reader.poll().empty
    with open(next(mlruns_copy.glob(f"*/{a1.id}")) / "metrics" / "rmse", "a") as f:
        f.write("1796534514600 0.25 60\n")
    delta = reader.poll()
    steps, values, _ = delta.points[(a1.id, "rmse")]
    assert steps.tolist() == [60] and values.tolist() == [0.25] and not delta.runs


def test_a_line_mlflow_is_still_writing_is_waited_on(mlruns_copy) -> None:
    st = tracker_sdk.open_store(mlruns_copy)
    try:
        run_id = by_name(st)["alpha-0.1"].id
        path = metric_file(st, "alpha-0.1", "rmse")
        with open(path, "a") as f:
            f.write("1796534514600 0.25")  # MLflow mid-write: no step, no newline yet
        assert not st.sync()
        assert st.metric_history(run_id, "rmse").steps.size == 53
        with open(path, "a") as f:
            f.write(" 60\n")
        assert st.sync()
        h = st.metric_history(run_id, "rmse")
        assert h.steps.size == 54 and h.steps[-1] == 60 and h.values[-1] == 0.25
    finally:
        st.close()


def test_a_malformed_run_meta_yaml_is_skipped_with_one_warning(mlruns_copy) -> None:
    reader = MlflowFileReader(mlruns_copy)
    a5 = next(r for r in reader.poll().runs if r.name == "alpha-0.5")
    broken = next(mlruns_copy.glob(f"*/{a5.id}")) / "meta.yaml"
    broken.write_text("run_id: [unclosed\nstatus: 3\n")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        st = tracker_sdk.open_store(mlruns_copy)
        try:
            names = set(by_name(st))
            st.sync()
            broken.write_text("run_id: [still unclosed\n")  # edited, still broken: no new warning
            st.sync()
        finally:
            st.close()
    [message] = [str(w.message) for w in caught if str(broken) in str(w.message)]  # once, not per sync
    assert "not a valid MLflow meta.yaml" in message and "\n" not in message
    assert "alpha-0.5" not in names and {"sweep", "alpha-0.1", "mean-predictor"} <= names


def test_only_files_the_reader_reads_wake_it(mlruns) -> None:
    reader = MlflowFileReader(mlruns)
    run_dir = next(p.parent for p in mlruns.glob("*/*/meta.yaml"))
    assert reader.is_relevant(run_dir / "metrics" / "rmse")
    assert reader.is_relevant(run_dir / "tags" / "mlflow.note.content")
    assert reader.is_relevant(run_dir / "meta.yaml")
    assert reader.is_relevant(mlruns / ".trash" / run_dir.parent.name / "meta.yaml")
    assert not reader.is_relevant(run_dir / "artifacts" / "reports" / "summary.txt")
    assert not reader.is_relevant(mlruns.parent / "elsewhere.txt")

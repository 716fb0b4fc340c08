"""``import_store``: an MLflow database copied into a Runwatch store with nothing lost, and
nothing twice when imported again (then only what MLflow logged since)."""

from __future__ import annotations

import math
import shutil

import numpy as np
import pytest
from mlflow_fixtures import COURSE_SCRIPT, needs_mlflow, run_mlflow

import tracker_sdk
from tracker_sdk import StoreError
from tracker_sdk.sources import import_store

pytestmark = needs_mlflow


@pytest.fixture(scope="module")
def course_db(tmp_path_factory):
    work = tmp_path_factory.mktemp("mlflow-import")
    run_mlflow(COURSE_SCRIPT, work)
    return work / "mlflow.db"


def snapshot(store):  # type: ignore[no-untyped-def]
    """Everything a user sees of a store, comparable across stores."""
    out = {}
    for r in store.search_runs(include_deleted=True):
        series = {k: store.metric_history(r.id, k) for k in r.metrics}
        out[r.id] = (r.name, r.experiment, str(r.status.value if r.status.value != "CRASHED" else "RUNNING"),
                     r.start_time, r.end_time, r.parent_id, r.note, r.deleted, dict(r.params), dict(r.tags),
                     {k: (h.steps.tolist(), np.nan_to_num(h.values, nan=1234.5).tolist(), h.timestamps.tolist())
                      for k, h in series.items()})
    return out


def test_an_import_keeps_everything_and_a_second_adds_nothing(course_db, tmp_path) -> None:
    target = tmp_path / "runwatch"
    first = import_store(f"sqlite:///{course_db}", target, kind="mlflow")
    assert first.runs == 6 and first.points_written == first.points_read == 2 * 53 + 3
    assert first.files_copied == 2

    imported = tracker_sdk.Store(target)
    source = tracker_sdk.open_store(course_db)
    try:
        assert snapshot(imported) == snapshot(source)
        run = next(r for r in imported.search_runs() if r.name == "alpha-0.1")
        h = imported.metric_history(run.id, "rmse")
        assert math.isnan(h.values[50]) and h.values[51] == math.inf and h.values[52] == -math.inf
        assert imported.artifact_path(run.id, "reports/summary.txt").read_text() == "residuals look fine"
        assert run.parent_id is not None and run.note == "trial 0"
        assert any(r.deleted for r in imported.search_runs(include_deleted=True))
        before = snapshot(imported)
    finally:
        source.close()
        imported.close()

    again = import_store(course_db, target, kind="mlflow")
    assert again.points_written == 0 and again.files_copied == 0 and again.points_read == first.points_read
    st = tracker_sdk.Store(target)
    try:
        assert snapshot(st) == before
    finally:
        st.close()


def test_a_later_import_takes_only_what_mlflow_logged_since(course_db, tmp_path) -> None:
    db = tmp_path / "mlflow.db"
    shutil.copy(course_db, db)
    target = tmp_path / "runwatch"
    import_store(db, target)
    run_mlflow("""
        import mlflow
        mlflow.set_tracking_uri("sqlite:///mlflow.db")
        run = mlflow.search_runs(experiment_names=["wine"], filter_string="tags.mlflow.runName = 'alpha-0.5'",
                                 output_format="list")[0]
        with mlflow.start_run(run_id=run.info.run_id):
            for step in range(52, 60):
                mlflow.log_metric("rmse", 0.01 * step, step=step)
    """, tmp_path)
    later = import_store(db, target)
    assert later.points_written == 8
    st = tracker_sdk.Store(target)
    try:
        run = next(r for r in st.search_runs() if r.name == "alpha-0.5")
        h = st.metric_history(run.id, "rmse")
        assert h.steps.tolist() == [*range(51), 51, 51, *range(52, 60)]
    finally:
        st.close()


def test_importing_the_wrong_kind_or_nothing_is_one_clear_error(course_db, tmp_path) -> None:
    with pytest.raises(StoreError, match="not a TensorBoard log dir but an MLflow store.*runwatch import mlflow"):
        import_store(course_db, tmp_path / "t", kind="tensorboard")
    (tmp_path / "empty").mkdir()
    with pytest.raises(StoreError, match="neither an MLflow store"):
        import_store(tmp_path / "empty", tmp_path / "t")
    assert not (tmp_path / "t").exists()  # nothing created for a refused import

"""MLflow tracking databases written by the real MLflow, in a child process (never by hand).

MLflow is a test dependency only (pinned in the ``test`` extra); where it is not installed
(the headless CI venv) the tests that need it are skipped.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

HAVE_MLFLOW = importlib.util.find_spec("mlflow") is not None
needs_mlflow = pytest.mark.skipif(not HAVE_MLFLOW, reason="MLflow is not installed (pip install -e '.[test]')")
#: A Python with MLflow 2.x (its own venv: it needs SQLAlchemy < 2.1), for databases of MLflow
#: 2's schema; .ci/run makes one. Without it, the 2.x cases are skipped.
MLFLOW2_PYTHON = os.environ.get("RUNWATCH_TEST_MLFLOW2_PYTHON") or None
#: The MLflow versions that write the fixtures: the test extra's, and 2.x where there is one.
MLFLOW_VERSIONS = [
    pytest.param(None, id="mlflow3"),
    pytest.param(MLFLOW2_PYTHON, id="mlflow2", marks=pytest.mark.skipif(
        MLFLOW2_PYTHON is None, reason="no MLflow 2.x (set RUNWATCH_TEST_MLFLOW2_PYTHON, as .ci/run does)")),
]

#: A course-style MLflow script: nested runs, params, tags, a note, NaN/inf, several values at
#: one step, an artifact, a failed run, a deleted run, a second experiment.
COURSE_SCRIPT = """
import math, mlflow
mlflow.set_tracking_uri("sqlite:///mlflow.db")
mlflow.set_experiment("wine")
with mlflow.start_run(run_name="sweep") as parent:
    mlflow.log_param("model", "elasticnet")
    for i, alpha in enumerate((0.1, 0.5)):
        with mlflow.start_run(run_name=f"alpha-{alpha}", nested=True) as child:
            mlflow.log_params({"alpha": alpha, "l1_ratio": 0.5})
            mlflow.set_tags({"team": "ml", "mlflow.note.content": f"trial {i}"})
            for step in range(50):
                mlflow.log_metric("rmse", 1.0 / (step + 1) + alpha, step=step)
            mlflow.log_metric("rmse", float("nan"), step=50)
            mlflow.log_metric("rmse", float("inf"), step=51)
            mlflow.log_metric("rmse", float("-inf"), step=51)
            mlflow.log_text("residuals look fine", "reports/summary.txt")
with mlflow.start_run(run_name="crashed-trial"):
    mlflow.log_metric("rmse", 3.0, step=0)
    mlflow.end_run(status="FAILED")
with mlflow.start_run(run_name="discarded") as gone:
    mlflow.log_metric("rmse", 9.0)
mlflow.delete_run(gone.info.run_id)
mlflow.set_experiment("baseline")
with mlflow.start_run(run_name="mean-predictor"):
    mlflow.log_metric("rmse", 0.9)
print("written", flush=True)
"""


#: Where the scripts here write: MLflow's SQL store; :func:`writing_to` points them elsewhere.
SQL_URI = "sqlite:///mlflow.db"
FILE_URI = "file:./mlruns"  # MLflow's file store


def writing_to(script: str, tracking_uri: str) -> str:
    """``script`` (written for :data:`SQL_URI`) writing to ``tracking_uri`` instead."""
    assert f'set_tracking_uri("{SQL_URI}")' in script
    return script.replace(f'set_tracking_uri("{SQL_URI}")', f'set_tracking_uri("{tracking_uri}")')


#: The course's registry steps: log a model, register it twice, promote, alias, describe, tag.
REGISTRY_SCRIPT = """
import mlflow
from mlflow import MlflowClient
mlflow.set_tracking_uri("sqlite:///mlflow.db")
mlflow.set_experiment("wine")

class Mean(mlflow.pyfunc.PythonModel):
    def predict(self, context, model_input, params=None):
        return [0.5] * len(model_input)

for name in ("first-fit", "second-fit"):
    with mlflow.start_run(run_name=name):
        mlflow.log_metric("rmse", 0.7 if name == "first-fit" else 0.6)
        # MLflow 3 names a logged model; MLflow 2 gives it an artifact path.
        where = {"name": "model"} if mlflow.__version__ >= "3" else {"artifact_path": "model"}
        mlflow.pyfunc.log_model(python_model=Mean(), registered_model_name="wine-quality", **where)
client = MlflowClient()
client.transition_model_version_stage("wine-quality", "1", "Production")
client.set_registered_model_alias("wine-quality", "champion", "2")
client.update_model_version("wine-quality", "2", description="lower rmse")
client.set_model_version_tag("wine-quality", "2", "validated", "yes")
client.update_registered_model("wine-quality", description="predicts wine quality")
print("registered", flush=True)
"""


def run_mlflow(script: str, cwd: Path, timeout: float = 120.0, python: str | None = None) -> str:
    """Run ``script`` with the real MLflow in ``cwd`` (``python``: another interpreter, e.g.
    one with MLflow 2.x); its stdout."""
    proc = subprocess.run([python or sys.executable, "-c", textwrap.dedent(script)], cwd=cwd,
                          capture_output=True, text=True, timeout=timeout, env=_quiet_env())
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc.stdout


def _quiet_env() -> dict[str, str]:
    env = dict(os.environ)
    # MLflow 3.x refuses to write a file store (./mlruns, "maintenance mode") unless allowed.
    env.update(MLFLOW_ENABLE_ASYNC_LOGGING="false", GIT_PYTHON_REFRESH="quiet", PYTHONUNBUFFERED="1",
               MLFLOW_ALLOW_FILE_STORE="true")
    return env


# --- what COURSE_SCRIPT left, as any MLflow store read in place must show it ----------------

def by_name(store) -> dict:  # type: ignore[no-untyped-def]
    """Runs by name, deleted ones included."""
    return {r.name: r for r in store.search_runs(include_deleted=True)}


def check_course_runs(store) -> None:  # type: ignore[no-untyped-def]
    """Runs, params, tags, notes, nesting, statuses and deletion as MLflow stored them."""
    from tracker_sdk import RunStatus

    assert sorted(e.name for e in store.experiments()) == ["baseline", "wine"]
    runs = by_name(store)
    sweep, a1, a5 = runs["sweep"], runs["alpha-0.1"], runs["alpha-0.5"]
    assert a1.parent_id == sweep.id and a5.parent_id == sweep.id and sweep.parent_id is None
    assert a1.params == {"alpha": "0.1", "l1_ratio": "0.5"} and sweep.params == {"model": "elasticnet"}
    assert a1.tags == {"team": "ml"}  # MLflow's own mlflow.* tags are not user tags
    assert a1.note == "trial 0" and a5.note == "trial 1"
    assert a1.environment["script"] and a1.environment["user"]
    assert a1.status is RunStatus.FINISHED and runs["crashed-trial"].status is RunStatus.FAILED
    assert a1.experiment == "wine" and runs["mean-predictor"].experiment == "baseline"
    # Deleted runs are hidden unless asked for, as in MLflow.
    assert runs["discarded"].deleted
    assert "discarded" not in {r.name for r in store.search_runs()}
    # The filter language works on it like on a native store.
    found = store.search_runs(filter="params.alpha = '0.5' and metrics.rmse < 10")
    assert [r.name for r in found] == ["alpha-0.5"]


def check_course_history(store) -> None:  # type: ignore[no-untyped-def]
    """Every point: several values at one step, NaN and ±inf as logged."""
    import math

    run = by_name(store)["alpha-0.1"]
    h = store.metric_history(run.id, "rmse")
    assert h.steps.tolist() == [*range(51), 51, 51]
    assert h.values[:50].tolist() == pytest.approx([1.0 / (s + 1) + 0.1 for s in range(50)])
    assert math.isnan(h.values[50]) and h.values[51] == math.inf and h.values[52] == -math.inf
    assert (h.timestamps > 0).all()
    summary = run.metrics["rmse"]
    assert summary.count == 53 and summary.min == -math.inf and summary.max == math.inf


def check_course_artifacts(store):  # type: ignore[no-untyped-def]
    """The logged text file, listed and read where MLflow put it; its local path."""
    run = by_name(store)["alpha-0.5"]
    assert [a.path for a in store.list_artifacts(run.id)] == ["reports"]
    path = store.artifact_path(run.id, "reports/summary.txt")
    assert path.read_text() == "residuals look fine"
    return path

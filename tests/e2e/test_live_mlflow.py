"""End to end: the window opened on an MLflow database while an unchanged MLflow script logs
into it; its points reach the chart, the store is labelled read-only and never written."""

from __future__ import annotations

import hashlib
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from PySide6.QtCore import QSettings

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "sdk"))
from mlflow_fixtures import HAVE_MLFLOW, _quiet_env, run_mlflow  # noqa: E402

from app.qt.main_window import MainWindow  # noqa: E402

pytestmark = pytest.mark.skipif(not HAVE_MLFLOW, reason="MLflow is not installed")

# A training script as the course teaches it, logging one point per step until told to stop.
TRAIN = """
import os, time, mlflow
mlflow.set_tracking_uri("sqlite:///mlflow.db")
mlflow.set_experiment("live")
with mlflow.start_run(run_name="training"):
    mlflow.log_param("lr", 0.01)
    step = 0
    while not os.path.exists("stop") and step < 1000:  # bounded, however slow the machine
        mlflow.log_metric("loss", 1.0 / (step + 1), step=step)
        step += 1
        time.sleep(0.02)
print("done", step, flush=True)
"""


@pytest.fixture()
def window(qtbot, tmp_path):
    w = MainWindow(QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat))
    qtbot.addWidget(w)
    w.resize(1200, 800)
    w.show()
    yield w
    w.close()


def _run(window, name):
    return next((r for r in window.runs_model.runs.values() if r.name == name), None)


def test_an_mlflow_script_logging_shows_live_and_the_database_is_never_written(qtbot, window, tmp_path):
    # A first run, written before the window opens (it also creates MLflow's schema).
    run_mlflow("""
        import mlflow
        mlflow.set_tracking_uri("sqlite:///mlflow.db")
        mlflow.set_experiment("live")
        with mlflow.start_run(run_name="before"):
            mlflow.log_metric("loss", 0.5, step=0)
    """, tmp_path)
    db = tmp_path / "mlflow.db"
    window.open_store(f"sqlite:///{db}")
    qtbot.waitUntil(lambda: _run(window, "before") is not None, timeout=20_000)
    assert window.read_only_label.isVisible() and "MLflow" in window.read_only_label.text()
    assert not any(a.isEnabled() for a in window._edit_actions)
    assert "delete" not in {a[0] for a in window.runs_view.actions_for([_run(window, "before").id])}

    proc = subprocess.Popen([sys.executable, "-c", textwrap.dedent(TRAIN)], cwd=tmp_path, env=_quiet_env(),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        qtbot.waitUntil(lambda: _run(window, "training") is not None, timeout=60_000)
        run = _run(window, "training")
        assert run.status.value == "RUNNING" and run.params == {"lr": "0.01"}
        window.tabs.setCurrentWidget(window.charts)
        qtbot.waitUntil(lambda: run.id in window.runs_model.checked, timeout=10_000)

        def drawn() -> int:
            plot = window.charts.plot("loss")
            d = None if plot is None else plot.drawn(run.id)
            return 0 if d is None else len(d[0])

        qtbot.waitUntil(lambda: drawn() > 0, timeout=30_000)
        first = drawn()
        qtbot.waitUntil(lambda: drawn() >= first + 20, timeout=30_000)  # it keeps growing, live
        (tmp_path / "stop").touch()
        out, err = proc.communicate(timeout=60)
        assert proc.returncode == 0, err[-2000:]
        total = int(out.split()[-1])
        qtbot.waitUntil(lambda: _run(window, "training").status.value == "FINISHED", timeout=30_000)
        # Every point, none twice, in the arrays the chart draws from (what is drawn may be
        # decimated to the panel's width once there are more points than pixels).
        qtbot.waitUntil(lambda: len(window.session.arrays(run.id, "loss")[0]) == total, timeout=30_000)
        assert window.session.arrays(run.id, "loss")[0].tolist() == list(range(total))
        assert drawn() > 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)

    # The app only ever read: the bytes stay as MLflow left them while it stays open.
    digest = hashlib.sha256(db.read_bytes()).hexdigest()
    refreshes = window.session.refresh_count
    window.refresh()
    qtbot.waitUntil(lambda: window.session.refresh_count > refreshes, timeout=10_000)
    assert hashlib.sha256(db.read_bytes()).hexdigest() == digest
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith("mlflow.db")) == ["mlflow.db"]

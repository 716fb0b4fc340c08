"""End to end: the real window on a real store while a real writer process logs into it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from PySide6.QtCore import QSettings

from app.qt.main_window import MainWindow

WRITER = Path(__file__).with_name("writer.py")


@pytest.fixture()
def writer(tmp_path):
    store = tmp_path / "store"
    proc = subprocess.Popen([sys.executable, str(WRITER), str(store), str(tmp_path)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    yield proc, store, tmp_path
    if proc.poll() is None:
        proc.kill()
    proc.wait(10)


@pytest.fixture()
def window(qtbot, tmp_path):
    settings = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
    w = MainWindow(settings)
    qtbot.addWidget(w)
    w.resize(1200, 800)
    w.show()
    yield w
    w.close()


def _run_id(window, name):
    return next((r.id for r in window.runs_model.runs.values() if r.name == name), None)


def _points_on_chart(window, run_id, key="train/loss"):
    plot = window.charts.plot(key)
    drawn = None if plot is None else plot.drawn(run_id)
    return 0 if drawn is None else len(drawn[0])


def test_live_points_new_runs_and_a_crash_show_up(qtbot, writer, window):
    proc, store, flags = writer
    qtbot.waitUntil(lambda: (store / "runwatch.db").exists(), timeout=20_000)
    window.open_store(store)
    qtbot.waitUntil(lambda: _run_id(window, "writer-a") is not None, timeout=20_000)
    a = _run_id(window, "writer-a")
    assert a in window.runs_model.checked  # the newest runs are plotted by default
    window.tabs.setCurrentWidget(window.charts)

    # New points keep arriving without any click.
    qtbot.waitUntil(lambda: _points_on_chart(window, a) > 0, timeout=20_000)
    seen = window.session.arrays(a, "train/loss")[0][-1]
    qtbot.waitUntil(lambda: window.session.arrays(a, "train/loss")[0][-1] >= seen + 25, timeout=20_000)
    shown = window.charts.plot("train/loss").drawn(a)[0]
    qtbot.waitUntil(lambda: window.charts.plot("train/loss").drawn(a)[0][-1] > shown[-1], timeout=20_000)
    qtbot.waitUntil(lambda: window.runs_model.runs[a].metrics["train/loss"].last_step >= seen + 25,
                    timeout=20_000)

    # A run that starts while the window is open appears, checked, on the chart.
    (flags / "second").touch()
    qtbot.waitUntil(lambda: _run_id(window, "writer-b") is not None, timeout=20_000)
    b = _run_id(window, "writer-b")
    assert b in window.runs_model.checked
    qtbot.waitUntil(lambda: _points_on_chart(window, b) > 0, timeout=20_000)

    # The writer dies without finishing: both runs read back as crashed.
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(10)
    qtbot.waitUntil(lambda: all(window.runs_model.runs[r].status.value == "CRASHED" for r in (a, b)),
                    timeout=30_000)
    row = window.runs_model.row_of(a)
    status_col = 1 + next(i for i, c in enumerate(window.runs_model.columns) if c.kind == "status")
    assert window.runs_model.index(row, status_col).data() == "Crashed"


def test_a_missing_store_shows_a_clear_message_not_a_crash(qtbot, window, tmp_path):
    window.open_store(tmp_path / "nowhere")
    qtbot.waitUntil(lambda: window.welcome.message.isVisible(), timeout=10_000)
    assert "runwatch demo" in window.welcome.message.text()
    assert window.stack.currentIndex() == 0


def test_a_file_that_is_not_a_store_is_refused_clearly(qtbot, window, tmp_path):
    bogus = tmp_path / "bogus"
    bogus.mkdir()
    (bogus / "runwatch.db").write_bytes(b"this is not sqlite at all" * 10)
    window.open_store(bogus)
    qtbot.waitUntil(lambda: window.welcome.message.isVisible(), timeout=10_000)
    assert "not a SQLite database" in window.welcome.message.text()
    assert (bogus / "runwatch.db").read_bytes().startswith(b"this is not sqlite")

"""End to end: Ctrl-C in the terminal that runs ``runwatch ui`` closes the app as its close button does."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import tracker_sdk

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "sdk"))
from sdk_helpers import wait_until  # noqa: E402

REPO = Path(__file__).resolve().parents[2]


def test_ctrl_c_closes_the_window_saves_its_state_and_exits_without_a_traceback(tmp_path):
    store = str(tmp_path / "store")
    run = tracker_sdk.init(store=store, name="r")
    run.log({"loss": 1.0}, step=0)
    assert run.finish()
    config = tmp_path / "config"  # QSettings() writes under $XDG_CONFIG_HOME: keep the user's own apart
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "XDG_CONFIG_HOME": str(config), "PYTHONPATH": str(REPO)}
    settings = config / "Runwatch" / "Runwatch.conf"
    err_path = tmp_path / "stderr.txt"
    with err_path.open("w") as err:
        proc = subprocess.Popen([sys.executable, "-m", "app", store], env=env, stdout=subprocess.DEVNULL, stderr=err)
    try:
        # The app records the store it opened in its settings: it is up and its event loop runs.
        wait_until(lambda: proc.poll() is not None or (settings.exists() and store in settings.read_text()),
                   timeout=90, message="the app to open the store")
        assert proc.poll() is None, err_path.read_text()
        assert "geometry" not in settings.read_text()  # saved only when the window closes
        proc.send_signal(signal.SIGINT)
        code = proc.wait(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
    stderr = err_path.read_text()
    assert "Traceback" not in stderr and "KeyboardInterrupt" not in stderr, stderr
    assert code == 130, stderr
    assert "geometry" in settings.read_text()  # closed the normal way: the window's layout was saved

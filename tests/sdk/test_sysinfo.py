"""Environment capture, git state and the system monitor, as a user of a run would see them."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import threading
import warnings
from pathlib import Path

import pytest

from tracker_sdk import sysinfo
from tracker_sdk.sysinfo import SystemMonitor, capture_environment, git_diff, strip_credentials

needs_git = pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")


def _git(repo: Path, *args: str) -> None:
    subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True)


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A one-commit git repo with an origin remote carrying credentials."""
    root = tmp_path / "proj"
    root.mkdir()
    _git(root, "init", "-q", "-b", "main")
    _git(root, "config", "user.email", "t@example.com")
    _git(root, "config", "user.name", "Test")
    _git(root, "config", "commit.gpgsign", "false")
    _git(root, "remote", "add", "origin", "https://alice:s3cret@example.com/team/proj.git")
    (root / "train.py").write_text("lr = 0.1\n")
    _git(root, "add", "train.py")
    _git(root, "commit", "-q", "-m", "first")
    return root


def test_environment_basics_are_json_serialisable(tmp_path: Path) -> None:
    env = capture_environment(tmp_path)
    json.dumps(env)
    assert env["pid"] > 0
    assert env["cwd"] == str(tmp_path.resolve())
    assert env["python"] == ".".join(map(str, sys.version_info[:3]))
    assert env["python_executable"] == sys.executable
    assert env["host"] and env["platform"] and env["command"]
    assert env["packages"]["pytest"] == pytest.__version__
    assert list(env["packages"]) == sorted(env["packages"])


def test_outside_a_repo_there_are_no_git_keys(tmp_path: Path) -> None:
    env = capture_environment(tmp_path)
    assert not any(k.startswith("git_") for k in env)


def test_missing_git_binary_is_not_an_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path / "nowhere"))
    env = capture_environment(tmp_path)
    assert "git_commit" not in env and env["pid"] > 0
    assert git_diff(tmp_path) is None


def test_a_failing_item_is_left_out(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def boom() -> str:
        raise KeyError("no passwd entry")

    monkeypatch.setattr(sysinfo, "_user", boom)
    env = capture_environment(tmp_path)
    assert "user" not in env and "host" in env


@needs_git
def test_clean_repo(repo: Path) -> None:
    env = capture_environment(repo)
    head = subprocess.run(["git", "-C", str(repo), "rev-parse", "HEAD"],
                          capture_output=True, text=True, check=True).stdout.strip()
    assert env["git_commit"] == head
    assert env["git_branch"] == "main"
    assert env["git_dirty"] is False
    assert env["git_root"] == str(repo.resolve())
    assert env["git_remote"] == "https://example.com/team/proj.git"  # password gone
    assert git_diff(repo) is None


@needs_git
def test_dirty_repo_diff_holds_the_change_and_names_untracked_files(repo: Path) -> None:
    (repo / "train.py").write_text("lr = 0.01\n")
    (repo / "notes.txt").write_text("scratch\n")
    sub = repo / "src"
    sub.mkdir()
    env = capture_environment(sub)  # from a subfolder: the repo is still found
    assert env["git_dirty"] is True
    diff = git_diff(env["git_root"])
    assert diff is not None
    assert "-lr = 0.1" in diff and "+lr = 0.01" in diff
    assert "#   notes.txt" in diff.splitlines()


@needs_git
def test_untracked_files_alone_do_not_make_a_repo_dirty(repo: Path) -> None:
    (repo / "runwatch").mkdir()
    (repo / "runwatch" / "runwatch.db").write_bytes(b"x")
    assert capture_environment(repo)["git_dirty"] is False


@needs_git
def test_huge_diff_is_truncated(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sysinfo, "MAX_DIFF_BYTES", 2000)
    (repo / "train.py").write_text("x = 1\n" * 5000)
    diff = git_diff(repo)
    assert diff is not None and "diff truncated" in diff
    assert len(diff.encode()) < 2200


@pytest.mark.parametrize(("url", "clean"), [
    ("https://alice:pw@github.com/a/b.git", "https://github.com/a/b.git"),
    ("https://ghp_token@github.com/a/b.git", "https://github.com/a/b.git"),
    ("ssh://git@host:22/a/b.git", "ssh://host:22/a/b.git"),
    ("git@github.com:a/b.git", "git@github.com:a/b.git"),
    ("/srv/git/b.git", "/srv/git/b.git"),
])
def test_strip_credentials(url: str, clean: str) -> None:
    assert strip_credentials(url) == clean


# --------------------------------------------------------------------------- SystemMonitor


def test_system_monitor_logs_samples_and_stops_promptly() -> None:
    pytest.importorskip("psutil")
    samples: list[dict[str, float]] = []
    got_two = threading.Event()

    def log(sample: dict[str, float]) -> None:
        samples.append(sample)
        if len(samples) >= 2:
            got_two.set()

    monitor = SystemMonitor(log, interval_s=0.01).start()
    try:
        assert got_two.wait(10), "the monitor produced no samples"
    finally:
        monitor.stop()
    assert not monitor.running
    first = samples[0]
    for key in ("sys/cpu_percent", "sys/ram_used_gb", "sys/ram_percent", "sys/proc_rss_gb"):
        assert isinstance(first[key], float)
    assert 0 < first["sys/proc_rss_gb"] < 1024
    assert 0 <= first["sys/ram_percent"] <= 100


def test_system_monitor_survives_a_failing_log() -> None:
    pytest.importorskip("psutil")
    calls = threading.Event()
    count = [0]

    def log(sample: dict[str, float]) -> None:
        count[0] += 1
        if count[0] >= 3:
            calls.set()
        raise RuntimeError("run already finished")

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        monitor = SystemMonitor(log, interval_s=0.01).start()
        try:
            assert calls.wait(10), "the monitor stopped after the first failure"
        finally:
            monitor.stop()
    assert sum("sampling failed" in str(w.message) for w in caught) == 1


def test_system_monitor_without_psutil_warns_once(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "psutil", None)  # makes `import psutil` raise ImportError
    monkeypatch.setattr(sysinfo, "_psutil_warned", False)
    with pytest.warns(RuntimeWarning, match="pip install psutil"):
        first = SystemMonitor(lambda s: None, interval_s=0.01).start()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a second monitor must stay quiet
        second = SystemMonitor(lambda s: None, interval_s=0.01).start()
    assert not first.running and not second.running
    first.stop()
    second.stop()


def test_stop_from_inside_log_does_not_deadlock() -> None:
    pytest.importorskip("psutil")
    done = threading.Event()
    monitor: SystemMonitor

    def log(sample: dict[str, float]) -> None:
        monitor.stop()
        done.set()

    monitor = SystemMonitor(log, interval_s=0.01).start()
    assert done.wait(10)
    monitor.stop()
    assert not monitor.running

"""The ``runwatch`` command, run in-process (``main([...])`` + capsys) and, for exit codes and
import hygiene, as a real subprocess (``python -m app.cli``)."""

from __future__ import annotations

import csv
import io
import math
import subprocess
import sys
import types

import numpy as np
import pytest

import tracker_sdk
from app.cli import main
from app.demo import make_demo


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """A full demo store shared by the read-only tests."""
    path = tmp_path_factory.mktemp("cli") / "store"
    result = make_demo(path, steps=200)
    return str(path), result


@pytest.fixture
def small(tmp_path):
    """A small store of its own for tests that delete, gc or edit."""
    result = make_demo(tmp_path / "store", runs=3, steps=40)
    return str(tmp_path / "store"), result


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def one_error_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("runwatch: error: ")
    assert "Traceback" not in err
    return lines[0]


# --- runs list / show -------------------------------------------------------------------------------

def test_runs_list_shows_every_run_as_a_tree(capsys, demo):
    path, result = demo
    code, out, _ = run(capsys, "runs", "list", "--store", path)
    assert code == 0
    store = tracker_sdk.Store(path)
    for r in store.search_runs():
        assert r.name in out and r.id[:8] in out
    assert "└ trial-01" in out  # children indented under their parent
    assert out.index("sweep") < out.index("trial-01")
    assert "FAILED" in out and "15 runs" in out and "val/loss" in out


def test_runs_list_options(capsys, demo):
    path, result = demo
    code, out, _ = run(capsys, "runs", "ls", "--store", path, "-q")
    assert code == 0 and sorted(out.split()) == sorted(result["trial_ids"] + result["baseline_ids"]
                                                        + [result["parent_id"]])
    code, out, _ = run(capsys, "runs", "list", "--store", path, "-e", "baseline", "-q")
    assert sorted(out.split()) == sorted(result["baseline_ids"])
    code, out, _ = run(capsys, "runs", "list", "--store", path, "--filter", "status = 'FAILED'",
                       "--columns", "name,status,params.optimizer.lr,metrics.val/loss.min")
    assert code == 0 and "trial-" in out and "optimizer.lr" in out and "FINISHED" not in out
    code, out, _ = run(capsys, "--store", path, "runs", "list", "--order-by", "metrics.`val/loss` ASC", "-n", "1",
                       "-q")
    assert out.split() == [result["best_id"]]
    code, out, _ = run(capsys, "runs", "--store", path)  # bare "runs" lists too
    assert code == 0 and "trial-12" in out


def test_runs_list_bad_column_and_bad_filter(capsys, demo):
    path, _ = demo
    code, _, err = run(capsys, "runs", "list", "--store", path, "--columns", "bogus")
    assert code == 1 and "unknown column" in one_error_line(err)
    code, _, err = run(capsys, "runs", "list", "--store", path, "--filter", "metrics.loss <")
    assert code == 1 and "position" in one_error_line(err)


def test_runs_show(capsys, demo):
    path, result = demo
    best = tracker_sdk.Store(path).get_run(result["best_id"])
    code, out, _ = run(capsys, "runs", "show", best.id[:10], "--store", path)
    assert code == 0
    for text in (best.name, best.id, "FINISHED", "optimizer.lr", "val/loss", "Artifacts", "report.md",
                 "confusion.png", "classifier/", "weights.bin", "Note", "parent", "sweep"):
        assert text in out, text
    code, out, _ = run(capsys, "runs", "show", result["parent_id"], "--store", path)
    assert "Child runs (12)" in out and "trial-12" in out
    code, out, _ = run(capsys, "runs", "show", result["failed_id"], "--store", path)
    assert "FAILED" in out and "diverged" in out and "NaN" in out


def test_experiments_list(capsys, demo):
    path, _ = demo
    code, out, _ = run(capsys, "experiments", "list", "--store", path)
    assert code == 0 and "demo-sweep" in out and "baseline" in out and "13" in out
    assert run(capsys, "experiments", "--store", path)[1] == out


# --- edits, delete / restore, gc -------------------------------------------------------------------

def test_delete_hides_and_restore_brings_back(capsys, small):
    path, result = small
    victim = result["trial_ids"][0]
    code, out, _ = run(capsys, "runs", "delete", victim[:8], "--store", path)
    assert code == 0 and "Deleted" in out
    listed = run(capsys, "runs", "list", "--store", path, "-q")[1].split()
    assert victim not in listed
    assert run(capsys, "runs", "list", "--store", path, "--only-deleted", "-q")[1].split() == [victim]
    assert victim in run(capsys, "runs", "list", "--store", path, "--deleted", "-q")[1].split()
    assert victim in run(capsys, "runs", "list", "--store", path, "--all", "-q")[1].split()  # the old spelling
    code, out, _ = run(capsys, "runs", "restore", victim, "--store", path)
    assert code == 0 and "Restored" in out
    assert victim in run(capsys, "runs", "list", "--store", path, "-q")[1].split()


def test_delete_checks_every_id_first(capsys, small):
    path, result = small
    code, _, err = run(capsys, "runs", "delete", result["trial_ids"][0], "nope", "--store", path)
    assert code == 1 and "nope" in one_error_line(err)
    assert not any(r.deleted for r in tracker_sdk.Store(path).search_runs(include_deleted=True))


def test_gc_yes_removes_deleted_runs(capsys, small):
    path, result = small
    victim = result["trial_ids"][1]
    run(capsys, "runs", "delete", victim, "--store", path)
    code, out, _ = run(capsys, "gc", "--store", path, "--yes")
    assert code == 0 and "Removed 1 run" in out
    store = tracker_sdk.Store(path)
    assert victim not in {r.id for r in store.search_runs(include_deleted=True)}
    assert not store.artifact_path(victim).exists()
    code, out, _ = run(capsys, "gc", "--store", path, "--yes")
    assert code == 0 and "Nothing to remove" in out


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_gc_asks_and_refuses_without_a_terminal(capsys, small, monkeypatch):
    path, result = small
    victim = result["trial_ids"][2]
    run(capsys, "runs", "delete", victim, "--store", path)
    monkeypatch.setattr(sys, "stdin", io.StringIO(""))
    code, _, err = run(capsys, "gc", "--store", path)
    assert code == 1 and "--yes" in one_error_line(err)
    monkeypatch.setattr(sys, "stdin", _Terminal("n\n"))
    code, out, _ = run(capsys, "gc", "--store", path)
    assert code == 0 and "Nothing removed" in out
    assert tracker_sdk.Store(path).get_run(victim).deleted
    monkeypatch.setattr(sys, "stdin", _Terminal("y\n"))
    code, out, _ = run(capsys, "gc", "--store", path)
    assert code == 0 and "Removed 1 run" in out


def test_rename_tag_note(capsys, small):
    path, result = small
    rid = result["trial_ids"][0]
    assert run(capsys, "runs", "rename", rid, "renamed-run", "--store", path)[0] == 0
    assert run(capsys, "runs", "tag", rid, "reviewed=yes", "team=vision", "--remove", "stage", "--store", path)[0] == 0
    assert run(capsys, "runs", "note", rid, "looks **good**", "--store", path)[0] == 0
    r = tracker_sdk.Store(path).get_run(rid)
    assert r.name == "renamed-run" and r.tags["reviewed"] == "yes" and "stage" not in r.tags
    assert r.note == "looks **good**"
    code, _, err = run(capsys, "runs", "tag", rid, "novalue", "--store", path)
    assert code == 1 and "KEY=VALUE" in one_error_line(err)


# --- export -------------------------------------------------------------------------------------------

def test_export_runs_csv(capsys, demo, tmp_path):
    path, result = demo
    target = tmp_path / "runs.csv"
    code, _, err = run(capsys, "export", "runs", "--store", path, "-o", str(target))
    assert code == 0 and "Wrote 15 runs" in err
    rows = list(csv.DictReader(target.open(encoding="utf-8")))
    assert len(rows) == 15 and len({r["run_id"] for r in rows}) == 15
    header = rows[0].keys()
    for col in ("run_id", "name", "experiment", "status", "start_time", "end_time", "duration_s", "user",
                "git_commit", "params.optimizer.lr", "params.model.depth", "metrics.val/loss.last",
                "metrics.val/loss.min", "metrics.val/loss.max"):
        assert col in header, col
    best = next(r for r in rows if r["run_id"] == result["best_id"])
    store_value = tracker_sdk.Store(path).get_run(result["best_id"]).metrics["val/loss"].last
    assert float(best["metrics.val/loss.last"]) == store_value  # full precision round trip
    code, out, _ = run(capsys, "export", "runs", "--store", path, "-e", "baseline")  # stdout
    assert len(list(csv.DictReader(io.StringIO(out)))) == 2


def test_export_series_has_every_point(capsys, demo, tmp_path):
    path, result = demo
    store = tracker_sdk.Store(path)
    rid = result["failed_id"]  # NaN and inf must survive too
    target = tmp_path / "series.csv"
    code, _, _ = run(capsys, "export", "series", rid, "--store", path, "-o", str(target))
    assert code == 0
    rows = list(csv.DictReader(target.open(encoding="utf-8")))
    assert list(rows[0].keys()) == ["key", "step", "value", "timestamp"]
    for key in store.metric_keys([rid]):
        h = store.metric_history(rid, key)
        mine = [r for r in rows if r["key"] == key]
        assert len(mine) == len(h)
        values = np.array([float(r["value"]) for r in mine])
        assert np.array_equal(values, h.values, equal_nan=True)
        assert [int(r["step"]) for r in mine] == h.steps.tolist()
    code, out, _ = run(capsys, "export", "series", rid, "--store", path, "-k", "val/loss")
    assert len(out.strip().splitlines()) == 1 + len(store.metric_history(rid, "val/loss"))
    code, _, err = run(capsys, "export", "series", rid, "--store", path, "-k", "nope")
    assert code == 1 and "val/loss" in one_error_line(err)


# --- doctor, demo -------------------------------------------------------------------------------------

def test_doctor(capsys, demo):
    path, _ = demo
    code, out, _ = run(capsys, "doctor", "--store", path)
    info = tracker_sdk.Store(path).info()
    assert code == 0
    assert str(info["schema"]) in out and "integrity" in out and "ok" in out
    assert path in out and "WAL" in out and f"{info['metric_points']:,}" in out


def test_doctor_suggests_gc_for_deleted_runs(capsys, small):
    path, result = small
    run(capsys, "runs", "delete", result["trial_ids"][0], "--store", path)
    code, out, _ = run(capsys, "doctor", "--store", path)
    assert code == 0 and "runwatch gc" in out


def test_demo_command(capsys, tmp_path):
    path = str(tmp_path / "d")
    code, out, _ = run(capsys, "demo", "--store", path, "--runs", "3", "--steps", "30")
    assert code == 0 and f"runwatch ui {path}" in out and "6 runs" in out
    code, out, _ = run(capsys, "demo", "--store", path)  # a second time: no duplicate sweep
    assert code == 0 and "already has the demo sweep" in out
    assert len(tracker_sdk.Store(path).search_runs()) == 6


# --- errors -------------------------------------------------------------------------------------------

def test_missing_store_is_one_line_pointing_at_demo(capsys, tmp_path):
    for argv in (["runs", "list"], ["experiments", "list"], ["doctor"], ["gc", "--yes"], ["export", "runs"]):
        code, _, err = run(capsys, *argv, "--store", str(tmp_path / "nowhere"))
        assert code == 1 and "runwatch demo" in one_error_line(err), argv
    assert not (tmp_path / "nowhere").exists()  # reading never creates a store


def test_unknown_run_is_one_line(capsys, demo):
    path, _ = demo
    for argv in (["runs", "show", "ffffffff"], ["runs", "delete", "ffffffff"], ["export", "series", "ffffffff"]):
        code, _, err = run(capsys, *argv, "--store", path)
        assert code == 1 and "ffffffff" in one_error_line(err)


def test_usage_errors_exit_2(capsys):
    assert run(capsys, "runs", "frobnicate")[0] == 2
    assert run(capsys, "export")[0] == 2
    assert run(capsys)[0] == 2
    assert run(capsys, "--help")[0] == 0


def test_store_defaults_to_runwatch_home(capsys, demo, monkeypatch):
    path, result = demo
    monkeypatch.setenv("RUNWATCH_HOME", path)
    code, out, _ = run(capsys, "runs", "list", "-q", "-e", "baseline")
    assert code == 0 and sorted(out.split()) == sorted(result["baseline_ids"])
    # MLflow's spelling, with a sqlite URL, works too
    code, out, _ = run(capsys, "runs", "list", "-q", "-e", "baseline", "--backend-store-uri",
                       f"sqlite:///{path}/runwatch.db")
    assert sorted(out.split()) == sorted(result["baseline_ids"])


def _subprocess(*argv: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "app.cli", *argv], capture_output=True, text=True, timeout=120)


def test_subprocess_exit_codes(demo, tmp_path):
    path, _ = demo
    done = _subprocess("runs", "list", "--store", str(tmp_path / "missing"))
    assert done.returncode == 1 and "runwatch demo" in one_error_line(done.stderr)
    done = _subprocess("runs", "show", "0000dead", "--store", path)
    assert done.returncode == 1 and "0000dead" in one_error_line(done.stderr)
    assert _subprocess("no-such-command").returncode == 2


def test_help_imports_nothing_heavy():
    code = ("import sys, contextlib, io\nfrom app.cli import main\n"
            "with contextlib.redirect_stdout(io.StringIO()): main(['--help']); main(['runs', 'list', '--help'])\n"
            "print(sorted(m for m in ('rich', 'numpy', 'sqlalchemy', 'PySide6', 'tracker_sdk.store') "
            "if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and done.stdout.strip() == "[]", done.stdout + done.stderr


# --- ui (with a stand-in for the Qt app, so these run without PySide6) ---------------------------------

@pytest.fixture
def fake_ui(monkeypatch):
    calls = []
    module = types.ModuleType("app.qt.main")

    def run_ui(store, *, screenshot=None, size=None, theme=None):
        calls.append({"store": store, "screenshot": screenshot, "size": size, "theme": theme})
        return 0

    module.run_ui = run_ui  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "app.qt.main", module)
    monkeypatch.setenv("DISPLAY", ":99")
    return calls


def test_ui_passes_options(capsys, fake_ui, tmp_path):
    assert run(capsys, "ui", str(tmp_path), "--size", "1600x1000", "--theme", "dark")[0] == 0
    assert fake_ui[-1] == {"store": str(tmp_path), "screenshot": None, "size": (1600, 1000), "theme": "dark"}
    assert run(capsys, "ui", "--backend-store-uri", "sqlite:///x/runwatch.db", "--screenshot", "s.png")[0] == 0
    assert fake_ui[-1]["store"] == "sqlite:///x/runwatch.db" and fake_ui[-1]["screenshot"] == "s.png"
    assert run(capsys, "ui", "--size", "big")[0] == 2


def test_ui_default_store(capsys, fake_ui, tmp_path, monkeypatch):
    monkeypatch.delenv("RUNWATCH_HOME", raising=False)
    monkeypatch.chdir(tmp_path)
    run(capsys, "ui")
    assert fake_ui[-1]["store"] is None  # no ./runwatch: the app picks (last store or welcome page)
    monkeypatch.setenv("RUNWATCH_HOME", str(tmp_path / "home"))
    run(capsys, "ui")
    assert fake_ui[-1]["store"] == str(tmp_path / "home")


def test_python_dash_m_app_is_ui(fake_ui, monkeypatch, tmp_path):
    import runpy

    monkeypatch.setattr(sys, "argv", ["app", str(tmp_path), "--theme", "light"])
    with pytest.raises(SystemExit) as exit_info:
        runpy.run_module("app", run_name="__main__")
    assert exit_info.value.code == 0 and fake_ui[-1]["store"] == str(tmp_path)


def test_ui_without_qt_is_one_line(capsys, monkeypatch):
    monkeypatch.setenv("DISPLAY", ":99")
    module = types.ModuleType("app.qt.main")

    def run_ui(store, **kw):
        raise ModuleNotFoundError("No module named 'PySide6'", name="PySide6")

    module.run_ui = run_ui  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "app.qt.main", module)
    code, _, err = run(capsys, "ui")
    assert code == 1 and "PySide6" in one_error_line(err)
    monkeypatch.setitem(sys.modules, "app.qt.main", None)  # the app module itself is missing
    code, _, err = run(capsys, "ui")
    assert code == 1 and "app.qt.main" in one_error_line(err)


def test_ui_without_display_is_one_line(capsys, fake_ui, monkeypatch):
    monkeypatch.setattr(sys, "platform", "linux")
    for var in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM"):
        monkeypatch.delenv(var, raising=False)
    code, _, err = run(capsys, "ui")
    assert code == 1 and "--screenshot" in one_error_line(err) and not fake_ui


def test_values_are_human():
    from app.commands.common import fmt_duration, fmt_value

    assert [fmt_duration(s) for s in (0.42, 12, 192, 3840, 200000)] == ["0.4s", "12s", "3m 12s", "1h 04m", "2d 7h"]
    assert fmt_value(math.nan) == "NaN" and fmt_value(math.inf) == "inf" and fmt_value(0.123456) == "0.1235"

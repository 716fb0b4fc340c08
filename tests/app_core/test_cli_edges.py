"""The ``runwatch`` command at its edges: odd keys, option placement, the meaning of flags, hostile
filters and how the command names itself. Each test runs the real entry point on a real store."""

from __future__ import annotations

import argparse
import csv
import io
import os
import re
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

import tracker_sdk
from app.cli import build_parser
from test_cli import one_error_line, run

LONG_KEY = "k" * 200


def _log_run(store, name, experiment, metrics=None, params=None, tags=None) -> str:
    run = tracker_sdk.init(store=store, name=name, experiment=experiment)
    if metrics:
        run.log(metrics, step=0)
    if params:
        run.log_params(params)
    if tags:
        run.set_tags(tags)
    assert run.finish()
    return run.id


@pytest.fixture
def store(tmp_path):
    """Two experiments, three runs."""
    path = str(tmp_path / "store")
    ids = [_log_run(path, "first", "alpha", {"loss": 0.5}), _log_run(path, "second", "alpha", {"loss": 0.25}),
           _log_run(path, "third", "beta", {"loss": 0.125})]
    return path, ids


# --- 1. runs show with long and odd keys ------------------------------------------------------------

def test_runs_show_keeps_every_value_and_key_readable(capsys, tmp_path):
    path = str(tmp_path / "store")
    rid = _log_run(path, "odd", "keys",
                   metrics={LONG_KEY: 1.5, "a\nb": 2.5, "loss[train]": 3.5, "tab\tkey": 4.5},
                   params={"line\nbreak": "x\ny"}, tags={"esc\x1bkey": "v"})
    code, out, err = run(capsys, "runs", "show", rid, "--store", path)
    assert code == 0, err
    metrics = out[out.index("Metrics (4)"):out.index("Params")]
    assert "…" not in metrics  # no value squeezed out
    for value in ("1.5", "2.5", "3.5", "4.5"):
        assert re.search(rf"\s{re.escape(value)}\s", metrics), (value, metrics)
    # The long key is folded over lines, never cut.
    assert sum(len(m) for m in re.findall(r"k{5,}", metrics)) == len(LONG_KEY)
    # Control characters are shown escaped: one table row per key, nothing that moves the cursor.
    assert "a\\nb" in metrics and "tab\\tkey" in metrics and "loss[train]" in metrics
    assert "line\\nbreak" in out and "x\\ny" in out and "esc\\x1bkey" in out
    assert "\x1b" not in out and "\t" not in out


def test_runs_list_headers_and_names_with_control_characters_stay_on_one_line(capsys, tmp_path):
    path = str(tmp_path / "store")
    _log_run(path, "two\nlines", "keys", metrics={"a\nb": 2.5})
    code, out, _ = run(capsys, "runs", "list", "--store", path)
    assert code == 0
    assert "two\\nlines" in out and "a\\nb" in out
    assert len(out.strip().splitlines()) == 4  # header, rule, one row, caption


# --- 2. --store before or after any sub-command -----------------------------------------------------

def _commands(parser: argparse.ArgumentParser, path: tuple[str, ...] = ()):
    """Every command line the parser runs (aliases included, ``export`` alone not), with its parser."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                if not any(isinstance(a, argparse._SubParsersAction) and a.required for a in sub._actions):
                    yield (*path, name), sub
                yield from _commands(sub, (*path, name))


def _required_positionals(parser: argparse.ArgumentParser) -> list[str]:
    return ["x" for a in parser._actions
            if not a.option_strings and not isinstance(a, argparse._SubParsersAction) and a.nargs not in ("?", "*")]


def test_every_command_takes_store_before_or_after_its_sub_command():
    parser = build_parser()
    commands = list(_commands(parser))
    assert len(commands) >= 15  # the walk found the tree (runs, export, experiments and their children)
    for path, sub in commands:
        rest = _required_positionals(sub)
        for at in range(len(path) + 1):
            argv = [*path[:at], "--store", "S", *path[at:], *rest]
            assert parser.parse_args(argv).store == "S", argv
    assert parser.parse_args(["runs", "list"]).store is None


def test_export_with_store_before_the_sub_command_writes_the_csv(capsys, store, tmp_path):
    path, ids = store
    target = tmp_path / "x.csv"
    code, _, err = run(capsys, "export", "--store", path, "runs", "-o", str(target))
    assert code == 0, err
    assert sorted(r["run_id"] for r in csv.DictReader(target.open(encoding="utf-8"))) == sorted(ids)


# --- 3. --deleted means the same in every command ---------------------------------------------------

def test_deleted_includes_and_only_deleted_selects_in_runs_list_and_export(capsys, store):
    path, ids = store
    victim = ids[1]
    assert run(capsys, "runs", "delete", victim, "--store", path)[0] == 0

    def listed(*extra):
        code, out, err = run(capsys, "runs", "list", "--store", path, "-q", *extra)
        assert code == 0, err
        return sorted(out.split())

    def exported(*extra):
        code, out, err = run(capsys, "export", "runs", "--store", path, *extra)
        assert code == 0, err
        return sorted(r["run_id"] for r in csv.DictReader(io.StringIO(out)))

    active = sorted(i for i in ids if i != victim)
    assert listed() == exported() == active
    assert listed("--deleted") == exported("--deleted") == sorted(ids)
    assert listed("--only-deleted") == exported("--only-deleted") == [victim]
    code, _, err = run(capsys, "runs", "list", "--store", path, "--deleted", "--only-deleted")
    assert code == 2 and "not allowed with" in err


# --- 4. gc --older-than previews what it removes ----------------------------------------------------

def _age_deletion(path: str, run_id: str, days: float) -> None:
    """Make a run look deleted ``days`` ago (the store keeps only the deletion time)."""
    with sqlite3.connect(Path(path) / "runwatch.db") as conn:
        when = int((time.time() - days * 86400) * 1000)
        conn.execute("UPDATE runs SET deleted_time = ? WHERE id = ?", (when, run_id))
    conn.close()


def test_gc_older_than_lists_and_removes_exactly_the_old_enough_runs(capsys, store, monkeypatch):
    path, ids = store
    old, recent = ids[0], ids[1]
    for rid in (old, recent):
        run(capsys, "runs", "delete", rid, "--store", path)
    _age_deletion(path, old, days=3)
    names = {r.id: r.name for r in tracker_sdk.Store(path).search_runs(include_deleted=True)}

    monkeypatch.setattr(sys, "stdin", io.StringIO(""))  # no terminal to confirm on
    code, out, err = run(capsys, "gc", "--store", path, "--older-than", "1")
    assert code == 1
    line = one_error_line(err)
    assert "1 deleted run" in line and "nothing removed" in line and "--yes" in line
    assert names[old] in out and old[:8] in out
    assert names[recent] not in out and recent[:8] not in out
    assert len(tracker_sdk.Store(path).search_runs(include_deleted=True)) == 3

    code, out, _ = run(capsys, "gc", "--store", path, "--older-than", "1", "--yes")
    assert code == 0 and "Removed 1 run" in out and recent[:8] not in out
    left = {r.id for r in tracker_sdk.Store(path).search_runs(include_deleted=True)}
    assert old not in left and recent in left

    code, out, _ = run(capsys, "gc", "--store", path, "--older-than", "1")
    assert code == 0 and "Nothing to remove" in out


# --- 5. an unknown experiment is named --------------------------------------------------------------

@pytest.mark.parametrize("command", [("runs", "list"), ("export", "runs")])
def test_an_unknown_experiment_is_named_with_the_ones_that_exist(capsys, store, command):
    path, _ = store
    code, _, err = run(capsys, *command, "--store", path, "-e", "alpha", "-e", "typo")
    assert code == 1
    assert one_error_line(err) == "runwatch: error: no experiment named 'typo'; experiments in this store: alpha, beta"


# --- 7. hostile filters and order-by: one line, never a traceback ------------------------------------

HOSTILE = {
    "nested parentheses": ["-f", "(" * 1000 + "metrics.loss > 0" + ")" * 1000],
    "nested nots": ["-f", "not " * 1000 + "metrics.loss > 0"],
    "an OR of 1200 terms": ["-f", " or ".join(f"params.p = {i}" for i in range(1200))],
    "a lone surrogate": ["-f", "name = '\ud800'"],
    "undecodable argv bytes": ["-f", "name = '\udcff'"],
}


def _no_traceback(code: int, out: str, err: str) -> None:
    """Either an answer, or one error line and nothing on stdout; never a traceback."""
    assert "Traceback" not in err
    if code != 0:
        assert code == 1 and not out
        one_error_line(err)


@pytest.mark.parametrize("name", sorted(HOSTILE))
@pytest.mark.parametrize("command", [("runs", "list"), ("export", "runs")])
def test_hostile_filters_give_an_answer_or_one_error_line(capsys, store, command, name):
    path, _ = store
    _no_traceback(*run(capsys, *command, "--store", path, *HOSTILE[name]))


def test_five_thousand_order_by_keys_give_an_answer_or_one_error_line(capsys, store):
    path, _ = store
    argv = [f"--order-by=params.p{i}" for i in range(5000)]
    _no_traceback(*run(capsys, "runs", "list", "--store", path, *argv))


def test_an_unexpected_error_is_one_line_with_a_hint_and_a_traceback_on_request(capsys, store, monkeypatch):
    import app.commands.runs

    def broken(args):
        raise RuntimeError("something broke\n[SQL: SELECT 1]")

    monkeypatch.setattr(app.commands.runs, "cmd_experiments", broken)
    monkeypatch.delenv("RUNWATCH_DEBUG", raising=False)
    code, _, err = run(capsys, "experiments", "--store", store[0])
    assert code == 1
    line = one_error_line(err)
    assert "RuntimeError" in line and "something broke" in line and "RUNWATCH_DEBUG=1" in line
    assert "SQL" not in line  # the first line of the message, not what a library appends
    monkeypatch.setenv("RUNWATCH_DEBUG", "1")
    code, _, err = run(capsys, "experiments", "--store", store[0])
    assert code == 1 and "Traceback" in err and "RuntimeError: something" in err


# --- 6. demo names the command the user can type -----------------------------------------------------

def _launcher(folder: Path) -> Path:
    """A ``runwatch`` console script like pip's, in a folder of its own (a venv's bin/)."""
    folder.mkdir()
    script = folder / "runwatch"
    script.write_text(f"#!{sys.executable}\nimport sys\nfrom app.cli import main\nsys.exit(main())\n")
    script.chmod(0o755)
    return script


def _demo_output(cwd: Path, path_var: str, store: str) -> str:
    env = {**os.environ, "PATH": path_var, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    argv = [str(Path("venv-bin") / "runwatch"), "demo", "--store", store, "--runs", "1", "--steps", "10"]
    done = subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_demo_names_the_command_by_the_path_it_was_started_from_when_path_lacks_it(tmp_path):
    script = _launcher(tmp_path / "venv-bin")
    out = _demo_output(tmp_path, os.defpath, "d1")
    assert f"Open it:     venv-bin/runwatch ui {tmp_path / 'd1'}\n" in out
    assert f"List runs:   venv-bin/runwatch runs list --store {tmp_path / 'd1'}\n" in out
    out = _demo_output(tmp_path, f"{script.parent}{os.pathsep}{os.defpath}", "d2")
    assert f"Open it:     runwatch ui {tmp_path / 'd2'}\n" in out

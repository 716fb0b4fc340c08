"""``runwatch import`` and the read commands on an MLflow database written by real MLflow."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "sdk"))
from mlflow_fixtures import COURSE_SCRIPT, needs_mlflow, run_mlflow  # noqa: E402

from app.cli import main  # noqa: E402

pytestmark = needs_mlflow


@pytest.fixture(scope="module")
def course_db(tmp_path_factory) -> Path:
    work = tmp_path_factory.mktemp("cli-mlflow")
    run_mlflow(COURSE_SCRIPT, work)
    return work / "mlflow.db"


def test_import_twice_then_list(capsys, course_db, tmp_path) -> None:
    target = tmp_path / "rw"
    assert main(["import", "mlflow", f"sqlite:///{course_db}", "--store", str(target)]) == 0
    out = " ".join(capsys.readouterr().out.split())
    assert "Imported 6 runs, 109 new of 109 points and 2 artifact files" in out
    assert main(["--store", str(target), "import", "mlflow", str(course_db)]) == 0
    assert "0 new of 109 points" in capsys.readouterr().out
    assert main(["runs", "list", "--store", str(target)]) == 0
    listed = capsys.readouterr().out
    assert "alpha-0.1" in listed and "└" in listed  # nested under the sweep


def test_read_commands_take_the_mlflow_database_itself_and_never_write_it(capsys, course_db) -> None:
    import hashlib

    before = hashlib.sha256(course_db.read_bytes()).hexdigest()
    assert main(["runs", "list", "--store", f"sqlite:///{course_db}"]) == 0
    assert "alpha-0.5" in capsys.readouterr().out
    assert main(["doctor", "--store", str(course_db)]) == 0
    assert "read-only" in capsys.readouterr().out
    assert main(["export", "runs", "--store", str(course_db)]) == 0
    assert "alpha-0.1" in capsys.readouterr().out
    import tracker_sdk

    store = tracker_sdk.open_store(course_db)
    run_id = store.search_runs()[0].id
    store.close()
    capsys.readouterr()
    assert main(["runs", "delete", "--store", str(course_db), run_id]) != 0
    assert "read-only MLflow store" in capsys.readouterr().err  # refused, in one line
    assert hashlib.sha256(course_db.read_bytes()).hexdigest() == before
    assert sorted(p.name for p in course_db.parent.iterdir() if p.name.startswith("mlflow.db")) == ["mlflow.db"]


def test_importing_the_wrong_kind_is_one_line(capsys, course_db, tmp_path) -> None:
    assert main(["import", "tensorboard", str(course_db), "--store", str(tmp_path / "rw")]) != 0
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "runwatch import mlflow" in err

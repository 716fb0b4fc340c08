"""``runwatch models ...``: the model registry from the command line (in-process, with capsys)."""

from __future__ import annotations

import hashlib
import io
import sys
from pathlib import Path

import pytest

import tracker_sdk

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "sdk"))
from mlflow_fixtures import REGISTRY_SCRIPT, needs_mlflow, run_mlflow  # noqa: E402
from sdk_helpers import close_sdk_state  # noqa: E402
from test_cli import one_error_line, run  # noqa: E402


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.fixture
def store(tmp_path):
    """A store with two runs, each with a logged model; the first registered as taxi v1."""
    path = tmp_path / "store"
    ids = []
    for name in ("first-fit", "second-fit"):
        src = tmp_path / f"{name}.bin"
        src.write_text(name)
        with tracker_sdk.init(store=path, name=name) as r:
            r.log_model(src, registered_model_name="taxi" if name == "first-fit" else None)
        ids.append(r.id)
    yield str(path), ids
    close_sdk_state()


def test_list_and_show_a_registry(capsys, store) -> None:
    path, (first, second) = store
    st = tracker_sdk.Store(path)
    st.register_model(f"runs:/{second}/model", "taxi", description="lower rmse", tags={"validated": "yes"})
    st.set_model_alias("taxi", "champion", 2)
    st.transition_model_version_stage("taxi", 1, "Production")
    st.update_registered_model("taxi", "trip durations")
    code, out, _ = run(capsys, "models", "list", "--store", path)
    assert code == 0
    row = next(line for line in out.splitlines() if line.startswith("taxi"))
    assert "v2" in row and "@champion → v2" in row and "trip durations" in row
    assert run(capsys, "models", "--store", path)[1] == out  # models alone = models list

    code, out, _ = run(capsys, "models", "show", "taxi", "--store", path)
    assert code == 0 and "trip durations" in out
    rows = {line.split()[0]: line for line in out.splitlines() if line.strip()[:1].isdigit()}
    assert "Production" in rows["1"] and f"first-fit ({first[:8]})" in rows["1"]
    assert "champion" in rows["2"] and f"second-fit ({second[:8]})" in rows["2"]
    assert "lower rmse" in rows["2"] and "validated=yes" in rows["2"] and "READY" in rows["2"]


def test_an_empty_registry_says_how_to_register(capsys, tmp_path) -> None:
    with tracker_sdk.init(store=tmp_path / "s") as r:
        r.log({"x": 1.0})
    code, out, _ = run(capsys, "models", "list", "--store", str(tmp_path / "s"))
    assert code == 0 and "No registered models" in out and "runwatch models register" in out


def test_register_alias_and_stage(capsys, store) -> None:
    path, (first, second) = store
    code, out, _ = run(capsys, "models", "register", f"runs:/{second[:8]}/model", "taxi", "--store", path)
    assert code == 0 and "Registered taxi version 2" in out and "second-fit" in out
    assert run(capsys, "models", "alias", "taxi", "champion", "1", "--store", path)[0] == 0
    code, out, _ = run(capsys, "models", "alias", "taxi", "champion", "2", "--store", path)
    assert code == 0 and "moved from version 1" in out
    st = tracker_sdk.Store(path)
    assert st.get_registered_model("taxi").aliases == {"champion": 2}

    assert run(capsys, "models", "stage", "taxi", "1", "production", "--store", path)[0] == 0
    code, out, _ = run(capsys, "models", "stage", "taxi", "2", "Production", "--archive-existing", "--store", path)
    assert code == 0 and "archived version 1" in out
    assert {v.version: v.stage for v in st.get_registered_model("taxi").versions} == {1: "Archived", 2: "Production"}

    code, out, _ = run(capsys, "models", "alias", "taxi", "champion", "--delete", "--store", path)
    assert code == 0 and "was version 2" in out and st.get_registered_model("taxi").aliases == {}


@pytest.mark.parametrize("argv, message", [
    (["models", "show", "taxo"], "no registered model named 'taxo' in .*; models: taxi"),
    (["models", "alias", "taxi", "champion"], "give the VERSION"),
    (["models", "alias", "taxi", "champion", "--delete"], "has no alias 'champion'; it has no aliases yet"),
    (["models", "alias", "taxi", "latest", "1"], "reserved"),
    (["models", "stage", "taxi", "1", "prod"], "not one of None, Staging, Production, Archived"),
    (["models", "stage", "taxi", "5", "Staging"], "has no version 5; its versions: 1"),
    (["models", "register", "runs:/ffff0000/model", "taxi"], "no run with id 'ffff0000'"),
    (["models", "register", "taxi", "x"], "'taxi' is neither a model URI nor an existing file or folder"),
    (["models", "delete", "taxi", "3", "--yes"], "has no version 3"),
])
def test_mistakes_are_one_line_naming_what_exists(capsys, store, argv, message) -> None:
    import re

    path, _ = store
    code, _, err = run(capsys, *argv, "--store", path)
    assert code == 1 and re.search(message, one_error_line(err))
    assert [v.version for v in tracker_sdk.Store(path).get_registered_model("taxi").versions] == [1]


def test_delete_asks_on_a_terminal_and_refuses_without_one(capsys, store, monkeypatch) -> None:
    path, (first, second) = store
    st = tracker_sdk.Store(path)
    st.register_model(f"runs:/{second}/model", "taxi")
    monkeypatch.setattr(sys, "stdin", io.StringIO(""))
    code, _, err = run(capsys, "models", "delete", "taxi", "--store", path)
    assert code == 1 and "--yes" in one_error_line(err) and "nothing removed" in err
    monkeypatch.setattr(sys, "stdin", _Terminal("n\n"))
    code, out, _ = run(capsys, "models", "delete", "taxi", "2", "--store", path)
    assert code == 0 and "Nothing removed" in out
    monkeypatch.setattr(sys, "stdin", _Terminal("y\n"))
    code, out, _ = run(capsys, "models", "delete", "taxi", "2", "--store", path)
    assert code == 0 and "Removed version 2" in out
    assert [v.version for v in st.get_registered_model("taxi").versions] == [1]
    code, out, _ = run(capsys, "models", "delete", "taxi", "--yes", "--store", path)
    assert code == 0 and st.registered_models() == []
    assert st.get_run(first).name == "first-fit"  # the runs stay


@needs_mlflow
def test_an_mlflow_store_shows_its_registry_and_refuses_edits(capsys, tmp_path, monkeypatch) -> None:
    run_mlflow(REGISTRY_SCRIPT, tmp_path)
    db = tmp_path / "mlflow.db"
    digest = hashlib.sha256(db.read_bytes()).hexdigest()
    code, out, _ = run(capsys, "models", "show", "wine-quality", "--store", str(db))
    assert code == 0 and "first-fit" in out and "champion" in out and "Production" in out
    monkeypatch.setattr(sys, "stdin", _Terminal(""))  # a question asked would hit end of input
    for argv in (["models", "alias", "wine-quality", "best", "1"], ["models", "stage", "wine-quality", "2", "Staging"],
                 ["models", "delete", "wine-quality"], ["models", "register", "models:/wine-quality/1", "copy"]):
        code, _, err = run(capsys, *argv, "--store", str(db))
        assert code == 1 and "read-only MLflow store" in one_error_line(err), argv
    assert hashlib.sha256(db.read_bytes()).hexdigest() == digest

"""The model registry on a Runwatch store: registering, aliases, stages, URIs, deletes."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from mlflow_fixtures import REGISTRY_SCRIPT, needs_mlflow, run_mlflow

import tracker_sdk
from tracker_sdk import ModelExistsError, ModelNotFoundError, StoreError, ValidationError
from tracker_sdk.model_uri import resolve

pytestmark = pytest.mark.usefixtures("in_tmp_dir")


def _logged(store_path: Path, name: str = "fit", registered: str | None = None, content: str = "weights") -> str:
    """A finished run holding a small model file under models/model; its id."""
    src = Path(f"{name}.bin")
    src.write_text(content)
    with tracker_sdk.init(store=store_path, name=name) as run:
        run.log({"rmse": 0.5})
        run.log_model(src, name="model", registered_model_name=registered)
    return run.id


def _numbers(st: tracker_sdk.Store, name: str) -> list[int]:
    return [v.version for v in st.get_registered_model(name).versions]


# --- registering --------------------------------------------------------------------------------------

def test_log_model_registers_numbered_versions_linked_to_their_runs(store_path, open_store) -> None:
    first = _logged(store_path, "first", registered="taxi")
    second = _logged(store_path, "second", registered="taxi")
    st = open_store(store_path)
    model = st.get_registered_model("taxi")
    assert [v.version for v in model.versions] == [2, 1] and model.latest.version == 2
    v2, v1 = model.versions
    assert (v1.run_id, v2.run_id) == (first, second)
    assert v1.source == f"runs:/{first}/models/model" and v1.status == "READY" and v1.stage == "None"
    assert st.get_run(v2.run_id).name == "second"  # lineage: version -> run
    assert st.registered_models() == [model]


def test_register_by_uri_with_an_id_prefix_and_mlflow_style_path(store_path, open_store) -> None:
    rid = _logged(store_path)
    st = open_store(store_path)
    v = st.register_model(f"runs:/{rid[:8]}/model", "taxi", description="baseline", tags={"data": "2024-01"})
    assert (v.version, v.run_id, v.source) == (1, rid, f"runs:/{rid}/models/model")
    assert v.description == "baseline" and v.tags == {"data": "2024-01"}
    again = tracker_sdk.register_model("models:/taxi/1", "taxi-copy", store=store_path)
    assert (again.model, again.version, again.source, again.run_id) == ("taxi-copy", 1, v.source, rid)


def test_a_local_folder_registers_by_its_absolute_path_and_a_missing_one_is_refused(store_path, open_store) -> None:
    _logged(store_path)
    Path("exported").mkdir()
    Path("exported/model.bin").write_text("w")
    st = open_store(store_path)
    v = st.register_model("exported", "taxi")
    assert (v.source, v.run_id) == (str(Path("exported").resolve()), None)
    found = resolve(st, "models:/taxi/1")
    assert (found.local_path / "model.bin").read_text() == "w" and found.run_id is None
    with pytest.raises(ValidationError, match="'exportd' is neither a model URI nor an existing file or folder"):
        st.register_model("exportd", "taxi")
    assert _numbers(st, "taxi") == [1]


def test_module_register_model_uses_the_active_runs_store(store_path, open_store) -> None:
    Path("m.bin").write_text("w")
    with tracker_sdk.init(store=store_path) as run:
        run.log_model("m.bin")
        v = tracker_sdk.register_model(f"runs:/{run.id}/models/model", "taxi")
    assert v.version == 1 and open_store(store_path).get_model_version("taxi", "1").run_id == run.id


def test_register_model_at_a_mistyped_store_creates_nothing(tmp_path) -> None:
    with pytest.raises(tracker_sdk.StoreNotFoundError):
        tracker_sdk.register_model("runs:/abc/model", "taxi", store=tmp_path / "typo")
    assert not (tmp_path / "typo").exists()


def test_a_missing_run_or_artifact_registers_nothing(store_path, open_store) -> None:
    rid = _logged(store_path)
    st = open_store(store_path)
    with pytest.raises(tracker_sdk.RunNotFoundError):
        st.register_model("runs:/0000ffff/model", "taxi")
    with pytest.raises(ModelNotFoundError, match=r"has no artifact 'modle'; its models: model"):
        st.register_model(f"runs:/{rid}/modle", "taxi")
    assert st.registered_models() == []


def test_bad_names_are_refused_before_anything_is_stored(store_path, open_store) -> None:
    rid = _logged(store_path)
    st = open_store(store_path)
    for bad in ("", "  ", "a/b", "a:b", ".", "..", "x" * 257):
        with pytest.raises(ValidationError):
            st.register_model(f"runs:/{rid}/model", bad)
    Path("other.bin").write_text("w")
    with tracker_sdk.init(store=store_path) as run:
        with pytest.raises(ValidationError, match="'/'"):
            run.log_model("other.bin", name="other", registered_model_name="a/b")
    assert st.list_artifacts(run.id, "models") == []  # the model was not copied either
    assert st.registered_models() == []


def test_create_model_twice_is_refused_and_descriptions_and_tags_edit(store_path, open_store) -> None:
    rid = _logged(store_path)
    st = open_store(store_path)
    st.create_model("taxi", description="trip durations", tags={"team": "ml"})
    with pytest.raises(ModelExistsError, match="already exists"):
        st.create_model("taxi")
    st.register_model(f"runs:/{rid}/model", "taxi")
    assert st.update_registered_model("taxi", description="v2").description == "v2"
    assert st.update_model_version("taxi", 1, description="first").description == "first"
    st.set_registered_model_tag("taxi", "owner", "ana")
    st.delete_registered_model_tag("taxi", "team")
    st.set_model_version_tag("taxi", 1, "validated", "yes")
    st.set_model_version_tag("taxi", 1, "gone", "soon")
    st.delete_model_version_tag("taxi", 1, "gone")
    model = st.get_registered_model("taxi")
    assert model.tags == {"owner": "ana"} and model.versions[0].tags == {"validated": "yes"}


def test_two_processes_registering_at_once_get_distinct_numbers(store_path, tmp_path, spawn, open_store) -> None:
    rid = _logged(store_path)
    go = tmp_path / "go"
    code = f"""
import os, time, tracker_sdk
st = tracker_sdk.Store({str(store_path)!r})
print("ready", flush=True)
while not os.path.exists({str(go)!r}):
    time.sleep(0.005)
got = [st.register_model("runs:/{rid}/model", "taxi").version for _ in range(15)]
print("got", *got, flush=True)
"""
    children = [spawn(code), spawn(code)]
    for child in children:
        child.wait_for_line("ready", timeout=60)
    go.touch()
    got = []
    for child in children:
        assert child.wait(timeout=120) == 0, child.finish_output()
        got.append([int(x) for x in child.wait_for_line("got").split()[1:]])
    assert sorted(got[0] + got[1]) == list(range(1, 31))  # no number twice, none skipped
    assert got[0] == sorted(got[0]) and got[1] == sorted(got[1])
    assert sorted(_numbers(open_store(store_path), "taxi")) == list(range(1, 31))


# --- aliases and stages ---------------------------------------------------------------------------------

def test_an_alias_moves_from_one_version_to_another(store_path, open_store) -> None:
    rid = _logged(store_path)
    st = open_store(store_path)
    for _ in range(2):
        st.register_model(f"runs:/{rid}/model", "taxi")
    st.register_model(f"runs:/{rid}/model", "other")
    st.set_model_alias("taxi", "champion", 1)
    st.set_model_alias("other", "champion", 1)  # the same alias on another model is another alias
    moved = st.set_model_alias("taxi", "champion", "2")
    assert moved.version == 2 and moved.aliases == ("champion",)
    model = st.get_registered_model("taxi")
    assert model.aliases == {"champion": 2} and model.versions[1].aliases == ()
    assert st.get_model_version_by_alias("taxi", "champion").version == 2
    assert st.get_registered_model("other").aliases == {"champion": 1}
    with pytest.raises(ModelNotFoundError, match=r"has no version 7; its versions: 1, 2"):
        st.set_model_alias("taxi", "champion", 7)
    for reserved in ("latest", "v3", "has space"):
        with pytest.raises(ValidationError):
            st.set_model_alias("taxi", reserved, 1)
    st.delete_model_alias("taxi", "champion")
    with pytest.raises(ModelNotFoundError, match=r"no alias 'champion'; it has no aliases yet"):
        st.get_model_version_by_alias("taxi", "champion")
    with pytest.raises(ModelNotFoundError, match="no alias 'champion'"):
        st.delete_model_alias("taxi", "champion")


def test_stages_follow_mlflow_with_archive_existing_versions(store_path, open_store) -> None:
    rid = _logged(store_path)
    st = open_store(store_path)
    for _ in range(3):
        st.register_model(f"runs:/{rid}/model", "taxi")
    assert st.transition_model_version_stage("taxi", 1, "production").stage == "Production"
    st.transition_model_version_stage("taxi", 2, "PRODUCTION")
    stages = {v.version: v.stage for v in st.get_registered_model("taxi").versions}
    assert stages == {1: "Production", 2: "Production", 3: "None"}
    assert [v.version for v in st.latest_versions("taxi", ["Production"])] == [2]
    st.transition_model_version_stage("taxi", 3, "Production", archive_existing_versions=True)
    stages = {v.version: v.stage for v in st.get_registered_model("taxi").versions}
    assert stages == {1: "Archived", 2: "Archived", 3: "Production"}
    st.transition_model_version_stage("taxi", 1, "staging")
    assert [(v.version, v.stage) for v in st.latest_versions("taxi")] == [(3, "Production"), (2, "Archived"),
                                                                            (1, "Staging")]
    assert st.latest_versions("taxi", ["none"]) == []
    with pytest.raises(ValidationError, match="archive"):
        st.transition_model_version_stage("taxi", 1, "Archived", archive_existing_versions=True)
    with pytest.raises(ValidationError, match="not one of None, Staging, Production, Archived"):
        st.transition_model_version_stage("taxi", 1, "prod")
    assert st.transition_model_version_stage("taxi", 1, None).stage == "None"


# --- URIs ------------------------------------------------------------------------------------------------

def test_every_uri_form_resolves_to_the_models_files(store_path, open_store) -> None:
    first = _logged(store_path, "first", registered="taxi", content="one")
    second = _logged(store_path, "second", registered="taxi", content="two")
    st = open_store(store_path)
    st.transition_model_version_stage("taxi", 1, "Production")
    st.transition_model_version_stage("taxi", 2, "Staging")
    st.set_model_alias("taxi", "champion", 1)

    def content(uri: str) -> tuple[str, int | None]:
        found = resolve(st, uri)
        return (found.local_path / f"{'first' if found.run_id == first else 'second'}.bin").read_text(), \
            None if found.version is None else found.version.version

    assert content("models:/taxi/1") == ("one", 1)
    assert content("models:/taxi@champion") == ("one", 1)
    assert content("models:/taxi/Production") == ("one", 1)
    assert content("models:/taxi/staging") == ("two", 2)
    assert content("models:/taxi/latest") == ("two", 2)
    assert content(f"runs:/{second}/model") == ("two", None)
    found = resolve(st, f"runs:/{first[:10]}/models/model")
    assert (found.run_id, found.artifact_path) == (first, "models/model")
    assert found.local_path == st.artifact_path(first, "models/model")


@pytest.mark.parametrize("uri, error, message", [
    ("taxi", ValidationError, "is not a model URI; forms: runs:/"),
    ("models:/", ValidationError, "is not a model URI"),
    ("models:/taxi", ValidationError, "write models:/taxi/latest"),
    ("models:/taxi/1/2", ValidationError, "is not a model URI"),
    ("models:/taxi/prod", ValidationError, "an alias goes after '@': models:/taxi@prod"),
    ("runs:/abc", ValidationError, "names no artifact"),
    ("models:/nope/1", ModelNotFoundError, "no registered model named 'nope' in .*; models: taxi"),
    ("models:/taxi/9", ModelNotFoundError, "has no version 9; its versions: 1"),
    ("models:/taxi@best", ModelNotFoundError, "has no alias 'best'; its aliases: champion \\(v1\\)"),
    ("models:/taxi/Production", ModelNotFoundError, "no version in stage Production; its versions: v1 None"),
])
def test_bad_uris_say_what_exists(store_path, open_store, uri, error, message) -> None:
    _logged(store_path, registered="taxi")
    st = open_store(store_path)
    st.set_model_alias("taxi", "champion", 1)
    with pytest.raises(error, match=message) as caught:
        resolve(st, uri)
    assert "\n" not in str(caught.value)


# --- deletes and the change cursor ----------------------------------------------------------------------

def test_deletes_cascade_and_never_reuse_a_version_number(store_path, open_store) -> None:
    rid = _logged(store_path)
    st = open_store(store_path)
    for _ in range(3):
        st.register_model(f"runs:/{rid}/model", "taxi", tags={"k": "v"})
    st.set_model_alias("taxi", "champion", 3)
    st.set_model_alias("taxi", "backup", 2)
    st.delete_model_version("taxi", 3)
    model = st.get_registered_model("taxi")
    assert [v.version for v in model.versions] == [2, 1] and model.aliases == {"backup": 2}
    assert st.register_model(f"runs:/{rid}/model", "taxi").version == 4  # not 3 again
    with pytest.raises(ModelNotFoundError, match="has no version 3; its versions: 1, 2, 4"):
        st.get_model_version("taxi", 3)
    st.delete_registered_model("taxi")
    assert st.registered_models() == []
    with pytest.raises(ModelNotFoundError, match="no models are registered there yet"):
        st.get_registered_model("taxi")
    assert st.register_model(f"runs:/{rid}/model", "taxi").version == 1  # a new model starts again
    assert st.artifact_path(rid, "models/model").is_dir() and st.get_run(rid).name == "fit"  # the run stays


def test_every_registry_change_moves_the_change_cursor(store_path, open_store) -> None:
    rid = _logged(store_path)
    st = open_store(store_path)
    edits = [
        lambda: st.create_model("taxi"),
        lambda: st.register_model(f"runs:/{rid}/model", "taxi"),
        lambda: st.set_model_alias("taxi", "champion", 1),
        lambda: st.delete_model_alias("taxi", "champion"),
        lambda: st.transition_model_version_stage("taxi", 1, "Staging"),
        lambda: st.update_registered_model("taxi", "d"),
        lambda: st.update_model_version("taxi", 1, "d"),
        lambda: st.set_registered_model_tag("taxi", "k", "v"),
        lambda: st.delete_registered_model_tag("taxi", "k"),
        lambda: st.set_model_version_tag("taxi", 1, "k", "v"),
        lambda: st.delete_model_version_tag("taxi", 1, "k"),
        lambda: st.delete_model_version("taxi", 1),
        lambda: st.delete_registered_model("taxi"),
    ]
    for edit in edits:
        before = st.cursor()
        edit()
        assert st.changes_since(before).cursor > before


def test_an_unknown_model_is_an_error_for_every_edit(store_path, open_store) -> None:
    _logged(store_path, registered="taxi")
    st = open_store(store_path)
    for edit in (lambda: st.set_model_alias("taxo", "a", 1), lambda: st.delete_registered_model("taxo"),
                 lambda: st.transition_model_version_stage("taxo", 1, "Staging"),
                 lambda: st.set_registered_model_tag("taxo", "k", "v"), lambda: st.delete_model_version("taxo", 1),
                 lambda: st.update_registered_model("taxo", "d")):
        with pytest.raises(ModelNotFoundError, match="no registered model named 'taxo' .*; models: taxi"):
            edit()


# --- a foreign store opened in place ----------------------------------------------------------------------

@needs_mlflow
def test_an_mlflow_store_reads_but_refuses_every_registry_edit(tmp_path) -> None:
    work = tmp_path / "mlflow"
    work.mkdir()
    run_mlflow(REGISTRY_SCRIPT, work)
    db = work / "mlflow.db"
    digest = hashlib.sha256(db.read_bytes()).hexdigest()
    st = tracker_sdk.open_store(db)
    try:
        st.sync_all()
        assert st.get_model_version_by_alias("wine-quality", "champion").version == 2
        assert [v.version for v in st.latest_versions("wine-quality", ["production"])] == [1]
        edits = [
            lambda: st.create_model("new"),
            lambda: st.register_model("models:/wine-quality/1", "wine-quality"),
            lambda: st.set_model_alias("wine-quality", "champion", 1),
            lambda: st.delete_model_alias("wine-quality", "champion"),
            lambda: st.transition_model_version_stage("wine-quality", 2, "Production"),
            lambda: st.update_registered_model("wine-quality", "x"),
            lambda: st.update_model_version("wine-quality", 1, "x"),
            lambda: st.set_registered_model_tag("wine-quality", "k", "v"),
            lambda: st.set_model_version_tag("wine-quality", 1, "k", "v"),
            lambda: st.delete_model_version("wine-quality", 1),
            lambda: st.delete_registered_model("wine-quality"),
        ]
        for edit in edits:
            with pytest.raises(StoreError, match="read-only MLflow store"):
                edit()
        assert st.get_registered_model("wine-quality").aliases == {"champion": 2}
    finally:
        st.close()
    assert hashlib.sha256(db.read_bytes()).hexdigest() == digest

"""MLflow's model registry, as the course's registry steps leave it, read in place."""

from __future__ import annotations

import pytest
from mlflow_fixtures import MLFLOW_VERSIONS, REGISTRY_SCRIPT, needs_mlflow, run_mlflow

import tracker_sdk

pytestmark = needs_mlflow


@pytest.fixture(scope="module", params=MLFLOW_VERSIONS)
def registry_db(request, tmp_path_factory):
    work = tmp_path_factory.mktemp("mlflow-registry")
    run_mlflow(REGISTRY_SCRIPT, work, python=request.param)
    return work / "mlflow.db"


def test_models_versions_stages_aliases_and_lineage(registry_db) -> None:
    st = tracker_sdk.open_store(registry_db)
    try:
        (model,) = st.registered_models()
        assert model.name == "wine-quality" and model.description == "predicts wine quality"
        assert [v.version for v in model.versions] == [2, 1] and model.latest.version == 2
        v2, v1 = model.versions
        assert v1.stage == "Production" and v2.stage == "None"
        assert model.aliases == {"champion": 2} and v2.aliases == ("champion",) and v1.aliases == ()
        assert v2.description == "lower rmse" and v2.tags == {"validated": "yes"}
        assert v1.status == v2.status == "READY"
        runs = {r.id: r for r in st.search_runs()}
        assert runs[v1.run_id].name == "first-fit" and runs[v2.run_id].name == "second-fit"
        assert runs[v2.run_id].metrics["rmse"].last == 0.6  # version -> run -> metrics
    finally:
        st.close()


def test_an_import_copies_the_registry_and_again_changes_nothing(registry_db, tmp_path) -> None:
    from tracker_sdk.sources import import_store

    target = tmp_path / "runwatch"
    first = import_store(registry_db, target)
    assert first.models == 1
    source = tracker_sdk.open_store(registry_db)
    imported = tracker_sdk.Store(target)
    try:
        assert imported.registered_models() == source.registered_models()
        (model,) = imported.registered_models()
        assert model.aliases == {"champion": 2} and model.versions[1].stage == "Production"
        runs = {r.id: r.name for r in imported.search_runs()}
        assert [runs[v.run_id] for v in model.versions] == ["second-fit", "first-fit"]  # lineage kept
        before = imported.registered_models()
    finally:
        source.close()
        imported.close()
    import_store(registry_db, target)
    again = tracker_sdk.Store(target)
    try:
        assert again.registered_models() == before
    finally:
        again.close()


def test_a_new_runwatch_store_has_an_empty_registry(tmp_path) -> None:
    with tracker_sdk.init(store=tmp_path / "s") as run:
        run.log({"x": 1.0})
    assert tracker_sdk.Store(tmp_path / "s").registered_models() == []

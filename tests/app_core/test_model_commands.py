"""The Models page's edits as commands: do then undo leaves the registry as it was."""

from __future__ import annotations

import pytest

import tracker_sdk
from app.core.commands import EditVersionDescription, RemoveModelAlias, SetModelAlias, SetStage


@pytest.fixture()
def store(tmp_path):
    """A store with model "taxi" at versions 1..3 (v1 Production, v2 Staging, @champion → v1)."""
    path = tmp_path / "s"
    with tracker_sdk.init(store=path, name="trained") as run:
        (tmp_path / "weights.bin").write_bytes(b"\0" * 16)
        run.log_model(tmp_path / "weights.bin", name="model")
    s = tracker_sdk.Store(path)
    for _ in range(3):
        s.register_model(f"runs:/{run.id}/model", "taxi", description="fit")
    s.transition_model_version_stage("taxi", 1, "Production")
    s.transition_model_version_stage("taxi", 2, "Staging")
    s.set_model_alias("taxi", "champion", 1)
    yield s
    s.close()


def registry(store) -> tuple:
    m = store.get_registered_model("taxi")
    return dict(m.aliases), {v.version: (v.stage, v.description) for v in m.versions}


def test_setting_a_new_alias_then_undo_removes_it(store):
    before = registry(store)
    command = SetModelAlias("Set @candidate", "taxi", "candidate", 3, None)
    command.do(store)
    assert store.get_model_version_by_alias("taxi", "candidate").version == 3
    command.undo(store)
    assert registry(store) == before


def test_moving_an_alias_then_undo_points_it_back(store):
    before = registry(store)
    command = SetModelAlias("Move @champion", "taxi", "champion", 3, 1)
    command.do(store)
    assert store.get_registered_model("taxi").aliases == {"champion": 3}
    command.undo(store)
    assert registry(store) == before


def test_removing_an_alias_then_undo_restores_it(store):
    before = registry(store)
    command = RemoveModelAlias("Remove @champion", "taxi", "champion", 1)
    command.do(store)
    assert store.get_registered_model("taxi").aliases == {}
    command.undo(store)
    assert registry(store) == before


def test_a_stage_with_archive_existing_undoes_every_version_it_moved(store):
    before = registry(store)
    command = SetStage.of("Production", store.get_registered_model("taxi"), 3, "Production", archive_existing=True)
    assert command.before == {1: "Production", 3: "None"}
    command.do(store)
    stages = {v: s for v, (s, _) in registry(store)[1].items()}
    assert stages == {1: "Archived", 2: "Staging", 3: "Production"}
    command.undo(store)
    assert registry(store) == before


def test_a_stage_without_archive_moves_only_that_version(store):
    before = registry(store)
    command = SetStage.of("Staging", store.get_registered_model("taxi"), 1, "Staging", archive_existing=False)
    command.do(store)
    stages = {v: s for v, (s, _) in registry(store)[1].items()}
    assert stages == {1: "Staging", 2: "Staging", 3: "None"}
    command.undo(store)
    assert registry(store) == before


def test_archive_existing_applies_only_to_staging_and_production(store):
    """As in MLflow: archiving a version never archives the other versions."""
    command = SetStage.of("Archive", store.get_registered_model("taxi"), 3, "Archived", archive_existing=True)
    assert command.before == {3: "None"} and not command.archive_existing
    command.do(store)
    assert {v: s for v, (s, _) in registry(store)[1].items()} == {1: "Production", 2: "Staging", 3: "Archived"}


def test_editing_a_description_then_undo_restores_the_old_text(store):
    before = registry(store)
    command = EditVersionDescription("Describe v2", "taxi", 2, "fit", "lower rmse\non March data")
    command.do(store)
    assert store.get_model_version("taxi", 2).description == "lower rmse\non March data"
    command.undo(store)
    assert registry(store) == before

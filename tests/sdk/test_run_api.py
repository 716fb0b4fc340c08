"""The logging API as a training script uses it: init, log, params, tags, finish, statuses."""

from __future__ import annotations

import math
import warnings
from pathlib import Path

import numpy as np
import pytest

import tracker_sdk
from tracker_sdk import (
    ArtifactPathError,
    ParamConflictError,
    RunNotFoundError,
    RunStateError,
    RunStatus,
    ValidationError,
)

pytestmark = pytest.mark.usefixtures("in_tmp_dir")


def test_init_log_finish_round_trip(store_path: Path, open_store) -> None:
    run = tracker_sdk.init(experiment="mnist", name="first", config={"lr": 0.001, "epochs": 3},
                           tags={"team": "vision"}, notes="baseline", store=store_path)
    for step in range(5):
        run.log({"train/loss": 1.0 / (step + 1), "train/acc": step / 10}, step=step)
    assert run.finish() is True

    info = open_store(store_path).get_run(run.id)
    assert info.name == "first"
    assert info.experiment == "mnist"
    assert info.status is RunStatus.FINISHED
    assert info.end_time is not None and info.end_time >= info.start_time
    assert info.params == {"lr": "0.001", "epochs": "3"}
    assert info.tags["team"] == "vision"
    assert info.note == "baseline"
    assert set(info.metrics) == {"train/loss", "train/acc"}
    loss = info.metrics["train/loss"]
    assert (loss.last, loss.last_step, loss.min, loss.max, loss.count) == (0.2, 4, 0.2, 1.0, 5)
    assert [e.name for e in open_store(store_path).experiments()] == ["mnist"]


def test_default_name_and_experiment(store_path: Path, open_store) -> None:
    with tracker_sdk.init(store=store_path) as run:
        pass
    info = open_store(store_path).get_run(run.id)
    assert info.experiment == "Default"
    assert info.name and info.name == run.name


def test_with_block_marks_the_run_finished(store_path: Path, open_store) -> None:
    with tracker_sdk.init(store=store_path) as run:
        run.log({"x": 1.0})
    assert run.finished
    assert open_store(store_path).get_run(run.id).status is RunStatus.FINISHED


def test_exception_in_with_block_marks_the_run_failed_and_propagates(store_path: Path, open_store) -> None:
    with pytest.raises(ZeroDivisionError):
        with tracker_sdk.init(store=store_path) as run:
            run.log({"x": 1.0})
            1 / 0  # noqa: B018
    info = open_store(store_path).get_run(run.id)
    assert info.status is RunStatus.FAILED
    assert info.metrics["x"].count == 1  # what was logged before the error is kept


def test_keyboard_interrupt_in_with_block_marks_the_run_killed(store_path: Path, open_store) -> None:
    with pytest.raises(KeyboardInterrupt):
        with tracker_sdk.init(store=store_path) as run:
            run.log({"x": 1.0})
            raise KeyboardInterrupt
    info = open_store(store_path).get_run(run.id)
    assert info.status is RunStatus.KILLED
    assert info.metrics["x"].count == 1


def test_finish_with_an_explicit_status(store_path: Path, open_store) -> None:
    run = tracker_sdk.init(store=store_path)
    with pytest.raises(ValidationError, match="status must be one of"):
        run.finish("DONE")
    run.finish("failed")
    assert open_store(store_path).get_run(run.id).status is RunStatus.FAILED
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert run.finish() is True  # finishing twice is harmless and keeps the first status
        assert run.finish("FAILED") is True
    assert open_store(store_path).get_run(run.id).status is RunStatus.FAILED


def test_finishing_again_with_another_status_warns_and_keeps_the_first(store_path: Path, open_store) -> None:
    run = tracker_sdk.init(store=store_path, name="twice")
    run.finish()
    with pytest.warns(RuntimeWarning, match="'twice' already finished as FINISHED; finish.'FAILED'. is ignored"):
        assert run.finish("FAILED") is True
    assert open_store(store_path).get_run(run.id).status is RunStatus.FINISHED


def test_a_with_block_around_an_explicit_finish_keeps_it_quietly(store_path: Path, open_store) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with tracker_sdk.init(store=store_path) as run:
            run.finish("FAILED")  # e.g. the script decided the run failed, then left the block
    assert open_store(store_path).get_run(run.id).status is RunStatus.FAILED


def test_module_level_functions_act_on_the_active_run(store_path: Path, open_store) -> None:
    assert tracker_sdk.active_run() is None
    run = tracker_sdk.init(store=store_path)
    assert tracker_sdk.active_run() is run
    tracker_sdk.log({"loss": 0.5})
    tracker_sdk.log({"loss": 0.4})
    tracker_sdk.log_params({"lr": 0.1})
    tracker_sdk.set_tags({"stage": "dev"})
    assert tracker_sdk.finish() is True
    assert tracker_sdk.active_run() is None

    info = open_store(store_path).get_run(run.id)
    assert info.status is RunStatus.FINISHED
    assert info.params == {"lr": "0.1"}
    assert info.tags["stage"] == "dev"
    h = open_store(store_path).metric_history(run.id, "loss")
    assert h.steps.tolist() == [0, 1] and h.values.tolist() == [0.5, 0.4]


def test_active_run_is_the_most_recent_unfinished_one(store_path: Path) -> None:
    outer = tracker_sdk.init(store=store_path)
    inner = tracker_sdk.init(store=store_path, parent=outer)
    assert tracker_sdk.active_run() is inner
    inner.finish()
    assert tracker_sdk.active_run() is outer
    outer.finish()
    assert tracker_sdk.active_run() is None


def test_an_unknown_parent_is_refused(store_path: Path, tmp_path: Path, open_store) -> None:
    with pytest.raises(RunNotFoundError, match="parent run.*'no-such-run'"):
        tracker_sdk.init(store=store_path, parent="no-such-run")
    other = tracker_sdk.init(store=tmp_path / "other-store")
    with pytest.raises(ValidationError, match="parent run .* is in another store"):
        tracker_sdk.init(store=store_path, parent=other)
    assert tracker_sdk.active_run() is other
    assert not store_path.exists() or open_store(store_path).search_runs() == []
    parent = tracker_sdk.init(store=store_path)
    child = tracker_sdk.init(store=store_path, parent=parent.id[:8])  # a unique prefix, as elsewhere
    assert open_store(store_path).get_run(child.id).parent_id == parent.id


def test_log_before_init_names_the_fix() -> None:
    assert tracker_sdk.active_run() is None
    with pytest.raises(RunStateError, match=r"tracker_sdk\.init\(\)"):
        tracker_sdk.log({"loss": 1.0})
    with pytest.raises(RunStateError, match="no active run"):
        tracker_sdk.log_params({"lr": 1})
    assert tracker_sdk.finish() is True  # finish without a run is a no-op


def test_log_after_finish_raises(store_path: Path) -> None:
    run = tracker_sdk.init(store=store_path, name="done-run")
    run.finish()
    with pytest.raises(RunStateError, match="done-run.*has finished"):
        run.log({"loss": 1.0})
    with pytest.raises(RunStateError, match="has finished"):
        run.log_params({"lr": 1})
    with pytest.raises(RunStateError, match="has finished"):
        run.set_tags({"a": "b"})
    with pytest.raises(RunStateError, match="has finished"):
        run.set_note("too late")
    with pytest.raises(RunStateError, match="no active run"):
        tracker_sdk.log({"loss": 1.0})


# --- params ---------------------------------------------------------------------------------

def test_nested_config_flattens_to_dotted_keys(store_path: Path, open_store) -> None:
    config = {"lr": 3e-4, "model": {"depth": 4, "act": "relu", "head": {"dropout": 0.1}},
              "optim": {}, "flag": True, "none": None, "ratio": 1.0}
    with tracker_sdk.init(store=store_path, config=config) as run:
        pass
    assert open_store(store_path).get_run(run.id).params == {
        "lr": "0.0003", "model.depth": "4", "model.act": "relu", "model.head.dropout": "0.1",
        "optim": "{}", "flag": "True", "none": "None", "ratio": "1.0"}


@pytest.mark.parametrize("config", [
    {"a": {"b": 1}, "a.b": 2},
    {"a.b": 2, "a": {"b": 1}},
    {"a": {"b": {"c": 1}}, "a.b": {"c": 2}},
])
def test_config_keys_that_collide_once_flattened_are_refused(store_path: Path, open_store, config: dict) -> None:
    with pytest.raises(ValidationError, match="'a.b(.c)?' is given twice"):
        tracker_sdk.init(store=store_path, config=config)
    run = tracker_sdk.init(store=store_path)
    with pytest.raises(ValidationError, match="given twice"):
        run.log_params(config)
    run.finish()
    assert [r.params for r in open_store(store_path).search_runs()] == [{}]  # no run took half of it


def test_params_are_immutable(store_path: Path, open_store) -> None:
    run = tracker_sdk.init(store=store_path, config={"lr": 0.1, "model": {"depth": 4}})
    run.log_params({"lr": 0.1})  # the same value again is fine
    run.log_params({"model": {"depth": 4}, "batch": 32})
    with pytest.raises(ParamConflictError, match="'lr'") as err:
        run.log_params({"lr": 0.2})
    assert "0.1" in str(err.value) and "0.2" in str(err.value)
    with pytest.raises(ParamConflictError, match="'model.depth'"):
        run.log_param("model.depth", 5)
    run.finish()
    assert open_store(store_path).get_run(run.id).params == {"lr": "0.1", "model.depth": "4", "batch": "32"}


def test_a_conflicting_batch_of_params_writes_none_of_it(store_path: Path, open_store) -> None:
    run = tracker_sdk.init(store=store_path, config={"lr": 0.1})
    with pytest.raises(ParamConflictError):
        run.log_params({"new": 1, "lr": 0.2})
    run.finish()
    assert open_store(store_path).get_run(run.id).params == {"lr": "0.1"}


# --- steps ----------------------------------------------------------------------------------

def test_steps_auto_increment_per_run(store_path: Path, open_store) -> None:
    a = tracker_sdk.init(store=store_path)
    b = tracker_sdk.init(store=store_path)
    for i in range(3):
        a.log({"x": float(i)})
    b.log({"x": 10.0})
    a.finish()
    b.finish()
    st = open_store(store_path)
    assert st.metric_history(a.id, "x").steps.tolist() == [0, 1, 2]
    assert st.metric_history(b.id, "x").steps.tolist() == [0]


def test_explicit_steps_and_auto_steps_mix(store_path: Path, open_store) -> None:
    with tracker_sdk.init(store=store_path) as run:
        run.log({"x": 1.0}, step=10)
        run.log({"x": 2.0})  # after an explicit step, counting carries on from it
        run.log({"x": 3.0}, step=5)  # going back is allowed and does not rewind the counter
        run.log({"x": 4.0})
        run.log({"x": 5.0}, step=np.int64(20))
        run.log({"x": 6.0}, step=21.0)
    h = open_store(store_path).metric_history(run.id, "x")
    assert h.steps.tolist() == [10, 11, 5, 12, 20, 21]
    assert h.values.tolist() == [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]


@pytest.mark.parametrize("bad", ["3", 1.5, "x", [1]])
def test_bad_steps_are_refused(store_path: Path, bad: object) -> None:
    run = tracker_sdk.init(store=store_path)
    with pytest.raises(ValidationError, match="step must be"):
        run.log({"x": 1.0}, step=bad)  # type: ignore[arg-type]


def test_several_values_at_one_step_are_all_kept(store_path: Path, open_store) -> None:
    with tracker_sdk.init(store=store_path) as run:
        run.log({"x": 1.0}, step=3)
        run.log({"x": 2.0}, step=3)
        run.log_metric("x", 3.0, step=3)
    h = open_store(store_path).metric_history(run.id, "x")
    assert h.steps.tolist() == [3, 3, 3]
    assert h.values.tolist() == [1.0, 2.0, 3.0]
    assert open_store(store_path).get_run(run.id).metrics["x"].count == 3


def test_keys_logged_at_different_steps_have_their_own_series(store_path: Path, open_store) -> None:
    with tracker_sdk.init(store=store_path) as run:
        for step in range(10):
            run.log({"train/loss": float(step)}, step=step)
            if step % 5 == 4:
                run.log({"val/loss": float(step)}, step=step)
    st = open_store(store_path)
    assert st.metric_history(run.id, "val/loss").steps.tolist() == [4, 9]
    assert len(st.metric_history(run.id, "train/loss")) == 10
    assert st.metric_keys([run.id]) == ["train/loss", "val/loss"]


# --- values ---------------------------------------------------------------------------------

def test_nan_and_infinities_round_trip(store_path: Path, open_store) -> None:
    values = [1.0, math.nan, math.inf, -math.inf, 2.0]
    with tracker_sdk.init(store=store_path) as run:
        for v in values:
            run.log({"x": v})
        run.log({"ends_nan": 1.0})
        run.log({"ends_nan": math.nan})
        run.log({"all_nan": math.nan})
    st = open_store(store_path)
    h = st.metric_history(run.id, "x").values
    assert h[0] == 1.0 and math.isnan(h[1]) and h[2] == math.inf and h[3] == -math.inf and h[4] == 2.0
    info = st.get_run(run.id)
    x = info.metrics["x"]
    assert (x.last, x.min, x.max, x.count) == (2.0, -math.inf, math.inf, 5)
    ends = info.metrics["ends_nan"]
    assert math.isnan(ends.last) and ends.min == 1.0 and ends.max == 1.0 and ends.count == 2
    all_nan = info.metrics["all_nan"]
    assert math.isnan(all_nan.last) and math.isnan(all_nan.min) and math.isnan(all_nan.max)


def test_numpy_scalars_zero_d_arrays_ints_and_bools_are_numbers(store_path: Path, open_store) -> None:
    with tracker_sdk.init(store=store_path) as run:
        run.log({"a": np.float32(0.5), "b": np.int64(3), "c": np.array(2.5), "d": 7, "e": True})
    info = open_store(store_path).get_run(run.id)
    assert {k: m.last for k, m in info.metrics.items()} == {"a": 0.5, "b": 3.0, "c": 2.5, "d": 7.0, "e": 1.0}


@pytest.mark.parametrize(("value", "hint"), [
    ("0.5", "must be a number, got str"),
    (None, "must be a number, got NoneType"),
    ([1.0, 2.0], "must be a number, got list"),
    (np.array([1.0, 2.0]), r"array of shape \(2,\)"),
    (1 + 2j, "must be a number, got complex"),
])
def test_a_non_numeric_metric_raises_a_clear_error_at_the_call(store_path: Path, open_store,
                                                               value: object, hint: str) -> None:
    run = tracker_sdk.init(store=store_path)
    with pytest.raises(ValidationError, match=f"metric 'loss' .*{hint}|{hint}"):
        run.log({"ok": 1.0, "loss": value})
    run.log({"ok": 2.0})
    run.finish()
    # Nothing of the refused call was stored; the run carries on normally.
    h = open_store(store_path).metric_history(run.id, "ok")
    assert h.values.tolist() == [2.0]
    assert open_store(store_path).metric_keys([run.id]) == ["ok"]


def test_log_takes_a_dict(store_path: Path) -> None:
    run = tracker_sdk.init(store=store_path)
    with pytest.raises(ValidationError, match="dict of metrics"):
        run.log([("loss", 1.0)])  # type: ignore[arg-type]


# --- limits (the same as MLflow's), checked at the call ------------------------------------

def test_metric_key_limit(store_path: Path, open_store) -> None:
    run = tracker_sdk.init(store=store_path)
    run.log({"k" * 250: 1.0})
    with pytest.raises(ValidationError, match="251 characters; the limit is 250"):
        run.log({"k" * 251: 1.0})
    for bad in ("", " padded", "/abs", "a//b", "a/../b"):
        with pytest.raises(ValidationError):
            run.log({bad: 1.0})
    with pytest.raises(ValidationError, match="keys must be strings"):
        run.log({3: 1.0})  # type: ignore[dict-item]
    run.finish()
    assert open_store(store_path).metric_keys([run.id]) == ["k" * 250]


def test_param_limits(store_path: Path, open_store) -> None:
    run = tracker_sdk.init(store=store_path)
    run.log_params({"p" * 250: "v" * 6000})
    with pytest.raises(ValidationError, match="6001 characters; the limit is 6000"):
        run.log_params({"long": "v" * 6001})
    with pytest.raises(ValidationError, match="limit is 250"):
        run.log_params({"p" * 251: 1})
    run.finish()
    assert open_store(store_path).get_run(run.id).params == {"p" * 250: "v" * 6000}


def test_tag_limits(store_path: Path, open_store) -> None:
    run = tracker_sdk.init(store=store_path)
    run.set_tags({"t": "v" * 5000})
    with pytest.raises(ValidationError, match="5001 characters; the limit is 5000"):
        run.set_tags({"t": "v" * 5001})
    with pytest.raises(ValidationError, match="limit is 250"):
        run.set_tag("t" * 251, "x")
    run.finish()
    assert open_store(store_path).get_run(run.id).tags["t"] == "v" * 5000


def test_init_with_an_invalid_config_creates_no_run(store_path: Path, open_store) -> None:
    with pytest.raises(ValidationError, match="6001 characters"):
        tracker_sdk.init(store=store_path, config={"prompt": "x" * 6001})
    with pytest.raises(ValidationError, match="5001 characters"):
        tracker_sdk.init(store=store_path, tags={"t": "x" * 5001})
    assert tracker_sdk.active_run() is None
    assert not store_path.exists() or open_store(store_path).search_runs() == []


def test_tags_can_change_and_the_last_value_wins(store_path: Path, open_store) -> None:
    with tracker_sdk.init(store=store_path, tags={"stage": "warmup"}) as run:
        run.set_tag("stage", "train")
        run.set_tags({"stage": "eval", "empty": None})
        run.set_note("## notes\nlooks good")
    info = open_store(store_path).get_run(run.id)
    assert info.tags["stage"] == "eval" and info.tags["empty"] == ""
    assert info.note == "## notes\nlooks good"


# --- artifacts ------------------------------------------------------------------------------

@pytest.mark.parametrize("bad", ["../evil", "a/../../evil", "/tmp/evil", "C:/evil"])
def test_artifact_paths_that_escape_the_run_folder_are_refused(store_path: Path, bad: str) -> None:
    run = tracker_sdk.init(store=store_path)
    before = {p for p in store_path.parent.rglob("*")}
    with pytest.raises(ArtifactPathError):
        run.log_text("x", bad)
    with pytest.raises(ArtifactPathError):
        run.log_dict({"a": 1}, bad + ".json")
    assert {p for p in store_path.parent.rglob("*") if "evil" in p.name} == set()
    assert {p for p in store_path.parent.rglob("*") if p not in before and "evil" in str(p)} == set()
    run.finish()


def test_artifacts_land_in_the_run_folder(store_path: Path, open_store, tmp_path: Path) -> None:
    src = tmp_path / "weights.bin"
    src.write_bytes(b"\x00\x01")
    with tracker_sdk.init(store=store_path) as run:
        run.log_text("hello", "notes/readme.md")
        run.log_dict({"a": 1}, "cfg.json")
        run.log_artifact(src, "ckpt")
    st = open_store(store_path)
    assert (st.artifact_path(run.id, "notes/readme.md")).read_text() == "hello"
    assert {a.path for a in st.list_artifacts(run.id)} >= {"notes", "cfg.json", "ckpt"}
    assert st.artifact_path(run.id, "ckpt/weights.bin").read_bytes() == b"\x00\x01"
    with pytest.raises(ArtifactPathError):
        st.artifact_path(run.id, "../../runwatch.db")

"""Values ``log`` cannot store are refused at the call, and a point the writer still cannot
write is dropped alone: one bad value never stops the writing of the rest (issue 7, D2)."""

from __future__ import annotations

import math
import warnings
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

import tracker_sdk
from tracker_sdk import RunStatus, ValidationError

pytestmark = pytest.mark.usefixtures("in_tmp_dir")

I64_MAX = 2**63 - 1
I64_MIN = -2**63


class BrokenScalar:
    """A 0-d tensor-like whose conversion fails (as a tensor on a lost device does)."""

    ndim = 0
    shape = ()

    def __float__(self) -> float:
        raise RuntimeError("device lost")


class FailsLater:
    """A number that converts once, then no more."""

    ndim = 0
    shape = ()

    def __init__(self) -> None:
        self.calls = 0

    def __float__(self) -> float:
        self.calls += 1
        if self.calls > 1:
            raise RuntimeError("device lost")
        return 1.0


@pytest.mark.parametrize(("value", "hint"), [
    (10**400, "too large"),
    (-10**400, "too large"),
    (Fraction(10**400), "cannot be converted"),
    (BrokenScalar(), "cannot be converted"),
    (np.array("abc"), "dtype"),
    (np.array("1.5"), "dtype"),
    (np.array(1 + 2j), "dtype"),
], ids=["huge-int", "huge-negative-int", "huge-fraction", "broken-0d", "0d-text", "0d-numeric-text", "0d-complex"])
def test_a_value_that_cannot_be_stored_is_refused_at_the_call(store_path: Path, open_store,
                                                              value: object, hint: str) -> None:
    run = tracker_sdk.init(store=store_path)
    with pytest.raises(ValidationError, match=f"metric 'bad'.*{hint}") as err:
        run.log({"ok": 1.0, "bad": value})
    assert "\n" not in str(err.value)
    run.log({"ok": 2.0})
    assert run.finish() is True
    st = open_store(store_path)
    assert st.metric_history(run.id, "ok").values.tolist() == [2.0]  # nothing of the refused call
    assert st.metric_keys([run.id]) == ["ok"]


def test_the_largest_storable_numbers_are_kept(store_path: Path, open_store) -> None:
    big = 2**1024 - 2**970 - 1  # the largest int float() accepts
    with tracker_sdk.init(store=store_path) as run:
        run.log({"x": big, "y": -big, "z": np.float32(0.5), "w": np.array(3), "b": True})
    info = open_store(store_path).get_run(run.id)
    assert {k: m.last for k, m in info.metrics.items()} == {
        "x": float(big), "y": -float(big), "z": 0.5, "w": 3.0, "b": 1.0}


def test_values_are_taken_when_logged_not_when_written(store_path: Path, open_store) -> None:
    """The writer must not read a value again later: a tensor may have changed or gone."""
    with tracker_sdk.init(store=store_path, flush_interval=60) as run:
        value = FailsLater()
        run.log({"x": value})
        assert value.calls == 1  # converted by log() itself, before the writer ever sees it
    assert open_store(store_path).get_run(run.id).metrics["x"].last == 1.0


@pytest.mark.parametrize(("step", "hint"), [
    (I64_MAX + 1, "between"),
    (I64_MIN - 1, "between"),
    (math.inf, "step must be"),
    (-math.inf, "step must be"),
    (math.nan, "step must be"),
    (1e19, "between"),
    (np.uint64(2**63), "between"),
], ids=["2**63", "-2**63-1", "inf", "-inf", "nan", "1e19", "uint64-2**63"])
def test_a_step_that_cannot_be_stored_is_refused_at_the_call(store_path: Path, open_store,
                                                             step: object, hint: str) -> None:
    run = tracker_sdk.init(store=store_path)
    with pytest.raises(ValidationError, match=hint):
        run.log({"x": 1.0}, step=step)  # type: ignore[arg-type]
    run.log({"x": 2.0}, step=7)
    assert run.finish() is True
    h = open_store(store_path).metric_history(run.id, "x")
    assert h.steps.tolist() == [7] and h.values.tolist() == [2.0]


def test_the_extreme_steps_round_trip_and_counting_stops_at_the_last(store_path: Path, open_store) -> None:
    run = tracker_sdk.init(store=store_path)
    run.log({"x": 1.0}, step=I64_MIN)
    run.log({"x": 2.0}, step=I64_MAX)
    with pytest.raises(ValidationError, match="step"):
        run.log({"x": 3.0})  # the next step would be 2**63
    assert run.finish() is True
    assert open_store(store_path).metric_history(run.id, "x").steps.tolist() == [I64_MIN, I64_MAX]


@pytest.mark.parametrize("call", [
    lambda run: run.log({"bad\ud800key": 1.0}),
    lambda run: run.set_tags({"t": "lone \ud800 surrogate"}),
    lambda run: run.log_params({"p": "lone \udcff surrogate"}),
    lambda run: run.set_note("lone \ud800 surrogate"),
], ids=["metric-key", "tag", "param", "note"])
def test_text_that_cannot_be_stored_is_refused_at_the_call(store_path: Path, open_store, call) -> None:  # type: ignore[no-untyped-def]
    run = tracker_sdk.init(store=store_path)
    with pytest.raises(ValidationError, match="UTF-8"):
        call(run)
    run.log({"x": 1.0})
    assert run.finish() is True
    assert open_store(store_path).get_run(run.id).metrics["x"].count == 1


def test_the_issue_reproduction_refuses_the_value_and_writes_the_rest(store_path: Path, open_store) -> None:
    run = tracker_sdk.init(store=store_path)
    with pytest.raises(ValidationError, match="metric 'x'"):
        run.log({"x": 10**400})
    for i in range(20_000):
        run.log({"y": float(i)})
    assert run.finish(timeout=30) is True
    assert open_store(store_path).get_run(run.id).metrics["y"].count == 20_000


# --- the writer's own guard, for what reaches it without the call's checks ----------------------

@pytest.fixture
def recorded():  # type: ignore[no-untyped-def]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        yield caught


def _dropped_warnings(caught: list[warnings.WarningMessage]) -> list[str]:
    return [str(w.message) for w in caught if "cannot be stored" in str(w.message)]


def test_the_writer_drops_an_unwritable_point_alone_and_keeps_writing(
        store_path: Path, open_store, recorded: list[warnings.WarningMessage]) -> None:
    """System metrics skip the call's checks: a bad reading must cost only itself."""
    run = tracker_sdk.init(store=store_path, name="guarded", flush_interval=60)  # one batch
    for i in range(100):
        run.log({"x": float(i)})
        if i == 50:
            run._log_system({"sys/gpu": BrokenScalar(), "sys/cpu": 5.0}, 0)  # same call: cpu kept
            run._log_system({"sys/cpu": 6.0}, I64_MAX + 1)  # a step that cannot be stored
    run._log_system({"sys/cpu": 7.0}, 2)
    assert run.flush(timeout=30) is True
    for i in range(100, 200):  # later batches are written too
        run.log({"x": float(i)})
    assert run.finish(timeout=30) is False  # not every point reached the store, and it says so

    st = open_store(store_path)
    info = st.get_run(run.id)
    assert info.status is RunStatus.FINISHED
    assert st.metric_history(run.id, "x").values.tolist() == [float(i) for i in range(200)]
    cpu = st.metric_history(run.id, "sys/cpu")
    assert cpu.steps.tolist() == [0, 2] and cpu.values.tolist() == [5.0, 7.0]
    assert "sys/gpu" not in info.metrics
    dropped = _dropped_warnings(recorded)
    assert len(dropped) == 2, dropped
    assert all("'guarded'" in w and "\n" not in w for w in dropped)
    assert "'sys/gpu'" in dropped[0] and "'sys/cpu'" in dropped[1]
    reports = [str(w.message) for w in recorded if "finished with" in str(w.message)]
    assert len(reports) == 1 and "2 dropped values" in reports[0]


def test_the_writer_drops_an_unwritable_item_of_any_kind_alone(
        store_path: Path, open_store, recorded: list[warnings.WarningMessage]) -> None:
    from tracker_sdk.writer import TAGS

    run = tracker_sdk.init(store=store_path, name="guarded", flush_interval=60)
    run.log({"x": 1.0})
    run.set_tag("good", "yes")
    run._queue.append((TAGS, run._state, {"bad": "lone \ud800"}))  # as if the check were missed
    run.log({"x": 2.0})
    assert run.finish(timeout=30) is False  # the tag was not written, and finish says so
    info = open_store(store_path).get_run(run.id)
    assert info.status is RunStatus.FINISHED
    assert info.tags.get("good") == "yes" and "bad" not in info.tags
    assert info.metrics["x"].count == 2
    dropped = _dropped_warnings(recorded)
    assert len(dropped) == 1 and "'guarded'" in dropped[0] and "'bad'" in dropped[0]


class _DeviceScalar:
    """Stands in for a 0-d CUDA tensor (CI has no GPU): ``float()`` is what would wait for the
    GPU, so it records where it was called; ``fails`` makes it raise, as a freed tensor would."""

    ndim = 0
    shape = ()

    class device:  # noqa: N801 - torch.device's attribute
        type = "cuda"

    def __init__(self, value: float, fails: bool = False) -> None:
        self.value, self.fails, self.converted_on = value, fails, []

    def __float__(self) -> float:
        import threading

        self.converted_on.append(threading.current_thread().name)
        if self.fails:
            raise RuntimeError("CUDA error: an illegal memory access was encountered")
        return self.value


def test_a_gpu_scalar_is_converted_by_the_writer_not_in_the_loop(store_path) -> None:
    good, bad = _DeviceScalar(0.25), _DeviceScalar(1.0, fails=True)
    run = tracker_sdk.init(store=store_path)
    run.log({"loss": good, "acc": 0.5}, step=0)
    run.log({"loss": bad}, step=1)
    run.log({"loss": 0.125}, step=2)
    assert good.converted_on == [] and bad.converted_on == []  # log() did not wait for the GPU
    with pytest.warns(RuntimeWarning) as record:
        assert run.finish() is False  # a value was dropped
    messages = [str(w.message) for w in record]
    assert any("'loss'" in m for m in messages) and any("1 dropped value" in m for m in messages)
    assert good.converted_on and all(name == "runwatch-writer" for name in good.converted_on)
    h = tracker_sdk.Store(store_path).metric_history(run.id, "loss")
    assert h.steps.tolist() == [0, 2] and h.values.tolist() == [0.25, 0.125]

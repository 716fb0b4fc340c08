"""A TensorBoard log dir, written by the real tensorboardX writer (and PyTorch's or TensorBoard's
own when installed), read in place: every scalar with its step and wall time, runs per folder,
hparams as params, images as artifacts; live by byte offset; damaged files survived; never
written to."""

from __future__ import annotations

import hashlib
import math
import os
import shutil
import struct
import time
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest
from sdk_helpers import wait_until
from tensorboardX import SummaryWriter

import tracker_sdk
from tracker_sdk import RunStatus
from tracker_sdk.sources import tensorboard as tb
from tracker_sdk.sources.tensorboard import TensorBoardReader, is_tensorboard_logdir
from tracker_sdk.sources.tfrecord import masked_crc

#: Explicit wall times for the scalars, an hour ahead: after each file's own first event (the
#: file_version a writer stamps with the real time) however long the test session has run.
T0 = time.time() + 3600.0


@pytest.fixture
def opened() -> Iterator[Callable[[Path], tracker_sdk.Store]]:
    stores: list[tracker_sdk.Store] = []

    def open_(path: Path) -> tracker_sdk.Store:
        st = tracker_sdk.open_store(path)
        stores.append(st)
        return st

    yield open_
    for st in stores:
        st.close()


def log(w: SummaryWriter, tag: str, steps, start: float = T0  # type: ignore[no-untyped-def]
        ) -> list[tuple[int, float, float]]:
    """Log ``tag`` at ``steps``; the (step, value, wall time) written."""
    out = []
    for i, step in enumerate(steps):
        value = 1.0 / (step + 1) + 0.25 * i
        wall = start + 0.001 * step
        w.add_scalar(tag, value, step, walltime=wall)
        out.append((step, value, wall))
    return out


def expect(points: list[tuple[int, float, float]]) -> tuple[list[int], list[float], list[int]]:
    """What a reader must return: float32 values (TensorBoard's simple_value), ms wall times."""
    return ([p[0] for p in points], [float(np.float32(p[1])) for p in points],
            [round(p[2] * 1000) for p in points])


def history(st, run_id: str, key: str) -> tuple[list[int], list[float], list[int]]:  # type: ignore[no-untyped-def]
    h = st.metric_history(run_id, key)
    return h.steps.tolist(), h.values.tolist(), h.timestamps.tolist()


def by_name(st) -> dict:  # type: ignore[no-untyped-def]
    return {r.name: r for r in st.search_runs()}


def event_files(logdir: Path) -> list[Path]:
    return sorted(logdir.rglob("events.out.tfevents.*"))


def age(logdir: Path, seconds: float) -> None:
    """Make every event file look last written ``seconds`` ago (a finished run)."""
    then = time.time() - seconds
    for f in event_files(logdir):
        os.utime(f, (then, then))


def records(path: Path) -> list[tuple[int, int]]:
    """(offset, data length) of each whole TFRecord of a file: where to damage it."""
    data, out, pos = path.read_bytes(), [], 0
    while pos + 8 <= len(data):
        (length,) = struct.unpack_from("<Q", data, pos)
        if pos + length + 16 > len(data):
            break
        out.append((pos, length))
        pos += length + 16
    return out


def flush(w: SummaryWriter, logdir: Path, events: int) -> None:
    """tensorboardX's flush() does not wait for its queue (a worker thread writes it): flush
    until ``events`` are on disk."""
    def on_disk() -> bool:
        w.flush()
        return sum(len(records(f)) for f in event_files(logdir)) >= events

    wait_until(on_disk, message=f"{events} events on disk")


@pytest.fixture
def two_runs(tmp_path) -> tuple[Path, dict]:  # type: ignore[type-arg]
    """exp/train logs two tags in turn past step 300 (steps crossing varint widths, repeated
    steps, NaN and ±inf); exp/eval logs every 50 steps."""
    logdir = tmp_path / "tb_logs"
    written: dict = {}
    with SummaryWriter(logdir=str(logdir / "exp" / "train")) as w:
        steps = list(range(300)) + [299, 299]
        written["loss"] = log(w, "loss", steps)
        written["acc/top1"] = log(w, "acc/top1", steps)
        special = [(300, math.nan, T0 + 1), (301, math.inf, T0 + 1), (302, -math.inf, T0 + 1)]
        for step, value, wall in special:
            w.add_scalar("loss", value, step, walltime=wall)
        written["loss"] += special
    with SummaryWriter(logdir=str(logdir / "exp" / "eval")) as w:
        written["eval/loss"] = log(w, "eval/loss", range(0, 300, 50))
    return logdir, written


def test_every_scalar_point_of_two_runs_with_steps_and_wall_times(two_runs, opened) -> None:
    logdir, written = two_runs
    st = opened(logdir)
    assert st.read_only and st.source_kind == "TensorBoard" and st.path == logdir
    assert [e.name for e in st.experiments()] == ["tb_logs"]
    runs = by_name(st)
    assert sorted(runs) == ["exp/eval", "exp/train"]
    train, ev = runs["exp/train"], runs["exp/eval"]
    assert sorted(train.metrics) == ["acc/top1", "loss"] and sorted(ev.metrics) == ["eval/loss"]
    for run, key in ((train, "loss"), (train, "acc/top1"), (ev, "eval/loss")):
        steps, values, times = history(st, run.id, key)
        want_steps, want_values, want_times = expect(written[key])
        assert steps == want_steps and times == want_times, key
        assert np.array_equal(values, want_values, equal_nan=True), key
    assert train.metrics["loss"].max == math.inf and train.metrics["loss"].min == -math.inf
    # Ids are a stable hash of the folder: the same on every open.
    again = tracker_sdk.open_store(logdir)
    try:
        assert {r.name: r.id for r in again.search_runs()} == {n: r.id for n, r in runs.items()}
        assert all(len(r.id) == 32 and int(r.id, 16) >= 0 for r in runs.values())
    finally:
        again.close()


def test_status_follows_the_files_and_times_are_the_first_and_last_events(two_runs, opened) -> None:
    logdir, written = two_runs
    st = opened(logdir)
    train = by_name(st)["exp/train"]
    assert train.status is RunStatus.RUNNING and train.end_time is None  # just written
    # The file_version event a writer starts with comes first: written by the fixture just now,
    # before every scalar.
    assert (time.time() - 600) * 1000 < train.start_time <= T0 * 1000
    age(logdir, 2 * tb.LIVE_WINDOW_S)
    assert st.sync()
    train = by_name(st)["exp/train"]
    assert train.status is RunStatus.FINISHED
    assert train.end_time == round(written["loss"][-1][2] * 1000)  # the last event written


def test_hparams_are_params_of_the_run_add_hparams_writes(tmp_path, opened) -> None:
    logdir = tmp_path / "logs"
    with SummaryWriter(logdir=str(logdir / "sweep-1")) as w:
        log(w, "loss", range(5))
        w.add_hparams({"lr": 0.01, "batch": 32, "optimizer": "adam", "nesterov": True},
                      {"hparam/accuracy": 0.875}, name="hp")
    st = opened(logdir)
    runs = by_name(st)
    # The subfolder add_hparams wrote is folded into the training run it describes.
    assert list(runs) == ["sweep-1"]
    run = runs["sweep-1"]
    assert run.params == {"lr": "0.01", "batch": "32", "optimizer": "adam", "nesterov": "True"}
    assert history(st, run.id, "hparam/accuracy")[1] == [0.875]
    assert history(st, run.id, "loss")[0] == [0, 1, 2, 3, 4]
    assert st.search_runs(filter="params.optimizer = 'adam'")[0].id == run.id


def test_a_writer_that_logged_only_hparams_is_one_run_with_them(tmp_path, opened) -> None:
    logdir = tmp_path / "logs"
    with SummaryWriter(logdir=str(logdir / "only-hparams")) as w:
        w.add_hparams({"lr": 0.5}, {"hparam/score": 0.25}, name="trial")
    st = opened(logdir)
    (run,) = st.search_runs()
    assert run.name == "only-hparams" and run.params == {"lr": "0.5"} and run.parent_id is None
    assert history(st, run.id, "hparam/score")[1] == [0.25]


def test_pytorch_summary_writer_scalars_and_hparams(tmp_path, opened) -> None:
    torch_tb = pytest.importorskip("torch.utils.tensorboard", reason="torch is not installed")
    logdir = tmp_path / "runs"
    with torch_tb.SummaryWriter(log_dir=str(logdir / "a")) as w:
        for step in range(20):
            w.add_scalar("loss", 1.0 / (step + 1), step, walltime=T0 + step)
            w.add_scalar("loss_new_style", 2.0 * step, step, walltime=T0 + step, new_style=True)
        w.add_hparams({"lr": 0.1, "depth": 4}, {"hparam/score": 0.5}, run_name="hp")
    st = opened(logdir)
    runs = by_name(st)
    a = runs["a"]
    assert history(st, a.id, "loss")[0] == list(range(20))
    assert history(st, a.id, "loss_new_style")[1] == [2.0 * s for s in range(20)]  # rank-0 tensors
    assert a.params == {"lr": "0.1", "depth": "4"} and "a/hp" not in runs  # folded into "a"


def test_tensorboard_own_writer_rank0_tensor_scalars(tmp_path, opened) -> None:
    summary = pytest.importorskip("tensorboard.summary", reason="tensorboard is not installed")
    logdir = tmp_path / "tf2"
    w = summary.Writer(str(logdir / "run"))
    for step in range(300):
        w.add_scalar("loss", 0.5 * step, step, wall_time=T0 + step)
    w.close()
    st = opened(logdir)
    run = by_name(st)["run"]
    steps, values, times = history(st, run.id, "loss")
    assert steps == list(range(300)) and values == [0.5 * s for s in range(300)]
    assert times == [round((T0 + s) * 1000) for s in range(300)]


def test_images_are_artifacts(tmp_path, opened) -> None:
    from PIL import Image

    logdir = tmp_path / "logs"
    noise = np.random.default_rng(3).integers(0, 256, (3, 64, 48), dtype=np.uint8)
    with SummaryWriter(logdir=str(logdir / "run")) as w:
        img = np.zeros((3, 6, 10), np.uint8)
        img[0] = 255
        w.add_image("samples/input", img, 7)
        log(w, "loss", range(3))
        w.add_image("noise", noise, 9)  # a record of ~9 KB: checksummed in blocks
    st = opened(logdir)
    run = by_name(st)["run"]
    assert history(st, run.id, "loss")[0] == [0, 1, 2]
    path = st.artifact_path(run.id, "samples/input/step-7.png")
    with Image.open(path) as im:
        assert im.size == (10, 6) and im.getpixel((0, 0))[:3] == (255, 0, 0)
    assert logdir not in path.parents  # decoded into the mirror's own folder
    with Image.open(st.artifact_path(run.id, "noise/step-9.png")) as im:
        assert np.array_equal(np.asarray(im.convert("RGB")), noise.transpose(1, 2, 0))


def test_new_points_files_and_runs_arrive_by_byte_offset(tmp_path, opened) -> None:
    logdir = tmp_path / "live"
    w = SummaryWriter(logdir=str(logdir / "run"))
    first = log(w, "loss", range(10))
    flush(w, logdir, 1 + 10)  # file_version, then one event per point
    st = opened(logdir)
    run = by_name(st)["run"]
    assert run.status is RunStatus.RUNNING
    cursor = st.cursor()
    assert not st.sync()  # nothing new

    more = log(w, "loss", range(10, 15))
    flush(w, logdir, 1 + 15)
    assert st.sync()
    changes = st.changes_since(cursor)
    assert changes.series == ((run.id, "loss"),)
    new = np.concatenate([c.steps for c in st.metric_chunks(run.id, "loss", since=cursor)])
    assert new[-5:].tolist() == list(range(10, 15))
    assert history(st, run.id, "loss") == expect(first + more)  # nothing read twice

    # A second writer's file in the same folder, and a new run folder.
    with SummaryWriter(logdir=str(logdir / "run"), filename_suffix=".restart") as w2:
        again = log(w2, "loss", range(15, 18))
    with SummaryWriter(logdir=str(logdir / "later")) as w3:
        later = log(w3, "loss", range(3))
    cursor = st.cursor()
    assert st.sync()
    assert {r.name for r in st.changes_since(cursor).runs} >= {"later"}
    assert history(st, run.id, "loss") == expect(first + more + again)
    assert history(st, by_name(st)["later"].id, "loss") == expect(later)
    w.close()


def test_a_poll_reads_only_the_new_bytes(tmp_path) -> None:
    logdir = tmp_path / "live"
    with SummaryWriter(logdir=str(logdir / "run"), max_queue=1000) as w:
        log(w, "loss", range(100))
        flush(w, logdir, 101)
        reader = TensorBoardReader(logdir)
        try:
            run_id = reader.poll().runs[0].id
            log(w, "loss", range(100, 103))
            flush(w, logdir, 104)
            delta = reader.poll()
            assert delta.points[(run_id, "loss")][0].tolist() == [100, 101, 102]
            assert reader.poll().points == {}
        finally:
            reader.close()


def test_a_big_first_read_is_paged(two_runs, monkeypatch) -> None:
    logdir, written = two_runs
    monkeypatch.setattr(tb, "PAGE_BYTES", 2048)
    reader = TensorBoardReader(logdir)
    try:
        polls, got = 0, {}
        while True:
            delta = reader.poll()
            polls += 1
            for (_, key), (steps, _, _) in delta.points.items():
                got[key] = got.get(key, []) + steps.tolist()
            if not delta.more:
                break
        assert polls > 10
        assert {k: v for k, v in got.items()} == {k: [p[0] for p in pts] for k, pts in written.items()}
    finally:
        reader.close()


@pytest.mark.parametrize("cut", [5, 14], ids=["mid-header", "mid-data"])
def test_a_truncated_last_record_is_waited_for(tmp_path, opened, cut) -> None:
    src = tmp_path / "src"
    with SummaryWriter(logdir=str(src / "run")) as w:
        points = log(w, "loss", range(50))
    (full,) = event_files(src)
    data = full.read_bytes()
    last_offset = records(full)[-1][0]
    logdir = tmp_path / "logs"
    (logdir / "run").mkdir(parents=True)
    part = logdir / "run" / full.name
    part.write_bytes(data[:last_offset + cut])  # the writer is inside its last record
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # waiting is not an error
        st = opened(logdir)
        run = by_name(st)["run"]
        assert history(st, run.id, "loss") == expect(points[:-1])
        assert not st.sync()  # still incomplete: nothing new, nothing wrong
        with open(part, "ab") as fh:
            fh.write(data[last_offset + cut:])
        assert st.sync()
    assert history(st, run.id, "loss") == expect(points)


def test_a_corrupt_file_warns_once_and_everything_else_is_read(tmp_path, opened, monkeypatch) -> None:
    monkeypatch.setattr(tb, "PAGE_BYTES", 512)  # the two damaged records are read in different polls
    logdir = tmp_path / "logs"
    written = {}
    for name in ("good", "bad-data", "bad-length"):
        with SummaryWriter(logdir=str(logdir / name)) as w:
            written[name] = log(w, "loss", range(40))
    # Records: file_version, then one per point. Flip a byte inside the data of points 10 and
    # 30 of one file, and inside the length of point 20 of another.
    (bad_data,) = event_files(logdir / "bad-data")
    blob = bytearray(bad_data.read_bytes())
    for point in (10, 30):
        offset, length = records(bad_data)[1 + point]
        blob[offset + 12 + length // 2] ^= 0x40
    bad_data.write_bytes(bytes(blob))
    (bad_length,) = event_files(logdir / "bad-length")
    offset, _ = records(bad_length)[1 + 20]
    blob = bytearray(bad_length.read_bytes())
    blob[offset] ^= 0x01
    bad_length.write_bytes(bytes(blob))

    with pytest.warns(RuntimeWarning, match="corrupt TensorBoard event file") as caught:
        st = opened(logdir)
        st.sync_all()
        st.sync()
    assert sorted(Path(str(w.message).split(": corrupt")[0]).parent.name for w in caught) == [
        "bad-data", "bad-length"]  # one warning per file, not per poll or per record
    runs = by_name(st)
    assert history(st, runs["good"].id, "loss") == expect(written["good"])
    # A record with a bad checksum is dropped and the ones after it read...
    kept = [p for i, p in enumerate(written["bad-data"]) if i not in (10, 30)]
    assert history(st, runs["bad-data"].id, "loss") == expect(kept)
    # ... but after a damaged length nothing can be framed: the rest of that file is skipped.
    assert history(st, runs["bad-length"].id, "loss") == expect(written["bad-length"][:20])


def test_reading_never_changes_the_log_dir(two_runs, opened) -> None:
    logdir, _ = two_runs
    with SummaryWriter(logdir=str(logdir / "img")) as w:
        w.add_image("x", np.zeros((3, 4, 4), np.uint8), 0)

    def snapshot() -> dict[str, tuple[str, int]]:
        return {str(p.relative_to(logdir)): (hashlib.sha256(p.read_bytes()).hexdigest(), p.stat().st_mtime_ns)
                for p in sorted(logdir.rglob("*")) if p.is_file()}

    before = snapshot()
    st = opened(logdir)
    for run in st.search_runs():
        for key in run.metrics:
            st.metric_history(run.id, key)
        st.list_artifacts(run.id)
    with pytest.raises(tracker_sdk.StoreError, match="read-only TensorBoard store"):
        st.rename_run(run.id, "renamed")
    st.close()
    assert snapshot() == before


def test_detection_and_open_store(tmp_path, two_runs) -> None:
    logdir, _ = two_runs
    assert is_tensorboard_logdir(logdir) and is_tensorboard_logdir(logdir / "exp" / "train")
    assert not is_tensorboard_logdir(tmp_path / "nothing")
    deep = tmp_path / "deep" / "a" / "b" / "c" / "d" / "e"
    deep.mkdir(parents=True)
    shutil.copy(event_files(logdir)[0], deep)
    assert not is_tensorboard_logdir(tmp_path / "deep")  # beyond the bounded walk
    # A Runwatch store stays a Runwatch store, even with event files among its artifacts.
    store = tmp_path / "store"
    with tracker_sdk.init(experiment="e", store=store) as run:
        run.log({"x": 1.0}, step=0)
    shutil.copytree(logdir, store / "tb")
    st = tracker_sdk.open_store(store)
    try:
        assert not st.read_only
    finally:
        st.close()


def test_the_checksum_is_tensorflows_crc32c() -> None:
    from tensorboardX.crc32c import crc32c

    rng = np.random.default_rng(7)
    for size in (0, 1, 3, 4, 8, 40, 255, 256, 257, 1000, 70_001):
        data = rng.integers(0, 256, size, dtype=np.uint8).tobytes()
        crc = crc32c(data)
        assert masked_crc(data) == (((crc >> 15) | (crc << 17)) + 0xA282EAD8) & 0xFFFFFFFF, size

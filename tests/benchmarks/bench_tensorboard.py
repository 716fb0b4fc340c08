"""A 1M-event TensorBoard file: first load, and the tail of 1,000 new events (target <= 50 ms).

The file is written by tensorboardX's ``SummaryWriter.add_scalar`` (one scalar per event).
Runwatch: ``open_store(logdir)`` (a MirrorStore over the TensorBoardReader) + ``sync_all()`` +
``metric_history`` - the series as numpy arrays in a store the app reads. Peer, same run:
TensorBoard's ``EventAccumulator(size_guidance={'scalars': 0})`` + ``Reload()`` + ``Scalars()``.
Module imports are outside the timing on both sides (the page cache is warm for both).
The tail: 1,000 events written by tensorboardX into a scratch file are appended (bytes, without
that file's version record) to the big file, as its writer would, then ``store.sync()`` vs
``EventAccumulator.Reload()``; 5 rounds.

    python -m tests.benchmarks.bench_tensorboard [--quick]
"""

from __future__ import annotations

import importlib.util
import statistics
import struct
import time
from pathlib import Path

try:
    from tests.benchmarks import _common as c
except ImportError:  # run as a file
    import _common as c  # type: ignore[no-redef]

TAIL = 1_000
ROUNDS = 5
PEER = "tensorboard EventAccumulator"
PEER_MISSING = "peer not installed: pip install tensorboard"


def write(folder: Path, n: int, start: int, suffix: str = "") -> Path:
    from tensorboardX import SummaryWriter

    vals = c.values(start + n)
    with SummaryWriter(logdir=str(folder), max_queue=1000, filename_suffix=suffix) as w:
        for i in range(start, start + n):
            w.add_scalar("loss", vals[i], i)
    return next(folder.glob(f"events.out.tfevents.*{suffix}"))


def without_version_record(path: Path) -> bytes:
    """The events a writer appends after its first record (the file_version event)."""
    data = path.read_bytes()
    (length,) = struct.unpack_from("<Q", data, 0)
    return data[length + 16:]


def first_load_runwatch(logdir: Path):  # type: ignore[no-untyped-def]
    import tracker_sdk
    import tracker_sdk.sources.mirror  # noqa: F401  (imports outside the timing, as the peer's)

    cpu0, t0 = time.process_time(), time.perf_counter()
    st = tracker_sdk.open_store(logdir)
    st.sync_all()
    run = st.search_runs()[0]
    h = st.metric_history(run.id, "loss")
    return st, run.id, h.steps.size, time.perf_counter() - t0, time.process_time() - cpu0


def reader_only(logdir: Path) -> float:
    """The reader alone (files -> arrays), without writing the mirror."""
    from tracker_sdk.sources.tensorboard import TensorBoardReader

    t0 = time.perf_counter()
    reader = TensorBoardReader(logdir)
    while reader.poll().more:
        pass
    reader.close()
    return time.perf_counter() - t0


def first_load_peer(run_dir: Path):  # type: ignore[no-untyped-def]
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    t0 = time.perf_counter()
    acc = EventAccumulator(str(run_dir), size_guidance={"scalars": 0})
    acc.Reload()
    count = len(acc.Scalars("loss"))
    return acc, count, time.perf_counter() - t0


def run(quick: bool) -> list[c.Result]:
    n = 100_000 if quick else 1_000_000
    have_peer = importlib.util.find_spec("tensorboard") is not None
    with c.Scratch() as d:
        logdir, run_dir = d / "tb_logs", d / "tb_logs" / "run"
        t0 = time.perf_counter()
        big = write(run_dir, n, 0)
        print(f"  tensorboardX wrote {n:,} events ({big.stat().st_size / 2**20:.0f} MiB) in "
              f"{time.perf_counter() - t0:.0f} s", flush=True)
        tails = [without_version_record(write(d / f"tail{k}", TAIL, n + k * TAIL)) for k in range(ROUNDS)]

        parse_s = reader_only(logdir)
        st, run_id, count, ours_s, ours_cpu = first_load_runwatch(logdir)
        assert count == n, f"read {count} of {n} points"
        print(f"  runwatch: first load {ours_s:.2f} s (CPU {ours_cpu:.2f} s); of which the reader alone "
              f"{parse_s:.2f} s ({n / parse_s / 1e6:.1f} M events/s)", flush=True)
        acc = peer_s = None
        if have_peer:
            acc, peer_count, peer_s = first_load_peer(run_dir)
            assert peer_count == n
            print(f"  {PEER}: first load {peer_s:.1f} s", flush=True)
        else:
            print(f"  {PEER}: {PEER_MISSING}", flush=True)

        syncs, reloads = [], []
        for tail in tails:
            with open(big, "ab") as fh:
                fh.write(tail)
            t0 = time.perf_counter()
            st.sync()
            syncs.append(time.perf_counter() - t0)
            if acc is not None:
                t0 = time.perf_counter()
                acc.Reload()
                reloads.append(time.perf_counter() - t0)
        total = n + ROUNDS * TAIL
        assert st.metric_history(run_id, "loss").steps.size == total
        assert acc is None or len(acc.Scalars("loss")) == total
        st.close()
        print(f"  tail of {TAIL:,} events x {ROUNDS}: sync {', '.join(f'{s * 1e3:.1f}' for s in syncs)} ms"
              + (f"; Reload {', '.join(f'{s * 1e3:.1f}' for s in reloads)} ms" if reloads else ""), flush=True)

    peer_tail = statistics.median(reloads) * 1e3 if reloads else None
    note = "" if have_peer else PEER_MISSING
    return [
        c.result(f"first load of a {n:,}-event file (open + sync_all + history)", ours_s, "s", peer=PEER,
                 peer_value=peer_s, note=note or f"reader alone {parse_s:.2f} s"),
        c.result(f"tail of {TAIL:,} new events: sync() (median of {ROUNDS})", statistics.median(syncs) * 1e3,
                 "ms", "<= 50", peer="EventAccumulator.Reload()" if have_peer else "", peer_value=peer_tail,
                 note=note or f"max {max(syncs) * 1e3:.1f} ms"),
    ]


if __name__ == "__main__":
    c.main(run, "bench_tensorboard: 1M-event TensorBoard file, first load and tail")

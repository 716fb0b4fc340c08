"""A live writer shares its store with readers in its own and other processes, and loses nothing.

POSIX advisory locks belong to a process, not a descriptor: closing *any* descriptor of the
database file drops every lock SQLite holds on it in that process. A reader elsewhere that then
closes its last connection believes nobody else has the store open, checkpoints and deletes the
WAL under the live writer, and what the writer commits afterwards is lost (the run ended CRASHED
with 260 of 400 points while ``runwatch runs list`` ran beside ``demo --live``).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tracker_sdk import RunStatus

pytestmark = pytest.mark.usefixtures("in_tmp_dir")

# The writer looks its store up once more (as a script does to find a previous run), then logs
# in two halves: the test opens and closes the store from another process between them.
WRITER = """
import sys, tracker_sdk
run = tracker_sdk.init(store=sys.argv[1], name="live", flush_interval=0.02)
tracker_sdk.Store(sys.argv[1]).search_runs()
for i in range(HALF):
    run.log({"x": float(i)}, step=i)
run.flush()
print("half", flush=True)
sys.stdin.readline()
for i in range(HALF, 2 * HALF):
    run.log({"x": float(i)}, step=i)
print("finished", run.finish(), flush=True)
"""

# A reader that opens and closes the store over and over, as `runwatch runs list` or the app do.
READER = """
import sys, tracker_sdk
for _ in range(int(sys.argv[2])):
    st = tracker_sdk.Store(sys.argv[1])
    st.search_runs()
    st.close()
print("read", flush=True)
"""

HALF = 300


def _argv_child(spawn, code: str, *args: str):  # type: ignore[no-untyped-def]
    # ``python -c`` takes argv after the code: the Child helper only passes the code, so set
    # sys.argv at the top of the script instead.
    return spawn(f"import sys; sys.argv = ['-c', *{list(args)!r}]\n" + code)


def _assert_complete(open_store, store_path: Path, points: int) -> None:  # type: ignore[no-untyped-def]
    st = open_store(store_path)
    (run,) = st.search_runs()
    assert run.status is RunStatus.FINISHED
    h = st.metric_history(run.id, "x")
    assert h.steps.tolist() == list(range(points))
    assert h.values.tolist() == [float(i) for i in range(points)]
    assert st.info()["integrity"] == "ok"


def test_a_reader_elsewhere_closing_the_store_loses_nothing_of_a_live_writer(
        store_path: Path, spawn, open_store) -> None:
    writer = _argv_child(spawn, WRITER.replace("HALF", str(HALF)), str(store_path))
    writer.wait_for_line("half", timeout=60)
    reader = _argv_child(spawn, READER, str(store_path), "3")
    reader.wait_for_line("read", timeout=60)
    assert reader.wait(timeout=60) == 0, reader.finish_output()
    writer.send("go\n")
    assert writer.wait(timeout=60) == 0, writer.finish_output()
    assert "finished True" in writer.lines, writer.finish_output()
    assert writer.stderr.strip() == "", writer.stderr
    _assert_complete(open_store, store_path, 2 * HALF)


@pytest.mark.slow
def test_several_processes_open_and_close_the_store_around_a_live_writer(
        store_path: Path, spawn, open_store) -> None:
    writer = _argv_child(spawn, WRITER.replace("HALF", str(HALF)), str(store_path))
    writer.wait_for_line("half", timeout=60)
    readers = [_argv_child(spawn, READER, str(store_path), "20") for _ in range(3)]
    writer.send("go\n")  # the second half is logged while the readers come and go
    for r in readers:
        assert r.wait(timeout=120) == 0, r.finish_output()
    assert writer.wait(timeout=60) == 0, writer.finish_output()
    assert "finished True" in writer.lines, writer.finish_output()
    _assert_complete(open_store, store_path, 2 * HALF)

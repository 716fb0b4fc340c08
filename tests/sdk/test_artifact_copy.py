"""Artifacts written through the Run API: sparse files stay sparse, big copies say they block,
and a full or read-only disk gives one clear error and leaves no half-written file."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import tracker_sdk
from tracker_sdk import artifacts
from tracker_sdk.errors import ArtifactWriteError, StoreError

pytestmark = pytest.mark.usefixtures("in_tmp_dir")

MiB = 1 << 20
GiB = 1 << 30
# Data at a few offsets of a 1 GiB file; the rest, start and end included, are holes.
PIECES = {100 * MiB: b"first piece", 700 * MiB + 5: b"second piece"}


def allocated(path: Path) -> int:
    return os.stat(path).st_blocks * 512


def make_sparse(path: Path) -> Path:
    with open(path, "wb") as fh:
        fh.truncate(GiB)
        for offset, data in PIECES.items():
            fh.seek(offset)
            fh.write(data)
    if allocated(path) > 10 * MiB:
        pytest.skip(f"the file system of {path.parent} does not keep holes in sparse files")
    return path


def assert_same_sparse_file(copy: Path) -> None:
    assert copy.stat().st_size == GiB
    with open(copy, "rb") as fh:
        for offset, data in PIECES.items():
            fh.seek(offset)
            assert fh.read(len(data)) == data
        fh.seek(0)
        assert fh.read(4096) == bytes(4096)  # holes read back as zeros
        fh.seek(GiB - 4096)
        assert fh.read() == bytes(4096)
    assert allocated(copy) < 10 * MiB, f"the copy allocates {allocated(copy) / MiB:.0f} MiB"


def test_a_sparse_file_is_copied_sparsely(store_path: Path, tmp_path: Path) -> None:
    source = make_sparse(tmp_path / "sparse.bin")
    with tracker_sdk.init(store=store_path) as run, warnings.catch_warnings():
        warnings.simplefilter("error")  # 22 bytes of data: nothing to warn about
        rel = run.log_artifact(source, artifact_path="data")
    assert rel == "data/sparse.bin"
    assert_same_sparse_file(run.artifact_dir / rel)


def test_a_folder_holding_a_sparse_file_is_copied_sparsely(store_path: Path, tmp_path: Path) -> None:
    folder = tmp_path / "checkpoint"
    folder.mkdir()
    make_sparse(folder / "weights.bin")
    (folder / "meta.txt").write_text("epoch 3")
    with tracker_sdk.init(store=store_path) as run:
        run.log_artifact(folder)
    assert_same_sparse_file(run.artifact_dir / "checkpoint" / "weights.bin")
    assert (run.artifact_dir / "checkpoint" / "meta.txt").read_text() == "epoch 3"


def test_a_dense_file_is_copied_exactly(store_path: Path, tmp_path: Path) -> None:
    data = np.random.default_rng(0).bytes(3 * MiB + 17)
    (tmp_path / "dense.bin").write_bytes(data)
    with tracker_sdk.init(store=store_path) as run:
        run.log_artifact(tmp_path / "dense.bin")
    assert (run.artifact_dir / "dense.bin").read_bytes() == data


def test_a_big_copy_says_once_that_it_blocks_the_caller(store_path: Path, tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(artifacts, "BLOCKING_COPY_BYTES", 2 * MiB)  # instead of writing 100 MB
    monkeypatch.setattr(artifacts, "_told_copies_block", False)
    (tmp_path / "small.bin").write_bytes(bytes(MiB))
    folder = tmp_path / "shards"
    folder.mkdir()
    for i in range(3):  # a folder counts as a whole
        (folder / f"{i}.bin").write_bytes(np.random.default_rng(i).bytes(MiB))
    with tracker_sdk.init(store=store_path) as run:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            run.log_artifact(tmp_path / "small.bin")
        with pytest.warns(UserWarning) as record:
            run.log_artifact(folder)
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            run.log_artifact(folder, artifact_path="again")  # said once is enough
    (message,) = [str(w.message) for w in record]
    assert "blocked the calling thread" in message and "shards" in message and "3.1 MB" in message
    assert "\n" not in message


# ----------------------------------------------------------------------- write failures

@pytest.fixture
def mount_tmpfs(tmp_path: Path) -> Iterator[Callable[[Path, str], None]]:
    """Mount a small tmpfs over a folder (needs root and mount rights; skips otherwise)."""
    mounted: list[Path] = []

    def mount(folder: Path, options: str) -> None:
        if sys.platform != "linux" or os.geteuid() != 0 or not shutil.which("mount"):
            pytest.skip("mounting a small tmpfs needs root on Linux")
        folder.mkdir(parents=True, exist_ok=True)
        done = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(folder)],
                              capture_output=True, text=True)
        if done.returncode != 0:
            pytest.skip(f"cannot mount a tmpfs here: {done.stderr.strip()}")
        mounted.append(folder)

    yield mount
    for folder in mounted:
        subprocess.run(["umount", "-l", str(folder)], check=True)


def _folder(tmp_path: Path) -> Path:
    folder = tmp_path / "shards"
    folder.mkdir()
    for i in range(2):
        (folder / f"{i}.bin").write_bytes(np.random.default_rng(i).bytes(MiB))
    return folder


WRITERS: dict[str, tuple[Callable[[Any, Path], object], str]] = {
    "log_text": (lambda run, _: run.log_text("x" * (2 * MiB), "eval/report.md"), "eval/report.md"),
    "log_dict": (lambda run, _: run.log_dict({"a": "x" * (2 * MiB)}, "cfg/big.json"), "cfg/big.json"),
    "log_image": (lambda run, _: run.log_image(
        np.random.default_rng(0).integers(0, 256, (1024, 1024, 3), dtype=np.uint8), "noise.png"),
        "noise.png"),
    "log_artifact a file": (lambda run, tmp: run.log_artifact(
        _write(tmp / "blob.bin", np.random.default_rng(1).bytes(2 * MiB)), "data"), "data/blob.bin"),
    "log_artifact a folder": (lambda run, tmp: run.log_artifact(_folder(tmp)), "shards"),
}


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def files_under(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if not p.is_dir())


@pytest.mark.parametrize(("options", "reason"), [("size=1m", "disk is full"),
                                                 ("ro", "read-only")], ids=["full", "read-only"])
@pytest.mark.parametrize("writer", WRITERS.values(), ids=WRITERS.keys())
def test_a_full_or_read_only_disk_gives_one_clear_error_and_no_partial_file(
        store_path: Path, tmp_path: Path, mount_tmpfs: Callable[[Path, str], None],
        writer: tuple[Callable[[Any, Path], object], str], options: str,
        reason: str) -> None:
    log, rel = writer
    with tracker_sdk.init(store=store_path) as run:
        mount_tmpfs(run.artifact_dir, options)
        with pytest.raises(ArtifactWriteError) as info:
            log(run, tmp_path)
        run.log({"x": 1.0})  # the run goes on
    message = str(info.value)
    assert isinstance(info.value, StoreError) and isinstance(info.value, OSError)
    assert "\n" not in message and len(message) < 500
    assert rel in message and str(store_path) in message and reason in message
    if options.startswith("size"):
        assert files_under(run.artifact_dir) in ([], ["shards/0.bin"])  # only whole files
        run_after = tracker_sdk.Store(store_path)
        assert run_after.get_run(run.id).status == "FINISHED"
        run_after.close()


@pytest.mark.skipif(sys.platform == "win32", reason="RLIMIT_FSIZE is POSIX")
def test_a_write_past_the_file_size_limit_gives_the_same_clear_error(store_path: Path, spawn) -> None:
    # A limit every POSIX system enforces without privileges: RLIMIT_FSIZE makes writes past it
    # fail with EFBIG (SIGXFSZ ignored), like a disk that fills up in the middle of a write.
    child = spawn(f"""
        import resource, signal, tracker_sdk
        from pathlib import Path
        run = tracker_sdk.init(store={str(store_path)!r})
        Path("small.txt").write_text("a small file")
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (8 << 20, resource.RLIM_INFINITY))
        for log in (lambda: run.log_text("x" * (9 << 20), "eval/report.md"),
                    lambda: run.log_artifact("small.txt")):
            try:
                log()
                print("written")
            except tracker_sdk.TrackerError as e:
                print("error", type(e).__name__, e.errno, str(e))
        print("files", sorted(str(p.relative_to(run.artifact_dir))
                              for p in run.artifact_dir.rglob("*") if p.is_file()))
        print("finished", run.finish())
    """)
    child.wait_for_line("finished")
    error = child.wait_for_line("error")
    assert error.startswith("error ArtifactWriteError 27 cannot write artifact 'eval/report.md'")
    assert "too large" in error
    assert child.wait_for_line("written")  # a small file still goes in
    assert child.wait_for_line("files") == "files ['small.txt']"
    assert child.wait_for_line("finished") == "finished True"

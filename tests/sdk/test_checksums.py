"""Damaged metric data reads as a clear error naming the run and key, never as wrong numbers.

Each chunk of a series carries a CRC-32 of its blobs (schema 0002). The damage here is real: a
byte of the database file flipped on disk, where SQLite itself still reads the page happily.
"""

from __future__ import annotations

import sqlite3
import struct
from pathlib import Path

import numpy as np
import pytest

import tracker_sdk
from tracker_sdk import CorruptDataError, Store

pytestmark = pytest.mark.usefixtures("in_tmp_dir")

#: A value no other bytes of the file will match, to find the blob on disk.
MARKER = 0.123456789012345


def _store_with_two_series(path: Path) -> str:
    with tracker_sdk.init(store=path, name="damaged") as run:
        for i in range(3000):
            run.log({"loss": MARKER if i == 2500 else 1.0 / (i + 1), "acc": i / 3000}, step=i)
    checkpoint(path)
    return run.id


def checkpoint(path: Path) -> None:
    """Fold the WAL into the database file, so the blobs sit in runwatch.db itself."""
    con = sqlite3.connect(path / "runwatch.db")
    con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    con.close()


def flip_byte_of(path: Path, value: float) -> None:
    db = path / "runwatch.db"
    data = bytearray(db.read_bytes())
    at = data.find(struct.pack("<d", value))
    assert at > 0 and data.find(struct.pack("<d", value), at + 1) < 0
    data[at + 3] ^= 0x10
    db.write_bytes(bytes(data))


def test_a_flipped_byte_in_a_series_is_an_error_naming_run_and_key(store_path: Path) -> None:
    run_id = _store_with_two_series(store_path)
    flip_byte_of(store_path, MARKER)
    st = Store(store_path)
    with pytest.raises(CorruptDataError) as e:
        st.metric_history(run_id, "loss")
    text = str(e.value)
    assert "'loss'" in text and "'damaged'" in text and run_id[:8] in text
    assert "runwatch doctor" in text
    with pytest.raises(CorruptDataError):
        st.metric_chunks(run_id, "loss")  # the app's live path reads chunks
    # The other series of the run, and the run itself, still read.
    acc = st.metric_history(run_id, "acc")
    assert acc.values.size == 3000 and acc.values[2999] == pytest.approx(2999 / 3000)
    assert st.get_run(run_id).metrics["loss"].count == 3000
    assert st.damaged_series() == [(run_id, "loss", [2])]  # 1024 points per chunk: step 2500
    st.close()


def test_an_intact_store_has_no_damaged_series(store_path: Path) -> None:
    run_id = _store_with_two_series(store_path)
    st = Store(store_path)
    assert st.damaged_series() == []
    h = st.metric_history(run_id, "loss")
    assert h.values[2500] == MARKER and np.all(np.diff(h.steps) == 1)
    st.close()


def test_a_store_written_before_checksums_upgrades_and_reads_unchecked(store_path: Path, spawn) -> None:
    """Schema 0001 had no checksum column: its chunks read as before, new ones get checked."""
    from alembic import command
    from sqlalchemy import create_engine

    from tracker_sdk.store.migrate import alembic_config

    run_id = _store_with_two_series(store_path)
    engine = create_engine(f"sqlite:///{store_path / 'runwatch.db'}")
    with engine.begin() as conn:
        command.downgrade(alembic_config(conn), "0001")
    engine.dispose()

    # A new process opens the old store (upgrading it to 0002) and grows the series.
    child = spawn(f"""
import tracker_sdk
with tracker_sdk.init(store={str(store_path)!r}, resume={run_id!r}) as run:
    run.log({{"loss": 0.5}}, step=3000)
print("done", flush=True)
""")
    assert child.wait(timeout=60) == 0, child.finish_output()
    st = Store(store_path)
    h = st.metric_history(run_id, "loss")
    assert h.values.size == 3001 and h.values[2500] == MARKER and h.values[-1] == 0.5
    con = sqlite3.connect(store_path / "runwatch.db")
    checks = dict(con.execute("SELECT chunk_index, checksum FROM metric_chunks WHERE key = 'loss'"))
    con.close()
    assert checks[0] is None and checks[2] is not None  # old full chunk / rewritten open chunk
    assert st.damaged_series() == []
    st.close()

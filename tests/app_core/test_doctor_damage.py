"""``runwatch doctor`` on a damaged store: it names what is damaged and how to save the rest,
in plain lines and without a traceback. The damage is done to the real file on disk."""

from __future__ import annotations

import sqlite3
import struct
from pathlib import Path

import pytest

import tracker_sdk
from app.cli import main

MARKER = 0.123456789012345


def checkpoint(path: Path) -> None:
    con = sqlite3.connect(path / "runwatch.db")
    con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    con.close()


@pytest.fixture
def store(tmp_path, monkeypatch) -> Path:
    monkeypatch.chdir(tmp_path)
    path = tmp_path / "store"
    with tracker_sdk.init(store=path, name="flipped") as run:
        for i in range(2000):
            run.log({"loss": MARKER if i == 1500 else 1.0 / (i + 1), "acc": i / 2000}, step=i)
    with tracker_sdk.init(store=path, name="intact") as other:
        other.log({"loss": 1.0})
    checkpoint(path)
    return path


def doctor(capsys, path: Path) -> tuple[int, str]:
    code = main(["doctor", "--store", str(path)])
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    return code, out + err


def test_doctor_is_ok_on_an_intact_store(capsys, store) -> None:
    code, out = doctor(capsys, store)
    assert code == 0 and "metric checksums ok" in out


def test_doctor_names_a_series_whose_chunk_fails_its_checksum(capsys, store) -> None:
    db = store / "runwatch.db"
    data = bytearray(db.read_bytes())
    at = data.find(struct.pack("<d", MARKER))
    data[at + 2] ^= 0x01
    db.write_bytes(bytes(data))

    code, out = doctor(capsys, store)
    assert code == 1
    flat = " ".join(out.split())
    assert "1 damaged series" in flat
    assert "metric 'loss' of run 'flipped'" in flat and "chunk 1 " in flat
    assert "'intact'" not in flat  # only the damaged series is reported


@pytest.mark.parametrize("offset", [100, 4096], ids=["first page", "second page"])
def test_doctor_explains_a_database_sqlite_cannot_read(capsys, store, offset) -> None:
    db = store / "runwatch.db"
    data = bytearray(db.read_bytes())
    data[offset:offset + 1024] = b"\xde\xad\xbe\xef" * 256
    db.write_bytes(bytes(data))

    code, out = doctor(capsys, store)
    assert code == 1
    flat = " ".join(out.split())
    assert "database disk image is malformed" in flat
    assert f"sqlite3 {db} .recover" in flat and "copy the store folder aside" in flat


def test_other_commands_point_at_doctor_in_one_line(capsys, store) -> None:
    db = store / "runwatch.db"
    data = bytearray(db.read_bytes())
    data[100:100 + 1024] = b"\xde\xad\xbe\xef" * 256  # SQLite cannot even read the schema
    db.write_bytes(bytes(data))
    assert main(["runs", "list", "--store", str(store)]) != 0
    err = capsys.readouterr().err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert "is damaged" in err and f"runwatch doctor --store {store}" in err

"""Opening what is not a (usable) store: one clear line, and nothing on disk changed."""

from __future__ import annotations

import hashlib
import sqlite3
from pathlib import Path

import pytest

import tracker_sdk
from tracker_sdk import SchemaVersionError, Store, StoreError, StoreNotFoundError

pytestmark = pytest.mark.usefixtures("in_tmp_dir")


def _snapshot(folder: Path) -> dict[str, str]:
    """Every file under ``folder`` with a hash of its bytes."""
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def _one_line(err: pytest.ExceptionInfo[BaseException]) -> str:
    text = str(err.value)
    assert "\n" not in text and text.strip() == text and len(text) < 400
    return text


def _opening_fails(path: Path, error: type[Exception], match: str) -> str:
    """Both a reader (``Store``) and a writer (``init``) refuse the path with the same error."""
    with pytest.raises(error, match=match) as err:
        Store(path)
    text = _one_line(err)
    with pytest.raises(error, match=match) as err:
        tracker_sdk.init(store=path)
    _one_line(err)
    assert tracker_sdk.active_run() is None
    return text


def test_missing_store_names_the_demo_command(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere"
    with pytest.raises(StoreNotFoundError, match="runwatch demo") as err:
        Store(missing)
    assert str(missing) in _one_line(err)
    assert not missing.exists()  # a reader never creates a store


def test_an_empty_folder_is_not_a_store_for_a_reader(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(StoreNotFoundError):
        Store(empty)
    assert list(empty.iterdir()) == []


def test_a_file_instead_of_a_folder(tmp_path: Path) -> None:
    f = tmp_path / "notes.txt"
    f.write_text("not a store")
    text = _opening_fails(f, StoreError, "is a file, not a Runwatch store")
    assert str(f) in text
    assert f.read_text() == "not a store"


def test_a_database_file_that_is_not_sqlite(tmp_path: Path) -> None:
    folder = tmp_path / "s"
    folder.mkdir()
    (folder / "runwatch.db").write_bytes(b"this is a text file, not a database\n" * 10)
    before = _snapshot(folder)
    _opening_fails(folder, StoreError, "is not a SQLite database")
    assert _snapshot(folder) == before


def test_a_sqlite_database_that_is_not_a_store(tmp_path: Path) -> None:
    folder = tmp_path / "s"
    folder.mkdir()
    db = sqlite3.connect(folder / "runwatch.db")
    db.execute("CREATE TABLE invoices (id INTEGER PRIMARY KEY, total REAL)")
    db.execute("INSERT INTO invoices VALUES (1, 9.5)")
    db.commit()
    db.close()
    before = _snapshot(folder)
    _opening_fails(folder, StoreError, "not a Runwatch store")
    assert _snapshot(folder) == before  # not even switched to WAL: no -wal/-shm files either
    db = sqlite3.connect(folder / "runwatch.db")
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
    assert db.execute("SELECT * FROM invoices").fetchall() == [(1, 9.5)]
    db.close()


def _store_with_revision(folder: Path, revision: str) -> None:
    Store(folder, create=True).close()
    db = sqlite3.connect(folder / "runwatch.db")
    with db:
        db.execute("UPDATE alembic_version SET version_num = ?", (revision,))
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()


def test_a_store_from_a_newer_version_is_refused(tmp_path: Path) -> None:
    folder = tmp_path / "future"
    _store_with_revision(folder, "9999_from_the_future")
    before = _snapshot(folder)
    text = _opening_fails(folder, SchemaVersionError, "newer Runwatch")
    assert "9999_from_the_future" in text and "pip install -U" in text
    with pytest.raises(SchemaVersionError) as err:
        Store(folder)
    assert err.value.found == "9999_from_the_future"
    from tracker_sdk.store.schema import SCHEMA_REVISION

    assert err.value.expected == SCHEMA_REVISION
    assert _snapshot(folder) == before


def test_a_store_folder_given_as_its_db_file_or_sqlite_url(store_path: Path, open_store) -> None:
    with tracker_sdk.init(store=store_path) as run:
        pass
    assert open_store(store_path / "runwatch.db").get_run(run.id).id == run.id
    assert open_store(f"sqlite:///{store_path / 'runwatch.db'}").get_run(run.id).id == run.id


def test_runwatch_home_is_the_default_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                            open_store) -> None:
    home = tmp_path / "home-store"
    monkeypatch.setenv("RUNWATCH_HOME", str(home))
    with tracker_sdk.init() as run:
        run.log({"x": 1.0})
    assert (home / "runwatch.db").is_file()
    assert open_store(home).get_run(run.id).metrics["x"].count == 1


def test_without_runwatch_home_the_store_is_runwatch_in_the_working_dir(
        in_tmp_dir: Path, monkeypatch: pytest.MonkeyPatch, open_store) -> None:
    monkeypatch.delenv("RUNWATCH_HOME", raising=False)
    with tracker_sdk.init() as run:
        pass
    assert open_store(in_tmp_dir / "runwatch").get_run(run.id).id == run.id

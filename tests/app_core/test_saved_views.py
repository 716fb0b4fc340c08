"""``app.core.saved_views``: views round-trip through JSON and a library file, per store."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from app.core.chart_settings import ChartSettings
from app.core.saved_views import ENV_VAR, SavedView, ViewLibrary, default_views_path, store_key


def view(name="v", store="/tmp/store-a", **kw):
    base = dict(experiment="mnist", filter="params.lr > 0.01", checked=("r1", "r2"), selected=("r2",),
                columns=("name", "params.lr", "metrics.val/loss.min"),
                chart_settings=ChartSettings(smoothing=0.3, log_y=True).to_dict(), compare=("r1", "r2"),
                created_ms=1_700_000_000_000, sort=("metrics.val/loss.min", True))
    base.update(kw)
    return SavedView(name=name, store_path=store, **base)


def test_json_round_trip_keeps_every_field():
    v = view()
    again = SavedView.from_json(v.to_json())
    assert again == v
    assert again.checked == ("r1", "r2") and isinstance(again.checked, tuple)
    assert ChartSettings.from_dict(again.chart_settings) == ChartSettings(smoothing=0.3, log_y=True)
    assert again.sort == ("metrics.val/loss.min", True)
    assert SavedView.from_dict(json.loads(json.dumps(v.to_dict()))) == v
    assert view(experiment=None, sort=None).to_dict()["experiment"] is None


def test_from_dict_tolerates_missing_optional_fields_and_refuses_non_views():
    v = SavedView.from_dict({"name": " best ", "store_path": "/x", "future_field": 1})
    assert (v.name, v.filter, v.checked, v.chart_settings, v.experiment, v.sort) == ("best", "", (), {}, None, None)
    for bad in ({"store_path": "/x"}, {"name": "", "store_path": "/x"}, {"name": "a", "store_path": "/x", "checked": "r1"},
                {"name": "a", "store_path": "/x", "checked": [1, 2]}, {"name": "a", "store_path": 3},
                {"name": "a", "store_path": "/x", "chart_settings": []}, [1, 2]):
        with pytest.raises(ValueError):
            SavedView.from_dict(bad)  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        SavedView.from_json("{not json")


def test_store_paths_are_normalised(tmp_path):
    a = tmp_path / "store"
    a.mkdir()
    assert store_key(a / "runwatch.db") == store_key(a) == store_key(str(a) + "/") == str(a.resolve())
    assert view(store=str(a / ".." / "store")).store_path == str(a.resolve())


def test_library_lists_per_store_by_name_and_replaces_same_name(tmp_path):
    lib = ViewLibrary(tmp_path / "sub" / "views.json")
    assert lib.list("/tmp/store-a") == [] and not lib.path.exists()
    lib.save(view("beta"))
    lib.save(view("Alpha"))
    lib.save(view("other-store", store="/tmp/store-b"))
    assert [v.name for v in lib.list("/tmp/store-a")] == ["Alpha", "beta"]
    assert [v.name for v in lib.list("/tmp/store-b")] == ["other-store"]
    lib.save(view("beta", filter="status = 'FAILED'"))
    assert [v.name for v in lib.list("/tmp/store-a")] == ["Alpha", "beta"]
    assert lib.get("beta", "/tmp/store-a").filter == "status = 'FAILED'"
    assert lib.get("beta", "/tmp/store-b") is None
    # Another library on the same file (another window) sees the same views.
    assert [v.name for v in ViewLibrary(lib.path).list("/tmp/store-a")] == ["Alpha", "beta"]


def test_save_stamps_creation_time_when_missing(tmp_path):
    saved = ViewLibrary(tmp_path / "v.json").save(view(created_ms=0))
    assert saved.created_ms > 1_600_000_000_000


def test_delete_and_rename(tmp_path):
    lib = ViewLibrary(tmp_path / "views.json")
    lib.save(view("a"))
    lib.save(view("b"))
    assert lib.delete("a", "/tmp/store-a") is True
    assert lib.delete("a", "/tmp/store-a") is False
    assert [v.name for v in lib.list("/tmp/store-a")] == ["b"]
    renamed = lib.rename("b", "  c ", "/tmp/store-a")
    assert renamed.name == "c" and renamed.checked == ("r1", "r2")
    assert [v.name for v in lib.list("/tmp/store-a")] == ["c"]
    lib.save(view("d"))
    with pytest.raises(ValueError, match="already exists"):
        lib.rename("c", "d", "/tmp/store-a")
    with pytest.raises(ValueError):
        lib.rename("c", " ", "/tmp/store-a")
    with pytest.raises(KeyError):
        lib.rename("zzz", "y", "/tmp/store-a")


def test_writes_are_atomic_and_leave_no_temporary_files(tmp_path, monkeypatch):
    lib = ViewLibrary(tmp_path / "views.json")
    lib.save(view("a"))
    before = lib.path.read_bytes()

    def boom(*_a, **_k):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", boom)
    with pytest.raises(OSError):
        lib.save(view("b"))
    monkeypatch.undo()
    assert lib.path.read_bytes() == before  # the old file is intact
    assert sorted(p.name for p in tmp_path.iterdir()) == ["views.json"]
    data = json.loads(before)
    assert data["version"] == 1 and [v["name"] for v in data["views"]] == ["a"]


def test_a_damaged_file_reads_as_empty_and_is_kept_aside_on_next_save(tmp_path):
    path = tmp_path / "views.json"
    path.write_text("{ this is not json", encoding="utf-8")
    lib = ViewLibrary(path)
    assert lib.list("/tmp/store-a") == []
    assert lib.problem and "damaged" in lib.problem
    lib.save(view("fresh"))
    assert (tmp_path / "views.json.damaged").read_text(encoding="utf-8") == "{ this is not json"
    assert [v.name for v in lib.list("/tmp/store-a")] == ["fresh"] and lib.problem is None


def test_one_bad_entry_does_not_hide_the_others(tmp_path):
    path = tmp_path / "views.json"
    path.write_text(json.dumps({"version": 1, "views": [view("good").to_dict(), {"name": 5}, "junk"]}),
                    encoding="utf-8")
    assert [v.name for v in ViewLibrary(path).list("/tmp/store-a")] == ["good"]


def test_default_location_and_env_override(monkeypatch, tmp_path):
    monkeypatch.setenv(ENV_VAR, str(tmp_path / "mine.json"))
    assert default_views_path() == tmp_path / "mine.json"
    assert ViewLibrary().path == tmp_path / "mine.json"
    monkeypatch.delenv(ENV_VAR)
    p = default_views_path()
    assert p.name == "views.json" and "runwatch" in str(p.parent).lower()
    assert isinstance(p, Path)

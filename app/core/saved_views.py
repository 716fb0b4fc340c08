"""Saved views: a named selection of runs, filter, columns and chart settings of one store.

Qt-free. A :class:`ViewLibrary` keeps every view of every store in one small JSON file
(``views.json`` in the user data folder, or ``$RUNWATCH_VIEWS``); views refer to runs by id, so
they survive restarts, and runs deleted since are simply skipped when a view is restored.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from app.core.fileio import atomic_writer

#: Bumped when the file layout changes incompatibly; older files are still read.
FORMAT_VERSION = 1
ENV_VAR = "RUNWATCH_VIEWS"


def default_views_path() -> Path:
    """``$RUNWATCH_VIEWS`` if set, else ``<user data dir>/runwatch/views.json``."""
    env = os.environ.get(ENV_VAR)
    if env:
        return Path(env).expanduser()
    import platformdirs

    return Path(platformdirs.user_data_dir("runwatch", appauthor=False)) / "views.json"


def store_key(store_path: str | os.PathLike[str]) -> str:
    """How a store is named in the library: its absolute, resolved folder path."""
    p = Path(os.fspath(store_path)).expanduser()
    if p.name == "runwatch.db":
        p = p.parent
    return str(p.resolve())


def _strings(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str) or not isinstance(value, Iterable):
        raise ValueError(f"expected a list of strings, got {value!r}")
    out = tuple(value)
    if not all(isinstance(v, str) for v in out):
        raise ValueError(f"expected a list of strings, got {value!r}")
    return out


@dataclass(frozen=True)
class SavedView:
    """What the window showed: the experiment, filter, checked/selected/compared runs (by id),
    the runs table's columns and sort, and the charts' settings (``ChartSettings.to_dict()``)."""

    name: str
    store_path: str
    experiment: str | None = None  # None = all experiments
    filter: str = ""
    checked: tuple[str, ...] = ()
    selected: tuple[str, ...] = ()
    columns: tuple[str, ...] = ()  # Column ids ("name", "params.lr", "metrics.val/loss.min")
    chart_settings: Mapping[str, Any] = field(default_factory=dict)
    compare: tuple[str, ...] = ()
    created_ms: int = 0
    sort: tuple[str, bool] | None = None  # (column id, descending); None = newest first

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name.strip():
            raise ValueError("a view needs a name")
        object.__setattr__(self, "name", self.name.strip())
        object.__setattr__(self, "store_path", store_key(self.store_path))
        for f in ("checked", "selected", "columns", "compare"):
            object.__setattr__(self, f, _strings(getattr(self, f)))
        object.__setattr__(self, "chart_settings", dict(self.chart_settings or {}))

    def run_ids(self) -> set[str]:
        """Every run the view refers to."""
        return set(self.checked) | set(self.selected) | set(self.compare)

    # --- JSON ---------------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "store_path": self.store_path, "experiment": self.experiment,
                "filter": self.filter, "checked": list(self.checked), "selected": list(self.selected),
                "columns": list(self.columns), "chart_settings": dict(self.chart_settings),
                "compare": list(self.compare), "created_ms": self.created_ms,
                "sort": None if self.sort is None else [self.sort[0], self.sort[1]]}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> SavedView:
        """Raises ValueError for data that is not a view (unknown keys are ignored)."""
        if not isinstance(data, Mapping):
            raise ValueError(f"a view must be a JSON object, got {type(data).__name__}")
        try:
            name, store = data["name"], data["store_path"]
        except KeyError as e:
            raise ValueError(f"a view needs {e.args[0]!r}") from None
        if not isinstance(store, str):
            raise ValueError("store_path must be text")
        exp = data.get("experiment")
        if exp is not None and not isinstance(exp, str):
            raise ValueError("experiment must be text or null")
        flt = data.get("filter") or ""
        if not isinstance(flt, str):
            raise ValueError("filter must be text")
        charts = data.get("chart_settings")
        charts = {} if charts is None else charts
        if not isinstance(charts, Mapping):
            raise ValueError("chart_settings must be an object")
        sort = data.get("sort")
        if sort is not None:
            if (not isinstance(sort, Sequence) or isinstance(sort, str) or len(sort) != 2
                    or not isinstance(sort[0], str)):
                raise ValueError("sort must be [column id, descending]")
            sort = (sort[0], bool(sort[1]))
        created = data.get("created_ms") or 0
        if isinstance(created, bool) or not isinstance(created, int | float):
            raise ValueError("created_ms must be a number")
        return cls(name=name, store_path=store, experiment=exp, filter=flt,
                   checked=_strings(data.get("checked")), selected=_strings(data.get("selected")),
                   columns=_strings(data.get("columns")), chart_settings=charts,
                   compare=_strings(data.get("compare")), created_ms=int(created), sort=sort)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False)

    @classmethod
    def from_json(cls, text: str) -> SavedView:
        try:
            data = json.loads(text)
        except json.JSONDecodeError as e:
            raise ValueError(f"not JSON: {e}") from None
        return cls.from_dict(data)


def now_ms() -> int:
    return int(time.time() * 1000)


class ViewLibrary:
    """The saved views of every store, in one JSON file.

    Every call re-reads the file (it is small), so two windows see each other's views. Writes
    go to a temporary file that replaces the old one, so a crash never leaves half a file. A
    damaged file is never overwritten silently: it is read as empty (``problem`` says why) and
    moved aside as ``views.json.damaged`` before the next save.
    """

    def __init__(self, path: str | os.PathLike[str] | None = None) -> None:
        self.path = Path(path) if path is not None else default_views_path()
        self.problem: str | None = None
        self._damaged_seen = False

    # --- reads --------------------------------------------------------------------------------
    def _load(self) -> list[SavedView]:
        self.problem, self._damaged_seen = None, False
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return []
        except OSError as e:
            self.problem = f"cannot read {self.path}: {e.strerror or e}"
            return []
        try:
            data = json.loads(text)
            entries = data["views"] if isinstance(data, dict) else None
            if not isinstance(entries, list):
                raise ValueError("no 'views' list")
        except (ValueError, KeyError) as e:
            self.problem = f"{self.path} is damaged ({e}); it will be kept as {self._damaged().name}"
            self._damaged_seen = True
            return []
        views = []
        for entry in entries:
            try:
                views.append(SavedView.from_dict(entry))
            except (ValueError, TypeError):
                continue  # one bad entry (hand edit) must not hide the others
        return views

    def all(self) -> list[SavedView]:
        """Every view of every store."""
        return self._load()

    def list(self, store_path: str | os.PathLike[str]) -> list[SavedView]:
        """The views of one store, by name (case-insensitive)."""
        key = store_key(store_path)
        return sorted((v for v in self._load() if v.store_path == key), key=lambda v: v.name.casefold())

    def get(self, name: str, store_path: str | os.PathLike[str]) -> SavedView | None:
        key, name = store_key(store_path), name.strip()
        return next((v for v in self._load() if v.store_path == key and v.name == name), None)

    # --- writes -------------------------------------------------------------------------------
    def save(self, view: SavedView) -> SavedView:
        """Add ``view``; one with the same name in the same store is replaced."""
        if not view.created_ms:
            view = replace(view, created_ms=now_ms())
        views = [v for v in self._load() if not (v.store_path == view.store_path and v.name == view.name)]
        self._write(views + [view])
        return view

    def delete(self, name: str, store_path: str | os.PathLike[str]) -> bool:
        """Remove a view; False when there was none of that name."""
        key, name = store_key(store_path), name.strip()
        views = self._load()
        kept = [v for v in views if not (v.store_path == key and v.name == name)]
        if len(kept) == len(views):
            return False
        self._write(kept)
        return True

    def rename(self, old: str, new: str, store_path: str | os.PathLike[str]) -> SavedView:
        """Rename a view. Raises KeyError when it is gone, ValueError when ``new`` is taken or empty."""
        key, old, new = store_key(store_path), old.strip(), new.strip()
        if not new:
            raise ValueError("a view needs a name")
        views = self._load()
        found = next((v for v in views if v.store_path == key and v.name == old), None)
        if found is None:
            raise KeyError(old)
        if new == old:
            return found
        if any(v.store_path == key and v.name == new for v in views):
            raise ValueError(f"a view named {new!r} already exists")
        renamed = replace(found, name=new)
        self._write([renamed if v is found else v for v in views])
        return renamed

    def _damaged(self) -> Path:
        return self.path.with_name(self.path.name + ".damaged")

    def _write(self, views: list[SavedView]) -> None:
        if self.problem is not None and not self._damaged_seen:
            raise OSError(self.problem)  # unreadable (permissions...): writing would lose its views
        if self._damaged_seen and self.path.exists():
            os.replace(self.path, self._damaged())  # keep the user's data for a hand repair
        self.problem, self._damaged_seen = None, False
        self.path.parent.mkdir(parents=True, exist_ok=True)
        payload = {"version": FORMAT_VERSION, "views": [v.to_dict() for v in views]}
        with atomic_writer(self.path, newline="\n", durable=True) as f:
            json.dump(payload, f, ensure_ascii=False, indent=1)
            f.write("\n")

"""Fixtures of the SDK tests: a fresh store folder per test, child processes, cleanup."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from sdk_helpers import Child, close_sdk_state

if TYPE_CHECKING:
    from tracker_sdk import Store


@pytest.fixture
def store_path(tmp_path: Path) -> Path:
    """A store folder that does not exist yet; the SDK creates it on the first ``init``."""
    return tmp_path / "store"


@pytest.fixture
def in_tmp_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Work in an empty folder: no git repository for the run's environment capture to diff."""
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    return work


@pytest.fixture(autouse=True)
def _finish_runs_and_writers() -> Iterator[None]:
    """Leave no live run, writer thread or open store behind for the next test."""
    yield
    close_sdk_state()


@pytest.fixture
def spawn(tmp_path: Path) -> Iterator[Callable[..., Child]]:
    """Start ``python -c <code>`` children (they can ``import tracker_sdk``); killed at teardown.

    Children run in an empty folder, so the run's environment capture finds no git repository.
    """
    children: list[Child] = []
    cwd = tmp_path / "child-cwd"
    cwd.mkdir(exist_ok=True)

    def start(code: str, env: dict[str, str] | None = None) -> Child:
        child = Child(code, env, cwd=cwd)
        children.append(child)
        return child

    yield start
    for c in children:
        c.kill()


@pytest.fixture
def open_store() -> Iterator[Callable[[Path], Store]]:
    """Open a fresh reader on a store folder (as the app or a script would); closed at teardown."""
    from tracker_sdk import Store

    opened: list[Store] = []

    def open_(path: Path) -> Store:
        st = Store(path)
        opened.append(st)
        return st

    yield open_
    for st in opened:
        st.close()

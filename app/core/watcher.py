"""Watch a store folder and say "something changed" — cheaply, from the observer thread.

Only writes matter: modifications of ``runwatch.db-wal``/``runwatch.db`` and files created,
moved or deleted under ``artifacts/``. Opens, closes and attribute changes are ignored, because
a reader's own activity produces them and reacting to those makes a self-sustaining storm
(measured: 2,000 refreshes a second; ../shared/notes/gui-stack.md §5). Debouncing is the
consumer's job: the ``-wal`` event can arrive before the commit is visible.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from pathlib import Path

from watchdog.events import (
    DirCreatedEvent,
    DirMovedEvent,
    FileCreatedEvent,
    FileDeletedEvent,
    FileModifiedEvent,
    FileMovedEvent,
    FileSystemEvent,
    FileSystemEventHandler,
)
from watchdog.observers import Observer

DB_FILES = ("runwatch.db", "runwatch.db-wal")
_ARTIFACT_EVENTS = (FileCreatedEvent, FileModifiedEvent, FileMovedEvent, FileDeletedEvent)


def classify(store: Path, event: FileSystemEvent) -> str | None:
    """'db', 'artifacts' or None (ignore) for one watchdog event."""
    if event.is_directory and not isinstance(event, DirCreatedEvent | DirMovedEvent):
        return None
    # A new artifact folder counts by itself: its first file can land before watchdog has
    # added a watch on the folder, and that file's own event is then never seen.
    path = Path(str(event.dest_path or event.src_path) if isinstance(event, FileMovedEvent) else str(event.src_path))
    if event.is_directory:
        try:
            rel_dir = path.relative_to(store / "artifacts")
        except ValueError:
            return None
        return None if any(p.startswith(".") for p in rel_dir.parts) else "artifacts"
    if path.parent == store and path.name in DB_FILES:
        return "db" if isinstance(event, FileModifiedEvent) else None
    try:
        rel = path.relative_to(store / "artifacts")
    except ValueError:
        return None
    if any(part.startswith(".") for part in rel.parts):
        return None  # the SDK's temp files (written then renamed into place)
    return "artifacts" if isinstance(event, _ARTIFACT_EVENTS) else None


def foreign_classifier(is_relevant: Callable[[Path], bool]) -> Callable[[FileSystemEvent], str | None]:
    """Classify events of another tool's store by its reader's ``is_relevant``: a change to a
    file it reads, or a new folder (a new TensorBoard run: its first file can land before
    watchdog watches the folder), is 'db'."""
    def classify_foreign(event: FileSystemEvent) -> str | None:
        if event.is_directory:
            return "db" if isinstance(event, DirCreatedEvent | DirMovedEvent) else None
        path = Path(str(event.dest_path or event.src_path) if isinstance(event, FileMovedEvent)
                    else str(event.src_path))
        return "db" if is_relevant(path) and isinstance(event, _ARTIFACT_EVENTS) else None
    return classify_foreign


class _Handler(FileSystemEventHandler):
    def __init__(self, classify: Callable[[FileSystemEvent], str | None], notify: Callable[[str], None]) -> None:
        self.classify = classify
        self.notify = notify

    def on_any_event(self, event: FileSystemEvent) -> None:
        kind = self.classify(event)
        if kind is not None:
            self.notify(kind)


class StoreWatcher:
    """``notify(kind)`` is called from watchdog's thread; keep it O(1) (set a flag, emit).

    Watches a Runwatch store folder, or, given ``classify``, another tool's files under
    ``store`` (``classifier``; ``recursive`` for a folder of runs, not for a database's folder).
    """

    def __init__(self, store: Path, notify: Callable[[str], None], *,
                 classifier: Callable[[FileSystemEvent], str | None] | None = None,
                 recursive: bool = True) -> None:
        self.store = Path(store).resolve()
        self._observer = Observer()
        self._observer.daemon = True
        handler = _Handler(classifier or partial(classify, self.store), notify)
        self._observer.schedule(handler, str(self.store), recursive=recursive)

    def start(self) -> None:
        self._observer.start()

    def stop(self) -> None:
        self._observer.stop()
        self._observer.join(timeout=2.0)

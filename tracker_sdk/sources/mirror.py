"""A foreign store opened in place: a private, read-only mirror kept in step with it.

The mirror is a native store in a temporary folder, filled by the source's reader through
:class:`DeltaWriter`; every read (filters, sort, compare, series, exports) is then the native
store's own code, with the same semantics and speed. :meth:`MirrorStore.sync` pulls what the
source gained since the last sync (by cursor, never a re-read), so the app stays live by
calling it before each refresh. Nothing is ever written to the source.
"""

from __future__ import annotations

import shutil
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tracker_sdk.artifacts import ArtifactStore
from tracker_sdk.errors import ArtifactPathError, StoreError
from tracker_sdk.reader import Store
from tracker_sdk.sources.apply import DeltaWriter

if TYPE_CHECKING:
    from sqlalchemy import Connection

    from tracker_sdk.entities import RegisteredModel

    from tracker_sdk.sources.base import ForeignReader


class _ForeignArtifacts(ArtifactStore):
    """Each run's artifacts where the source keeps them (read-only)."""

    def __init__(self, root: Path, dirs: dict[str, Path]) -> None:
        super().__init__(root)
        self._dirs = dirs

    def run_dir(self, run_id: str) -> Path:
        super().run_dir(run_id)  # the same checks on the id
        found = self._dirs.get(run_id)
        return found if found is not None else self.root / run_id  # an empty folder: no artifacts


class MirrorStore(Store):
    """A read-only view of a foreign store, with the whole read API of :class:`Store`."""

    read_only = True

    def __init__(self, reader: ForeignReader, *, sync_budget_s: float = 0.5) -> None:
        self.reader = reader
        self._tmp = Path(tempfile.mkdtemp(prefix="runwatch-mirror-"))
        try:
            super().__init__(self._tmp / "store", create=True)
        except BaseException:
            shutil.rmtree(self._tmp, ignore_errors=True)
            raise
        self.mirror_path = self.path
        self.path = reader.location  # what the user opened: titles, recent stores, saved views
        self.source_kind = reader.kind
        self._delta_writer = DeltaWriter(self, fresh=True)
        self._artifact_dirs: dict[str, Path] = {}
        self._artifacts = _ForeignArtifacts(self.artifacts_root, self._artifact_dirs)
        self._budget = sync_budget_s
        self.caught_up = False

    def __repr__(self) -> str:
        return f"MirrorStore({self.reader.kind}: {str(self.path)!r})"

    def sync(self, budget_s: float | None = None) -> bool:
        """Pull what the source gained since the last sync, for at most ``budget_s`` seconds
        of reading (a first sync of a big store continues on the next call). True when the
        mirror changed; ``caught_up`` says whether the source has nothing more right now."""
        deadline = time.monotonic() + (self._budget if budget_s is None else budget_s)
        changed = False
        while True:
            delta = self.reader.poll()
            for run in delta.runs:
                if run.artifact_dir is not None:
                    self._artifact_dirs[run.id] = run.artifact_dir
            changed |= self._delta_writer.apply(delta)
            self.caught_up = not delta.more
            if self.caught_up or time.monotonic() > deadline:
                return changed

    def sync_all(self) -> None:
        """Sync until caught up (the CLI reads a complete picture)."""
        self.sync(budget_s=float("inf"))

    def notice(self) -> str | None:
        return self.reader.notice()

    def registered_models(self) -> list[RegisteredModel]:
        """The source's model registry, read live (a source without one has none)."""
        registry = getattr(self.reader, "registry", None)
        return [] if registry is None else registry()

    @contextmanager
    def _write(self) -> Iterator[Connection]:
        raise StoreError(f"{self.path} is a read-only {self.source_kind} store: Runwatch never writes "
                         f"to it. To rename, tag or delete runs, import it: runwatch import "
                         f"{self.source_kind.lower()} {self.path} --store ./runwatch")
        yield  # pragma: no cover - a generator for @contextmanager

    def info(self) -> dict[str, Any]:
        info = super().info()
        revision = getattr(self.reader, "revision", None)
        info.update(path=str(self.path), source=self.source_kind,
                    schema=f"{self.source_kind} {revision}" if revision else self.source_kind,
                    db_bytes=_size(self.reader.location), artifact_bytes=0)
        return info

    def artifact_path(self, run_id: str, path: str = "") -> Path:
        try:
            return super().artifact_path(run_id, path)
        except ArtifactPathError:
            raise
        except OSError as e:  # the source's artifact folder went away
            raise StoreError(f"cannot read the artifacts of run {run_id}: {e}") from e

    def close(self) -> None:
        super().close()
        try:
            self.reader.close()
        finally:
            shutil.rmtree(self._tmp, ignore_errors=True)


def _size(path: Path) -> int:
    try:
        return path.stat().st_size if path.is_file() else 0
    except OSError:
        return 0

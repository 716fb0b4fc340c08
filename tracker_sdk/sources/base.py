"""What a reader of a foreign store (MLflow, TensorBoard) hands over: deltas.

A reader keeps a cursor into the files it reads (MLflow's rowids, an event file's byte offset)
and each :meth:`ForeignReader.poll` returns only what changed since the previous one: new or
changed runs as whole snapshots (small), and new metric points as arrays (the bulk). The same
delta is written into a native store by :func:`tracker_sdk.sources.apply.apply_delta`, for a
private mirror the app reads live, or for ``runwatch import``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    import numpy as np


@dataclass(frozen=True)
class ForeignRun:
    """One run of a foreign store, mapped to Runwatch's concepts. Times are ms since the epoch."""

    id: str
    experiment: str
    name: str
    status: str  # RUNNING, FINISHED, FAILED or KILLED
    start_time: int
    end_time: int | None = None
    user: str = ""
    parent_id: str | None = None
    note: str = ""
    deleted_time: int | None = None
    params: Mapping[str, str] = field(default_factory=dict)
    tags: Mapping[str, str] = field(default_factory=dict)
    environment: Mapping[str, Any] = field(default_factory=dict)
    artifact_dir: Path | None = None  # the run's artifacts on this machine, when it has any


#: New points of one series, in the order they were logged: steps (int64), values (float64;
#: NaN and ±inf as logged), timestamps (int64 ms).
Points = tuple["np.ndarray", "np.ndarray", "np.ndarray"]


@dataclass
class Delta:
    runs: list[ForeignRun] = field(default_factory=list)  # new or changed: whole snapshots
    points: dict[tuple[str, str], Points] = field(default_factory=dict)  # (run id, key) -> new points
    removed: list[str] = field(default_factory=list)  # runs no longer in the source
    live: list[str] = field(default_factory=list)  # runs the source says are running now
    more: bool = False  # the reader stopped at its page size: poll again at once

    @property
    def empty(self) -> bool:
        return not (self.runs or self.points or self.removed)


class ForeignReader(Protocol):
    """Reads one foreign store incrementally. Never writes to it."""

    #: Shown to the user: "MLflow", "TensorBoard".
    kind: str
    #: What the user opened (a database file, a folder).
    location: Path
    #: The folder whose file events mean "poll again" (watched recursively when it is a folder
    #: of runs, e.g. a TensorBoard log dir).
    watch_root: Path

    def is_relevant(self, path: Path) -> bool:
        """Whether a change to ``path`` (under ``watch_root``) can change what poll() returns."""
        ...

    def poll(self) -> Delta:
        """What changed since the previous poll; everything on the first one."""
        ...

    def notice(self) -> str | None:
        """One line the user should see about this source (e.g. an untested schema), or None."""
        ...

    def close(self) -> None: ...

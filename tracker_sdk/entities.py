"""Frozen records the SDK hands to callers. They hold plain data, never database rows."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, NamedTuple

if TYPE_CHECKING:
    import numpy as np


class RunStatus(enum.StrEnum):
    RUNNING = "RUNNING"
    FINISHED = "FINISHED"
    FAILED = "FAILED"
    KILLED = "KILLED"
    #: Derived at read time: the run says RUNNING but its process is gone (pid check on the
    #: same host, or no heartbeat for ``HEARTBEAT_STALE_S`` seconds).
    CRASHED = "CRASHED"

    @property
    def is_terminal(self) -> bool:
        return self is not RunStatus.RUNNING


class MetricSummary(NamedTuple):
    """What the runs table needs of one metric of one run, without reading the series.

    A NamedTuple rather than a frozen dataclass: a 10,000-run store has ~60,000 of them and a
    tuple builds ~5x faster (opening such a store is a measured target).
    """

    key: str
    last: float
    last_step: int
    min: float
    max: float
    count: int
    last_time: int  # ms since the epoch


@dataclass(frozen=True, slots=True)
class Experiment:
    id: int
    name: str
    run_count: int
    created_time: int  # ms since the epoch
    last_activity: int | None = None  # newest run start, ms


@dataclass(frozen=True)
class RunInfo:
    """A snapshot of one run as stored. Times are ms since the epoch (as in MLflow)."""

    id: str
    name: str
    experiment: str
    status: RunStatus
    start_time: int
    end_time: int | None
    params: Mapping[str, str] = field(default_factory=dict)
    tags: Mapping[str, str] = field(default_factory=dict)
    note: str = ""
    metrics: Mapping[str, MetricSummary] = field(default_factory=dict)
    parent_id: str | None = None
    deleted: bool = False
    deleted_time: int | None = None  # ms since the epoch; when the run was deleted
    environment: Mapping[str, Any] = field(default_factory=dict)
    heartbeat_time: int | None = None
    experiment_id: int = 0
    seq: int = 0

    @property
    def duration_s(self) -> float | None:
        """Wall time in seconds; for a live run, up to its last heartbeat."""
        end = self.end_time if self.end_time is not None else self.heartbeat_time
        return None if end is None else max(0.0, (end - self.start_time) / 1000.0)

    @property
    def user(self) -> str:
        return str(self.environment.get("user", ""))

    @property
    def host(self) -> str:
        return str(self.environment.get("host", ""))

    @property
    def git_commit(self) -> str:
        return str(self.environment.get("git_commit", ""))


@dataclass(frozen=True)
class MetricSeries:
    """A full-resolution metric series: three aligned numpy arrays, in logged order."""

    run_id: str
    key: str
    steps: np.ndarray  # int64
    values: np.ndarray  # float64; NaN and ±inf are legal
    timestamps: np.ndarray  # int64, ms since the epoch

    def __len__(self) -> int:
        return int(self.steps.shape[0])


@dataclass(frozen=True, slots=True)
class MetricChunk:
    """One stored chunk of a series. ``index`` orders chunks; ``seq`` is the change stamp."""

    run_id: str
    key: str
    index: int
    seq: int
    steps: np.ndarray
    values: np.ndarray
    timestamps: np.ndarray


@dataclass(frozen=True, slots=True)
class ArtifactInfo:
    path: str  # posix, relative to the run's artifact root
    is_dir: bool
    size: int  # bytes; 0 for folders


@dataclass(frozen=True)
class ChangeSet:
    """What changed in a store after a cursor. Feed ``cursor`` back in for the next look.

    ``runs`` are fresh snapshots of every run whose record, params, tags, note or metric
    summaries changed. ``series`` names every (run_id, key) whose points changed; fetch them
    with ``Store.metric_chunks(run_id, key, since=old_cursor)``. ``reset`` means the reader
    must reload everything (runs were hard-deleted by ``gc``).
    """

    cursor: int
    runs: tuple[RunInfo, ...] = ()
    series: tuple[tuple[str, str], ...] = ()
    reset: bool = False

    @property
    def empty(self) -> bool:
        return not (self.runs or self.series or self.reset)


@dataclass(frozen=True)
class ModelVersion:
    """One version of a registered model (MLflow's model registry concepts)."""

    model: str
    version: int
    stage: str = "None"  # None, Staging, Production or Archived (MLflow's stages)
    status: str = "READY"
    run_id: str | None = None  # the run that produced it (lineage)
    source: str = ""  # where its files came from, e.g. runs:/<run>/model
    description: str = ""
    tags: Mapping[str, str] = field(default_factory=dict)
    aliases: tuple[str, ...] = ()
    created_time: int = 0  # ms since the epoch
    updated_time: int | None = None
    user: str = ""


@dataclass(frozen=True)
class RegisteredModel:
    name: str
    description: str = ""
    tags: Mapping[str, str] = field(default_factory=dict)
    created_time: int = 0
    updated_time: int | None = None
    versions: tuple[ModelVersion, ...] = ()  # newest first
    aliases: Mapping[str, int] = field(default_factory=dict)  # alias -> version

    @property
    def latest(self) -> ModelVersion | None:
        return self.versions[0] if self.versions else None

"""Runwatch SDK: record runs (params, metrics, tags, artifacts) into a local store.

    import tracker_sdk
    with tracker_sdk.init(experiment="mnist", config={"lr": 3e-4}) as run:
        run.log({"train/loss": 0.3}, step=0)

Importing this package is cheap (no SQLAlchemy, no NumPy): the heavy modules load on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tracker_sdk.errors import (
    ArtifactPathError,
    ArtifactWriteError,
    CorruptDataError,
    FilterSyntaxError,
    ModelExistsError,
    ModelNotFoundError,
    ParamConflictError,
    RunNotFoundError,
    RunStateError,
    SchemaVersionError,
    StoreError,
    StoreNotFoundError,
    TrackerError,
    ValidationError,
)

if TYPE_CHECKING:
    from tracker_sdk.api import (
        active_run,
        finish,
        init,
        log,
        log_artifact,
        log_params,
        register_model,
        set_tags,
    )
    from tracker_sdk.entities import (
        ArtifactInfo,
        ChangeSet,
        Experiment,
        MetricSeries,
        MetricSummary,
        ModelVersion,
        RegisteredModel,
        RunInfo,
        RunStatus,
    )
    from tracker_sdk.model_uri import ResolvedModel
    from tracker_sdk.reader import Store
    from tracker_sdk.run import Run
    from tracker_sdk.sources import open_store

__version__ = "0.1.0"

_LAZY = {
    "init": "tracker_sdk.api", "log": "tracker_sdk.api", "log_params": "tracker_sdk.api",
    "set_tags": "tracker_sdk.api", "log_artifact": "tracker_sdk.api", "finish": "tracker_sdk.api",
    "active_run": "tracker_sdk.api", "Store": "tracker_sdk.reader", "Run": "tracker_sdk.run",
    "open_store": "tracker_sdk.sources",
    "RunInfo": "tracker_sdk.entities", "RunStatus": "tracker_sdk.entities",
    "MetricSeries": "tracker_sdk.entities", "MetricSummary": "tracker_sdk.entities",
    "Experiment": "tracker_sdk.entities", "ArtifactInfo": "tracker_sdk.entities",
    "ChangeSet": "tracker_sdk.entities",
    "register_model": "tracker_sdk.api", "ModelVersion": "tracker_sdk.entities",
    "RegisteredModel": "tracker_sdk.entities", "ResolvedModel": "tracker_sdk.model_uri",
}

__all__ = [*_LAZY, "ArtifactPathError", "ArtifactWriteError", "CorruptDataError", "FilterSyntaxError",
           "ModelExistsError", "ModelNotFoundError", "ParamConflictError", "RunNotFoundError",
           "RunStateError", "SchemaVersionError", "StoreError", "StoreNotFoundError", "TrackerError",
           "ValidationError"]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'tracker_sdk' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)

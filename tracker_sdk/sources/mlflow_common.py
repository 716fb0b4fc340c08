"""How an MLflow run maps to Runwatch's concepts, whichever MLflow store it was read from.

``mlflow.parentRunId`` nests runs, ``mlflow.note.content`` is the note, ``mlflow.user`` /
``mlflow.source.*`` and MLflow's other ``mlflow.*`` tags go to the environment (they are not
the user's tags); a run of a deleted experiment is deleted too.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from urllib.parse import unquote, urlparse

from tracker_sdk.sources.base import ForeignRun

#: MLflow's own tags that become run fields or environment items rather than user tags.
ENV_TAGS = {
    "mlflow.user": "user", "mlflow.source.name": "script", "mlflow.source.type": "source_type",
    "mlflow.source.git.commit": "git_commit", "mlflow.source.git.branch": "git_branch",
    "mlflow.source.git.repoURL": "git_remote", "mlflow.project.entryPoint": "entry_point",
}
#: Tags that become run fields (name, parent, note): in neither the environment nor the tags.
_FIELD_TAGS = ("mlflow.runName", "mlflow.parentRunId", "mlflow.note.content")
_STATUS = {"SCHEDULED": "RUNNING"}  # Runwatch has no "scheduled": it is not finished either


def mlflow_run(run_id: str, experiment: str, *, name: str | None, status: str | None,
               start: int | None, end: int | None, deleted: bool, deleted_time: int | None,
               user: str | None, artifact_uri: str | None, tags: Mapping[str, str],
               params: Mapping[str, str], artifact_dir: Path | None) -> ForeignRun:
    """One MLflow run as a :class:`ForeignRun`; ``deleted``: the run or its experiment is."""
    env: dict[str, object] = {"mlflow_run_id": run_id, "artifact_uri": artifact_uri or ""}
    user_tags = {}
    for key, value in tags.items():
        if key in ENV_TAGS:
            env[ENV_TAGS[key]] = value
        elif key.startswith("mlflow.") and key not in _FIELD_TAGS:
            env[key] = value
        elif not key.startswith("mlflow."):
            user_tags[key] = value
    return ForeignRun(
        id=run_id, experiment=experiment, name=name or tags.get("mlflow.runName") or run_id[:8],
        status=_STATUS.get(status or "", status or "RUNNING"), start_time=start or 0, end_time=end,
        user=user or tags.get("mlflow.user", ""), parent_id=tags.get("mlflow.parentRunId") or None,
        note=tags.get("mlflow.note.content", ""),
        # Runs of a deleted experiment (and older MLflows) keep no deletion time: the end stands in.
        deleted_time=(deleted_time or end or start or 0) if deleted else None,
        params=dict(params), tags=user_tags, environment=env, artifact_dir=artifact_dir)


def artifact_dir(uri: str | None, mlartifacts: Path) -> Path | None:
    """A run's artifact folder on this machine: a path, a file:// URI, or mlflow-artifacts:
    resolved under ``mlartifacts`` (a tracking server's default local artifact root)."""
    if not uri:
        return None
    parsed = urlparse(uri)
    if parsed.scheme in ("", "file"):
        return Path(unquote(parsed.path if parsed.scheme else uri))
    if parsed.scheme == "mlflow-artifacts":
        return mlartifacts / unquote(parsed.path).lstrip("/")
    return None  # s3://, gs://, ... : not on this machine

"""The model registry's names and URIs: MLflow's rules for model names, aliases and stages, the
messages that say what exists when a lookup fails, and resolving a model URI to its files.

URIs (as MLflow's): ``runs:/<run_id>/<path>``, ``models:/<name>/<version>``,
``models:/<name>@<alias>``, ``models:/<name>/<stage>`` (the newest version in that stage) and
``models:/<name>/latest``. :func:`resolve` finds the run and the local folder of the model;
nothing is loaded.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlparse

from tracker_sdk.errors import ModelNotFoundError, RunNotFoundError, ValidationError

if TYPE_CHECKING:
    from tracker_sdk.entities import ModelVersion, RegisteredModel
    from tracker_sdk.reader import Store

STAGES = ("None", "Staging", "Production", "Archived")
#: The stages "archive existing versions" may move a version to (MLflow's rule).
ACTIVE_STAGES = ("Staging", "Production")
MAX_MODEL_NAME_LENGTH = 256
MAX_ALIAS_LENGTH = 255
MAX_TAG_KEY_LENGTH = 250
MAX_TAG_VALUE_LENGTH = 100_000  # MLflow's limit for registry tags
_ALIAS = re.compile(r"^[\w\-]+$")
_VERSION_ALIAS = re.compile(r"^[vV]\d+$")
_FORMS = ("runs:/<run_id>/<path>, models:/<name>/<version>, models:/<name>@<alias>, "
          "models:/<name>/<stage> or models:/<name>/latest")


# --- names ----------------------------------------------------------------------------------------

def check_model_name(name: Any) -> str:
    if not isinstance(name, str) or not name.strip():
        raise ValidationError(f"a registered model name must be non-empty text, got {name!r}")
    if "/" in name or ":" in name:
        raise ValidationError(f"model name {name!r} may not contain '/' or ':' (they separate the parts of "
                              "models:/<name>/<version>); use e.g. '-' instead")
    if posixpath.normpath(name) in (".", "..") or name.startswith(".."):
        raise ValidationError(f"model name {name!r} reads as a folder path ('.' or '..'); pick another name")
    if len(name) > MAX_MODEL_NAME_LENGTH:
        raise ValidationError(f"model name is {len(name)} characters; the limit is {MAX_MODEL_NAME_LENGTH}")
    return _text(name, "model name")


def check_alias(alias: Any) -> str:
    if not isinstance(alias, str) or not alias:
        raise ValidationError(f"an alias must be non-empty text, got {alias!r}")
    if not _ALIAS.match(alias):
        raise ValidationError(f"alias {alias!r} may only contain letters, digits, '_' and '-'")
    if alias.lower() == "latest" or _VERSION_ALIAS.match(alias):
        raise ValidationError(f"alias {alias!r} is reserved (it reads as a version: latest, v1, v2…); "
                              "pick another, e.g. 'champion'")
    if len(alias) > MAX_ALIAS_LENGTH:
        raise ValidationError(f"alias is {len(alias)} characters; the limit is {MAX_ALIAS_LENGTH}")
    return alias


def canonical_stage(stage: Any) -> str:
    """MLflow's stage names, whatever the case (``production`` → ``Production``); Python's None
    is the stage "None"."""
    if stage is None:
        return "None"
    found = {s.lower(): s for s in STAGES}.get(stage.lower()) if isinstance(stage, str) else None
    if found is None:
        raise ValidationError(f"stage {stage!r} is not one of {', '.join(STAGES)} (any case)")
    return found


def check_version(version: Any) -> int:
    """A version number: a positive int, or its decimal text (MLflow passes "3")."""
    if isinstance(version, str) and version.strip().isdigit():
        version = int(version)
    if type(version) is not int or version < 1:
        raise ValidationError(f"a model version is a whole number from 1, got {version!r}")
    return version


def check_registry_tag(key: Any, value: Any) -> tuple[str, str]:
    if not isinstance(key, str) or not key.strip():
        raise ValidationError(f"a tag key must be non-empty text, got {key!r}")
    if len(key) > MAX_TAG_KEY_LENGTH:
        raise ValidationError(f"tag key {key[:40]!r}… is {len(key)} characters; the limit is {MAX_TAG_KEY_LENGTH}")
    text = "" if value is None else str(value)
    if len(text) > MAX_TAG_VALUE_LENGTH:
        raise ValidationError(f"tag {key!r} value is {len(text)} characters; the limit is {MAX_TAG_VALUE_LENGTH}")
    return _text(key, "tag key"), _text(text, f"tag {key!r} value")


def check_registry_tags(tags: Mapping[str, Any] | None) -> dict[str, str]:
    if tags is None:
        return {}
    if not isinstance(tags, Mapping):
        raise ValidationError(f"tags must be a dict, got {type(tags).__name__}")
    return dict(check_registry_tag(k, v) for k, v in tags.items())


def check_description(description: Any) -> str:
    if description is None:
        return ""
    if not isinstance(description, str):
        raise ValidationError(f"a description must be text, got {type(description).__name__}")
    return _text(description, "the description")


def _text(text: str, what: str) -> str:
    from tracker_sdk.validation import check_text

    return check_text(text, what)


# --- what exists, for the messages of failed lookups ----------------------------------------------

def _listed(items: Iterable[str], limit: int = 20) -> str:
    items = list(items)
    return ", ".join(items[:limit]) + (f", … ({len(items)} in all)" if len(items) > limit else "")


def missing_model(name: str, names: Iterable[str], where: object) -> ModelNotFoundError:
    names = list(names)
    known = f"models: {_listed(names)}" if names else "no models are registered there yet"
    return ModelNotFoundError(f"no registered model named {name!r} in {where}; {known}")


def find_version(model: RegisteredModel, version: int) -> ModelVersion:
    for v in model.versions:
        if v.version == version:
            return v
    have = _listed(str(v.version) for v in reversed(model.versions)) or "none yet"
    raise ModelNotFoundError(f"model {model.name!r} has no version {version}; its versions: {have}")


def find_alias(model: RegisteredModel, alias: str) -> ModelVersion:
    number = model.aliases.get(alias)
    if number is None:
        have = _listed(f"{a} (v{n})" for a, n in sorted(model.aliases.items()))
        raise ModelNotFoundError(f"model {model.name!r} has no alias {alias!r}; "
                                 + (f"its aliases: {have}" if have else "it has no aliases yet"))
    return find_version(model, number)


def latest_in(model: RegisteredModel, stages: Iterable[str] | None = None) -> list[ModelVersion]:
    """MLflow's "latest versions": the newest version of each stage asked for (every stage by
    default), newest first."""
    wanted = set(STAGES if stages is None else (canonical_stage(s) for s in stages))
    newest: dict[str, ModelVersion] = {}
    for v in model.versions:  # newest first
        if v.stage in wanted:
            newest.setdefault(v.stage, v)
    return sorted(newest.values(), key=lambda v: -v.version)


def _in_stage(model: RegisteredModel, stage: str) -> ModelVersion:
    found = latest_in(model, [stage])
    if not found:
        have = _listed(f"v{v.version} {v.stage}" for v in model.versions) or "no versions yet"
        raise ModelNotFoundError(f"model {model.name!r} has no version in stage {stage}; its versions: {have}")
    return found[0]


# --- URIs -----------------------------------------------------------------------------------------

@dataclass(frozen=True)
class ModelUri:
    """A parsed URI: ``run_id`` and ``path`` for runs:/, else ``name`` and one of ``version``,
    ``alias``, ``stage``, or none of them for the latest version."""

    uri: str
    run_id: str | None = None
    path: str | None = None
    name: str | None = None
    version: int | None = None
    alias: str | None = None
    stage: str | None = None


@dataclass(frozen=True)
class ResolvedModel:
    """Where a model URI leads: its run (None for a version registered from elsewhere), its
    artifact path in that run, the local file or folder, and the registry version if any."""

    run_id: str | None
    artifact_path: str | None
    local_path: Path
    version: ModelVersion | None = None


def parse(uri: Any) -> ModelUri:
    if not isinstance(uri, str):
        raise ValidationError(f"a model URI must be text, got {type(uri).__name__}; forms: {_FORMS}")
    parsed = urlparse(uri, allow_fragments=False)
    bad = ValidationError(f"{uri!r} is not a model URI; forms: {_FORMS}")
    path = unquote(parsed.path)
    if parsed.scheme not in ("runs", "models") or parsed.netloc or parsed.query or not path.startswith("/"):
        raise bad
    if parsed.scheme == "runs":
        run_id, _, rel = path[1:].partition("/")
        if not run_id or not rel.strip("/"):
            raise ValidationError(f"{uri!r} names no artifact; a run's model is runs:/<run_id>/<path>, "
                                  "e.g. runs:/<run_id>/model")
        return ModelUri(uri, run_id=run_id, path=rel)
    parts = path[1:].split("/")
    if len(parts) == 2 and parts[0].strip() and parts[1].strip():
        name, suffix = parts
        if suffix.isdigit():
            return ModelUri(uri, name=name, version=check_version(suffix))
        if suffix.lower() == "latest":
            return ModelUri(uri, name=name)
        try:
            return ModelUri(uri, name=name, stage=canonical_stage(suffix))
        except ValidationError:
            raise ValidationError(f"{suffix!r} in {uri!r} is not a version number, a stage ({', '.join(STAGES)}) "
                                  f"or 'latest'; an alias goes after '@': models:/{name}@{suffix}") from None
    if len(parts) == 1 and "@" in parts[0]:
        name, _, alias = parts[0].rpartition("@")
        if name.strip() and alias.strip():
            return ModelUri(uri, name=name, alias=alias)
    if len(parts) == 1 and parts[0].strip():
        raise ValidationError(f"{uri!r} names a model without a version; write models:/{parts[0]}/latest, "
                              f"models:/{parts[0]}/<version> or models:/{parts[0]}@<alias> "
                              "(MLflow 3's models:/<model id> URIs are not supported)")
    raise bad


def version_for(store: Store, uri: ModelUri) -> ModelVersion:
    """The registry version a models:/ URI names."""
    assert uri.name is not None
    model = store.get_registered_model(uri.name)
    if uri.version is not None:
        return find_version(model, uri.version)
    if uri.alias is not None:
        return find_alias(model, uri.alias)
    if uri.stage is not None:
        return _in_stage(model, uri.stage)
    if not model.versions:
        raise ModelNotFoundError(f"model {model.name!r} has no versions yet; register one with "
                                 f"runwatch models register runs:/<run_id>/<path> {model.name}")
    return model.versions[0]


def resolve(store: Store, uri: str) -> ResolvedModel:
    """The run, artifact path and local files of a model URI (see the module's forms)."""
    parsed = parse(uri)
    if parsed.run_id is not None:
        return _run_artifact(store, parsed.run_id, parsed.path or "")
    version = version_for(store, parsed)
    source = version.source
    if source.startswith("runs:/"):
        try:
            found = resolve(store, source)
        except RunNotFoundError:
            raise ModelNotFoundError(f"version {version.version} of model {version.model!r} comes from {source}, "
                                     "a run no longer in this store (removed for good by gc)") from None
        return ResolvedModel(found.run_id, found.artifact_path, found.local_path, version)
    local = _local_path(source)
    if local is None or not local.exists():
        raise ModelNotFoundError(f"version {version.version} of model {version.model!r} comes from {source!r}, "
                                 "which is neither a run of this store nor a local file; its files cannot be found")
    return ResolvedModel(version.run_id, None, local, version)


def source_of(store: Store, source: str, run_id: str | None) -> tuple[str, str | None]:
    """What a new version records: ``runs:/<full run id>/<path>`` for a run's model (the path
    checked), the source of the version a models:/ URI names, the absolute path of an existing
    local file or folder, else (another scheme) ``source`` as given."""
    if not isinstance(source, str) or not source.strip():
        raise ValidationError(f"a model source must be a URI or path, got {source!r}; forms: {_FORMS}")
    if source.startswith("models:/"):
        version = version_for(store, parse(source))
        return version.source, version.run_id
    if source.startswith("runs:/"):
        found = resolve(store, source)
        assert found.run_id is not None
        if run_id is not None and store.get_run(run_id).id != found.run_id:
            raise ValidationError(f"run_id {run_id!r} is not the run of {source!r}; leave run_id out")
        return f"runs:/{found.run_id}/{found.artifact_path}", found.run_id
    run = None if run_id is None else store.get_run(run_id).id
    local = _local_path(source)
    if local is None:
        return source, run  # another scheme (s3:, ...): recorded as given, resolved by no one here
    if not local.exists():
        raise ValidationError(f"{source!r} is neither a model URI nor an existing file or folder; forms: {_FORMS}")
    return str(local.resolve()), run


def _run_artifact(store: Store, run_id: str, path: str) -> ResolvedModel:
    """A run's artifact; ``runs:/<id>/model`` also finds what ``run.log_model(name="model")``
    stored under ``models/model`` (MLflow puts a model at its name, Runwatch under models/)."""
    from tracker_sdk.artifacts import MODELS_DIR, safe_relpath

    run = store.get_run(run_id)
    rel = safe_relpath(path)
    for candidate in (rel, f"{MODELS_DIR}/{rel}"):
        local = store.artifact_path(run.id, candidate)
        if local.exists():
            return ResolvedModel(run.id, candidate, local)
    models = [i.path.rsplit("/", 1)[-1] for i in store.list_artifacts(run.id, MODELS_DIR) if i.is_dir]
    have = (f"its models: {_listed(models)}" if models else
            "it has no logged models (log one with run.log_model(path, name=...))")
    raise ModelNotFoundError(f"run {run.name!r} ({run.id[:8]}) has no artifact {rel!r}; {have}")


def _local_path(source: str) -> Path | None:
    scheme = urlparse(source).scheme
    if scheme == "file":
        return Path(unquote(urlparse(source).path))
    # Another scheme (s3:, mlflow-artifacts:, models:); one letter is a Windows drive.
    return None if len(scheme) > 1 else Path(source)

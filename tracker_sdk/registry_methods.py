"""The model registry part of :class:`tracker_sdk.Store` (MLflow's concepts: registered
models, auto-numbered versions, stages, aliases, tags).

Reads go through ``registered_models()``, so they work on a foreign store opened in place too
(whose ``registered_models`` reads the source); every edit is one write transaction, refused on
a read-only store, taking a change number so a live view notices.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from tracker_sdk.errors import ValidationError

if TYPE_CHECKING:
    from pathlib import Path

    from sqlalchemy import Connection

    from tracker_sdk.entities import ModelVersion, RegisteredModel


class RegistryMethods:
    """Mixed into ``Store``, which provides ``_read``, ``_write`` and ``path``."""

    path: Path

    def registered_models(self) -> list[RegisteredModel]:
        """Registered models with their versions (newest first), stages, tags and aliases."""
        from tracker_sdk.store import registry

        with self._read() as conn:
            return registry.registered_models(conn)

    # Reads go through registered_models(), so they work on a foreign store opened in place too;
    # every edit is one write transaction (refused on a read-only store) taking a change number.

    def get_registered_model(self, name: str) -> RegisteredModel:
        """One registered model with its versions (newest first), tags and aliases."""
        from tracker_sdk.model_uri import missing_model

        models = self.registered_models()
        for m in models:
            if m.name == name:
                return m
        raise missing_model(name, [m.name for m in models], self.path)

    def get_model_version(self, name: str, version: int | str) -> ModelVersion:
        from tracker_sdk.model_uri import check_version, find_version

        return find_version(self.get_registered_model(name), check_version(version))

    def get_model_version_by_alias(self, name: str, alias: str) -> ModelVersion:
        from tracker_sdk.model_uri import find_alias

        return find_alias(self.get_registered_model(name), alias)

    def latest_versions(self, name: str, stages: Sequence[str | None] | str | None = None) -> list[ModelVersion]:
        """MLflow's ``get_latest_versions``: the newest version in each of ``stages`` (default:
        every stage), newest first. Stages in any case: ``["production"]``."""
        from tracker_sdk.model_uri import latest_in

        model = self.get_registered_model(name)
        return latest_in(model, [stages] if isinstance(stages, str) else stages)

    def create_model(self, name: str, description: str = "", tags: Mapping[str, Any] | None = None) -> RegisteredModel:
        """A new registered model without versions; ModelExistsError when the name is taken."""
        from tracker_sdk.errors import ModelExistsError
        from tracker_sdk.model_uri import check_description, check_model_name, check_registry_tags
        from tracker_sdk.store import registry, writes

        name, description = check_model_name(name), check_description(description)
        tags = check_registry_tags(tags)
        with self._write() as conn:
            if registry.registered_models(conn, name):
                raise ModelExistsError(f"a registered model named {name!r} already exists in {self.path}; "
                                       "add a version to it with register_model(source, name)")
            registry.create_model(conn, name, description, tags, writes.now_ms())
            return registry.registered_models(conn, name)[0]

    def register_model(self, source: str, name: str, *, run_id: str | None = None, description: str = "",
                       tags: Mapping[str, Any] | None = None) -> ModelVersion:
        """A new version of model ``name`` (created when missing), numbered after the last one.

        Args:
            source: ``runs:/<run_id>/<path>`` (a run's model; ``runs:/<id>/model`` finds what
                ``run.log_model(name="model")`` stored), ``models:/...`` (another version's
                source), or any other location, recorded as given.
            run_id: the source run, for a source that is not a runs:/ URI.
        """
        from tracker_sdk.api import _user
        from tracker_sdk.model_uri import (
            check_description,
            check_model_name,
            check_registry_tags,
            find_version,
            source_of,
        )
        from tracker_sdk.store import registry, writes

        name, description = check_model_name(name), check_description(description)
        tags = check_registry_tags(tags)
        with self._write() as conn:  # first: a read-only store refuses before anything is looked up
            source, run = source_of(self, source, run_id)
            now = writes.now_ms()
            if not registry.registered_models(conn, name):
                registry.create_model(conn, name, "", {}, now)
            number = registry.add_version(conn, name, source=source, run_id=run, description=description,
                                          tags=tags, user=_user(), now=now)
            return find_version(registry.registered_models(conn, name)[0], number)

    def set_model_alias(self, name: str, alias: str, version: int | str) -> ModelVersion:
        """Point ``alias`` (e.g. ``champion``) at ``version``, moving it from another version at once."""
        from tracker_sdk.model_uri import check_alias, check_version, find_version
        from tracker_sdk.store import registry

        alias, version = check_alias(alias), check_version(version)
        with self._model_edit(name, version) as (conn, now):
            registry.set_alias(conn, name, alias, version, now)
            return find_version(registry.registered_models(conn, name)[0], version)

    def delete_model_alias(self, name: str, alias: str) -> None:
        from tracker_sdk.model_uri import find_alias
        from tracker_sdk.store import registry

        with self._model_edit(name) as (conn, now):
            find_alias(registry.registered_models(conn, name)[0], alias)  # a typo is an error, not a no-op
            registry.delete_alias(conn, name, alias, now)

    def transition_model_version_stage(self, name: str, version: int | str, stage: str | None,
                                       archive_existing_versions: bool = False) -> ModelVersion:
        """Move a version to None, Staging, Production or Archived (any case). With
        ``archive_existing_versions`` (Staging or Production only, as in MLflow) the other
        versions in that stage move to Archived in the same change."""
        from tracker_sdk.model_uri import ACTIVE_STAGES, canonical_stage, check_version, find_version
        from tracker_sdk.store import registry

        stage, version = canonical_stage(stage), check_version(version)
        if archive_existing_versions and stage not in ACTIVE_STAGES:
            raise ValidationError(f"archive_existing_versions archives the other versions of a stage among "
                                  f"{' and '.join(ACTIVE_STAGES)}, not {stage}; leave it out")
        with self._model_edit(name, version) as (conn, now):
            registry.set_stage(conn, name, version, stage, bool(archive_existing_versions), now)
            return find_version(registry.registered_models(conn, name)[0], version)

    def update_registered_model(self, name: str, description: str) -> RegisteredModel:
        from tracker_sdk.model_uri import check_description
        from tracker_sdk.store import registry

        description = check_description(description)
        with self._model_edit(name) as (conn, now):
            registry.update_model(conn, name, now, description=description)
            return registry.registered_models(conn, name)[0]

    def update_model_version(self, name: str, version: int | str, description: str) -> ModelVersion:
        from tracker_sdk.model_uri import check_description, check_version, find_version
        from tracker_sdk.store import registry

        description, version = check_description(description), check_version(version)
        with self._model_edit(name, version) as (conn, now):
            registry.update_version(conn, name, version, now, description=description)
            return find_version(registry.registered_models(conn, name)[0], version)

    def set_registered_model_tag(self, name: str, key: str, value: Any) -> None:
        from tracker_sdk.model_uri import check_registry_tag
        from tracker_sdk.store import registry

        key, text = check_registry_tag(key, value)
        with self._model_edit(name) as (conn, now):
            registry.set_model_tag(conn, name, key, text, now)

    def delete_registered_model_tag(self, name: str, key: str) -> None:
        """Remove a tag (a tag that is not there: nothing to do, as for runs' tags)."""
        from tracker_sdk.store import registry

        with self._model_edit(name) as (conn, now):
            registry.delete_model_tag(conn, name, key, now)

    def set_model_version_tag(self, name: str, version: int | str, key: str, value: Any) -> None:
        from tracker_sdk.model_uri import check_registry_tag, check_version
        from tracker_sdk.store import registry

        (key, text), version = check_registry_tag(key, value), check_version(version)
        with self._model_edit(name, version) as (conn, now):
            registry.set_version_tag(conn, name, version, key, text, now)

    def delete_model_version_tag(self, name: str, version: int | str, key: str) -> None:
        from tracker_sdk.model_uri import check_version
        from tracker_sdk.store import registry

        version = check_version(version)
        with self._model_edit(name, version) as (conn, now):
            registry.delete_version_tag(conn, name, version, key, now)

    def delete_model_version(self, name: str, version: int | str) -> None:
        """Remove a version with its tags and aliases; its number is not given again. The
        run and its files stay."""
        from tracker_sdk.model_uri import check_version
        from tracker_sdk.store import registry

        version = check_version(version)
        with self._model_edit(name, version) as (conn, now):
            registry.delete_version(conn, name, version, now)

    def delete_registered_model(self, name: str) -> None:
        """Remove a model with every version, tag and alias. Runs and their files stay."""
        from tracker_sdk.store import registry

        with self._model_edit(name) as (conn, _now):
            registry.delete_model(conn, name)

    @contextmanager
    def _model_edit(self, name: str, version: int | None = None) -> Iterator[tuple[Connection, int]]:
        """A write transaction on a model (and version) that must exist: (connection, now ms)."""
        from tracker_sdk.model_uri import find_version, missing_model
        from tracker_sdk.store import registry, writes

        with self._write() as conn:
            found = registry.registered_models(conn, name)
            if not found:
                raise missing_model(name, registry.model_names(conn), self.path)
            if version is not None:
                find_version(found[0], version)
            yield conn, writes.now_ms()

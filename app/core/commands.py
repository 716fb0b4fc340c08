"""User edits as undoable commands (Qt-free). Each goes through the SDK's public write API."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from tracker_sdk import Store
from tracker_sdk.entities import RegisteredModel
from tracker_sdk.model_uri import ACTIVE_STAGES

#: Actions that change the store: unavailable on a store Runwatch only reads (MLflow's).
EDIT_ACTIONS = frozenset({"rename", "tag", "delete", "restore"})


@dataclass(frozen=True)
class Command:
    label: str

    def do(self, store: Store) -> None:
        raise NotImplementedError

    def undo(self, store: Store) -> None:
        raise NotImplementedError


@dataclass(frozen=True)
class RenameRun(Command):
    run_id: str = ""
    old: str = ""
    new: str = ""

    def do(self, store: Store) -> None:
        store.rename_run(self.run_id, self.new)

    def undo(self, store: Store) -> None:
        store.rename_run(self.run_id, self.old)


@dataclass(frozen=True)
class EditTags(Command):
    run_id: str = ""
    before: Mapping[str, str] = field(default_factory=dict)
    after: Mapping[str, str] = field(default_factory=dict)

    @staticmethod
    def _apply(store: Store, run_id: str, old: Mapping[str, str], new: Mapping[str, str]) -> None:
        store.set_tags(run_id, dict(new), remove=[k for k in old if k not in new])

    def do(self, store: Store) -> None:
        self._apply(store, self.run_id, self.before, self.after)

    def undo(self, store: Store) -> None:
        self._apply(store, self.run_id, self.after, self.before)


@dataclass(frozen=True)
class EditNote(Command):
    run_id: str = ""
    old: str = ""
    new: str = ""

    def do(self, store: Store) -> None:
        store.set_note(self.run_id, self.new)

    def undo(self, store: Store) -> None:
        store.set_note(self.run_id, self.old)


@dataclass(frozen=True)
class DeleteRuns(Command):
    """Soft delete: restorable until ``runwatch gc``."""

    run_ids: Sequence[str] = ()

    def do(self, store: Store) -> None:
        for rid in self.run_ids:
            store.delete_run(rid)

    def undo(self, store: Store) -> None:
        for rid in self.run_ids:
            store.restore_run(rid)


@dataclass(frozen=True)
class RestoreRuns(Command):
    run_ids: Sequence[str] = ()

    def do(self, store: Store) -> None:
        for rid in self.run_ids:
            store.restore_run(rid)

    def undo(self, store: Store) -> None:
        for rid in self.run_ids:
            store.delete_run(rid)


def plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


# --- model registry edits (the Models page) ------------------------------------------------------


@dataclass(frozen=True)
class SetModelAlias(Command):
    """Point ``alias`` at ``version``; undo points it back at ``previous`` (or removes it)."""

    model: str = ""
    alias: str = ""
    version: int = 0
    previous: int | None = None

    def do(self, store: Store) -> None:
        store.set_model_alias(self.model, self.alias, self.version)

    def undo(self, store: Store) -> None:
        if self.previous is None:
            store.delete_model_alias(self.model, self.alias)
        else:
            store.set_model_alias(self.model, self.alias, self.previous)


@dataclass(frozen=True)
class RemoveModelAlias(Command):
    model: str = ""
    alias: str = ""
    version: int = 0  # where it pointed, for undo

    def do(self, store: Store) -> None:
        store.delete_model_alias(self.model, self.alias)

    def undo(self, store: Store) -> None:
        store.set_model_alias(self.model, self.alias, self.version)


@dataclass(frozen=True)
class SetStage(Command):
    """Move a version to ``stage``; ``before`` holds the stage of every version the move
    changes (with ``archive_existing`` the others in that stage too), so undo restores them all."""

    model: str = ""
    version: int = 0
    stage: str = "None"
    archive_existing: bool = False
    before: Mapping[int, str] = field(default_factory=dict)

    @classmethod
    def of(cls, label: str, model: RegisteredModel, version: int, stage: str, archive_existing: bool) -> SetStage:
        """The command for ``model`` as it is now (its versions' current stages)."""
        archive_existing = archive_existing and stage in ACTIVE_STAGES  # MLflow's rule
        before = {v.version: v.stage for v in model.versions
                  if v.version == version or (archive_existing and v.stage == stage)}
        return cls(label, model.name, version, stage, archive_existing, before)

    def do(self, store: Store) -> None:
        store.transition_model_version_stage(self.model, self.version, self.stage,
                                             archive_existing_versions=self.archive_existing)

    def undo(self, store: Store) -> None:
        for version, stage in self.before.items():
            store.transition_model_version_stage(self.model, version, stage)


@dataclass(frozen=True)
class EditVersionDescription(Command):
    model: str = ""
    version: int = 0
    old: str = ""
    new: str = ""

    def do(self, store: Store) -> None:
        store.update_model_version(self.model, self.version, self.new)

    def undo(self, store: Store) -> None:
        store.update_model_version(self.model, self.version, self.old)

"""User edits as undoable commands (Qt-free). Each goes through the SDK's public write API."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from tracker_sdk import Store

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
